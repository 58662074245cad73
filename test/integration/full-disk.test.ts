// A full disk, for real: the whole data directory (meta.db, blobs, audit.log) on a 32 MiB tmpfs that the test
// mounts (as root, as CI runs it) and fills. While it is full, pulls go on, writes are refused with a clear error
// in each protocol's format (OCI 503 UNAVAILABLE, ECR ServerException, "storage is full"), the server logs it
// once and counts the audit lines it drops; once space is freed it takes pushes again without a restart, and
// fsck finds nothing wrong and nothing acknowledged is lost.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchDeleteImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  InitiateLayerUploadCommand,
  PutImageCommand,
  UploadLayerPartCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { berthCli } from '../helpers/lifecycle.ts';
import { ecrClient, eventually, expectEcrError } from '../helpers/ecr.ts';
import { readAudit } from '../helpers/policies.ts';
import {
  MEDIA,
  assertError,
  createClient,
  descriptor,
  imageManifest,
  randomBlob,
  sha256,
  type Content,
  type Manifest,
  type OciClient,
  type OciResponse,
} from '../helpers/oci.ts';

const REPO = 'full/app';

interface Pushed {
  tag: string;
  manifest: Manifest;
  blobs: Content[];
}

async function pushImage(c: OciClient, tag: string, layerSize: number): Promise<Pushed> {
  const config = randomBlob(600);
  const layer = randomBlob(layerSize);
  for (const blob of [config, layer]) {
    const r = await c.pushBlob(REPO, blob.bytes);
    assert.equal(r.status, 201, `push of a blob: ${r.status} ${r.text()}`);
  }
  const manifest = imageManifest({ config: descriptor(MEDIA.ociConfig, config), layers: [descriptor(MEDIA.ociLayerGzip, layer)] });
  const r = await c.pushManifest(REPO, tag, manifest);
  assert.equal(r.status, 201, `push of the manifest: ${r.status} ${r.text()}`);
  return { tag, manifest, blobs: [config, layer] };
}

/** Pulls the image over HTTP: the manifest by tag and by digest, each blob by GET (and HEAD), byte for byte. */
async function assertPullable(c: OciClient, image: Pushed, what: string): Promise<void> {
  for (const ref of [image.tag, image.manifest.digest]) {
    const m = await c.get(`/v2/${REPO}/manifests/${ref}`, { headers: { accept: MEDIA.ociManifest } });
    assert.equal(m.status, 200, `${what}: GET manifest ${ref}: ${m.status} ${m.text()}`);
    assert.equal(sha256(m.body), image.manifest.digest, `${what}: the manifest's bytes`);
  }
  for (const blob of image.blobs) {
    const head = await c.head(`/v2/${REPO}/blobs/${blob.digest}`);
    assert.equal(head.status, 200, `${what}: HEAD blob: ${head.status}`);
    const b = await c.get(`/v2/${REPO}/blobs/${blob.digest}`);
    assert.equal(b.status, 200, `${what}: GET blob: ${b.status} ${b.status === 200 ? '' : b.text()}`);
    assert.equal(sha256(b.body), blob.digest, `${what}: the blob's bytes`);
  }
}

/** The OCI answer to a write refused for lack of space. */
function assertStorageFull(res: OciResponse, what: string): void {
  assertError(res, 503, 'UNAVAILABLE', what);
  assert.equal(res.json().errors[0].message, 'storage is full', `${what}: the message`);
}

