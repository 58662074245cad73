// The admin API decides through authorize() like every other request: a docker-login token is refused (it is good
// for the /v2/ data plane only, as in ECR), IAM's action names govern identities (a user allowed
// iam:CreateAccessKey on itself can make its own key, and nothing more), and berth: actions the rest.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient } from '../helpers/ecr.ts';

let berth: Berth;
let accountA: string;

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}
const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
const keyAuth = (k: Keys) => basic(k.accessKeyId, k.secretAccessKey);

async function api(action: string, body: object, authorization: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${berth.url}/_berth/admin/${action}`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function root(action: string, body: object): Promise<any> {
  const r = await api(action, body, berth.authHeader);
  assert.equal(r.status, 200, `${action}: ${JSON.stringify(r.body)}`);
  return r.body;
}

/** A user of the default account with one access key and, optionally, an identity policy of these statements. */
async function user(name: string, statements?: object[]): Promise<Keys> {
  await root('create-user', { user: name });
  const key = await root('create-access-key', { user: name });
  if (statements)
    await root('put-user-policy', {
      user: name,
      policyName: 'p',
      policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }),
    });
  return key;
}

before(async () => {
  berth = await startBerth();
  const probe = await root('create-user', { user: 'probe' });
  accountA = /^arn:aws:iam::(\d{12}):user\/probe$/.exec(probe.arn)![1];
});
after(() => berth.cleanup());

test("root's docker-login token opens /v2/ but not the admin API: no access key is made from it", async () => {
  const client = ecrClient(berth);
  const data = (await client.send(new GetAuthorizationTokenCommand({}))).authorizationData![0];
  client.destroy();
  const tokenAuth = 'Basic ' + data.authorizationToken!;
  // The token is good where ECR says it is: the registry's data plane.
  assert.equal((await fetch(`${berth.url}/v2/`, { headers: { authorization: tokenAuth } })).status, 200);
  const before = (await root('list-access-keys', {})).accessKeys.length;
  const refused = await api('create-access-key', {}, tokenAuth);
  assert.equal(refused.status, 401, JSON.stringify(refused.body));
  assert.match(refused.body.message, /\/v2\/ data plane only/);
  assert.equal((await api('list-users', {}, tokenAuth)).status, 401);
  // A bearer token of the token endpoint is no admin credential either.
  const bearer = (await (await fetch(`${berth.url}/_berth/token`, { headers: { authorization: berth.authHeader } })).json()) as {
    token: string;
  };
  assert.equal((await api('create-access-key', {}, `Bearer ${bearer.token}`)).status, 401);
  assert.equal((await root('list-access-keys', {})).accessKeys.length, before, 'no key was created');
});

test('a user allowed iam:CreateAccessKey on itself makes its own key, and no other; a user without cannot', async () => {
  const self = await user('self-service', [
    // The IAM User Guide's pattern: a policy variable names the caller's own user.
    { Effect: 'Allow', Action: ['iam:CreateAccessKey', 'iam:ListAccessKeys'], Resource: 'arn:aws:iam::*:user/${aws:username}' },
  ]);
  await user('bystander');
  // Without the policy, not even its own key.
  const plain = await user('plain');
  assert.equal((await api('create-access-key', { user: 'plain' }, keyAuth(plain))).status, 403);
  assert.equal((await root('list-access-keys', { user: 'plain' })).accessKeys.length, 1, 'no key was created');
  const made = await api('create-access-key', { user: 'self-service' }, keyAuth(self));
  assert.equal(made.status, 200, JSON.stringify(made.body));
  assert.match(made.body.accessKeyId, /^AKIA/);
  // The new key authenticates.
  assert.equal((await fetch(`${berth.url}/v2/`, { headers: { authorization: keyAuth(made.body) } })).status, 200);
  const listed = await api('list-access-keys', { user: 'self-service' }, keyAuth(self));
  assert.equal(listed.status, 200);
  assert.equal(listed.body.accessKeys.length, 2);

  const other = await api('create-access-key', { user: 'bystander' }, keyAuth(self));
  assert.equal(other.status, 403);
  assert.equal(other.body.error, 'AccessDenied');
  assert.match(other.body.message, new RegExp(`iam:CreateAccessKey on resource: arn:aws:iam::${accountA}:user/bystander`));
  // The root's keys are the root's alone, whatever a policy says.
  assert.equal((await api('create-access-key', {}, keyAuth(self))).status, 403);
  // Nor may it do what it was not granted.
  assert.equal((await api('create-user', { user: 'made-by-self' }, keyAuth(self))).status, 403);
  assert.equal((await api('delete-access-key', { accessKeyId: made.body.accessKeyId }, keyAuth(self))).status, 403);
});

test('an explicit Deny beats the Allow on an admin action', async () => {
  const u = await user('almost-admin', [
    { Effect: 'Allow', Action: 'iam:*', Resource: '*' },
    { Effect: 'Deny', Action: 'iam:PutUserPolicy', Resource: '*' },
  ]);
  assert.equal((await api('create-user', { user: 'by-almost-admin' }, keyAuth(u))).status, 200);
  const escalate = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });
  assert.equal(
    (await api('put-user-policy', { user: 'almost-admin', policyName: 'all', policyDocument: escalate }, keyAuth(u))).status,
    403,
  );
});

test("berth: actions govern the registry-wide actions; creating accounts is for the default account's root", async () => {
  const operator = await user('operator', [
    {
      Effect: 'Allow',
      Action: ['berth:GetUsage', 'berth:RunFsck', 'berth:CreateAccount'],
      Resource: `arn:aws:ecr:us-east-1:${accountA}:registry`,
    },
  ]);
  const usage = await api('usage', {}, keyAuth(operator));
  assert.equal(usage.status, 200, JSON.stringify(usage.body));
  assert.equal((await api('fsck', {}, keyAuth(operator))).status, 200);
  assert.equal((await api('gc', { dryRun: true }, keyAuth(operator))).status, 403, 'berth:RunGarbageCollection was not granted');
  assert.equal((await api('create-account', {}, keyAuth(operator))).status, 403, 'only a root creates accounts');

  const b = await root('create-account', {});
  const rootB = keyAuth(b);
  // Another account's root runs the registry-wide actions of nobody's registry but its own.
  assert.equal((await api('usage', {}, rootB)).status, 403);
  assert.equal((await api('gc', { dryRun: true }, rootB)).status, 403);
  assert.equal((await api('create-account', {}, rootB)).status, 403);
  // In its own account it does everything.
  assert.equal((await api('create-user', { user: 'b-user' }, rootB)).status, 200);
  assert.equal((await api('list-users', { account: accountA }, rootB)).status, 403);
});
