// A Berth server with its blobs on S3 (a real Ceph RADOS Gateway, started here; the test fails when it cannot
// start), end to end over HTTP: monolithic and chunked pushes (chunks under and over S3's 5 MiB part minimum) and
// an ECR layer upload in parts; an upload continued by another process (a restarted server, its hash state gone);
// pulls through a 307 to a presigned URL (fetch and skopeo follow it; ECR's download URL is one) and, with
// BERTH_BLOB_REDIRECT=false, streamed through Berth; `berth fsck` clean and `berth gc` collecting from the bucket.
// The gateway's settings are mapped explicitly onto BERTH_S3_*.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  CompleteLayerUploadCommand,
  GetDownloadUrlForLayerCommand,
  InitiateLayerUploadCommand,
  UploadLayerPartCommand,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { berthRun } from '../helpers/policies.ts';
import { MEDIA, content, createClient, descriptor, imageManifest, randomBlob, type Content, type OciClient } from '../helpers/oci.ts';
import { startRgw, type Rgw } from '../helpers/rgw.ts';
import { ecrClient } from '../helpers/ecr.ts';
import { makeTempDir, removeDir, requireTool, runOk } from '../helpers/tools.ts';

const MiB = 1024 * 1024;
const PREFIX = 'registry';

describe('Berth on S3 (Ceph RGW)', () => {
  let rgw: Rgw;
  let s3: S3Client;
  let berth: Berth;
  let c: OciClient;
  const bucket = `berth-e2e-${randomUUID().slice(0, 8)}`;
  const env = () => ({ ...rgw.berthEnv(bucket, PREFIX), BERTH_LOG_LEVEL: 'warn' });

  before(
    async () => {
      rgw = await startRgw();
      await rgw.createBucket(bucket);
      s3 = new S3Client({
        endpoint: rgw.endpoint,
        forcePathStyle: true,
        region: rgw.region,
        credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
      });
      berth = await startBerth({ env: env() });
      c = createClient(berth);
    },
    { timeout: 600_000 },
  );
  after(async () => {
    await berth?.cleanup();
    s3?.destroy();
    await rgw?.stop();
  });

  async function keys(prefix: string): Promise<string[]> {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (page.Contents ?? []).map((o) => o.Key!);
  }

  /** Pushes `blob` in PATCH chunks of the sizes given and the rest with the PUT, checking each answer. */
  async function pushChunked(client: OciClient, repo: string, blob: Content, sizes: number[]): Promise<void> {
    const start = await client.post(`/v2/${repo}/blobs/uploads/`);
    assert.equal(start.status, 202);
    let location = start.location;
    let at = 0;
    for (const n of sizes) {
      const r = await client.patch(location, {
        body: blob.bytes.subarray(at, at + n),
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${at}-${at + n - 1}` },
      });
      assert.equal(r.status, 202, r.text());
      at += n;
      assert.equal(r.headers.get('range'), `0-${at - 1}`);
      location = r.location;
    }
    const put = await client.put(`${location}${location.includes('?') ? '&' : '?'}digest=${blob.digest}`, {
      body: blob.bytes.subarray(at),
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(put.status, 201, put.text());
    assert.equal(put.headers.get('docker-content-digest'), blob.digest);
  }

  const config = randomBlob(1234);
  // Layers are real gzip streams (of random bytes, so about as large), which skopeo copies as they are.
  const layer = (size: number): Content => {
    return content(gzipSync(randomBytes(size), { level: 1 }));
  };
  const big = layer(6 * MiB + 17); // monolithic, over the part minimum
  const chunked = layer(12 * MiB + 5); // chunks of 1 MiB, 3 MiB, 6 MiB and a tail of about 2 MiB
  const small = layer(3 * MiB); // chunks all under 5 MiB
  const repo = 's3/app';
  const continued = randomBlob(7 * MiB + 3); // pushed by two processes, referenced by no image
  const ecrLayer = randomBlob(6 * MiB + 99); // pushed over ECR in two parts, referenced by no image

  it('pushes monolithic and chunked blobs and a manifest; the blobs are in the bucket, not in the data dir', async () => {
    assert.equal((await c.pushBlob(repo, config.bytes)).status, 201);
    const mono = await c.pushBlob(repo, big.bytes);
    assert.equal(mono.status, 201, mono.text());
    assert.equal(mono.headers.get('docker-content-digest'), big.digest);
    await pushChunked(c, repo, chunked, [MiB, 3 * MiB, 6 * MiB]);
    await pushChunked(c, repo, small, [MiB, MiB]);
    const manifest = imageManifest({
      config: descriptor(MEDIA.ociConfig, config),
      layers: [big, chunked, small].map((l) => descriptor(MEDIA.ociLayerGzip, l)),
    });
    const put = await c.pushManifest(repo, 'v1', manifest);
    assert.equal(put.status, 201, put.text());

    const stored = await keys(`${PREFIX}/blobs/`);
    for (const blob of [config, big, chunked, small]) {
      assert.ok(stored.includes(`${PREFIX}/blobs/sha256/${blob.digest.slice(7)}`), `${blob.digest} is in the bucket`);
    }
    assert.deepEqual(await keys(`${PREFIX}/uploads/`), [], 'no upload is left in the bucket');
    const local = join(berth.dataDir, 'blobs', 'sha256');
    assert.ok(!existsSync(local) || readdirSync(local).length === 0, 'no blob is in the data directory');
  });

  it('pulls through a 307 to a presigned URL of the store, whole and by range', async () => {
    const manifest = await c.get(`/v2/${repo}/manifests/v1`, { headers: { Accept: MEDIA.ociManifest } });
    assert.equal(manifest.status, 200);
    for (const blob of [config, big, chunked, small]) {
      const res = await fetch(`${berth.url}/v2/${repo}/blobs/${blob.digest}`, {
        headers: { Authorization: berth.authHeader },
        redirect: 'manual',
      });
      assert.equal(res.status, 307);
      const location = res.headers.get('location')!;
      assert.ok(location.startsWith(`${rgw.endpoint}/${bucket}/${PREFIX}/blobs/sha256/`), `redirected to the store: ${location}`);
      assert.match(location, /X-Amz-Signature=/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      // Followed (fetch drops the Authorization header on the way to another origin, as clients do).
      const got = await c.get(`/v2/${repo}/blobs/${blob.digest}`);
      assert.equal(got.status, 200);
      assert.equal(got.body.length, blob.size);
      assert.equal(got.headers.get('docker-content-digest') ?? blob.digest, blob.digest);
      assert.ok(got.body.equals(blob.bytes), `${blob.digest} reads back byte for byte`);
    }
    const ranged = await c.get(`/v2/${repo}/blobs/${big.digest}`, { headers: { Range: `bytes=${5 * MiB - 3}-${5 * MiB + 9}` } });
    assert.equal(ranged.status, 206);
    assert.ok(ranged.body.equals(big.bytes.subarray(5 * MiB - 3, 5 * MiB + 10)));
    const head = await c.head(`/v2/${repo}/blobs/${big.digest}`);
    assert.equal(head.status, 200, 'HEAD is answered by Berth');
    assert.equal(head.headers.get('content-length'), String(big.size));
  });

  it('ECR GetDownloadUrlForLayer returns a presigned URL of the store, as ECR does', async () => {
    const ecr = ecrClient(berth);
    try {
      const out = await ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: repo, layerDigest: chunked.digest }));
      assert.equal(out.layerDigest, chunked.digest);
      assert.ok(out.downloadUrl!.startsWith(`${rgw.endpoint}/${bucket}/${PREFIX}/blobs/sha256/`), out.downloadUrl);
      const got = await fetch(out.downloadUrl!);
      assert.equal(got.status, 200);
      assert.ok(Buffer.from(await got.arrayBuffer()).equals(chunked.bytes), 'the URL alone reads the layer');
    } finally {
      ecr.destroy();
    }
  });

  it('ECR layer upload in parts (InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload) lands in the bucket', async () => {
    const ecr = ecrClient(berth);
    try {
      const layer = ecrLayer;
      const { uploadId } = await ecr.send(new InitiateLayerUploadCommand({ repositoryName: repo }));
      for (const [first, last] of [
        [0, 5 * MiB - 1],
        [5 * MiB, layer.size - 1],
      ]) {
        const part = await ecr.send(
          new UploadLayerPartCommand({
            repositoryName: repo,
            uploadId,
            partFirstByte: first,
            partLastByte: last,
            layerPartBlob: layer.bytes.subarray(first, last + 1),
          }),
        );
        assert.equal(part.lastByteReceived, last);
      }
      const done = await ecr.send(new CompleteLayerUploadCommand({ repositoryName: repo, uploadId, layerDigests: [layer.digest] }));
      assert.equal(done.layerDigest, layer.digest);
      assert.ok((await keys(`${PREFIX}/blobs/`)).includes(`${PREFIX}/blobs/sha256/${layer.digest.slice(7)}`));
      const got = await c.get(`/v2/${repo}/blobs/${layer.digest}`);
      assert.ok(got.body.equals(layer.bytes));
    } finally {
      ecr.destroy();
    }
  });

  it('skopeo follows the redirect: it copies the image out with the right digests', async () => {
    await requireTool('skopeo');
    const work = makeTempDir('berth-s3-skopeo-');
    try {
      const opts = { env: { DOCKER_CONFIG: join(work, 'docker-config'), REGISTRY_AUTH_FILE: join(work, 'auth.json') } };
      const layout = join(work, 'layout');
      await runOk(
        'skopeo',
        [
          'copy',
          '--src-tls-verify=false',
          '--src-creds',
          `${berth.accessKeyId}:${berth.secretAccessKey}`,
          `docker://${berth.host}/${repo}:v1`,
          `oci:${layout}:v1`,
        ],
        opts,
      );
      for (const blob of [config, big, chunked, small]) {
        assert.ok(existsSync(join(layout, 'blobs', 'sha256', blob.digest.slice(7))), `skopeo fetched ${blob.digest}`);
      }
    } finally {
      removeDir(work);
    }
  });

  it('an upload started by one process is continued and completed by another (hash state gone)', async () => {
    const blob = continued;
    const start = await c.post(`/v2/${repo}/blobs/uploads/`);
    const first = await c.patch(start.location, {
      body: blob.bytes.subarray(0, 2 * MiB),
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(first.status, 202);
    berth = await berth.restart();
    c = createClient(berth);
    const status = await c.get(first.location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), `0-${2 * MiB - 1}`, 'the other process sees the chunk');
    const put = await c.put(`${first.location}${first.location.includes('?') ? '&' : '?'}digest=${blob.digest}`, {
      body: blob.bytes.subarray(2 * MiB),
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(put.status, 201, put.text());
    const got = await c.get(`/v2/${repo}/blobs/${blob.digest}`);
    assert.ok(got.body.equals(blob.bytes));
  });

  it('with BERTH_BLOB_REDIRECT=false blobs are streamed through Berth, and fsck is clean', async () => {
    await berth.stop();
    berth = await startBerth({
      dataDir: berth.dataDir,
      accessKeyId: berth.accessKeyId,
      secretAccessKey: berth.secretAccessKey,
      removeDataDir: true,
      env: {
        ...env(),
        BERTH_BLOB_REDIRECT: 'false',
        BERTH_GC_GRACE_SECONDS: '1',
        BERTH_UPLOAD_MAX_AGE_SECONDS: '1',
        BERTH_GC_INTERVAL_SECONDS: '0',
      },
    });
    c = createClient(berth);
    for (const blob of [config, big, chunked, small]) {
      const res = await fetch(`${berth.url}/v2/${repo}/blobs/${blob.digest}`, {
        headers: { Authorization: berth.authHeader },
        redirect: 'manual',
      });
      assert.equal(res.status, 200);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(blob.bytes), `${blob.digest} streamed byte for byte`);
    }
    const ranged = await c.get(`/v2/${repo}/blobs/${chunked.digest}`, { headers: { Range: `bytes=${MiB}-${4 * MiB}` } });
    assert.equal(ranged.status, 206);
    assert.ok(ranged.body.equals(chunked.bytes.subarray(MiB, 4 * MiB + 1)));
    const ecr = ecrClient(berth);
    try {
      const out = await ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: repo, layerDigest: small.digest }));
      assert.ok(out.downloadUrl!.startsWith(`${berth.url}/v2/${repo}/blobs/${small.digest}?`), `a URL of Berth's: ${out.downloadUrl}`);
    } finally {
      ecr.destroy();
    }
    // The operator runs fsck with the server's configuration (it reads the store itself).
    const fsck = await berthRun(berth, ['fsck'], 120_000, env());
    assert.equal(fsck.code, 0, fsck.stdout + fsck.stderr);
    const report = JSON.parse(fsck.stdout);
    assert.deepEqual(report.problems, []);
    assert.ok(report.blobsChecked >= 5, `fsck read every blob from the store: ${fsck.stdout}`);
    assert.ok(report.bytesChecked >= config.size + big.size + chunked.size + small.size);
  });

  it('berth gc collects the unreferenced blobs and an abandoned upload from the bucket, and keeps the image', async () => {
    const start = await c.post(`/v2/${repo}/blobs/uploads/`);
    assert.equal(
      (await c.patch(start.location, { body: randomBlob(1000).bytes, headers: { 'Content-Type': 'application/octet-stream' } })).status,
      202,
    );
    assert.equal((await keys(`${PREFIX}/uploads/`)).length, 2, 'the abandoned upload is in the bucket');
    await sleep(2500); // past the grace period and the upload age limit (the store stamps whole seconds)
    const gc = await berthRun(berth, ['gc'], 120_000, env());
    assert.equal(gc.code, 0, gc.stdout + gc.stderr);
    const report = JSON.parse(gc.stdout);
    assert.deepEqual(report.deleted.sort(), [continued.digest, ecrLayer.digest].sort(), 'only the blobs no image references go');
    assert.equal(report.uploadsDeleted, 1);
    assert.deepEqual(await keys(`${PREFIX}/uploads/`), []);
    const stored = await keys(`${PREFIX}/blobs/`);
    for (const blob of [continued, ecrLayer]) assert.ok(!stored.includes(`${PREFIX}/blobs/sha256/${blob.digest.slice(7)}`));
    for (const blob of [config, big, chunked, small]) assert.ok(stored.includes(`${PREFIX}/blobs/sha256/${blob.digest.slice(7)}`));
    const fsck = await berthRun(berth, ['fsck'], 120_000, env());
    assert.equal(fsck.code, 0, fsck.stdout + fsck.stderr);
  });

  it('a bucket that does not exist stops the server at start, with the reason', async () => {
    await assert.rejects(startBerth({ env: { ...rgw.berthEnv(`missing-${bucket}`) } }), /S3 bucket missing-berth-e2e-\w+ is not reachable/);
  });
});
