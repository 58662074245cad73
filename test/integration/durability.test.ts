// Invariant 1: content-addressed, verified, durable. What was acknowledged with 201 survives kill -9; an upload
// in progress survives a restart; a partial or unverified body never becomes visible as a blob.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { startBerth, type Berth } from '../helpers/berth.ts';
import {
  MANIFEST_TYPE,
  MiB,
  blobPath,
  checkBlobArea,
  generatedBlob,
  getAndHash,
  listFiles,
  pushBlob,
  pushImage,
  req,
  resolveLocation,
  sendStream,
  serverErrors,
  serverReport,
  sha256,
  show,
  startUpload,
  withDigest,
} from '../helpers/http.ts';

let berth: Berth;
const outputs: (() => string)[] = [];

async function restart(): Promise<Berth> {
  berth = await berth.restart();
  outputs.push(berth.output);
  return berth;
}

before(async () => {
  berth = await startBerth();
  outputs.push(berth.output);
});

after(async () => {
  const errors = serverErrors(outputs.map((o) => o()).join('\n'));
  if (errors) console.log('# server errors:\n' + errors.replace(/^/gm, '# '));
  if (berth && (berth.process.exitCode !== null || berth.process.signalCode !== null)) console.log(serverReport(berth));
  await berth?.cleanup();
});

function errorCodes(body: Buffer): string[] {
  try {
    const j = JSON.parse(body.toString('utf8')) as { errors?: { code?: string }[] };
    return (j.errors ?? []).map((e) => String(e.code));
  } catch {
    return [];
  }
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return cond();
}

test('a blob and a tagged manifest acknowledged with 201 survive kill -9', async () => {
  const repo = 'durability/acked';
  const layer = randomBytes(3 * MiB + 17);
  const img = await pushImage(berth, repo, 'v1', { layer });
  // No pause: the 201s are the promise.
  await berth.kill9();
  await restart();

  for (const ref of ['v1', img.digest]) {
    const m = await req(berth, 'GET', `/v2/${repo}/manifests/${ref}`, { headers: { Accept: MANIFEST_TYPE } });
    assert.equal(m.status, 200, `GET manifest ${ref} after kill -9: ${show(m)}`);
    assert.ok(m.body.equals(img.manifest), `manifest ${ref} bytes differ after kill -9`);
    assert.equal(m.headers.get('docker-content-digest'), img.digest);
    assert.equal(m.headers.get('content-type'), MANIFEST_TYPE);
  }

  const l = await req(berth, 'GET', `/v2/${repo}/blobs/${img.layer.digest}`);
  assert.equal(l.status, 200, `GET layer after kill -9: ${show(l)}`);
  assert.ok(l.body.equals(layer), 'layer bytes differ after kill -9');
  assert.equal(sha256(l.body), img.layer.digest);

  const c = await req(berth, 'GET', `/v2/${repo}/blobs/${img.config.digest}`);
  assert.equal(c.status, 200, `GET config after kill -9: ${show(c)}`);
  assert.equal(sha256(c.body), img.config.digest);

  const h = await req(berth, 'HEAD', `/v2/${repo}/blobs/${img.layer.digest}`);
  assert.equal(h.status, 200);
  assert.equal(h.headers.get('content-length'), String(layer.length));
  assert.equal(h.headers.get('docker-content-digest'), img.layer.digest);

  const tags = await req(berth, 'GET', `/v2/${repo}/tags/list`);
  assert.equal(tags.status, 200, show(tags));
  assert.deepEqual((JSON.parse(tags.body.toString()) as { tags: string[] }).tags, ['v1']);

  const area = await checkBlobArea(berth.dataDir);
  assert.deepEqual(area.bad, [], 'files in the blob area whose content does not match their name');
});

