// GET /metrics over real HTTP: the Prometheus text format, figures that move with a push, a pull and a garbage
// collection, and its authorization: an access key allowed berth:GetMetrics (Prometheus's basic auth), refused
// without credentials or without the action, answered to anyone with BERTH_METRICS_PUBLIC=true.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { configBlob, createClient, imageManifest, MEDIA, descriptor, randomBlob, manifestDescriptor } from '../helpers/oci.ts';

let berth: Berth;
let publicBerth: Berth;
interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}
const basic = (k: Keys) => 'Basic ' + Buffer.from(`${k.accessKeyId}:${k.secretAccessKey}`).toString('base64');
let reader: Keys;
let pusher: Keys;

async function admin(action: string, body: object): Promise<any> {
  const res = await fetch(`${berth.url}/_berth/admin/${action}`, {
    method: 'POST',
    headers: { authorization: berth.authHeader, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  assert.equal(res.status, 200, `${action}: ${JSON.stringify(json)}`);
  return json;
}

async function user(name: string, statement: object): Promise<Keys> {
  await admin('create-user', { user: name });
  await admin('put-user-policy', {
    user: name,
    policyName: 'p',
    policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [statement] }),
  });
  return admin('create-access-key', { user: name });
}

async function scrape(b: Berth, authorization?: string): Promise<string> {
  const res = await fetch(`${b.url}/metrics`, { headers: authorization ? { authorization } : {} });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return text;
}

/** The sum of a metric's samples whose labels include all of `labels`. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

before(async () => {
  [berth, publicBerth] = await Promise.all([
    startBerth({ env: { BERTH_CREATE_ON_PUSH: 'true', BERTH_GC_GRACE_SECONDS: '0' } }),
    startBerth({ env: { BERTH_METRICS_PUBLIC: 'true' } }),
  ]);
  reader = await user('prometheus', { Effect: 'Allow', Action: 'berth:GetMetrics', Resource: '*' });
  // Allowed everything but metrics.
  pusher = await user('pusher', { Effect: 'Allow', Action: ['ecr:*', 'iam:*'], Resource: '*' });
});
after(async () => {
  await Promise.all([berth?.cleanup(), publicBerth?.cleanup()]);
});

test('/metrics needs a credential allowed berth:GetMetrics unless configured public', async () => {
  const anonymous = await fetch(`${berth.url}/metrics`);
  assert.equal(anonymous.status, 401);
  assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic /);
  const wrong = await fetch(`${berth.url}/metrics`, { headers: { authorization: basic({ ...reader, secretAccessKey: 'x'.repeat(40) }) } });
  assert.equal(wrong.status, 401);
  const denied = await fetch(`${berth.url}/metrics`, { headers: { authorization: basic(pusher) } });
  assert.equal(denied.status, 403);
  assert.match(
    ((await denied.json()) as { message: string }).message,
    /not authorized to perform: berth:GetMetrics on resource: arn:aws:ecr:[^:]+:\d{12}:registry/,
  );
  await scrape(berth, basic(reader));
  await scrape(berth, berth.authHeader);
  // Public: no credentials needed.
  const open = await scrape(publicBerth);
  assert.ok(value(open, 'berth_process_cpu_user_seconds_total') > 0, 'Node process metrics');
});

test('request, byte, upload and job figures move with a push, a pull and a garbage collection', async () => {
  const auth = basic(reader);
  const before = await scrape(berth, auth);
  const oci = createClient(berth);
  const layer = randomBlob(40_000);
  const config = configBlob();
  // An upload left open is in progress until it is completed.
  const open = await oci.post('/v2/metrics/app/blobs/uploads/');
  assert.equal(open.status, 202);
  assert.equal(value(await scrape(berth, auth), 'berth_uploads_in_progress'), 1);
  for (const blob of [layer, config]) assert.equal((await oci.pushBlob('metrics/app', blob.bytes)).status, 201);
  const manifest = imageManifest({ config: descriptor(MEDIA.ociConfig, config), layers: [descriptor(MEDIA.ociLayerGzip, layer)] });
  assert.equal((await oci.pushManifest('metrics/app', 'v1', manifest)).status, 201);
  const pulled = await oci.get(`/v2/metrics/app/blobs/${layer.digest}`);
  assert.equal(pulled.status, 200);
  assert.equal((await oci.get('/v2/metrics/app/manifests/v1')).status, 200);
  await oci.delete(open.location);

  const afterPush = await scrape(berth, auth);
  const delta = (name: string, labels: Record<string, string> = {}) => value(afterPush, name, labels) - value(before, name, labels);
  assert.equal(
    delta('berth_http_requests_total', { protocol: 'oci', method: 'PUT', operation: '/v2/<name>/manifests/<reference>', status: '2xx' }),
    1,
  );
  assert.equal(
    delta('berth_http_requests_total', { protocol: 'oci', method: 'GET', operation: '/v2/<name>/blobs/<digest>', status: '2xx' }),
    1,
  );
  assert.equal(
    delta('berth_http_requests_total', { protocol: 'oci', method: 'PUT', operation: '/v2/<name>/blobs/uploads/<uuid>', status: '2xx' }),
    2,
  );
  assert.equal(delta('berth_http_request_duration_seconds_count', { protocol: 'oci', operation: '/v2/<name>/blobs/<digest>' }), 1);
  assert.equal(delta('berth_uploaded_bytes_total'), layer.bytes.length + config.bytes.length);
  assert.equal(delta('berth_downloaded_bytes_total'), layer.bytes.length + manifest.bytes.length);
  assert.equal(value(afterPush, 'berth_uploads_in_progress'), 0);
  assert.equal(value(afterPush, 'berth_storage_full'), 0);
  assert.equal(value(afterPush, 'berth_audit_lines_dropped'), 0);
  // The scrapes themselves are counted under their own protocol; admin actions by name, never by raw path.
  assert.ok(value(afterPush, 'berth_http_requests_total', { protocol: 'metrics', status: '2xx' }) >= 1);
  assert.ok(value(afterPush, 'berth_http_requests_total', { protocol: 'admin', operation: 'create-user' }) >= 2);

  // Untagged and unreferenced: the layer is collected by a garbage collection run as a job.
  assert.equal((await oci.delete(`/v2/metrics/app/manifests/${manifestDescriptor(manifest).digest}`)).status, 202);
  await admin('gc', {});
  const afterGc = await scrape(berth, auth);
  assert.equal(
    value(afterGc, 'berth_jobs_total', { kind: 'gc', outcome: 'succeeded' }) -
      value(afterPush, 'berth_jobs_total', { kind: 'gc', outcome: 'succeeded' }),
    1,
  );
  assert.equal(value(afterGc, 'berth_gc_runs_total') - value(afterPush, 'berth_gc_runs_total'), 1);
  assert.ok(value(afterGc, 'berth_gc_freed_bytes_total') - value(afterPush, 'berth_gc_freed_bytes_total') >= layer.bytes.length);
});
