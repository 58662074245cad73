// Condition keys are case-insensitive (IAM User Guide, "Condition element"): a policy that names a resource tag
// key in any case, or with JSON escapes, must have the repository's tags read, so that its Allow can match and,
// above all, its Deny fires.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Authorizer } from '../../src/auth/authorizer.ts';
import type { Principal } from '../../src/auth/principal.ts';
import { DEFAULT_SETTINGS } from '../../src/core/repositories.ts';
import { createLogger } from '../../src/server/log.ts';
import { SqliteMetaStore } from '../../src/storage/meta/sqlite.ts';

const ACCOUNT = '111122223333';
const alice: Principal = { kind: 'user', accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/alice`, userName: 'alice' };

/** Alice may pull everything, but not from repositories tagged env=prod: the Deny names the key as `key`. */
function policy(key: string): string {
  return `{"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"},
    {"Effect":"Deny","Action":"ecr:BatchGetImage","Resource":"*","Condition":{"StringEquals":{"${key}":"prod"}}}]}`;
}

for (const key of [
  'aws:ResourceTag/env',
  'aws:resourcetag/env',
  'AWS:RESOURCETAG/env',
  'ecr:resourceTag/env',
  'aws:Resource\\u0054ag/env',
]) {
  test(`a Deny on ${key} = prod refuses a repository tagged env=prod, and not one tagged env=dev`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-authz-tags-'));
    const meta = new SqliteMetaStore(join(dir, 'meta.db'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    await meta.ensureAccount(ACCOUNT, 0);
    await meta.createUser(ACCOUNT, 'alice', 0);
    await meta.putUserPolicy(ACCOUNT, 'alice', { name: 'pull-but-prod', text: policy(key) });
    const authorizer = new Authorizer(meta, createLogger('silent'));
    const decide = async (name: string, env: string) => {
      const repository = await meta.createRepository(ACCOUNT, name, DEFAULT_SETTINGS, [{ Key: 'env', Value: env }], 0);
      assert.ok(repository);
      return (
        await authorizer.authorize({
          principal: alice,
          action: 'ecr:BatchGetImage',
          resource: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/${name}`,
          resourceAccount: ACCOUNT,
          repository,
        })
      ).allowed;
    };
    assert.equal(await decide('prod-app', 'prod'), false);
    assert.equal(await decide('dev-app', 'dev'), true);
  });
}