/** Fills the filesystem: a file written until ENOSPC, in big writes then small ones so that no block is left. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (const size of [1024 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size, 0x5a);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (e) {
        assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC', `filling ${path} stops on ENOSPC: ${(e as Error).message}`);
      }
    }
  } finally {
    closeSync(fd);
  }
}

const healthz = async (berth: Berth) => {
  const r = await fetch(`${berth.url}/healthz`);
  assert.equal(r.status, 200, '/healthz answers 200');
  return (await r.json()) as { status: string; storage: { full: boolean; droppedAuditLines: number } };
};

describe('a full disk', () => {
  let mountPoint: string;
  let mounted = false;
  let berth: Berth | undefined;
  let c: OciClient;
  let ecr: ECRClient;
  let filler: string;
  const images: Pushed[] = [];
  /** A blob pushed alone (no manifest): garbage collection would delete it, which needs a metadata write. */
  let lone: Content;
  /** The Location of an upload session opened before the disk filled. */
  let openUpload: string;

  before(async () => {
    mountPoint = mkdtempSync(join(tmpdir(), 'berth-full-disk-'));
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=32m,mode=0700', 'tmpfs', mountPoint], { encoding: 'utf8' });
    assert.equal(
      m.status,
      0,
      `this test mounts a 32 MiB tmpfs at ${mountPoint} and must run as root (as CI does): mount said ${m.stderr || m.error}`,
    );
    mounted = true;
    filler = join(mountPoint, 'filler');
    // Info level: the test reads the server's log (one "storage is full" line; no "client went away").
    berth = await startBerth({
      dataDir: join(mountPoint, 'data'),
      env: { BERTH_LOG_LEVEL: 'info', BERTH_GC_GRACE_SECONDS: '0', BERTH_GC_INTERVAL_SECONDS: '0', BERTH_LIFECYCLE_INTERVAL_SECONDS: '0' },
    });
    c = createClient(berth);
    ecr = ecrClient(berth);
  });

  after(async () => {
    await berth?.stop();
    if (mounted) {
      const u = spawnSync('umount', [mountPoint], { encoding: 'utf8' });
      if (u.status !== 0) spawnSync('umount', ['-l', mountPoint]);
    }
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it('pushes an image, then fills the filesystem', async () => {
    images.push(await pushImage(c, 'v1', 2 * 1024 * 1024));
    lone = randomBlob(100_000);
    assert.equal((await c.pushBlob(REPO, lone.bytes)).status, 201);
    // An upload started before the disk fills: its data meets the full disk.
    const start = await c.post(`/v2/${REPO}/blobs/uploads/`);
    assert.equal(start.status, 202);
    openUpload = start.location;
    fill(filler);
  });

  it('serves pulls of what it holds: manifests and blobs over /v2/, over and over', async () => {
    for (let i = 0; i < 3; i++) await assertPullable(c, images[0], `pull ${i + 1} on a full disk`);
    const listed = await c.get(`/v2/${REPO}/tags/list`);
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.json().tags, ['v1']);
  });

  it('refuses an OCI push with 503 UNAVAILABLE "storage is full", whichever step meets the full disk', async () => {
    const blob = randomBlob(3 * 1024 * 1024);
    // A body refused midway: the answer reaches the client (the rest of the body is read and dropped).
    const patch = await c.patch(openUpload, { body: blob.bytes, headers: { 'content-type': MEDIA.octetStream } });
    assertStorageFull(patch, 'PATCH upload');
    const start = await c.post(`/v2/${REPO}/blobs/uploads/`);
    if (start.status !== 202) return assertStorageFull(start, 'POST upload');
    const chunk = await c.patch(start.location, { body: blob.bytes, headers: { 'content-type': MEDIA.octetStream } });
    assertStorageFull(chunk, 'PATCH upload');
    // A monolithic upload (POST, then PUT with the whole body and its digest) too.
    const second = await c.post(`/v2/${REPO}/blobs/uploads/`);
    if (second.status !== 202) return assertStorageFull(second, 'POST upload');
    const put = await c.put(`${second.location}${second.location.includes('?') ? '&' : '?'}digest=${blob.digest}`, {
      body: blob.bytes,
      headers: { 'content-type': MEDIA.octetStream },
    });
    assertStorageFull(put, 'PUT upload');
  });

  it('refuses a manifest push and ECR writes (CreateRepository, PutImage, a layer upload) with "storage is full"', async () => {
    const image = images[0];
    // A new tag of the image held: only metadata is written.
    assertStorageFull(await c.pushManifest(REPO, 'v2', image.manifest), 'PUT manifest');
    await expectEcrError(
      ecr.send(new CreateRepositoryCommand({ repositoryName: 'full/other' })),
      'ServerException',
      'storage is full',
      500,
    );
    await expectEcrError(
      ecr.send(new PutImageCommand({ repositoryName: REPO, imageTag: 'v3', imageManifest: image.manifest.bytes.toString('utf8') })),
      'ServerException',
      'storage is full',
      500,
    );
    // A layer upload: refused when it starts, or at its first part.
    const layer = randomBlob(1024 * 1024);
    let uploadId: string | undefined;
    try {
      uploadId = (await ecr.send(new InitiateLayerUploadCommand({ repositoryName: REPO }))).uploadId;
    } catch (e) {
      await expectEcrError(Promise.reject(e), 'ServerException', 'storage is full', 500);
    }
    if (uploadId) {
      await expectEcrError(
        ecr.send(
          new UploadLayerPartCommand({
            repositoryName: REPO,
            uploadId,
            partFirstByte: 0,
            partLastByte: layer.size - 1,
            layerPartBlob: layer.bytes,
          }),
        ),
        'ServerException',
        'storage is full',
        500,
      );
    }
  });

  it('answers a DELETE (OCI and ECR) and berth gc with the same clear error, and deletes nothing', async () => {
    assertStorageFull(await c.delete(`/v2/${REPO}/manifests/v1`), 'DELETE manifest by tag');
    assertStorageFull(await c.delete(`/v2/${REPO}/manifests/${images[0].manifest.digest}`), 'DELETE manifest by digest');
    assertStorageFull(await c.delete(`/v2/${REPO}/blobs/${lone.digest}`), 'DELETE blob');
    await expectEcrError(
      ecr.send(new BatchDeleteImageCommand({ repositoryName: REPO, imageIds: [{ imageTag: 'v1' }] })),
      'ServerException',
      'storage is full',
      500,
    );
    // Collection would delete the lone blob (grace 0): its metadata write meets the full disk.
    const gc = await berthCli(berth!, ['gc']);
    assert.equal(gc.code, 1, `berth gc fails on a full disk: ${gc.stdout} ${gc.stderr}`);
    assert.match(gc.stderr, /storage is full/, 'berth gc says why');
    assert.doesNotMatch(gc.stderr, /internal error|at .*\.ts:\d+/, 'no bare internal error, no stack');
    await assertPullable(c, images[0], 'after the refused deletes');
    assert.equal((await c.head(`/v2/${REPO}/blobs/${lone.digest}`)).status, 200, 'the lone blob is still there');
  });

  it('still answers /healthz, says the storage is full and counts the audit lines it dropped; logged once', async () => {
    const h = await healthz(berth!);
    assert.equal(h.status, 'ok');
    assert.equal(h.storage.full, true, `storage.full: ${JSON.stringify(h)}`);
    assert.ok(h.storage.droppedAuditLines > 0, `audit lines were dropped and counted: ${JSON.stringify(h)}`);
    const out = berth!.output();
    const fullLines = out.split('\n').filter((l) => l.includes('"msg":"storage is full'));
    assert.equal(fullLines.length, 1, `one "storage is full" line for many refused writes:\n${fullLines.join('\n')}`);
    assert.doesNotMatch(out, /client went away/, 'a full disk is no client going away');
    assert.doesNotMatch(out, /request failed|ECR request failed/, 'no request failed unexplained');
  });

  it('starts on a full disk and serves pulls, even with no WAL index left to reuse', async () => {
    // The server stops; with space for a moment, a command closes the database cleanly (SQLite removes the WAL
    // and its shared-memory index); the disk fills again; the server starts: it cannot make a new index there.
    await berth!.stop();
    rmSync(filler);
    const usage = await berthCli(berth!, ['usage']);
    assert.equal(usage.code, 0, `berth usage: ${usage.stderr}`);
    assert.ok(!existsSync(join(berth!.dataDir, 'meta.db-shm')), 'no WAL index is left');
    fill(filler);
    berth = await berth!.restart();
    c = createClient(berth);
    ecr = ecrClient(berth);
    await assertPullable(c, images[0], 'after a restart on a full disk');
    assertStorageFull(await c.pushManifest(REPO, 'v2', images[0].manifest), 'PUT manifest after the restart');
    assert.equal((await healthz(berth)).storage.full, true);
  });

  it('takes pushes again once space is freed, without a restart; counts told when space returns', async () => {
    rmSync(filler);
    const h = await eventually(async () => {
      const x = await healthz(berth!);
      return x.storage.full ? undefined : x;
    });
    assert.ok(h, 'storage.full turns false once space is freed');
    assert.ok(h.storage.droppedAuditLines > 0);
    const back = berth!
      .output()
      .split('\n')
      .filter((l) => l.includes('"msg":"storage has space again'));
    assert.equal(back.length, 1, `one line when space returns:\n${back.join('\n')}`);
    assert.ok(JSON.parse(back[0]).storage.droppedAuditLines > 0, `the line tells how many audit lines were dropped: ${back[0]}`);
    images.push(await pushImage(c, 'v2', 1024 * 1024));
    // The server started on the full disk held the database alone: with space back it shares it again, and the
    // berth commands that open the data directory themselves work while it runs.
    const usage = await eventually(async () => {
      const u = await berthCli(berth!, ['usage']);
      return u.code === 0 ? u : undefined;
    }, 30_000);
    assert.ok(usage, 'berth usage works next to the server once space returned');
    // And it announces itself (server.json), so that berth gc runs inside it rather than beside it.
    assert.ok(
      await eventually(async () => existsSync(join(berth!.dataDir, 'server.json'))),
      'the server announces itself once there is space',
    );
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'full/other' }));
    // The audit log goes on, every line of it JSON (a line cut by the full disk does not run into the next).
    const audit = await eventually(async () => {
      const { entries } = readAudit(berth!);
      return entries.some((e) => e.action === 'ecr:CreateRepository' && e.resource.endsWith('/full/other') && e.allowed)
        ? entries
        : undefined;
    });
    assert.ok(audit, 'the audit log has the decisions made after space returned');
    // The pulls made while the disk was full are recorded now (their write was kept and retried).
    const pulled = await eventually(async () => {
      const d = await ecr.send(new DescribeImagesCommand({ repositoryName: REPO, imageIds: [{ imageTag: 'v1' }] }));
      return d.imageDetails?.[0]?.lastRecordedPullTime;
    });
    assert.ok(pulled instanceof Date, 'lastRecordedPullTime of the image pulled on a full disk');
  });

  it('berth fsck is clean, and every acknowledged manifest and blob is readable with its digest after a restart', async () => {
    await berth!.stop();
    const fsck = await berthCli(berth!, ['fsck']);
    assert.equal(fsck.code, 0, `fsck exits 0: ${fsck.stdout} ${fsck.stderr}`);
    assert.deepEqual(fsck.json.problems, []);
    assert.ok(fsck.json.blobsChecked >= 5, `fsck checked every blob: ${fsck.stdout}`);
    berth = await berth!.restart();
    c = createClient(berth);
    for (const image of images) await assertPullable(c, image, `${image.tag} after a restart`);
    assert.equal((await c.head(`/v2/${REPO}/blobs/${lone.digest}`)).status, 200);
  });
});
