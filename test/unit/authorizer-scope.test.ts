// The authorizer's scope (src/auth/authorizer.ts): a listing's many decisions read the caller's identity policies
// once, while separate requests each read them again, so that a policy change takes effect on the next request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Authorizer } from '../../src/auth/authorizer.ts';
import type { Principal } from '../../src/auth/principal.ts';
import { createLogger } from '../../src/server/log.ts';
import { SqliteMetaStore } from '../../src/storage/meta/sqlite.ts';

const ACCOUNT = '111122223333';
const alice: Principal = { kind: 'user', accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/alice`, userName: 'alice' };
const arn = (name: string) => `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/${name}`;
const policy = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'ecr:DescribeRepositories', Resource: 'arn:aws:ecr:*:*:repository/app/*' }],
});

async function setUp(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-authz-scope-'));
  const meta = new SqliteMetaStore(join(dir, 'meta.db'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await meta.ensureAccount(ACCOUNT, 0);
  await meta.createUser(ACCOUNT, 'alice', 0);
  await meta.putUserPolicy(ACCOUNT, 'alice', { name: 'read-app', text: policy });
  let reads = 0;
  const read = meta.listUserPolicies.bind(meta);
  meta.listUserPolicies = (account, user) => {
    reads++;
    return read(account, user);
  };
  return { meta, authorizer: new Authorizer(meta, createLogger('silent')), reads: () => reads };
}

const decide = (authorizer: Authorizer, name: string, scope?: ReturnType<Authorizer['scope']>) =>
  authorizer.authorize({
    principal: alice,
    action: 'ecr:DescribeRepositories',
    resource: arn(name),
    resourceAccount: ACCOUNT,
    scope,
  });

test('decisions that share a scope read the identity policies once, and decide as without it', async (t) => {
  const { authorizer, reads } = await setUp(t);
  const scope = authorizer.scope();
  const names = Array.from({ length: 50 }, (_, i) => (i % 2 ? `app/svc-${i}` : `other/svc-${i}`));
  const scoped = await Promise.all(names.map((n) => decide(authorizer, n, scope)));
  assert.equal(reads(), 1);
  const unscoped = [];
  for (const n of names) unscoped.push(await decide(authorizer, n));
  assert.equal(reads(), 1 + names.length);
  assert.deepEqual(
    scoped.map((d) => d.allowed),
    unscoped.map((d) => d.allowed),
  );
  assert.deepEqual(
    scoped.map((d) => d.allowed),
    names.map((n) => n.startsWith('app/')),
  );
});

test('without a scope, a changed policy decides the next request', async (t) => {
  const { meta, authorizer } = await setUp(t);
  assert.equal((await decide(authorizer, 'app/web')).allowed, true);
  assert.equal(await meta.deleteUserPolicy(ACCOUNT, 'alice', 'read-app'), true);
  assert.equal((await decide(authorizer, 'app/web')).allowed, false);
});
