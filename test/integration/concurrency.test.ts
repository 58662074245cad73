// Concurrent writers: the same blob pushed by many clients is stored once; the same or different manifests PUT
// to one tag leave one consistent tag; racing PATCHes on one upload session never corrupt it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { startBerth, type Berth } from '../helpers/berth.ts';
import {
  CONFIG_TYPE,
  LAYER_TYPE,
  MANIFEST_TYPE,
  MiB,
  blobPath,
  checkBlobArea,
  generatedBlob,
  getAndHash,
  hashFile,
  listFiles,
  ociManifest,
  pushBlob,
  putManifest,
  req,
  resolveLocation,
  sendStream,
  serverReport,
  sha256,
  show,
  startUpload,
  withDigest,
  type Descriptor,
} from '../helpers/http.ts';

const CLIENTS = 16;
let berth: Berth;

before(async () => {
  berth = await startBerth();
});

after(async () => {
  const report = berth ? serverReport(berth) : '';
  if (report) console.log(report);
  await berth?.cleanup();
});

/** Files anywhere in the data dir named exactly by this digest's hex (the blob store keeps one). */
function filesNamed(digest: string): string[] {
  const hex = digest.replace(/^sha256:/, '');
  return listFiles(berth.dataDir).filter((f) => basename(f) === hex);
}

async function pushBase(repo: string): Promise<{ config: Descriptor; layer: Descriptor }> {
  const configData = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, repo }));
  const layerData = randomBytes(64 * 1024);
  return {
    config: { mediaType: CONFIG_TYPE, digest: await pushBlob(berth, repo, configData), size: configData.length },
    layer: { mediaType: LAYER_TYPE, digest: await pushBlob(berth, repo, layerData), size: layerData.length },
  };
}

async function tagsOf(repo: string): Promise<string[]> {
  const r = await req(berth, 'GET', `/v2/${repo}/tags/list`);
  assert.equal(r.status, 200, show(r));
  return (JSON.parse(r.body.toString()) as { tags: string[] | null }).tags ?? [];
}

test(`${CLIENTS} clients pushing the same blob at once: all 201, stored once, right content`, async () => {
  const blob = generatedBlob(8 * MiB + 3, 'concurrency-same-blob');
  // Two repositories, so that the "once per registry" part is tested too.
  const repos = Array.from({ length: CLIENTS }, (_, i) => (i % 2 === 0 ? 'concurrency/same-a' : 'concurrency/same-b'));
  const locations = await Promise.all(repos.map((repo) => startUpload(berth, repo)));
  assert.equal(new Set(locations).size, CLIENTS, 'upload sessions share a location');

  const results = await Promise.all(
    locations.map((loc, i) => {
      if (i % 4 === 3) {
        // A quarter of them as one PATCH then a closing PUT, the rest as a monolithic PUT.
        return sendStream(
          loc,
          'PATCH',
          {
            Authorization: berth.authHeader,
            'Content-Type': 'application/octet-stream',
            'Content-Range': `0-${blob.size - 1}`,
            'Content-Length': blob.size,
          },
          blob.chunks(),
        ).then(async (p) => {
          if (p.status !== 202) return p;
          const next = p.headers.location ? resolveLocation(berth, p.headers.location) : loc;
          const r = await req(berth, 'PUT', withDigest(next, blob.digest), { headers: { 'Content-Length': '0' } });
          return { status: r.status, headers: Object.fromEntries(r.headers) as Record<string, string>, body: r.body };
        });
      }
      return sendStream(
        withDigest(loc, blob.digest),
        'PUT',
        {
          Authorization: berth.authHeader,
          'Content-Type': 'application/octet-stream',
          'Content-Length': blob.size,
        },
        blob.chunks(),
      );
    }),
  );
  assert.deepEqual(
    results.map((r) => r.status),
    Array(CLIENTS).fill(201),
    `statuses: ${results.map((r) => `${r.status}${r.status === 201 ? '' : ' ' + r.body.toString().slice(0, 200)}`).join(', ')}`,
  );
  for (const r of results) assert.equal(r.headers['docker-content-digest'], blob.digest);

  const stored = filesNamed(blob.digest);
  assert.deepEqual(stored, [blobPath(berth.dataDir, blob.digest)], 'expected exactly one stored file for the digest');
  assert.equal(await hashFile(stored[0]), blob.digest);

  for (const repo of ['concurrency/same-a', 'concurrency/same-b']) {
    const got = await getAndHash(`${berth.url}/v2/${repo}/blobs/${blob.digest}`, berth.authHeader);
    assert.equal(got.status, 200);
    assert.equal(got.digest, blob.digest);
    assert.equal(got.size, blob.size);
  }
  const area = await checkBlobArea(berth.dataDir);
  assert.deepEqual(area.bad, []);
  // Completed upload sessions leave nothing behind in the upload area.
  const leftovers = listFiles(join(berth.dataDir, 'uploads')).filter((f) =>
    locations.some((loc) => f.includes(new URL(loc).pathname.split('/').filter(Boolean).pop()!)),
  );
  assert.deepEqual(leftovers, [], 'completed uploads left files behind');
});

