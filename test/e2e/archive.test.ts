// The archive storage class end to end: UpdateImageStorageClass through the newest AWS SDK for JavaScript and through
// the image's boto3, DescribeImages' imageStatus and archive times, the imageStatus filter of ListImages and
// DescribeImages (ACTIVE when none is given, as in ECR), an archived image refused on both planes (BatchGetImage's
// ImageNotFound failure, a 404 MANIFEST_UNKNOWN on /v2/ that skopeo reports), StartImageScan's ImageArchivedException,
// usage per storage class, restores, and a lifecycle `transition` rule archiving images under the test clock.
// Reference: the Amazon ECR User Guide ("Archiving an image", "Lifecycle policy properties") and ECR's API model.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  PutImageCommand,
  DescribeImagesCommand,
  ListImagesCommand,
  PutLifecyclePolicyCommand,
  StartImageScanCommand,
  UpdateImageStorageClassCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient, expectEcrError, makeImage, putImageViaUpload, requireProgram } from '../helpers/ecr.ts';
import { admin } from '../helpers/policies.ts';
import { advanceClock } from '../helpers/lifecycle.ts';
import { describeResult, run } from '../helpers/tools.ts';

const PYTHON = process.env.BERTH_TEST_NEWER_PYTHON ?? 'python3';

