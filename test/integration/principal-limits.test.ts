// Limits an operator expects, over real HTTP on both protocols: open uploads per principal (counted in the
// metadata store, so they hold across restarts and nodes), requests in flight per principal, and failed logins per
// source address.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrRaw, errorType, type RawResponse } from '../helpers/ecr.ts';
import { req, show, startUpload, type Res } from '../helpers/http.ts';
import { createUser } from '../helpers/policies.ts';

const servers: Berth[] = [];
after(async () => {
  for (const s of servers) await s.cleanup();
});

async function serve(env: Record<string, string>): Promise<Berth> {
  const berth = await startBerth({ env });
  servers.push(berth);
  return berth;
}

const PUSH = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['ecr:*'], Resource: '*' }],
};

function basic(accessKeyId: string, secret: string): string {
  return 'Basic ' + Buffer.from(`${accessKeyId}:${secret}`).toString('base64');
}

function assertTooMany(r: Res, what: string): void {
  assert.equal(r.status, 429, `${what}: ${show(r)}`);
  assert.equal(JSON.parse(r.body.toString()).errors[0].code, 'TOOMANYREQUESTS', what);
}

function assertEcrError(r: RawResponse, type: string, what: string): void {
  assert.equal(r.status, 400, `${what}: ${r.status} ${r.text}`);
  assert.equal(errorType(r), type, `${what}: ${r.text}`);
}

test('open uploads per principal: the limit answers 429 TOOMANYREQUESTS and LimitExceededException, and holds across restarts', async () => {
  let berth = await serve({ BERTH_MAX_UPLOADS_PER_PRINCIPAL: '3' });
  const user = await createUser(berth, 'pusher', { name: 'push', document: PUSH });
  const asUser = { url: berth.url, authHeader: basic(user.accessKeyId, user.secretAccessKey) };
  const mine = [await startUpload(berth, 'limits/a'), await startUpload(berth, 'limits/a')];
  const init = await ecrRaw(berth, 'InitiateLayerUpload', { repositoryName: 'limits/a' });
  assert.equal(init.status, 200, init.text);
  // A fourth, on either protocol and in any repository, is refused.
  assertTooMany(await req(berth, 'POST', '/v2/limits/b/blobs/uploads/'), 'a fourth upload over OCI');
  assertEcrError(await ecrRaw(berth, 'InitiateLayerUpload', { repositoryName: 'limits/a' }), 'LimitExceededException', 'a fourth over ECR');
  // Another principal is not held by this one's uploads.
  assert.equal((await req(asUser, 'POST', '/v2/limits/a/blobs/uploads/')).status, 202);
  // The count is in the metadata store: a restarted server still refuses.
  berth = await berth.restart();
  servers.push(berth);
  assertTooMany(await req(berth, 'POST', '/v2/limits/a/blobs/uploads/'), 'a fourth upload after a restart');
  // Cancelling one makes room for one.
  const cancelled = await req(berth, 'DELETE', new URL(new URL(mine[0]).pathname, berth.url).toString());
  assert.equal(cancelled.status, 204, show(cancelled));
  assert.equal((await req(berth, 'POST', '/v2/limits/a/blobs/uploads/')).status, 202);
  assertTooMany(await req(berth, 'POST', '/v2/limits/a/blobs/uploads/'), 'again at the limit');
});

