// ECR's tag-based access control with the real @aws-sdk/client-ecr: tag-on-create needs ecr:TagResource as well
// as ecr:CreateRepository, and the condition keys aws:RequestTag/<key>, aws:TagKeys and ecr:ResourceTag/<key> work
// in identity and repository policies, as in the examples of ECR's user guide.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ListTagsForResourceCommand,
  SetRepositoryPolicyCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient } from '../helpers/ecr.ts';
import { createUser } from '../helpers/policies.ts';

let berth: Berth;
let rootClient: ECRClient;
const clients: ECRClient[] = [];

before(async () => {
  berth = await startBerth();
  rootClient = ecrClient(berth);
  clients.push(rootClient);
});
after(() => {
  for (const c of clients) c.destroy();
  return berth.cleanup();
});

async function userWith(name: string, statements?: object[]): Promise<{ client: ECRClient; arn: string }> {
  const key = await createUser(
    berth,
    name,
    statements ? { name: 'p', document: { Version: '2012-10-17', Statement: statements } } : undefined,
  );
  const client = ecrClient(berth, key);
  clients.push(client);
  return { client, arn: key.arn };
}

async function exists(name: string): Promise<boolean> {
  try {
    await rootClient.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }));
    return true;
  } catch (e) {
    if ((e as Error).name === 'RepositoryNotFoundException') return false;
    throw e;
  }
}

const arnOf = async (name: string) =>
  (await rootClient.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }))).repositories![0].repositoryArn!;

test('tag-on-create: a user allowed only ecr:CreateRepository is refused a tagged create, and nothing is created', async () => {
  const { client, arn } = await userWith('creator', [{ Effect: 'Allow', Action: 'ecr:CreateRepository', Resource: '*' }]);
  await assert.rejects(
    client.send(new CreateRepositoryCommand({ repositoryName: 'tags/refused', tags: [{ Key: 'team', Value: 'a' }] })),
    (e: Error) => e.name === 'AccessDeniedException' && e.message.includes(`User: ${arn} is not authorized to perform: ecr:TagResource`),
  );
  assert.equal(await exists('tags/refused'), false, 'the refused create left no repository');
  // Without tags, ecr:CreateRepository is enough.
  assert.equal(
    (await client.send(new CreateRepositoryCommand({ repositoryName: 'tags/untagged' }))).repository?.repositoryName,
    'tags/untagged',
  );

  const both = await userWith('tagging-creator', [{ Effect: 'Allow', Action: ['ecr:CreateRepository', 'ecr:TagResource'], Resource: '*' }]);
  await both.client.send(new CreateRepositoryCommand({ repositoryName: 'tags/tagged', tags: [{ Key: 'team', Value: 'a' }] }));
  assert.deepEqual((await rootClient.send(new ListTagsForResourceCommand({ resourceArn: await arnOf('tags/tagged') }))).tags, [
    { Key: 'team', Value: 'a' },
  ]);
});

