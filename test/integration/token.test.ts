// Registry authorization tokens (GetAuthorizationToken, "AWS:<token>" on the data plane): bound to the access
// key that asked for them, refused once it is deactivated, and refused after 12 hours.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient } from '../helpers/ecr.ts';
import { admin, createUser } from '../helpers/policies.ts';

let berth: Berth;

before(async () => {
  berth = await startBerth({ env: { BERTH_TEST_CLOCK: '1' } });
});
after(() => berth.cleanup());

/** GetAuthorizationToken signed with the key: the Basic header value it makes for the data plane, and its expiry. */
async function token(accessKeyId: string, secretAccessKey: string): Promise<{ basic: string; expiresAt: Date }> {
  const client = ecrClient(berth, { accessKeyId, secretAccessKey });
  try {
    const out = await client.send(new GetAuthorizationTokenCommand({}));
    const data = out.authorizationData![0];
    return { basic: `Basic ${data.authorizationToken}`, expiresAt: data.expiresAt! };
  } finally {
    client.destroy();
  }
}

const v2 = async (authorization: string) => (await fetch(`${berth.url}/v2/`, { headers: { authorization } })).status;

test('a token is refused once its access key is deactivated, and works again when it is reactivated', async () => {
  const key = await createUser(berth, 'puller', {
    name: 'token',
    document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' }] },
  });
  const { basic, expiresAt } = await token(key.accessKeyId, key.secretAccessKey);
  assert.ok(Math.abs(expiresAt.getTime() - Date.now() - 12 * 3600_000) < 60_000, 'expires 12 hours ahead');
  assert.equal(Buffer.from(basic.slice(6), 'base64').toString().split(':')[0], 'AWS');
  assert.equal(await v2(basic), 200);
  await admin(berth, 'deactivate-access-key', '--access-key-id', key.accessKeyId);
  assert.equal(await v2(basic), 401);
  await admin(berth, 'activate-access-key', '--access-key-id', key.accessKeyId);
  assert.equal(await v2(basic), 200);
  assert.equal(await v2(basic.slice(0, -4) + 'AAAA'), 401, 'a tampered token');
});

test('a token is refused after 12 hours', async () => {
  const { basic } = await token(berth.accessKeyId, berth.secretAccessKey);
  assert.equal(await v2(basic), 200);
  const moved = await admin(berth, 'advance-clock', '--seconds', String(11 * 3600));
  assert.ok(moved.now);
  assert.equal(await v2(basic), 200, 'still valid after 11 hours');
  await admin(berth, 'advance-clock', '--seconds', String(3600 + 60));
  const res = await fetch(`${berth.url}/v2/`, { headers: { authorization: basic } });
  assert.equal(res.status, 401);
  const body = (await res.json()) as { errors: { code: string; message: string }[] };
  assert.equal(body.errors[0].code, 'UNAUTHORIZED');
  assert.match(body.errors[0].message, /expired/);
});
