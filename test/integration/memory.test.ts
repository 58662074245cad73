// Invariant 5: streams, not buffers. Pushing and pulling a blob far larger than the memory budget keeps the
// server's resident memory flat: its peak (VmHWM, tracked by the kernel) stays under 150 MiB (the target of issue 6 for a 1 GiB blob).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type Berth } from '../helpers/berth.ts';
import {
  MiB,
  checkBlobArea,
  generatedBlob,
  getAndHash,
  resolveLocation,
  sampleMemory,
  sendStream,
  serverReport,
  startUpload,
  withDigest,
  type MemoryReport,
} from '../helpers/http.ts';

const LIMIT_MIB = 150;
const started: Berth[] = [];

after(async () => {
  for (const b of started) {
    const report = serverReport(b);
    if (report) console.log(report);
    await b.cleanup();
  }
});

async function fresh(): Promise<Berth> {
  const b = await startBerth();
  started.push(b);
  return b;
}

function report(label: string, r: MemoryReport, baselineMiB: number, seconds: number, bytes: number): string {
  return (
    `${label}: server peak RSS (VmHWM) ${r.hwmMiB.toFixed(1)} MiB, highest sampled RSS ${r.sampledPeakMiB.toFixed(1)} MiB ` +
    `(process tree HWM ${r.treeHwmMiB.toFixed(1)} MiB, ${r.samples} samples), RSS after start ${baselineMiB.toFixed(1)} MiB; ` +
    `${(bytes / MiB).toFixed(0)} MiB pushed and pulled in ${seconds.toFixed(1)} s`
  );
}

test('a 2 GiB monolithic PUT and its GET keep the server under 150 MiB', { timeout: 240_000 }, async (t) => {
  const blob = generatedBlob(2048 * MiB, 'memory-monolithic-2g');
  const berth = await fresh();
  const pid = berth.process.pid!;
  const mem = sampleMemory(pid);
  t.after(() => {
    mem.stop();
  });
  const baseline = sampleMemory(pid).stop().sampledPeakMiB;
  const t0 = Date.now();

  const loc = await startUpload(berth, 'memory/monolithic');
  const put = await sendStream(
    withDigest(loc, blob.digest),
    'PUT',
    {
      Authorization: berth.authHeader,
      'Content-Type': 'application/octet-stream',
      'Content-Length': blob.size,
    },
    blob.stream(),
  );
  assert.equal(put.status, 201, `PUT 2 GiB: ${put.status} ${put.body}`);
  assert.equal(put.headers['docker-content-digest'], blob.digest);
  const pushedAt = Date.now();
  const afterPush = mem.peek().hwmMiB;

  const got = await getAndHash(`${berth.url}/v2/memory/monolithic/blobs/${blob.digest}`, berth.authHeader);
  const r = mem.stop();
  const seconds = (Date.now() - t0) / 1000;
  const line =
    report('2 GiB monolithic', r, baseline, seconds, blob.size) +
    ` (push ${((pushedAt - t0) / 1000).toFixed(1)} s, pull ${((Date.now() - pushedAt) / 1000).toFixed(1)} s; peak RSS after the push ${afterPush.toFixed(1)} MiB)`;
  t.diagnostic(line);
  console.log('# ' + line);

  assert.equal(got.status, 200);
  assert.equal(got.size, blob.size);
  assert.equal(got.digest, blob.digest, 'pulled bytes differ from pushed bytes');
  assert.ok(r.hwmMiB < LIMIT_MIB, `server peak RSS ${r.hwmMiB.toFixed(1)} MiB >= ${LIMIT_MIB} MiB`);
  assert.ok(r.sampledPeakMiB < LIMIT_MIB, `sampled server RSS ${r.sampledPeakMiB.toFixed(1)} MiB >= ${LIMIT_MIB} MiB`);
  assert.ok(r.treeHwmMiB < LIMIT_MIB, `server process tree peak RSS ${r.treeHwmMiB.toFixed(1)} MiB >= ${LIMIT_MIB} MiB`);

  const area = await checkBlobArea(berth.dataDir);
  assert.deepEqual(area.bad, []);
});

test('a 512 MiB upload in 16 MiB PATCHes and its GET keep the server under 150 MiB', { timeout: 180_000 }, async (t) => {
  const CHUNK = 16 * MiB;
  const blob = generatedBlob(512 * MiB, 'memory-chunked-512m');
  const berth = await fresh();
  const pid = berth.process.pid!;
  const mem = sampleMemory(pid);
  t.after(() => {
    mem.stop();
  });
  const baseline = sampleMemory(pid).stop().sampledPeakMiB;
  const t0 = Date.now();

  let loc = await startUpload(berth, 'memory/chunked');
  for (let start = 0; start < blob.size; start += CHUNK) {
    const end = Math.min(blob.size, start + CHUNK);
    const p = await sendStream(
      loc,
      'PATCH',
      {
        Authorization: berth.authHeader,
        'Content-Type': 'application/octet-stream',
        'Content-Range': `${start}-${end - 1}`,
        'Content-Length': end - start,
      },
      blob.stream(start, end),
    );
    assert.equal(p.status, 202, `PATCH ${start}-${end - 1}: ${p.status} ${p.body}`);
    assert.equal(p.headers.range, `0-${end - 1}`);
    if (p.headers.location) loc = resolveLocation(berth, p.headers.location);
  }
  const afterPatches = mem.peek().hwmMiB;
  const done = await sendStream(
    withDigest(loc, blob.digest),
    'PUT',
    {
      Authorization: berth.authHeader,
      'Content-Length': 0,
    },
    (async function* () {
      /* empty body */
    })(),
  );
  assert.equal(done.status, 201, `closing PUT: ${done.status} ${done.body}`);

  const got = await getAndHash(`${berth.url}/v2/memory/chunked/blobs/${blob.digest}`, berth.authHeader);
  const r = mem.stop();
  const line =
    report('512 MiB in 16 MiB PATCHes', r, baseline, (Date.now() - t0) / 1000, blob.size) +
    ` (peak RSS after the PATCHes ${afterPatches.toFixed(1)} MiB)`;
  t.diagnostic(line);
  console.log('# ' + line);

  assert.equal(got.status, 200);
  assert.equal(got.size, blob.size);
  assert.equal(got.digest, blob.digest, 'pulled bytes differ from pushed bytes');
  assert.ok(r.hwmMiB < LIMIT_MIB, `server peak RSS ${r.hwmMiB.toFixed(1)} MiB >= ${LIMIT_MIB} MiB`);
  assert.ok(r.sampledPeakMiB < LIMIT_MIB, `sampled server RSS ${r.sampledPeakMiB.toFixed(1)} MiB >= ${LIMIT_MIB} MiB`);
  assert.ok(r.treeHwmMiB < LIMIT_MIB, `server process tree peak RSS ${r.treeHwmMiB.toFixed(1)} MiB >= ${LIMIT_MIB} MiB`);
});