test("aws:RequestTag and aws:TagKeys govern CreateRepository, TagResource and UntagResource (the user guide's examples)", async () => {
  const { client } = await userWith('env-tagger', [
    {
      Effect: 'Allow',
      Action: ['ecr:CreateRepository', 'ecr:TagResource'],
      Resource: '*',
      Condition: {
        StringEquals: { 'aws:RequestTag/environment': ['dev', 'test'] },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['environment', 'owner'] },
      },
    },
  ]);
  await client.send(
    new CreateRepositoryCommand({
      repositoryName: 'tags/dev',
      tags: [
        { Key: 'environment', Value: 'dev' },
        { Key: 'owner', Value: 'me' },
      ],
    }),
  );
  await assert.rejects(
    client.send(new CreateRepositoryCommand({ repositoryName: 'tags/prod', tags: [{ Key: 'environment', Value: 'prod' }] })),
    { name: 'AccessDeniedException' },
  );
  await assert.rejects(
    client.send(
      new CreateRepositoryCommand({
        repositoryName: 'tags/extra',
        tags: [
          { Key: 'environment', Value: 'dev' },
          { Key: 'cost', Value: '1' },
        ],
      }),
    ),
    { name: 'AccessDeniedException' },
  );
  assert.equal(await exists('tags/prod'), false);
  assert.equal(await exists('tags/extra'), false);

  const arn = await arnOf('tags/dev');
  await client.send(new TagResourceCommand({ resourceArn: arn, tags: [{ Key: 'environment', Value: 'test' }] }));
  await assert.rejects(client.send(new TagResourceCommand({ resourceArn: arn, tags: [{ Key: 'environment', Value: 'prod' }] })), {
    name: 'AccessDeniedException',
  });
  await assert.rejects(
    client.send(
      new TagResourceCommand({
        resourceArn: arn,
        tags: [
          { Key: 'environment', Value: 'dev' },
          { Key: 'cost', Value: '1' },
        ],
      }),
    ),
    { name: 'AccessDeniedException' },
  );
  assert.deepEqual(
    (await rootClient.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags?.find((t) => t.Key === 'environment'),
    { Key: 'environment', Value: 'test' },
  );

  // UntagResource names keys without values: aws:TagKeys alone.
  await rootClient.send(
    new CreateRepositoryCommand({
      repositoryName: 'tags/untag',
      tags: [
        { Key: 'temp', Value: '1' },
        { Key: 'owner', Value: 'ops' },
      ],
    }),
  );
  const untagArn = await arnOf('tags/untag');
  const untagger = await userWith('untagger', [
    {
      Effect: 'Allow',
      Action: 'ecr:UntagResource',
      Resource: '*',
      Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['temp'] } },
    },
  ]);
  await assert.rejects(untagger.client.send(new UntagResourceCommand({ resourceArn: untagArn, tagKeys: ['owner'] })), {
    name: 'AccessDeniedException',
  });
  await assert.rejects(untagger.client.send(new UntagResourceCommand({ resourceArn: untagArn, tagKeys: ['temp', 'owner'] })), {
    name: 'AccessDeniedException',
  });
  await untagger.client.send(new UntagResourceCommand({ resourceArn: untagArn, tagKeys: ['temp'] }));
  assert.deepEqual((await rootClient.send(new ListTagsForResourceCommand({ resourceArn: untagArn }))).tags, [
    { Key: 'owner', Value: 'ops' },
  ]);
});

test('the condition keys work in a repository policy: aws:RequestTag on TagResource, aws:TagKeys on UntagResource, ecr:ResourceTag on reads', async () => {
  await rootClient.send(new CreateRepositoryCommand({ repositoryName: 'tags/shared', tags: [{ Key: 'team', Value: 'a' }] }));
  const arn = await arnOf('tags/shared');
  // A user with no identity policy at all: only the repository policy, naming the user, lets it in.
  const { client, arn: userArn } = await userWith('team-member');
  await rootClient.send(
    new SetRepositoryPolicyCommand({
      repositoryName: 'tags/shared',
      policyText: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'TagTeamA',
            Effect: 'Allow',
            Principal: { AWS: userArn },
            Action: 'ecr:TagResource',
            Condition: { StringEquals: { 'aws:RequestTag/team': 'a' } },
          },
          {
            Sid: 'ReadTeamA',
            Effect: 'Allow',
            Principal: { AWS: userArn },
            Action: 'ecr:DescribeImages',
            Condition: { StringEquals: { 'ecr:ResourceTag/team': 'a' } },
          },
          {
            Sid: 'UntagNotes',
            Effect: 'Allow',
            Principal: { AWS: userArn },
            Action: 'ecr:UntagResource',
            Condition: { 'ForAllValues:StringLike': { 'aws:TagKeys': 'note-*' } },
          },
        ],
      }),
    }),
  );
  assert.deepEqual((await client.send(new DescribeImagesCommand({ repositoryName: 'tags/shared' }))).imageDetails, []);
  await client.send(new TagResourceCommand({ resourceArn: arn, tags: [{ Key: 'team', Value: 'a' }] }));
  await assert.rejects(client.send(new TagResourceCommand({ resourceArn: arn, tags: [{ Key: 'team', Value: 'b' }] })), {
    name: 'AccessDeniedException',
  });
  await rootClient.send(new TagResourceCommand({ resourceArn: arn, tags: [{ Key: 'note-1', Value: 'x' }] }));
  await assert.rejects(client.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['team'] })), { name: 'AccessDeniedException' });
  await client.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['note-1'] }));
  assert.deepEqual((await rootClient.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags, [{ Key: 'team', Value: 'a' }]);
  // Retagged by the root, the repository no longer matches ecr:ResourceTag/team = a.
  await rootClient.send(new TagResourceCommand({ resourceArn: arn, tags: [{ Key: 'team', Value: 'b' }] }));
  await assert.rejects(client.send(new DescribeImagesCommand({ repositoryName: 'tags/shared' })), { name: 'AccessDeniedException' });
});
