// The token endpoint's two forms over raw HTTP (CNCF distribution's token protocol and its OAuth2 form, as
// containerd, BuildKit and docker with a kept identity token speak them): form parsing, grants, scopes, refresh
// tokens (stored hashed, revoked with their key, expiring), and credentials that are wrong refused on both forms.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient } from '../helpers/ecr.ts';
import { pushImage } from '../helpers/http.ts';
import { admin, createUser, type Keys } from '../helpers/policies.ts';

let berth: Berth;
let puller: Keys;
const REPO = 'private/app';
const TTL_SECONDS = 3 * 86400;

before(async () => {
  berth = await startBerth({ env: { BERTH_TEST_CLOCK: '1', BERTH_REFRESH_TOKEN_TTL_SECONDS: String(TTL_SECONDS) } });
  await pushImage(berth, REPO, 'v1');
  puller = await createUser(berth, 'puller', {
    name: 'pull',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:ListImages', 'ecr:GetAuthorizationToken'],
          Resource: '*',
        },
      ],
    },
  });
});
after(() => berth.cleanup());

interface TokenAnswer {
  status: number;
  body: Record<string, any>;
  headers: Headers;
}

async function post(fields: Record<string, string | string[]>, contentType = 'application/x-www-form-urlencoded'): Promise<TokenAnswer> {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) form.append(k, one);
  const res = await fetch(`${berth.url}/_berth/token`, { method: 'POST', headers: { 'content-type': contentType }, body: form.toString() });
  return { status: res.status, body: (await res.json()) as Record<string, any>, headers: res.headers };
}

async function get(query: string, user?: string, password?: string): Promise<TokenAnswer> {
  const headers: Record<string, string> = {};
  if (user !== undefined) headers.authorization = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
  const res = await fetch(`${berth.url}/_berth/token?${query}`, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, any>, headers: res.headers };
}

/** The status of listing the private repository's tags with a bearer token. */
async function tagsWith(token: string): Promise<number> {
  return (await fetch(`${berth.url}/v2/${REPO}/tags/list`, { headers: { authorization: `Bearer ${token}` } })).status;
}

const SCOPE = `repository:${REPO}:pull`;
const password = (k: Keys, extra: Record<string, string | string[]> = {}) =>
  post({
    grant_type: 'password',
    username: k.accessKeyId,
    password: k.secretAccessKey,
    service: berth.host,
    client_id: 'containerd-client',
    scope: SCOPE,
    ...extra,
  });

async function loginToken(k: Keys): Promise<string> {
  const client = ecrClient(berth, k);
  try {
    const out = await client.send(new GetAuthorizationTokenCommand({}));
    return Buffer.from(out.authorizationData![0].authorizationToken!, 'base64').toString().slice('AWS:'.length);
  } finally {
    client.destroy();
  }
}

