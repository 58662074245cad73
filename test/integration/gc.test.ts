// Online garbage collection, fsck and storage accounting against a running server: what is unreferenced goes
// (after its lease), what is referenced stays, space returns to the file system, and a stress run of pushes,
// pulls and deletes with collection looping ends with every acknowledged image intact and fsck clean.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { blobPath } from '../helpers/http.ts';
import { berthCli } from '../helpers/lifecycle.ts';
import { MEDIA, createClient, descriptor, imageManifest, randomBlob, sha256, type OciClient, type Content } from '../helpers/oci.ts';

const GRACE_S = 1;

function bytesOnDisk(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += statSync(join(e.parentPath, e.name)).size;
  }
  return total;
}

async function pushImage(c: OciClient, repo: string, tag: string, layer: Content, config: Content) {
  for (const blob of [config, layer]) assert.equal((await c.pushBlob(repo, blob.bytes)).status, 201);
  const manifest = imageManifest({ config: descriptor(MEDIA.ociConfig, config), layers: [descriptor(MEDIA.ociLayerGzip, layer)] });
  const res = await c.pushManifest(repo, tag, manifest);
  return { res, manifest };
}

describe('garbage collection', () => {
  let berth: Berth;
  let c: OciClient;
  before(async () => {
    berth = await startBerth({
      env: { BERTH_GC_GRACE_SECONDS: String(GRACE_S), BERTH_GC_INTERVAL_SECONDS: '0', BERTH_UPLOAD_MAX_AGE_SECONDS: '1' },
    });
    c = createClient(berth);
  });
  after(() => berth.cleanup());

  it('collects unreferenced blobs and abandoned uploads after their lease, keeps what images reference', async () => {
    const config = randomBlob(1000);
    const layer = randomBlob(200_000);
    const { res } = await pushImage(c, 'gc/app', 'v1', layer, config);
    assert.equal(res.status, 201);
    const lone = randomBlob(300_000);
    assert.equal((await c.pushBlob('gc/app', lone.bytes)).status, 201);
    const start = await c.post('/v2/gc/app/blobs/uploads/');
    assert.equal(
      (await c.patch(start.location, { body: randomBlob(50_000).bytes, headers: { 'content-type': 'application/octet-stream' } })).status,
      202,
    );
    const uploads = join(berth.dataDir, 'uploads');
    assert.equal(readdirSync(uploads).length, 1);

    await sleep(GRACE_S * 1000 + 300);
    const dry = await berthCli(berth, ['gc', '--dry-run']);
    assert.equal(dry.json.dryRun, true);
    assert.deepEqual(dry.json.deleted, [lone.digest], 'only the lone blob would go');
    assert.equal(dry.json.bytesDeleted, lone.size);
    assert.equal(dry.json.uploadsDeleted, 1);
    assert.ok(existsSync(blobPath(berth.dataDir, lone.digest)), 'a dry run deletes nothing');

    const real = await berthCli(berth, ['gc']);
    assert.deepEqual(real.json.deleted, [lone.digest]);
    assert.equal(existsSync(blobPath(berth.dataDir, lone.digest)), false, 'the file is gone');
    assert.equal(readdirSync(uploads).length, 0, 'the abandoned upload is gone');
    assert.equal((await c.head(`/v2/gc/app/blobs/${lone.digest}`)).status, 404);
    // What the image references stays, and it still pulls.
    assert.ok(existsSync(blobPath(berth.dataDir, layer.digest)));
    const pulled = await c.get(`/v2/gc/app/blobs/${layer.digest}`);
    assert.equal(sha256(pulled.body), layer.digest);
    assert.equal((await c.get('/v2/gc/app/manifests/v1')).status, 200);
  });

  it('a blob found by HEAD is leased again: a push that checks for it and then references it is safe', async () => {
    const config = randomBlob(500);
    const layer = randomBlob(10_000);
    for (const blob of [config, layer]) assert.equal((await c.pushBlob('gc/lease', blob.bytes)).status, 201);
    await sleep(GRACE_S * 1000 + 300);
    // As docker does before pushing a manifest: the blobs exist, so it does not upload them again.
    for (const blob of [config, layer]) assert.equal((await c.head(`/v2/gc/lease/blobs/${blob.digest}`)).status, 200);
    assert.deepEqual((await berthCli(berth, ['gc'])).json.deleted, []);
    const manifest = imageManifest({ config: descriptor(MEDIA.ociConfig, config), layers: [descriptor(MEDIA.ociLayerGzip, layer)] });
    assert.equal((await c.pushManifest('gc/lease', 'v1', manifest)).status, 201);
  });

  it('deleting an image returns its unshared blobs to the file system; shared ones stay', async () => {
    const shared = randomBlob(100_000);
    const own = randomBlob(2_000_000);
    const config1 = randomBlob(700);
    const config2 = randomBlob(800);
    const one = await pushImage(c, 'gc/del', 'one', own, config1);
    const two = await pushImage(c, 'gc/del', 'two', shared, config2);
    assert.equal(one.res.status, 201);
    assert.equal(two.res.status, 201);
    // A third image in another repository shares `shared` (mounted).
    assert.equal((await c.post(`/v2/gc/other/blobs/uploads/?mount=${shared.digest}&from=gc/del`)).status, 201);
    await pushImage(c, 'gc/other', 'x', shared, config2);

    const before = bytesOnDisk(join(berth.dataDir, 'blobs'));
    assert.equal((await c.delete(`/v2/gc/del/manifests/${one.manifest.digest}`)).status, 202);
    assert.equal((await c.delete(`/v2/gc/del/manifests/${two.manifest.digest}`)).status, 202);
    await sleep(GRACE_S * 1000 + 300);
    const report = (await berthCli(berth, ['gc'])).json;
    assert.deepEqual(new Set(report.deleted), new Set([own.digest, config1.digest]), 'config2 and shared are still referenced by gc/other');
    const afterBytes = bytesOnDisk(join(berth.dataDir, 'blobs'));
    assert.equal(before - afterBytes, own.size + config1.size, 'the space is returned');
    assert.equal((await c.get(`/v2/gc/other/blobs/${shared.digest}`)).status, 200);
  });

  it('usage counts each repository and the registry, deduplicated', async () => {
    const before = (await berthCli(berth, ['usage'])).json;
    const layer = randomBlob(300_000);
    const ca = randomBlob(400);
    const cb = randomBlob(500);
    const a = await pushImage(c, 'use/a', 'v1', layer, ca);
    assert.equal((await c.post(`/v2/use/b/blobs/uploads/?mount=${layer.digest}&from=use/a`)).status, 201);
    const b = await pushImage(c, 'use/b', 'v1', layer, cb);
    const usage = (await berthCli(berth, ['usage'])).json;
    const repo = (name: string) => usage.repositories.find((r: any) => r.name === name);
    assert.deepEqual(repo('use/a'), {
      name: 'use/a',
      accountId: repo('use/a').accountId,
      images: 1,
      bytes: a.manifest.size + layer.size + ca.size,
    });
    assert.equal(repo('use/b').bytes, b.manifest.size + layer.size + cb.size);
    assert.equal(
      usage.referencedBytes - before.referencedBytes,
      a.manifest.size + b.manifest.size + layer.size + ca.size + cb.size,
      'the shared layer counts once',
    );
    assert.equal(usage.storedBytes - before.storedBytes, layer.size + ca.size + cb.size);
  });

  it('fsck is clean, then finds a corrupted blob and a missing one', async () => {
    const clean = await berthCli(berth, ['fsck']);
    assert.equal(clean.code, 0);
    assert.deepEqual(clean.json.problems, []);
    assert.ok(clean.json.blobsChecked > 0 && clean.json.manifestsChecked > 0);
    const config = randomBlob(600);
    const layer = randomBlob(5000);
    await pushImage(c, 'gc/fsck', 'v1', layer, config);
    writeFileSync(blobPath(berth.dataDir, layer.digest), Buffer.alloc(layer.size, 7));
    const broken = await berthCli(berth, ['fsck']);
    assert.equal(broken.code, 1);
    assert.deepEqual(
      broken.json.problems.map((p: any) => [p.kind, p.digest]),
      [['blob-digest', layer.digest]],
    );
  });

  it('deletes a blob file that nothing records (a crash between writing and recording) once it is old, and keeps recorded ones', async () => {
    const config = randomBlob(1000);
    const layer = randomBlob(100_000);
    assert.equal((await pushImage(c, 'gc/orphans', 'v1', layer, config)).res.status, 201);
    const orphan = randomBlob(70_000);
    const young = randomBlob(80_000);
    for (const blob of [orphan, young]) {
      mkdirSync(dirname(blobPath(berth.dataDir, blob.digest)), { recursive: true });
      writeFileSync(blobPath(berth.dataDir, blob.digest), blob.bytes);
    }
    const old = new Date(Date.now() - 3600_000);
    utimesSync(blobPath(berth.dataDir, orphan.digest), old, old);
    // Written "now" as far as the grace period goes, however long the commands below take.
    const soon = new Date(Date.now() + 3600_000);
    utimesSync(blobPath(berth.dataDir, young.digest), soon, soon);
    for (const blob of [config, layer]) utimesSync(blobPath(berth.dataDir, blob.digest), old, old);

    // Leftovers of an interrupted push are not damage: fsck lists them apart from its problems (the blob the test
    // before this one corrupted is one).
    const fsck = await berthCli(berth, ['fsck']);
    assert.deepEqual(fsck.json.unrecorded.map((u: any) => u.digest).sort(), [orphan.digest, young.digest].sort());
    assert.deepEqual(
      fsck.json.problems.filter((p: any) => p.digest === orphan.digest || p.digest === young.digest),
      [],
    );

    const dry = await berthCli(berth, ['gc', '--dry-run']);
    assert.equal(dry.json.orphanFilesDeleted, 1);
    assert.ok(existsSync(blobPath(berth.dataDir, orphan.digest)), 'a dry run deletes nothing');
    const real = await berthCli(berth, ['gc']);
    assert.equal(real.json.orphanFilesDeleted, 1);
    assert.equal(real.json.orphanBytesDeleted, orphan.size);
    assert.ok(real.json.deleted.includes(orphan.digest));
    assert.equal(existsSync(blobPath(berth.dataDir, orphan.digest)), false, 'the old orphan is gone');
    assert.ok(existsSync(blobPath(berth.dataDir, young.digest)), 'an orphan younger than the grace period stays');
    for (const blob of [config, layer]) assert.ok(existsSync(blobPath(berth.dataDir, blob.digest)), 'old recorded blobs stay');
    assert.equal(sha256((await c.get(`/v2/gc/orphans/blobs/${layer.digest}`)).body), layer.digest);
    rmSync(blobPath(berth.dataDir, young.digest));
  });

  it('an upload still being created (its directory, no data yet) is kept while young; an old empty one goes', async () => {
    const uploads = join(berth.dataDir, 'uploads');
    const young = join(uploads, 'being-created');
    const old = join(uploads, 'left-empty');
    mkdirSync(young);
    mkdirSync(old);
    const soon = new Date(Date.now() + 3600_000);
    const past = new Date(Date.now() - 3600_000);
    utimesSync(young, soon, soon);
    utimesSync(old, past, past);
    const real = await berthCli(berth, ['gc']);
    assert.equal(real.json.uploadsDeleted, 1);
    assert.ok(existsSync(young), 'the young directory stays: its POST has not recorded it yet');
    assert.equal(existsSync(old), false);
    rmSync(young, { recursive: true });
  });
});