describe('the archive storage class', () => {
  let berth: Berth;
  let ecr: ECRClient;
  let work: string;
  const repositoryName = 'archive/app';
  const a = makeImage({ oci: true, label: 'archive-a' });
  const b = makeImage({ oci: true, label: 'archive-b' });

  const skopeoInspect = (tag: string) =>
    run(
      'skopeo',
      [
        'inspect',
        '--raw',
        '--tls-verify=false',
        '--creds',
        `${berth.accessKeyId}:${berth.secretAccessKey}`,
        `docker://${berth.host}/${repositoryName}:${tag}`,
      ],
      { env: { REGISTRY_AUTH_FILE: join(work, 'auth.json') } },
    );
  const digestsOf = (details: { imageDigest?: string }[] | undefined) => (details ?? []).map((d) => d.imageDigest).sort();

  before(async () => {
    await requireProgram('skopeo', ['--version'], 'skopeo', 'apt-get install skopeo');
    await requireProgram(
      PYTHON,
      [
        '-c',
        'import boto3; assert "update_image_storage_class" in dir(boto3.client("ecr", region_name="us-east-1")); print(boto3.__version__)',
      ],
      'a boto3 that knows UpdateImageStorageClass',
      'pip install boto3',
    );
    work = mkdtempSync(join(tmpdir(), 'berth-archive-'));
    berth = await startBerth({ env: { BERTH_TEST_CLOCK: '1', BERTH_LIFECYCLE_INTERVAL_SECONDS: '0' } });
    ecr = ecrClient(berth);
    await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    await putImageViaUpload(ecr, repositoryName, a, 'v1');
    await putImageViaUpload(ecr, repositoryName, b, 'v2');
  });

  after(async () => {
    ecr?.destroy();
    await berth?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('archives an image: described as ARCHIVED, listed only when asked for, not pullable on either plane', async () => {
    assert.equal((await skopeoInspect('v1')).code, 0, 'pullable before');
    const r = await ecr.send(
      new UpdateImageStorageClassCommand({ repositoryName, imageId: { imageTag: 'v1' }, targetStorageClass: 'ARCHIVE' }),
    );
    assert.deepEqual([r.imageStatus, r.imageId, r.repositoryName], ['ARCHIVED', { imageDigest: a.digest, imageTag: 'v1' }, repositoryName]);

    assert.deepEqual(
      digestsOf((await ecr.send(new DescribeImagesCommand({ repositoryName }))).imageDetails),
      [b.digest],
      'ACTIVE only by default',
    );
    const archived = (await ecr.send(new DescribeImagesCommand({ repositoryName, filter: { imageStatus: 'ARCHIVED' } }))).imageDetails!;
    assert.deepEqual(digestsOf(archived), [a.digest]);
    assert.equal(archived[0].imageStatus, 'ARCHIVED');
    assert.ok(archived[0].lastArchivedAt instanceof Date);
    const byId = (
      await ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageDigest: a.digest }, { imageDigest: b.digest }] }))
    ).imageDetails!;
    assert.deepEqual(
      byId.map((d) => [d.imageDigest, d.imageStatus]).sort(),
      [
        [a.digest, 'ARCHIVED'],
        [b.digest, 'ACTIVE'],
      ].sort(),
    );
    assert.equal((await ecr.send(new DescribeImagesCommand({ repositoryName, filter: { imageStatus: 'ANY' } }))).imageDetails!.length, 2);
    assert.deepEqual((await ecr.send(new ListImagesCommand({ repositoryName, filter: { imageStatus: 'ARCHIVED' } }))).imageIds, [
      { imageDigest: a.digest, imageTag: 'v1' },
    ]);
    assert.deepEqual((await ecr.send(new ListImagesCommand({ repositoryName }))).imageIds, [{ imageDigest: b.digest, imageTag: 'v2' }]);
    assert.deepEqual((await ecr.send(new ListImagesCommand({ repositoryName, filter: { imageStatus: 'ACTIVATING' } }))).imageIds, []);

    // ECR: "Archived images cannot be pulled. Requests to pull the archived image will fail with a 404 error."
    const got = await ecr.send(new BatchGetImageCommand({ repositoryName, imageIds: [{ imageTag: 'v1' }, { imageTag: 'v2' }] }));
    assert.deepEqual(
      got.images!.map((i) => i.imageId!.imageTag),
      ['v2'],
    );
    assert.equal(got.failures![0].failureCode, 'ImageNotFound');
    assert.match(got.failures![0].failureReason!, /archived/);
    for (const method of ['GET', 'HEAD']) {
      const res = await fetch(`${berth.url}/v2/${repositoryName}/manifests/v1`, {
        method,
        headers: { authorization: berth.authHeader, accept: a.mediaType },
      });
      assert.equal(res.status, 404, method);
      if (method === 'GET') {
        const body = (await res.json()) as { errors: { code: string; message: string }[] };
        assert.equal(body.errors[0].code, 'MANIFEST_UNKNOWN');
        assert.match(body.errors[0].message, /archived/);
      }
    }
    const refused = await skopeoInspect('v1');
    assert.notEqual(refused.code, 0, 'skopeo cannot pull it');
    assert.match(refused.stderr, /manifest unknown/i, describeResult(refused));
    await expectEcrError(ecr.send(new StartImageScanCommand({ repositoryName, imageId: { imageTag: 'v1' } })), 'ImageArchivedException');

    const usage = await admin(berth, 'usage');
    assert.deepEqual(
      usage.storageClasses.map((c: { storageClass: string; images: number }) => [c.storageClass, c.images]),
      [
        ['STANDARD', 1],
        ['ARCHIVE', 1],
      ],
    );
  });

  it('validates as ECR does, and restores an image to STANDARD at once', async () => {
    await expectEcrError(
      ecr.send(new UpdateImageStorageClassCommand({ repositoryName, imageId: { imageTag: 'nope' }, targetStorageClass: 'ARCHIVE' })),
      'ImageNotFoundException',
    );
    await expectEcrError(
      ecr.send(
        new UpdateImageStorageClassCommand({ repositoryName, imageId: { imageTag: 'v1' }, targetStorageClass: 'GLACIER' as 'ARCHIVE' }),
      ),
      'InvalidParameterException',
      /targetStorageClass/,
    );
    await expectEcrError(
      ecr.send(
        new UpdateImageStorageClassCommand({ repositoryName: 'archive/none', imageId: { imageTag: 'v1' }, targetStorageClass: 'ARCHIVE' }),
      ),
      'RepositoryNotFoundException',
    );
    const r = await ecr.send(
      new UpdateImageStorageClassCommand({ repositoryName, imageId: { imageDigest: a.digest }, targetStorageClass: 'STANDARD' }),
    );
    assert.equal(r.imageStatus, 'ACTIVE');
    const [detail] = (await ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: 'v1' }] }))).imageDetails!;
    assert.equal(detail.imageStatus, 'ACTIVE');
    assert.ok(detail.lastActivatedAt instanceof Date && detail.lastArchivedAt instanceof Date);
    assert.equal((await skopeoInspect('v1')).code, 0, 'pullable again');
  });

  it('boto3: update_image_storage_class and the imageStatus filter', async () => {
    const script = `
import boto3, json, os
ecr = boto3.client('ecr', region_name='us-east-1', endpoint_url=os.environ['BERTH_URL'],
    aws_access_key_id=os.environ['KEY_ID'], aws_secret_access_key=os.environ['SECRET'])
repo = os.environ['REPO']
r = ecr.update_image_storage_class(repositoryName=repo, imageId={'imageTag': 'v2'}, targetStorageClass='ARCHIVE')
assert r['imageStatus'] == 'ARCHIVED', r
d = ecr.describe_images(repositoryName=repo, filter={'imageStatus': 'ARCHIVED'})['imageDetails']
assert [x['imageTags'] for x in d] == [['v2']], d
assert d[0]['imageStatus'] == 'ARCHIVED' and 'lastArchivedAt' in d[0], d
try:
    ecr.update_image_storage_class(repositoryName=repo, imageId={'imageTag': 'missing'}, targetStorageClass='ARCHIVE')
    raise SystemExit('no error')
except ecr.exceptions.ImageNotFoundException:
    pass
r = ecr.update_image_storage_class(repositoryName=repo, imageId={'imageTag': 'v2'}, targetStorageClass='STANDARD')
assert r['imageStatus'] == 'ACTIVE', r
print(json.dumps({'ok': True}))
`;
    const r = await run(PYTHON, ['-c', script], {
      env: {
        BERTH_URL: berth.url,
        KEY_ID: berth.accessKeyId,
        SECRET: berth.secretAccessKey,
        REPO: repositoryName,
        AWS_CONFIG_FILE: '/nonexistent/berth-test-aws-config',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/berth-test-aws-credentials',
        AWS_EC2_METADATA_DISABLED: 'true',
        PYTHONDONTWRITEBYTECODE: '1',
      },
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 0, describeResult(r));
    assert.match(r.stdout, /"ok": true/);
  });

  it('a lifecycle transition rule archives images; an archived image pushed again is restored', async () => {
    const policy = {
      rules: [
        {
          rulePriority: 1,
          description: 'archive images pushed more than a day ago',
          selection: { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 },
          action: { type: 'transition', targetStorageClass: 'archive' },
        },
      ],
    };
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: JSON.stringify(policy) }));
    const now = await advanceClock(berth, 2 * 86_400);
    // The registry checks SigV4 times against its own clock: the client signs at the registry's time from now on.
    const offset = now.getTime() - Date.now();
    ecr.middlewareStack.add(
      (next) => (args) => {
        ecr.config.systemClockOffset = offset;
        return next(args);
      },
      { step: 'initialize', name: 'berthTestClockOffset' },
    );
    const [report] = (await admin(berth, 'lifecycle-run', '--repository', repositoryName)).results;
    assert.deepEqual(report.transitioned.map((t: { imageDigest: string }) => t.imageDigest).sort(), [a.digest, b.digest].sort());
    assert.deepEqual(report.expired, []);
    assert.deepEqual(
      digestsOf((await ecr.send(new DescribeImagesCommand({ repositoryName, filter: { imageStatus: 'ARCHIVED' } }))).imageDetails),
      [a.digest, b.digest].sort(),
    );
    assert.notEqual((await skopeoInspect('v1')).code, 0);
    // "The image can be restored as an active image ... by re-pushing the image to the repository."
    await ecr.send(
      new PutImageCommand({ repositoryName, imageManifest: a.manifest, imageManifestMediaType: a.mediaType, imageTag: 'v1-again' }),
    );
    assert.equal((await skopeoInspect('v1')).code, 0);
  });
});