describe('POST, grant_type=password', () => {
  test('an access key and its secret get a token that reads the private repository as that key', async () => {
    const r = await password(puller);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(typeof r.body.access_token, 'string');
    assert.equal(r.body.token_type, 'Bearer');
    assert.equal(r.body.expires_in, 900);
    assert.ok(Math.abs(Date.parse(r.body.issued_at) - Date.now()) < 60_000, r.body.issued_at);
    assert.equal(r.body.scope, SCOPE);
    assert.equal(r.body.refresh_token, undefined, 'no refresh token unless asked for');
    assert.equal(await tagsWith(r.body.access_token), 200);
    assert.equal(r.headers.get('cache-control'), 'no-store');
  });

  test('AWS and an ECR login token (what an imagePullSecret carries) get a token too', async () => {
    const r = await post({
      grant_type: 'password',
      username: 'AWS',
      password: await loginToken(puller),
      service: berth.host,
      scope: SCOPE,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(await tagsWith(r.body.access_token), 200);
  });

  test('a wrong password is refused with 401 and an error body, never answered with an anonymous token', async () => {
    for (const r of [
      await password({ ...puller, secretAccessKey: 'wrong' }),
      await password({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' }),
      await post({ grant_type: 'password', username: 'AWS', password: 'not-a-token', scope: SCOPE }),
    ]) {
      assert.equal(r.status, 401, JSON.stringify(r.body));
      assert.equal(r.body.error, 'invalid_grant');
      assert.match(r.body.error_description, /authentication failed/);
      assert.equal(r.body.errors[0].code, 'UNAUTHORIZED');
      assert.equal(r.body.access_token, undefined);
    }
  });

  test('the anonymous token a request without credentials gets cannot read the private repository', async () => {
    const r = await get(`service=${berth.host}&scope=${SCOPE}`);
    assert.equal(r.status, 200);
    assert.equal(await tagsWith(r.body.token), 401);
  });

  test('scopes repeated and space-separated are all granted, each once', async () => {
    const other = 'repository:other/app:pull,push';
    const r = await password(puller, { scope: [`${SCOPE} ${other}`, SCOPE, 'registry:catalog:*'] });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.scope.split(' '), [SCOPE, other, 'registry:catalog:*']);
  });

  test('missing fields are invalid_request', async () => {
    const r = await post({ grant_type: 'password', username: puller.accessKeyId });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_request');
    assert.match(r.body.error_description, /password/);
  });
});

describe('POST, malformed', () => {
  test('a missing or unknown grant_type is 400 unsupported_grant_type', async () => {
    const cases: Record<string, string>[] = [
      { username: puller.accessKeyId, password: puller.secretAccessKey },
      { grant_type: 'client_credentials' },
      { grant_type: '' },
    ];
    for (const fields of cases) {
      const r = await post(fields);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error, 'unsupported_grant_type');
    }
  });

  test('a body that is not a form is invalid_request', async () => {
    const res = await fetch(`${berth.url}/_berth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'password', username: puller.accessKeyId, password: puller.secretAccessKey }),
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
  });

  test('bad percent-encoding in the form does not crash the endpoint', async () => {
    const res = await fetch(`${berth.url}/_berth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password&username=%zz&password=%E0%A4%A',
    });
    assert.equal(res.status, 401);
  });

  test('a method other than GET or POST is refused', async () => {
    const res = await fetch(`${berth.url}/_berth/token`, { method: 'PUT' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, POST');
  });
});

describe('GET', () => {
  test('wrong Basic credentials are refused with 401 and an error body', async () => {
    const r = await get(`service=${berth.host}`, puller.accessKeyId, 'wrong');
    assert.equal(r.status, 401);
    assert.equal(r.body.errors[0].code, 'UNAUTHORIZED');
    assert.equal(r.body.error, 'invalid_grant');
    assert.equal(r.body.token, undefined);
  });

  test('offline_token=true (docker login) returns a refresh token with the access token', async () => {
    const r = await get(`service=${berth.host}&client_id=docker&offline_token=true`, puller.accessKeyId, puller.secretAccessKey);
    assert.equal(r.status, 200);
    assert.equal(r.body.token, r.body.access_token);
    assert.match(r.body.refresh_token, /^berth-rt-/);
    const refreshed = await post({
      grant_type: 'refresh_token',
      refresh_token: r.body.refresh_token,
      client_id: 'docker',
      service: berth.host,
      scope: SCOPE,
    });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.equal(await tagsWith(refreshed.body.access_token), 200);
  });

  test('an anonymous request gets no refresh token, even when it asks', async () => {
    const r = await get(`service=${berth.host}&offline_token=true`);
    assert.equal(r.status, 200);
    assert.equal(r.body.refresh_token, undefined);
  });
});

describe('refresh tokens', () => {
  test('access_type=offline returns one; the refresh grant answers as the same principal and gives it back', async () => {
    const r = await password(puller, { access_type: 'offline' });
    assert.equal(r.status, 200);
    const refresh = r.body.refresh_token as string;
    assert.match(refresh, /^berth-rt-/);
    const again = await post({ grant_type: 'refresh_token', refresh_token: refresh, access_type: 'offline', scope: SCOPE });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.refresh_token, refresh);
    assert.equal(await tagsWith(again.body.access_token), 200);
    // Bound to the principal: the user's token reads only what the user's policy allows.
    const { status } = await fetch(`${berth.url}/v2/${REPO}/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${again.body.access_token}` },
    });
    assert.equal(status, 403, 'the puller may not push');
  });

  test('are kept hashed in the metadata store and survive a restart', async () => {
    const { body } = await password(puller, { access_type: 'offline' });
    const refresh = body.refresh_token as string;
    const db = new DatabaseSync(join(berth.dataDir, 'meta.db'), { readOnly: true });
    try {
      const rows = db.prepare('SELECT * FROM refresh_tokens').all();
      assert.ok(rows.length > 0);
      const dump = JSON.stringify(rows);
      assert.ok(!dump.includes(refresh) && !dump.includes(refresh.slice('berth-rt-'.length)), 'no refresh token in clear');
    } finally {
      db.close();
    }
    berth = await berth.restart();
    const r = await post({ grant_type: 'refresh_token', refresh_token: refresh });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  });

  test('unknown, tampered or missing refresh tokens are refused', async () => {
    const { body } = await password(puller, { access_type: 'offline' });
    for (const refresh_token of ['berth-rt-nope', body.refresh_token.slice(0, -2) + 'xx', 'plainly-wrong']) {
      const r = await post({ grant_type: 'refresh_token', refresh_token });
      assert.equal(r.status, 401, refresh_token);
      assert.equal(r.body.error, 'invalid_grant');
    }
    const missing = await post({ grant_type: 'refresh_token' });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error, 'invalid_request');
  });

  test('are revoked when the access key is deactivated (for good) or deleted', async () => {
    const user = await createUser(berth, 'revoked', {
      name: 'all',
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }] },
    });
    const first = (await password(user, { access_type: 'offline' })).body.refresh_token as string;
    assert.equal((await post({ grant_type: 'refresh_token', refresh_token: first })).status, 200);
    await admin(berth, 'deactivate-access-key', '--access-key-id', user.accessKeyId);
    assert.equal((await post({ grant_type: 'refresh_token', refresh_token: first })).status, 401);
    await admin(berth, 'activate-access-key', '--access-key-id', user.accessKeyId);
    assert.equal((await post({ grant_type: 'refresh_token', refresh_token: first })).status, 401, 'still revoked after reactivation');
    const second = (await password(user, { access_type: 'offline' })).body.refresh_token as string;
    assert.equal((await post({ grant_type: 'refresh_token', refresh_token: second })).status, 200);
    await admin(berth, 'delete-access-key', '--access-key-id', user.accessKeyId);
    const r = await post({ grant_type: 'refresh_token', refresh_token: second });
    assert.equal(r.status, 401);
    assert.match(r.body.error_description, /invalid refresh token|no longer active/);
  });

  test('expire after the configured lifetime, and one from a login token no later than that token', async () => {
    const fromKey = (await password(puller, { access_type: 'offline' })).body.refresh_token as string;
    const fromLogin = (await post({ grant_type: 'password', username: 'AWS', password: await loginToken(puller), access_type: 'offline' }))
      .body.refresh_token as string;
    await admin(berth, 'advance-clock', '--seconds', String(12 * 3600 + 60));
    assert.equal((await post({ grant_type: 'refresh_token', refresh_token: fromKey })).status, 200);
    const expiredLogin = await post({ grant_type: 'refresh_token', refresh_token: fromLogin });
    assert.equal(expiredLogin.status, 401, 'a refresh token never outlives the 12-hour login token it came from');
    assert.match(expiredLogin.body.error_description, /expired/);
    await admin(berth, 'advance-clock', '--seconds', String(TTL_SECONDS));
    const expired = await post({ grant_type: 'refresh_token', refresh_token: fromKey });
    assert.equal(expired.status, 401);
    assert.match(expired.body.error_description, /expired/);
  });
});

test('the audit log records every grant and refusal, never a secret or a refresh token', async () => {
  const issued = (await password(puller, { access_type: 'offline' })).body.refresh_token as string;
  await password({ ...puller, secretAccessKey: 'wrong-secret-value' });
  await berth.stop();
  const lines = readFileSync(join(berth.dataDir, 'audit.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const grants = lines.filter((l) => l.event === 'token-grant');
  assert.ok(
    grants.some(
      (g) => g.grant === 'password' && g.outcome === 'granted' && g.accessKeyId === puller.accessKeyId && g.refreshTokenIssued === true,
    ),
  );
  assert.ok(grants.some((g) => g.grant === 'refresh_token' && g.outcome === 'granted'));
  assert.ok(grants.some((g) => g.grant === 'password' && g.outcome === 'refused' && /authentication failed/.test(String(g.reason))));
  const text = readFileSync(join(berth.dataDir, 'audit.log'), 'utf8');
  for (const secret of [puller.secretAccessKey, 'wrong-secret-value', issued, issued.slice('berth-rt-'.length)])
    assert.ok(!text.includes(secret), 'no secret in the audit log');
  berth = await berth.restart();
});
