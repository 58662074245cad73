// The events outbox over real HTTP and the real command: pushes (a new manifest, a tag moved), a tag deleted over
// OCI, an image deleted over the ECR API, a scan on push and a lifecycle expiry each become one event, in order,
// shaped as EventBridge's ECR events, listed by `berth events [--after N]`; writes that change nothing add none.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BatchDeleteImageCommand, CreateRepositoryCommand, PutLifecyclePolicyCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient } from '../helpers/ecr.ts';
import { berthCli } from '../helpers/lifecycle.ts';
import { configBlob, createClient, descriptor, imageManifest, MEDIA, randomBlob, type Manifest, type OciClient } from '../helpers/oci.ts';

let berth: Berth;
let ecr: ECRClient;
let oci: OciClient;
const REPO = 'events/app';

interface Event {
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  region: string;
  resources: string[];
  detail: Record<string, any>;
}

async function events(afterSeq?: string): Promise<Event[]> {
  const r = await berthCli(berth, ['events', ...(afterSeq ? ['--after', afterSeq] : [])]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Event);
}

async function pushImage(tag: string): Promise<Manifest> {
  const layer = randomBlob(1000);
  const config = configBlob();
  for (const blob of [layer, config]) assert.equal((await oci.pushBlob(REPO, blob.bytes)).status, 201);
  const manifest = imageManifest({ config: descriptor(MEDIA.ociConfig, config), layers: [descriptor(MEDIA.ociLayerGzip, layer)] });
  assert.equal((await oci.pushManifest(REPO, tag, manifest)).status, 201);
  return manifest;
}

before(async () => {
  berth = await startBerth();
  ecr = ecrClient(berth);
  oci = createClient(berth);
  await ecr.send(new CreateRepositoryCommand({ repositoryName: REPO, imageScanningConfiguration: { scanOnPush: true } }));
});
after(async () => {
  ecr?.destroy();
  await berth?.cleanup();
});