test(`${CLIENTS} clients PUT the same manifest to the same tag: all 201, one manifest, tag resolves to it`, async () => {
  const repo = 'concurrency/same-manifest';
  const { config, layer } = await pushBase(repo);
  const manifest = ociManifest(config, [layer]);
  const digest = sha256(manifest);

  const results = await Promise.all(Array.from({ length: CLIENTS }, () => putManifest(berth, repo, 'latest', manifest)));
  assert.deepEqual(
    results.map((r) => r.status),
    Array(CLIENTS).fill(201),
    results.map(show).join('\n'),
  );
  for (const r of results) assert.equal(r.headers.get('docker-content-digest'), digest);

  const byTag = await req(berth, 'GET', `/v2/${repo}/manifests/latest`, { headers: { Accept: MANIFEST_TYPE } });
  assert.equal(byTag.status, 200, show(byTag));
  assert.ok(byTag.body.equals(manifest));
  assert.equal(byTag.headers.get('docker-content-digest'), digest);
  const byDigest = await req(berth, 'GET', `/v2/${repo}/manifests/${digest}`, { headers: { Accept: MANIFEST_TYPE } });
  assert.equal(byDigest.status, 200, show(byDigest));
  assert.ok(byDigest.body.equals(manifest));
  assert.deepEqual(await tagsOf(repo), ['latest']);

  // If manifests are kept in the blob store, they are kept once.
  const files = filesNamed(digest);
  assert.ok(files.length <= 1, `manifest stored ${files.length} times: ${files.join(', ')}`);
  for (const f of files) assert.equal(await hashFile(f), digest);
});

test(`${CLIENTS} clients PUT different manifests to the same tag: tag ends on one of them, all retrievable`, async () => {
  const repo = 'concurrency/different-manifests';
  const { config, layer } = await pushBase(repo);
  const manifests = Array.from({ length: CLIENTS }, (_, i) => ociManifest(config, [layer], { 'test.client': String(i) }));
  const digests = manifests.map((m) => sha256(m));
  assert.equal(new Set(digests).size, CLIENTS);

  const results = await Promise.all(manifests.map((m) => putManifest(berth, repo, 'latest', m)));
  assert.deepEqual(
    results.map((r) => r.status),
    Array(CLIENTS).fill(201),
    results.map(show).join('\n'),
  );
  results.forEach((r, i) => assert.equal(r.headers.get('docker-content-digest'), digests[i]));

  const byTag = await req(berth, 'GET', `/v2/${repo}/manifests/latest`, { headers: { Accept: MANIFEST_TYPE } });
  assert.equal(byTag.status, 200, show(byTag));
  const winner = digests.indexOf(byTag.headers.get('docker-content-digest') ?? '');
  assert.ok(winner >= 0, `tag points to ${byTag.headers.get('docker-content-digest')}, none of the pushed manifests`);
  assert.ok(byTag.body.equals(manifests[winner]), 'tag serves bytes that do not match its digest');
  assert.equal(sha256(byTag.body), digests[winner]);
  const head = await req(berth, 'HEAD', `/v2/${repo}/manifests/latest`, { headers: { Accept: MANIFEST_TYPE } });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('docker-content-digest'), digests[winner], 'HEAD and GET of the tag disagree');

  for (let i = 0; i < CLIENTS; i++) {
    const r = await req(berth, 'GET', `/v2/${repo}/manifests/${digests[i]}`, { headers: { Accept: MANIFEST_TYPE } });
    assert.equal(r.status, 200, `manifest ${i} by digest: ${show(r)}`);
    assert.ok(r.body.equals(manifests[i]), `manifest ${i} bytes differ`);
  }
  assert.deepEqual(await tagsOf(repo), ['latest']);
});

