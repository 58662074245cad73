// Condition keys the server supplies to the evaluator: resource tags (aws:ResourceTag/, ecr:ResourceTag/), request
// tags (aws:RequestTag/, aws:TagKeys), the caller's address (aws:SourceIp) and the principal's own keys.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateRepositoryCommand, DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient } from '../helpers/ecr.ts';
import { createUser } from '../helpers/policies.ts';

let berth: Berth;
/** Every client made, destroyed at the end. */
const clients: ECRClient[] = [];

before(async () => {
  berth = await startBerth();
  const root = ecrClient(berth);
  clients.push(root);
  await root.send(new CreateRepositoryCommand({ repositoryName: 'cond/a', tags: [{ Key: 'team', Value: 'a' }] }));
  await root.send(new CreateRepositoryCommand({ repositoryName: 'cond/b', tags: [{ Key: 'team', Value: 'b' }] }));
});
after(() => {
  for (const c of clients) c.destroy();
  return berth.cleanup();
});

/** A user whose one identity policy has these statements, and an ECR client signing as it. */
async function userWith(name: string, statements: object[]): Promise<ECRClient> {
  const key = await createUser(berth, name, { name: 'p', document: { Version: '2012-10-17', Statement: statements } });
  const client = ecrClient(berth, key);
  clients.push(client);
  return client;
}

test('aws:ResourceTag and ecr:ResourceTag come from the repository tags', async () => {
  const user = await userWith('team-a', [
    { Effect: 'Allow', Action: 'ecr:DescribeImages', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': 'a' } } },
    { Effect: 'Allow', Action: 'ecr:DescribeImages', Resource: '*', Condition: { StringEquals: { 'ecr:ResourceTag/team': 'z' } } },
  ]);
  assert.deepEqual((await user.send(new DescribeImagesCommand({ repositoryName: 'cond/a' }))).imageDetails, []);
  await assert.rejects(user.send(new DescribeImagesCommand({ repositoryName: 'cond/b' })), { name: 'AccessDeniedException' });
});

test('ecr:ResourceTag alone grants on the tagged repository only', async () => {
  const user = await userWith('team-a-ecr', [
    { Effect: 'Allow', Action: 'ecr:DescribeImages', Resource: '*', Condition: { StringEquals: { 'ecr:ResourceTag/team': 'a' } } },
  ]);
  assert.deepEqual((await user.send(new DescribeImagesCommand({ repositoryName: 'cond/a' }))).imageDetails, []);
  await assert.rejects(user.send(new DescribeImagesCommand({ repositoryName: 'cond/b' })), { name: 'AccessDeniedException' });
});

test('aws:RequestTag and aws:TagKeys come from the tags a request sets', async () => {
  const user = await userWith('tagger', [
    // Tag-on-create needs ecr:TagResource as well as ecr:CreateRepository, as in ECR.
    {
      Effect: 'Allow',
      Action: ['ecr:CreateRepository', 'ecr:TagResource'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:RequestTag/cost-center': '42' }, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['cost-center'] } },
    },
  ]);
  const ok = await user.send(new CreateRepositoryCommand({ repositoryName: 'cond/tagged', tags: [{ Key: 'cost-center', Value: '42' }] }));
  assert.equal(ok.repository?.repositoryName, 'cond/tagged');
  await assert.rejects(user.send(new CreateRepositoryCommand({ repositoryName: 'cond/untagged' })), { name: 'AccessDeniedException' });
  await assert.rejects(
    user.send(
      new CreateRepositoryCommand({
        repositoryName: 'cond/extra',
        tags: [
          { Key: 'cost-center', Value: '42' },
          { Key: 'owner', Value: 'x' },
        ],
      }),
    ),
    { name: 'AccessDeniedException' },
  );
});

test('aws:SourceIp is the caller address; aws:username the user', async () => {
  const local = await userWith('local', [
    {
      Effect: 'Allow',
      Action: 'ecr:DescribeImages',
      Resource: '*',
      Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' }, StringEquals: { 'aws:username': 'local' } },
    },
  ]);
  assert.ok((await local.send(new DescribeImagesCommand({ repositoryName: 'cond/a' }))).imageDetails);
  const remote = await userWith('remote', [
    { Effect: 'Allow', Action: 'ecr:DescribeImages', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
  ]);
  await assert.rejects(remote.send(new DescribeImagesCommand({ repositoryName: 'cond/a' })), { name: 'AccessDeniedException' });
});