/** A PATCH that sends its headers and one byte, then holds the request open until `release` is called. */
function heldPatch(location: string, authHeader: string): { release: () => Promise<number> } {
  const r = http.request(location, {
    method: 'PATCH',
    agent: false,
    headers: { Authorization: authHeader, 'Content-Type': 'application/octet-stream' },
  });
  const status = new Promise<number>((resolve, reject) => {
    r.on('response', (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    r.on('error', reject);
  });
  r.write(Buffer.from('x'));
  return {
    release: () => {
      r.end();
      return status;
    },
  };
}

async function eventually(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(100);
  }
}

test('requests in flight per principal: 429 TOOMANYREQUESTS on /v2/, ThrottlingException on the ECR API', async () => {
  const berth = await serve({ BERTH_MAX_REQUESTS_PER_PRINCIPAL: '2' });
  const user = await createUser(berth, 'other', { name: 'push', document: PUSH });
  const asUser = { url: berth.url, authHeader: basic(user.accessKeyId, user.secretAccessKey) };
  const uploads = [await startUpload(berth, 'busy/a'), await startUpload(berth, 'busy/b')];
  const held = uploads.map((u) => heldPatch(u, berth.authHeader));
  try {
    await eventually(async () => (await req(berth, 'GET', '/v2/')).status === 429, 'a third request of root refused');
    assertTooMany(await req(berth, 'GET', '/v2/_catalog'), 'a third request over OCI');
    assertEcrError(await ecrRaw(berth, 'DescribeRepositories', {}), 'ThrottlingException', 'a third request over ECR');
    // Another principal goes on.
    assert.equal((await req(asUser, 'GET', '/v2/')).status, 200);
    assert.equal(
      (await ecrRaw(berth, 'DescribeRepositories', {}, { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey })).status,
      200,
    );
  } finally {
    for (const h of held) assert.equal(await h.release(), 202);
  }
  // Once they are over, root is served again.
  await eventually(async () => (await req(berth, 'GET', '/v2/')).status === 200, 'root served again');
  assert.equal((await ecrRaw(berth, 'DescribeRepositories', {})).status, 200);
});

/** A request from another loopback address (127.0.0.2), to show that limits are per address. */
function fromOtherAddress(
  berth: Berth,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request(new URL(path, berth.url), { method, headers, localAddress: '127.0.0.2', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

test('failed logins per address: past the limit, attempts are refused without checking credentials until the minute is over', async () => {
  const berth = await serve({ BERTH_MAX_LOGIN_FAILURES_PER_MINUTE: '5', BERTH_TEST_CLOCK: '1' });
  const wrong = basic(berth.accessKeyId, 'not-the-secret');
  // Five failures, of every kind that counts.
  assert.equal((await req(berth, 'GET', '/v2/', { headers: { Authorization: wrong } })).status, 401);
  assert.equal((await req(berth, 'GET', '/v2/', { headers: { Authorization: 'Bearer forged.token' } })).status, 401);
  assert.equal((await req(berth, 'GET', '/_berth/token?service=x', { headers: { Authorization: wrong } })).status, 401);
  assertEcrError(
    await ecrRaw(berth, 'DescribeRepositories', {}, { secretAccessKey: 'not-the-secret' }),
    'InvalidSignatureException',
    'a wrong signature',
  );
  assertEcrError(
    await ecrRaw(berth, 'DescribeRepositories', {}, { accessKeyId: 'AKIANOSUCHKEY0000000' }),
    'UnrecognizedClientException',
    'an unknown key',
  );
  // Now even the right credentials are refused, on every endpoint, in each protocol's format.
  assertTooMany(await req(berth, 'GET', '/v2/'), 'the right password on /v2/');
  assertTooMany(await req(berth, 'GET', '/_berth/token?service=x'), 'the right password at the token endpoint');
  assertEcrError(await ecrRaw(berth, 'DescribeRepositories', {}), 'ThrottlingException', 'a right signature');
  // A request without credentials is no login: it is answered as ever (the challenge).
  assert.equal((await req(berth, 'GET', '/v2/', { auth: false })).status, 401);
  // Another address is not held.
  const other = await fromOtherAddress(berth, 'GET', '/v2/', { Authorization: berth.authHeader });
  assert.equal(other.status, 200, other.text);
  // A minute after the first failure, the address is heard again.
  const moved = await fromOtherAddress(
    berth,
    'POST',
    '/_berth/admin/advance-clock',
    { Authorization: berth.authHeader, 'Content-Type': 'application/json' },
    '{"seconds":61}',
  );
  assert.equal(moved.status, 200, moved.text);
  assert.equal((await req(berth, 'GET', '/v2/')).status, 200);
  assert.equal((await ecrRaw(berth, 'DescribeRepositories', {}, { signingDate: new Date(Date.now() + 61_000) })).status, 200);
});