test('racing PATCHes on one upload session: each 202 or 416, never both accepted, final blob correct', async () => {
  const repo = 'concurrency/racing-patches';
  const C = MiB;
  const blob = generatedBlob(12 * C + 99, 'concurrency-racing-patches');
  let loc = await startUpload(berth, repo);
  let offset = 0;

  const patch = (start: number, end: number) =>
    sendStream(
      loc,
      'PATCH',
      {
        Authorization: berth.authHeader,
        'Content-Type': 'application/octet-stream',
        'Content-Range': `${start}-${end - 1}`,
        'Content-Length': end - start,
      },
      blob.chunks(start, end),
    );

  const uploadedUpTo = async (): Promise<number> => {
    const s = await req(berth, 'GET', loc);
    assert.equal(s.status, 204, `upload status: ${show(s)}`);
    const m = /^0-(\d+)$/.exec(s.headers.get('range') ?? '');
    assert.ok(m, `upload status Range: ${s.headers.get('range')}`);
    return Number(m[1]) + 1;
  };

  // Phase 1: four identical PATCHes of the next chunk at once: exactly one may be accepted.
  for (let round = 0; round < 4; round++) {
    const end = offset + C;
    const rs = await Promise.all([0, 1, 2, 3].map(() => patch(offset, end)));
    const statuses = rs.map((r) => r.status);
    assert.ok(
      statuses.every((s) => s === 202 || s === 416),
      `round ${round}: statuses ${statuses.join(', ')}`,
    );
    assert.equal(statuses.filter((s) => s === 202).length, 1, `round ${round}: identical racing PATCHes accepted: ${statuses.join(', ')}`);
    for (const r of rs.filter((r) => r.status === 202)) {
      assert.equal(r.headers.range, `0-${end - 1}`);
      if (r.headers.location) loc = resolveLocation(berth, r.headers.location);
    }
    offset = end;
    assert.equal(await uploadedUpTo(), offset, `round ${round}: upload offset`);
  }

  // Phase 2: the next chunk and the one after it at once: the first must be accepted, the second may be
  // (if it is handled after the first) or get 416 (if before); the offset must say which.
  while (offset < blob.size) {
    const mid = Math.min(blob.size, offset + C);
    const end = Math.min(blob.size, mid + C);
    const [a, b] = await Promise.all([patch(offset, mid), mid < end ? patch(mid, end) : Promise.resolve(null)]);
    assert.equal(a.status, 202, `PATCH ${offset}-${mid - 1}: ${a.status} ${a.body}`);
    if (a.headers.location) loc = resolveLocation(berth, a.headers.location);
    if (b) {
      assert.ok(b.status === 202 || b.status === 416, `PATCH ${mid}-${end - 1}: ${b.status} ${b.body}`);
      if (b.status === 202 && b.headers.location) loc = resolveLocation(berth, b.headers.location);
    }
    const expected = b && b.status === 202 ? end : mid;
    assert.equal(await uploadedUpTo(), expected, `offset after racing ${offset}-${mid - 1} and ${mid}-${end - 1} (${b?.status})`);
    offset = expected;
  }

  const done = await req(berth, 'PUT', withDigest(loc, blob.digest), { headers: { 'Content-Length': '0' } });
  assert.equal(done.status, 201, `closing PUT: ${show(done)}`);
  const got = await getAndHash(`${berth.url}/v2/${repo}/blobs/${blob.digest}`, berth.authHeader);
  assert.equal(got.status, 200);
  assert.equal(got.size, blob.size);
  assert.equal(got.digest, blob.digest, 'racing PATCHes corrupted the blob');
});
