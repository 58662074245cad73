// Pull time update exclusions with the AWS SDK for JavaScript: RegisterPullTimeUpdateExclusion,
// ListPullTimeUpdateExclusions (pagination), DeregisterPullTimeUpdateExclusion with ECR's fields and exceptions
// (ExclusionAlreadyExistsException, ExclusionNotFoundException, InvalidParameterException for a principal ARN
// that is not a user or role), and the effect: a pull by an excluded principal leaves the image's
// lastRecordedPullTime unset, a pull by anyone else records it.
// Reference: the ECR API reference (RegisterPullTimeUpdateExclusion) and the botocore model.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DeregisterPullTimeUpdateExclusionCommand,
  DescribeImagesCommand,
  ListPullTimeUpdateExclusionsCommand,
  RegisterPullTimeUpdateExclusionCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { allPages, ecrClient, eventually, expectEcrError, makeImage, putImageViaUpload } from '../helpers/ecr.ts';
import { createUser } from '../helpers/policies.ts';
import { uniqueName } from '../helpers/tools.ts';

describe('ECR pull time update exclusions', () => {
  let berth: Berth;
  let ecr: ECRClient;
  let account: string;

  before(async () => {
    berth = await startBerth();
    ecr = ecrClient(berth);
    const r = await ecr.send(new CreateRepositoryCommand({ repositoryName: uniqueName('ptu') }));
    account = r.repository!.registryId!;
  });

  after(async () => {
    ecr?.destroy();
    await berth?.cleanup();
  });

  const arn = (n: string) => `arn:aws:iam::${account}:user/${n}`;

  it('registers, lists in pages, and deregisters, with ECR exceptions', async () => {
    const before = Date.now();
    const r = await ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: arn('scanner') }));
    assert.equal(r.principalArn, arn('scanner'));
    assert.ok(r.createdAt!.getTime() >= before - 1000);
    await expectEcrError(
      ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: arn('scanner') })),
      'ExclusionAlreadyExistsException',
    );
    for (const n of ['a', 'b', 'c'])
      await ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: `arn:aws:iam::${account}:role/${n}` }));
    const first = await ecr.send(new ListPullTimeUpdateExclusionsCommand({ maxResults: 3 }));
    assert.equal(first.pullTimeUpdateExclusions!.length, 3);
    assert.ok(first.nextToken);
    const all = await allPages(
      (nextToken) => ecr.send(new ListPullTimeUpdateExclusionsCommand({ maxResults: 3, nextToken })),
      (p) => p.pullTimeUpdateExclusions,
    );
    assert.deepEqual([...all].sort(), [arn('scanner'), ...['a', 'b', 'c'].map((n) => `arn:aws:iam::${account}:role/${n}`)].sort());
    for (const n of ['a', 'b', 'c']) {
      const d = await ecr.send(new DeregisterPullTimeUpdateExclusionCommand({ principalArn: `arn:aws:iam::${account}:role/${n}` }));
      assert.equal(d.principalArn, `arn:aws:iam::${account}:role/${n}`);
    }
    await expectEcrError(
      ecr.send(new DeregisterPullTimeUpdateExclusionCommand({ principalArn: `arn:aws:iam::${account}:role/a` })),
      'ExclusionNotFoundException',
    );
    await expectEcrError(
      ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: `arn:aws:iam::${account}:root` })),
      'InvalidParameterException',
      /principalArn/,
    );
    assert.deepEqual((await ecr.send(new ListPullTimeUpdateExclusionsCommand({}))).pullTimeUpdateExclusions, [arn('scanner')]);
  });

  it("an excluded principal's pull leaves lastRecordedPullTime unset; another's records it", async () => {
    const repositoryName = uniqueName('ptu-pull');
    await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    const a = makeImage();
    const b = makeImage();
    await putImageViaUpload(ecr, repositoryName, a, 'a');
    await putImageViaUpload(ecr, repositoryName, b, 'b');
    const policy = {
      name: 'pull',
      document: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['ecr:BatchGetImage', 'ecr:DescribeImages'], Resource: '*' }],
      },
    };
    const excluded = await createUser(berth, 'excluded-puller', policy);
    await ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: excluded.arn }));
    const puller = ecrClient(berth, excluded);
    try {
      assert.equal((await puller.send(new BatchGetImageCommand({ repositoryName, imageIds: [{ imageTag: 'a' }] }))).images?.length, 1);
    } finally {
      puller.destroy();
    }
    // Then a pull by the root: once it is recorded, a pull noted before it would be too (the notes are written in order).
    await ecr.send(new BatchGetImageCommand({ repositoryName, imageIds: [{ imageTag: 'b' }] }));
    const detail = async (imageTag: string) =>
      (await ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag }] }))).imageDetails![0];
    await eventually(async () => (await detail('b')).lastRecordedPullTime);
    assert.equal((await detail('a')).lastRecordedPullTime, undefined, "the excluded principal's pull is not recorded");
  });
});
