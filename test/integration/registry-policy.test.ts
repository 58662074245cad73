// The registry policy (PutRegistryPolicy) takes part in decisions beside the repository's policy, as in ECR, and
// REGISTRY_POLICY_SCOPE says which actions it covers: V2 (the default) every ECR action, V1 only replication and
// pull-through cache (ecr:ReplicateImage, ecr:BatchImportUpstreamImage, ecr:CreateRepository).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateRepositoryCommand,
  DeleteRegistryPolicyCommand,
  DescribeImagesCommand,
  PutAccountSettingCommand,
  PutRegistryPolicyCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient } from '../helpers/ecr.ts';
import { admin, createUser } from '../helpers/policies.ts';

let berth: Berth;
let root: ECRClient;
let account: string;
/** A client of another account (its root), and a user of this account with no identity policy. */
let other: ECRClient;
let otherAccount: string;
let plainUser: ECRClient;
let plainUserArn: string;
let plainUserBasic: string;
const clients: ECRClient[] = [];

const policy = (statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const setScope = (value: 'V1' | 'V2') => root.send(new PutAccountSettingCommand({ name: 'REGISTRY_POLICY_SCOPE', value }));
const describe = (client: ECRClient, repositoryName: string) =>
  client.send(new DescribeImagesCommand({ registryId: account, repositoryName }));

before(async () => {
  berth = await startBerth();
  root = ecrClient(berth);
  const created = await admin<{ accountId: string; accessKeyId: string; secretAccessKey: string }>(berth, 'create-account');
  otherAccount = created.accountId;
  other = ecrClient(berth, created);
  const user = await createUser(berth, 'no-policy');
  plainUserArn = user.arn;
  plainUserBasic = 'Basic ' + Buffer.from(`${user.accessKeyId}:${user.secretAccessKey}`).toString('base64');
  plainUser = ecrClient(berth, user);
  clients.push(root, other, plainUser);
  const repo = await root.send(new CreateRepositoryCommand({ repositoryName: 'regpol/app' }));
  account = repo.repository!.registryId!;
  await root.send(new CreateRepositoryCommand({ repositoryName: 'regpol/other' }));
});
after(() => {
  for (const c of clients) c.destroy();
  return berth.cleanup();
});

test('V2: a registry policy grants another account every repository it names, and only those', async () => {
  await assert.rejects(describe(other, 'regpol/app'), { name: 'AccessDeniedException' });
  await root.send(
    new PutRegistryPolicyCommand({
      policyText: policy([
        {
          Sid: 'OtherAccountReads',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${otherAccount}:root` },
          Action: ['ecr:DescribeImages'],
          Resource: `arn:aws:ecr:us-east-1:${account}:repository/regpol/app`,
        },
      ]),
    }),
  );
  // Applied at once on the node that took the change.
  assert.deepEqual((await describe(other, 'regpol/app')).imageDetails, []);
  await assert.rejects(describe(other, 'regpol/other'), { name: 'AccessDeniedException' });
  await root.send(new DeleteRegistryPolicyCommand({}));
  await assert.rejects(describe(other, 'regpol/app'), { name: 'AccessDeniedException' });
});

test('V2: a Deny in the registry policy wins over a same-account Allow', async () => {
  await root.send(
    new PutRegistryPolicyCommand({
      policyText: policy([
        {
          Sid: 'UserReads',
          Effect: 'Allow',
          Principal: { AWS: plainUserArn },
          Action: 'ecr:DescribeImages',
          Resource: `arn:aws:ecr:us-east-1:${account}:repository/*`,
        },
        {
          Sid: 'NoOther',
          Effect: 'Deny',
          Principal: { AWS: plainUserArn },
          Action: 'ecr:DescribeImages',
          Resource: `arn:aws:ecr:us-east-1:${account}:repository/regpol/other`,
        },
      ]),
    }),
  );
  // A resource-based Allow naming the user allows it with no identity policy; the Deny wins on the other.
  assert.deepEqual((await describe(plainUser, 'regpol/app')).imageDetails, []);
  await assert.rejects(
    describe(plainUser, 'regpol/other'),
    (e: Error) => e.name === 'AccessDeniedException' && /NoOther|explicit/i.test(e.message),
  );
  await root.send(new DeleteRegistryPolicyCommand({}));
});

test('V1: the registry policy covers only replication and pull-through cache actions', async () => {
  await root.send(
    new PutRegistryPolicyCommand({
      policyText: policy([
        {
          Sid: 'UserAll',
          Effect: 'Allow',
          Principal: { AWS: plainUserArn },
          Action: ['ecr:DescribeImages', 'ecr:CreateRepository'],
          Resource: `arn:aws:ecr:us-east-1:${account}:repository/*`,
        },
      ]),
    }),
  );
  try {
    await setScope('V1');
    await assert.rejects(describe(plainUser, 'regpol/app'), { name: 'AccessDeniedException' });
    const created = await plainUser.send(new CreateRepositoryCommand({ repositoryName: 'regpol/by-user-v1' }));
    assert.equal(created.repository?.repositoryName, 'regpol/by-user-v1');
    await setScope('V2');
    assert.deepEqual((await describe(plainUser, 'regpol/app')).imageDetails, []);
  } finally {
    await setScope('V2');
    await root.send(new DeleteRegistryPolicyCommand({}));
  }
});

test('the registry policy never reaches the admin API', async () => {
  const listUsers = () =>
    fetch(`${berth.url}/_berth/admin/list-users`, {
      method: 'POST',
      headers: { authorization: plainUserBasic, 'content-type': 'application/json' },
      body: '{}',
    });
  await root.send(
    new PutRegistryPolicyCommand({
      policyText: policy([{ Effect: 'Allow', Principal: { AWS: plainUserArn }, Action: '*', Resource: '*' }]),
    }),
  );
  try {
    // It does reach ECR actions...
    assert.deepEqual((await describe(plainUser, 'regpol/app')).imageDetails, []);
    // ...but iam: and berth: actions are decided by identity policies only.
    const res = await listUsers();
    assert.equal(res.status, 403, await res.text());
  } finally {
    await root.send(new DeleteRegistryPolicyCommand({}));
  }
});