test('a chunked upload in progress survives kill -9 and resumes where it was', async () => {
  const repo = 'durability/resume';
  const blob = generatedBlob(5 * MiB + 123, 'durability-resume');
  const N = 2 * MiB + 7;
  let loc = await startUpload(berth, repo);

  const p1 = await sendStream(
    loc,
    'PATCH',
    {
      Authorization: berth.authHeader,
      'Content-Type': 'application/octet-stream',
      'Content-Range': `0-${N - 1}`,
      'Content-Length': N,
    },
    blob.chunks(0, N),
  );
  assert.equal(p1.status, 202, `first PATCH: ${p1.status} ${p1.body}`);
  assert.equal(p1.headers.range, `0-${N - 1}`);
  if (p1.headers.location) loc = resolveLocation(berth, p1.headers.location);

  await berth.kill9();
  await restart();
  loc = resolveLocation(berth, loc);

  const status = await req(berth, 'GET', loc);
  assert.equal(status.status, 204, `GET upload status after kill -9: ${show(status)}`);
  assert.equal(status.headers.get('range'), `0-${N - 1}`, 'upload offset lost or wrong after kill -9');
  if (status.headers.get('location')) loc = resolveLocation(berth, status.headers.get('location')!);

  const p2 = await sendStream(
    loc,
    'PATCH',
    {
      Authorization: berth.authHeader,
      'Content-Type': 'application/octet-stream',
      'Content-Range': `${N}-${blob.size - 1}`,
      'Content-Length': blob.size - N,
    },
    blob.chunks(N, blob.size),
  );
  assert.equal(p2.status, 202, `second PATCH after restart: ${p2.status} ${p2.body}`);
  assert.equal(p2.headers.range, `0-${blob.size - 1}`);
  if (p2.headers.location) loc = resolveLocation(berth, p2.headers.location);

  const done = await req(berth, 'PUT', withDigest(loc, blob.digest), { headers: { 'Content-Length': '0' } });
  assert.equal(done.status, 201, `closing PUT: ${show(done)}`);
  assert.equal(done.headers.get('docker-content-digest'), blob.digest);

  const got = await getAndHash(`${berth.url}/v2/${repo}/blobs/${blob.digest}`, berth.authHeader);
  assert.equal(got.status, 200);
  assert.equal(got.size, blob.size);
  assert.equal(got.digest, blob.digest);

  // And it is durable in turn.
  await berth.kill9();
  await restart();
  const again = await getAndHash(`${berth.url}/v2/${repo}/blobs/${blob.digest}`, berth.authHeader);
  assert.equal(again.status, 200);
  assert.equal(again.digest, blob.digest);
});

test('a body cut off by kill -9 half way through a PUT never becomes a visible blob', async () => {
  const repo = 'durability/partial';
  const blob = generatedBlob(256 * MiB, 'durability-partial');
  const half = blob.size / 2;
  const loc = await startUpload(berth, repo);

  let atHalf!: () => void;
  const reachedHalf = new Promise<void>((r) => {
    atHalf = r;
  });
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const put = sendStream(
    withDigest(loc, blob.digest),
    'PUT',
    {
      Authorization: berth.authHeader,
      'Content-Type': 'application/octet-stream',
      'Content-Length': blob.size,
    },
    blob.chunks(0, blob.size, {
      beforeOffset: async (off) => {
        if (off >= half) {
          atHalf();
          await gate;
        }
      },
    }),
  );
  const outcome = put.then(
    (r) => r,
    (e: Error) => e,
  );

  await Promise.race([reachedHalf, outcome]);
  // Give the server a moment to write what it has received somewhere (best effort: it streams to disk).
  const sizes = () =>
    listFiles(berth.dataDir).map((f) => {
      try {
        return statSync(f).size;
      } catch {
        return 0;
      }
    });
  await waitFor(() => sizes().some((s) => s >= 64 * MiB), 5000);
  const biggest = Math.max(0, ...sizes());
  await berth.kill9();
  release();

  const o = await outcome;
  assert.ok(o instanceof Error || o.status !== 201, `the server answered 201 to a PUT whose body it had only half received`);

  await restart();
  const head = await req(berth, 'HEAD', `/v2/${repo}/blobs/${blob.digest}`);
  assert.equal(head.status, 404, 'a half-received blob is visible (HEAD) after restart');
  const get = await req(berth, 'GET', `/v2/${repo}/blobs/${blob.digest}`);
  assert.equal(get.status, 404, 'a half-received blob is visible (GET) after restart');
  assert.ok(errorCodes(get.body).includes('BLOB_UNKNOWN'), `404 without BLOB_UNKNOWN: ${show(get)}`);
  assert.equal(existsSync(blobPath(berth.dataDir, blob.digest)), false, 'a file exists at the final path of a half-received blob');

  const area = await checkBlobArea(berth.dataDir);
  assert.deepEqual(area.bad, [], 'files in the blob area whose content does not match their name');

  // The leftovers do not stand in the way of pushing the same blob for real.
  const loc2 = await startUpload(berth, repo);
  const full = await sendStream(
    withDigest(loc2, blob.digest),
    'PUT',
    {
      Authorization: berth.authHeader,
      'Content-Type': 'application/octet-stream',
      'Content-Length': blob.size,
    },
    blob.chunks(),
  );
  assert.equal(full.status, 201, `full PUT after the cut-off one: ${full.status} ${full.body}`);
  const got = await getAndHash(`${berth.url}/v2/${repo}/blobs/${blob.digest}`, berth.authHeader);
  assert.equal(got.status, 200);
  assert.equal(got.digest, blob.digest);
  assert.equal(got.size, blob.size);
  const area2 = await checkBlobArea(berth.dataDir);
  assert.deepEqual(area2.bad, []);
  // Diagnostic only: how much of the body had reached the disk when the server was killed.
  console.log(`# partial PUT: largest file in the data dir at kill time: ${(biggest / MiB).toFixed(1)} MiB of ${blob.size / MiB} MiB`);
});

