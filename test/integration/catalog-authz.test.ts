// /v2/_catalog lists only the repositories the caller may describe (ecr:DescribeRepositories), page by page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { admin, createUser } from '../helpers/policies.ts';

let berth: Berth;

before(async () => {
  berth = await startBerth();
});
after(() => berth.cleanup());

async function catalog(auth: string, query = ''): Promise<{ status: number; repositories: string[]; link: string | null }> {
  const res = await fetch(`${berth.url}/v2/_catalog${query}`, { headers: { authorization: auth } });
  const body = res.status === 200 ? ((await res.json()) as { repositories: string[] }) : { repositories: [] };
  return { status: res.status, repositories: body.repositories, link: res.headers.get('link') };
}

test('the catalog shows a user only the repositories its policy lets it describe', async () => {
  const names = ['team-a/api', 'team-a/web', 'team-b/api', 'team-b/db', 'zeta'];
  for (const name of names) {
    const start = await fetch(`${berth.url}/v2/${name}/blobs/uploads/`, { method: 'POST', headers: { authorization: berth.authHeader } });
    assert.equal(start.status, 202, `create ${name} by pushing`);
  }
  const root = await catalog(berth.authHeader);
  assert.deepEqual(root.repositories, names, 'the root sees every repository');

  const key = await createUser(berth, 'a-dev');
  const auth = 'Basic ' + Buffer.from(`${key.accessKeyId}:${key.secretAccessKey}`).toString('base64');
  assert.deepEqual((await catalog(auth)).repositories, [], 'no policy: nothing to see');

  const policy = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'ecr:DescribeRepositories', Resource: 'arn:aws:ecr:*:*:repository/team-a/*' },
      { Effect: 'Allow', Action: 'ecr:DescribeRepositories', Resource: 'arn:aws:ecr:*:*:repository/zeta' },
    ],
  };
  await admin(berth, 'put-user-policy', '--user', 'a-dev', '--policy-name', 'see-a', '--policy-document', JSON.stringify(policy));
  assert.deepEqual((await catalog(auth)).repositories, ['team-a/api', 'team-a/web', 'zeta']);

  // Paging counts only what the caller sees: two pages of two, the second after the hidden team-b ones.
  const first = await catalog(auth, '?n=2');
  assert.deepEqual(first.repositories, ['team-a/api', 'team-a/web']);
  assert.ok(first.link, 'a next page');
  const next = /<([^>]+)>/.exec(first.link!)![1];
  const second = await catalog(auth, next.slice(next.indexOf('?')));
  assert.deepEqual(second.repositories, ['zeta']);
  assert.equal(second.link, null);
});