describe('garbage collection under load', () => {
  let berth: Berth;
  let c: OciClient;
  before(async () => {
    berth = await startBerth({ env: { BERTH_GC_GRACE_SECONDS: '2', BERTH_GC_INTERVAL_SECONDS: '0', BERTH_UPLOAD_MAX_AGE_SECONDS: '60' } });
    c = createClient(berth);
  });
  after(() => berth.cleanup());

  it('500 images pushed, pulled and some deleted while collection loops: every acknowledged image intact, fsck clean, garbage reclaimed', async () => {
    const IMAGES = 500;
    const base = randomBlob(50_000);
    let stop = false;
    let collections = 0;
    const collector = (async () => {
      while (!stop) {
        const r = await fetch(`${berth.url}/_berth/admin/gc`, { method: 'POST', headers: { authorization: berth.authHeader }, body: '{}' });
        assert.equal(r.status, 200);
        collections++;
        await sleep(20);
      }
    })();
    const acknowledged: { repo: string; tag: string; digest: string; layer: Content }[] = [];
    const deleted = new Set<string>();
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < IMAGES; i = next++) {
        const repo = `load/r${i % 10}`;
        const layer = randomBlob(2000 + (i % 7) * 100);
        const config = randomBlob(300);
        for (const blob of [config, layer]) assert.equal((await c.pushBlob(repo, blob.bytes)).status, 201);
        if (i % 3 === 0)
          assert.equal(
            (await c.head(`/v2/${repo}/blobs/${base.digest}`)).status === 200 || (await c.pushBlob(repo, base.bytes)).status === 201,
            true,
          );
        const layers =
          i % 3 === 0
            ? [descriptor(MEDIA.ociLayerGzip, base), descriptor(MEDIA.ociLayerGzip, layer)]
            : [descriptor(MEDIA.ociLayerGzip, layer)];
        const manifest = imageManifest({ config: descriptor(MEDIA.ociConfig, config), layers });
        const res = await c.pushManifest(repo, `t${i}`, manifest);
        if (res.status !== 201) continue; // not acknowledged: allowed to fail, never to be half there
        acknowledged.push({ repo, tag: `t${i}`, digest: manifest.digest, layer });
        const pulled = await c.get(`/v2/${repo}/blobs/${layer.digest}`);
        assert.equal(sha256(pulled.body), layer.digest, 'pulled right after the push');
        if (i % 4 === 0) {
          assert.equal((await c.delete(`/v2/${repo}/manifests/${manifest.digest}`)).status, 202);
          deleted.add(manifest.digest);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: 8 }, worker));
    } finally {
      stop = true;
      await collector;
    }
    assert.ok(collections > 3, `collection ran during the pushes (${collections} times)`);
    assert.ok(acknowledged.length >= IMAGES * 0.95, `most pushes were acknowledged (${acknowledged.length})`);

    for (const img of acknowledged) {
      if (deleted.has(img.digest)) continue;
      const m = await c.get(`/v2/${img.repo}/manifests/${img.tag}`);
      assert.equal(m.status, 200, `${img.repo}:${img.tag}`);
      const l = await c.get(`/v2/${img.repo}/blobs/${img.layer.digest}`);
      assert.equal(sha256(l.body), img.layer.digest, `${img.repo}:${img.tag} layer`);
    }
    await sleep(2300);
    await berthCli(berth, ['gc']);
    const fsck = await berthCli(berth, ['fsck']);
    assert.deepEqual(fsck.json.problems, []);
    const usage = (await berthCli(berth, ['usage'])).json;
    assert.equal(usage.storedBytes, bytesOnDisk(join(berth.dataDir, 'blobs')), 'no file on disk that the registry does not record');
    assert.equal(usage.storedBytes, usage.referencedBlobBytes, 'every stored blob is referenced: the garbage is reclaimed');
  });
});