test('a PUT whose client disconnects half way never becomes a visible blob, and the server carries on', async () => {
  const repo = 'durability/aborted';
  const blob = generatedBlob(64 * MiB, 'durability-aborted');
  const loc = await startUpload(berth, repo);
  let request: import('node:http').ClientRequest | undefined;
  const put = sendStream(
    withDigest(loc, blob.digest),
    'PUT',
    {
      Authorization: berth.authHeader,
      'Content-Type': 'application/octet-stream',
      'Content-Length': blob.size,
    },
    blob.chunks(0, blob.size, {
      beforeOffset: (off) => {
        if (off >= blob.size / 2) request?.destroy();
      },
    }),
    {
      onRequest: (r) => {
        request = r;
      },
    },
  );
  const o = await put.then(
    (r) => r,
    (e: Error) => e,
  );
  assert.ok(o instanceof Error || o.status !== 201, 'the server answered 201 to a PUT whose client went away half way');
  // The server has noticed the abort (or will, shortly): nothing must become visible either way.
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(berth.process.exitCode, null, 'the server exited after a client disconnected mid-upload');
  assert.equal(berth.process.signalCode, null);
  const head = await req(berth, 'HEAD', `/v2/${repo}/blobs/${blob.digest}`);
  assert.equal(head.status, 404, 'a half-received blob is visible after the client disconnected');
  assert.equal(existsSync(blobPath(berth.dataDir, blob.digest)), false);
  const area = await checkBlobArea(berth.dataDir);
  assert.deepEqual(area.bad, []);
  // Still serving.
  const digest = await pushBlob(berth, repo, Buffer.from('after the abort'));
  const r = await req(berth, 'GET', `/v2/${repo}/blobs/${digest}`);
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'after the abort');
});

test('a body that does not match ?digest= is rejected and never becomes visible', async () => {
  const repo = 'durability/mismatch';
  const data = randomBytes(MiB + 5);
  const claimed = sha256(Buffer.concat([data, Buffer.from('x')]));
  const loc = await startUpload(berth, repo);
  const r = await req(berth, 'PUT', withDigest(loc, claimed), {
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.length) },
    body: data,
  });
  assert.equal(r.status, 400, `PUT with a wrong digest: ${show(r)}`);
  assert.ok(errorCodes(r.body).includes('DIGEST_INVALID'), `400 without DIGEST_INVALID: ${show(r)}`);
  for (const d of [claimed, sha256(data)]) {
    const h = await req(berth, 'HEAD', `/v2/${repo}/blobs/${d}`);
    assert.equal(h.status, 404, `blob ${d} visible after a digest mismatch`);
    assert.equal(existsSync(blobPath(berth.dataDir, d)), false);
  }
  const area = await checkBlobArea(berth.dataDir);
  assert.deepEqual(area.bad, []);
});

test('blob area holds only files named by their own digest', async () => {
  // Sanity for the checks above: pushed blobs are where the layout says, so an empty "bad" list means something.
  const data = randomBytes(4096);
  const digest = await pushBlob(berth, 'durability/layout', data);
  assert.ok(existsSync(blobPath(berth.dataDir, digest)), `no file at ${blobPath(berth.dataDir, digest)}`);
  const area = await checkBlobArea(berth.dataDir);
  assert.ok(area.checked >= 1);
  assert.deepEqual(area.bad, []);
});
