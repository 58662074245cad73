// Webhooks over real HTTP: added, listed and deleted through the admin API (berth:PutWebhook, ...), delivered by
// the webhook job from the events outbox to a receiver on 127.0.0.1 as CloudEvents 1.0 (binary mode) signed as
// Standard Webhooks says; a receiver that fails is retried and then gets the event (at-least-once, same id);
// filters leave out what they do not name; update-webhook changes the filters and keeps the secret and cursor; a
// user without the action is refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { configBlob, createClient, descriptor, imageManifest, MEDIA, randomBlob } from '../helpers/oci.ts';

let berth: Berth;
let receiver: Server;
let receiverUrl: string;
const received: { headers: IncomingHttpHeaders; body: string; status: number }[] = [];
/** How many requests the receiver refuses (503) before it accepts. */
let refuse = 0;

async function admin(action: string, body: object, authorization = berth.authHeader): Promise<{ status: number; body: any }> {
  const res = await fetch(`${berth.url}/_berth/admin/${action}`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

before(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = refuse > 0 ? (refuse--, 503) : 204;
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const address = receiver.address() as { port: number };
  receiverUrl = `http://127.0.0.1:${address.port}/hook`;
  berth = await startBerth({ env: { BERTH_CREATE_ON_PUSH: 'true', BERTH_WEBHOOK_INTERVAL_SECONDS: '1' } });
});
after(async () => {
  await berth?.cleanup();
  await new Promise<void>((r) => receiver.close(() => r()));
});

test('a push is delivered signed to a webhook, retried while the receiver fails; filters and authorization hold', async () => {
  // Refused without the action.
  await admin('create-user', { user: 'dev' });
  await admin('put-user-policy', {
    user: 'dev',
    policyName: 'p',
    policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }] }),
  });
  const devKey = (await admin('create-access-key', { user: 'dev' })).body;
  const dev = 'Basic ' + Buffer.from(`${devKey.accessKeyId}:${devKey.secretAccessKey}`).toString('base64');
  assert.equal((await admin('put-webhook', { url: receiverUrl }, dev)).status, 403);
  assert.equal((await admin('put-webhook', { url: 'ftp://example.com/' })).status, 400);

  const hook = await admin('put-webhook', { url: receiverUrl, eventTypes: ['ECR Image Action'], repositories: ['hooks/*'] });
  assert.equal(hook.status, 200, JSON.stringify(hook.body));
  const { id, secret } = hook.body;
  assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/);
  const listed = (await admin('list-webhooks', {})).body.webhooks;
  assert.deepEqual(
    listed.map((w: any) => [w.id, w.url, w.eventTypes, w.repositories]),
    [[id, receiverUrl, ['ECR Image Action'], ['hooks/*']]],
  );
  assert.ok(!JSON.stringify(listed).includes(secret), 'the secret is shown once');

  // The first two attempts fail: the event is delivered on a later one.
  refuse = 2;
  const oci = createClient(berth);
  const push = async (repo: string, tag: string) => {
    const layer = randomBlob(500);
    const config = configBlob();
    for (const b of [layer, config]) assert.equal((await oci.pushBlob(repo, b.bytes)).status, 201);
    const m = imageManifest({ config: descriptor(MEDIA.ociConfig, config), layers: [descriptor(MEDIA.ociLayerGzip, layer)] });
    assert.equal((await oci.pushManifest(repo, tag, m)).status, 201);
    return m;
  };
  await push('other/app', 'v1'); // left out by the repository filter
  const m = await push('hooks/app', 'v1');
  for (let i = 0; i < 120 && !received.some((r) => r.status === 204); i++) await sleep(250);
  const attempts = received.filter((r) => r.headers['webhook-id'] === received[0]?.headers['webhook-id']);
  assert.deepEqual(
    attempts.map((r) => r.status),
    [503, 503, 204],
    'retried until accepted',
  );
  assert.equal(new Set(received.map((r) => r.headers['webhook-id'])).size, 1, "the other repository's push is filtered out");
  const ok = attempts[2];
  const event = JSON.parse(ok.body);
  assert.equal(event['detail-type'], 'ECR Image Action');
  assert.deepEqual(event.detail, {
    result: 'SUCCESS',
    'repository-name': 'hooks/app',
    'image-digest': m.digest,
    'action-type': 'PUSH',
    'image-tag': 'v1',
  });
  // CloudEvents binary mode.
  assert.equal(ok.headers['ce-specversion'], '1.0');
  assert.equal(ok.headers['ce-type'], 'ECR Image Action');
  assert.equal(ok.headers['ce-id'], ok.headers['webhook-id']);
  assert.equal(ok.headers['content-type'], 'application/json');
  // Standard Webhooks signature: base64 HMAC-SHA256 of id.timestamp.body, keyed with the secret's bytes.
  const signed = `${ok.headers['webhook-id']}.${ok.headers['webhook-timestamp']}.${ok.body}`;
  const expected = createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64'))
    .update(signed)
    .digest('base64');
  assert.equal(ok.headers['webhook-signature'], `v1,${expected}`);
  assert.ok(Math.abs(Number(ok.headers['webhook-timestamp']) - Date.now() / 1000) < 300);

  // update-webhook changes the filters of the same webhook: its secret and delivery cursor are kept (the push to
  // other/app before is not delivered now that its repository is let through; the next one is, signed as before).
  assert.equal((await admin('update-webhook', { webhookId: id, repositories: ['other/*'] }, dev)).status, 403);
  assert.equal((await admin('update-webhook', { webhookId: 'nope', repositories: [] })).status, 400);
  assert.equal((await admin('update-webhook', { webhookId: id, repositories: 'other/*' })).status, 400);
  const updated = await admin('update-webhook', { webhookId: id, repositories: ['other/*'] });
  assert.equal(updated.status, 200, JSON.stringify(updated.body));
  assert.deepEqual(
    [updated.body.id, updated.body.eventTypes, updated.body.repositories, updated.body.secret],
    [id, ['ECR Image Action'], ['other/*'], undefined],
  );
  const before = received.length;
  const m2 = await push('other/app', 'v2');
  for (let i = 0; i < 120 && received.length === before; i++) await sleep(250);
  await sleep(1500); // a wrongly replayed older event would arrive in the same round
  const later = received.slice(before);
  assert.deepEqual(
    later.map((r) => [JSON.parse(r.body).detail['image-digest'], r.status]),
    [[m2.digest, 204]],
    'only the new push, once',
  );
  const again = later[0];
  const resigned = createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64'))
    .update(`${again.headers['webhook-id']}.${again.headers['webhook-timestamp']}.${again.body}`)
    .digest('base64');
  assert.equal(again.headers['webhook-signature'], `v1,${resigned}`, 'signed with the same secret');

  assert.equal((await admin('delete-webhook', { webhookId: id })).status, 200);
  assert.deepEqual((await admin('list-webhooks', {})).body.webhooks, []);
  assert.equal((await admin('delete-webhook', { webhookId: id })).status, 400);
});
