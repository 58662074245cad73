// Accounts, users and access keys: the `berth admin` command and the admin API, against a running server,
// with the AWS SDK signing as the keys they create. Secrets are encrypted at rest.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ECRClient, DescribeRepositoriesCommand, CreateRepositoryCommand } from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';

const run = promisify(execFile);
let berth: Berth;

before(async () => {
  berth = await startBerth();
});
after(async () => {
  await berth.cleanup();
});

async function admin(...args: string[]): Promise<any> {
  const { stdout } = await run(process.execPath, ['bin/berth.js', 'admin', ...args], {
    env: {
      ...process.env,
      BERTH_DATA_DIR: berth.dataDir,
      BERTH_ROOT_ACCESS_KEY_ID: berth.accessKeyId,
      BERTH_ROOT_SECRET_ACCESS_KEY: berth.secretAccessKey,
    },
  });
  return JSON.parse(stdout);
}

function ecr(accessKeyId: string, secretAccessKey: string) {
  return new ECRClient({ endpoint: berth.url, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
}

async function api(action: string, body: object, auth = berth.authHeader) {
  const res = await fetch(`${berth.url}/_berth/admin/${action}`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

test('berth admin creates a user and an access key that signs ECR calls and logs docker in', async () => {
  const user = await admin('create-user', '--user', 'ci');
  assert.match(user.arn, /^arn:aws:iam::\d{12}:user\/ci$/);
  const key = await admin('create-access-key', '--user', 'ci');
  assert.match(key.accessKeyId, /^AKIA[A-Z2-7]{16}$/);
  const client = ecr(key.accessKeyId, key.secretAccessKey);
  // A user with no policy may do nothing; an identity policy grants what it names.
  await assert.rejects(client.send(new CreateRepositoryCommand({ repositoryName: 'admin/by-user' })), { name: 'AccessDeniedException' });
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['ecr:CreateRepository', 'ecr:DescribeRepositories'], Resource: '*' }],
  });
  await admin('put-user-policy', '--user', 'ci', '--policy-name', 'repos', '--policy-document', policy);
  const created = await client.send(new CreateRepositoryCommand({ repositoryName: 'admin/by-user' }));
  assert.equal(created.repository?.repositoryName, 'admin/by-user');
  const basic = 'Basic ' + Buffer.from(`${key.accessKeyId}:${key.secretAccessKey}`).toString('base64');
  assert.equal((await fetch(`${berth.url}/v2/`, { headers: { authorization: basic } })).status, 200);

  // The secret is stored encrypted: it appears nowhere in the metadata database.
  for (const file of ['meta.db', 'meta.db-wal']) {
    const bytes = readFileSync(join(berth.dataDir, file));
    assert.equal(bytes.includes(Buffer.from(key.secretAccessKey)), false, `${file} holds the secret in clear`);
  }

  const listed = await admin('list-access-keys', '--user', 'ci');
  assert.deepEqual(
    listed.accessKeys.map((k: any) => [k.accessKeyId, k.status]),
    [[key.accessKeyId, 'Active']],
  );
  await admin('deactivate-access-key', '--access-key-id', key.accessKeyId);
  await assert.rejects(client.send(new DescribeRepositoriesCommand({})), { name: 'UnrecognizedClientException' });
  assert.equal((await fetch(`${berth.url}/v2/`, { headers: { authorization: basic } })).status, 401);
  await admin('activate-access-key', '--access-key-id', key.accessKeyId);
  assert.ok((await client.send(new DescribeRepositoriesCommand({}))).repositories);
  await admin('delete-access-key', '--access-key-id', key.accessKeyId);
  await assert.rejects(client.send(new DescribeRepositoriesCommand({})), { name: 'UnrecognizedClientException' });
});

test('berth admin refuses bad input with a clear message and a non-zero exit', async () => {
  await assert.rejects(admin('create-user', '--user', 'bad/name'), (e: any) => /invalid user name/.test(e.stderr) && e.code === 1);
  await assert.rejects(admin('create-access-key', '--user', 'nobody'), (e: any) => /no user nobody/.test(e.stderr));
  await assert.rejects(admin('frobnicate'), (e: any) => /unknown action/.test(e.stderr) && e.code === 2);
  await admin('create-user', '--user', 'policy-target');
  await assert.rejects(
    admin(
      'put-user-policy',
      '--user',
      'policy-target',
      '--policy-name',
      'p',
      '--policy-document',
      '{"Statement":[{"Effect":"Maybe","Action":"ecr:*","Resource":"*"}]}',
    ),
    (e: any) => /invalid policy document: .*Effect/.test(e.stderr),
  );
  const listed = await admin('list-user-policies', '--user', 'policy-target');
  assert.deepEqual(listed.policies, [], 'nothing stored for a refused policy');
});

test('a second account: its root sees only its own repositories', async () => {
  const account = await admin('create-account');
  assert.match(account.accountId, /^\d{12}$/);
  const other = ecr(account.accessKeyId, account.secretAccessKey);
  await other.send(new CreateRepositoryCommand({ repositoryName: 'other/app' }));
  const theirs = await other.send(new DescribeRepositoriesCommand({}));
  assert.deepEqual(
    theirs.repositories?.map((r) => [r.repositoryName, r.registryId]),
    [['other/app', account.accountId]],
  );
  const mine = await ecr(berth.accessKeyId, berth.secretAccessKey).send(new DescribeRepositoriesCommand({}));
  assert.ok(!mine.repositories?.some((r) => r.repositoryName === 'other/app'));
  // Naming another account's registry is refused (cross-account access needs policies).
  await assert.rejects(other.send(new DescribeRepositoriesCommand({ registryId: mine.repositories?.[0]?.registryId ?? '000000000000' })), {
    name: 'AccessDeniedException',
  });
});

test('the admin API: root of an account only, its own account only', async () => {
  const created = await api('create-user', { user: 'api-user' });
  assert.equal(created.status, 200);
  assert.match(created.body.arn, /user\/api-user$/);
  const key = await api('create-access-key', { user: 'api-user' });
  assert.equal(key.status, 200);
  const userAuth = 'Basic ' + Buffer.from(`${key.body.accessKeyId}:${key.body.secretAccessKey}`).toString('base64');
  assert.equal((await api('list-users', {}, userAuth)).status, 403, 'a user is not an admin');
  assert.equal((await api('list-users', {}, 'Basic ' + Buffer.from('nobody:nothing').toString('base64'))).status, 401);
  assert.equal((await api('list-users', { account: '999999999999' })).status, 403, 'another account');
  assert.equal((await api('no-such-action', {})).status, 404);
  const bad = await api('create-user', { user: '' });
  assert.equal(bad.status, 400);
  const users = await api('list-users', {});
  assert.ok(users.body.users.some((u: any) => u.name === 'api-user'));
});