test('pushes, tag changes, deletes, a scan and a lifecycle expiry are events, in order, after N', async () => {
  assert.deepEqual(await events(), [], 'nothing happened yet');
  const first = await pushImage('v1');
  // The same tag again changes nothing: no event. Another tag on it is a PUSH of that tag (as ECR tells a retag).
  assert.equal((await oci.pushManifest(REPO, 'v1', first)).status, 201);
  assert.equal((await oci.pushManifest(REPO, 'v2', first)).status, 201);
  assert.equal((await oci.delete(`/v2/${REPO}/manifests/v2`)).status, 202);
  const second = await pushImage('v3');
  // Scan on push runs as a job: its end is an event (whatever the scan found). Waited for before the delete (an
  // image deleted before its scan runs is not scanned).
  for (let i = 0; i < 60; i++) {
    if ((await events()).filter((e) => e['detail-type'] === 'ECR Image Scan').length === 2) break;
    await sleep(500);
  }
  const deleted = await ecr.send(new BatchDeleteImageCommand({ repositoryName: REPO, imageIds: [{ imageDigest: second.digest }] }));
  assert.equal(deleted.failures?.length ?? 0, 0);
  const all = await events();
  const actions = all.filter((e) => e['detail-type'] === 'ECR Image Action').map((e) => e.detail);
  assert.deepEqual(actions, [
    { result: 'SUCCESS', 'repository-name': REPO, 'image-digest': first.digest, 'action-type': 'PUSH', 'image-tag': 'v1' },
    { result: 'SUCCESS', 'repository-name': REPO, 'image-digest': first.digest, 'action-type': 'PUSH', 'image-tag': 'v2' },
    { result: 'SUCCESS', 'repository-name': REPO, 'image-digest': first.digest, 'action-type': 'DELETE', 'image-tag': 'v2' },
    { result: 'SUCCESS', 'repository-name': REPO, 'image-digest': second.digest, 'action-type': 'PUSH', 'image-tag': 'v3' },
    { result: 'SUCCESS', 'repository-name': REPO, 'image-digest': second.digest, 'action-type': 'DELETE' },
  ]);
  const scans = all.filter((e) => e['detail-type'] === 'ECR Image Scan');
  assert.deepEqual(
    scans.map((e) => e.detail['image-digest']).sort(),
    [first.digest, second.digest].sort(),
    'one scan event per pushed image',
  );
  for (const s of scans) {
    assert.equal(s.detail['repository-name'], REPO);
    assert.ok(['COMPLETE', 'FAILED', 'UNSUPPORTED_IMAGE'].includes(s.detail['scan-status']), JSON.stringify(s.detail));
    assert.equal(typeof s.detail['finding-severity-counts'], 'object');
  }
  // The envelope: EventBridge's fields; ids are the sequence, increasing.
  const e0 = all[0];
  assert.equal(e0.source, 'aws.ecr');
  assert.match(e0.account, /^\d{12}$/);
  assert.deepEqual(e0.resources, [`arn:aws:ecr:${e0.region}:${e0.account}:repository/${REPO}`]);
  const ids = all.map((e) => Number(e.id));
  assert.deepEqual(
    [...ids].sort((a, b) => a - b),
    ids,
  );
  assert.equal(new Set(ids).size, ids.length);

  // --after N: only what came later. A lifecycle expiry is a DELETE with its reason.
  const last = all[all.length - 1].id;
  await pushImage('v4');
  await ecr.send(
    new PutLifecyclePolicyCommand({
      repositoryName: REPO,
      lifecyclePolicyText: JSON.stringify({
        rules: [
          { rulePriority: 1, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } },
        ],
      }),
    }),
  );
  const run = await berthCli(berth, ['lifecycle', 'run', REPO]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const later = (await events(last)).filter((e) => e['detail-type'] === 'ECR Image Action').map((e) => e.detail);
  assert.deepEqual(later, [
    { result: 'SUCCESS', 'repository-name': REPO, 'image-digest': later[0]?.['image-digest'], 'action-type': 'PUSH', 'image-tag': 'v4' },
    { result: 'SUCCESS', 'repository-name': REPO, 'image-digest': first.digest, 'action-type': 'DELETE', reason: 'LIFECYCLE_POLICY' },
  ]);
  assert.ok((await events(last)).every((e) => Number(e.id) > Number(last)));
  const bad = await berthCli(berth, ['events', '--after', 'x']);
  assert.notEqual(bad.code, 0);
});

test('berth events tail follows: an event written after it started is printed', async () => {
  const start = (await events()).at(-1)?.id ?? '0';
  const root = join(import.meta.dirname, '..', '..');
  const tail = spawn(process.execPath, [join(root, 'bin', 'berth.js'), 'events', 'tail', '--after', start], {
    cwd: root,
    env: {
      ...process.env,
      BERTH_DATA_DIR: berth.dataDir,
      BERTH_ROOT_ACCESS_KEY_ID: berth.accessKeyId,
      BERTH_ROOT_SECRET_ACCESS_KEY: berth.secretAccessKey,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    tail.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    const exited = new Promise((r) => tail.once('exit', r));
    // It has read what there was (nothing about this tag); then a push while it runs.
    await sleep(1000);
    assert.ok(!out.includes('"tailed"'));
    const m = await pushImage('tailed');
    let gone = false;
    void exited.then(() => {
      gone = true;
    });
    for (let i = 0; i < 300 && !gone && !out.includes('"tailed"'); i++) await sleep(100);
    const seen = out.includes('"tailed"');
    assert.ok(seen, `tail printed the push: ${out}`);
    const line = JSON.parse(out.split('\n').find((l) => l.includes('"tailed"'))!) as Event;
    assert.equal(line.detail['image-digest'], m.digest);
    assert.ok(Number(line.id) > Number(start));
  } finally {
    tail.kill();
  }
});
