// `berth relocate`: an embedded registry (SQLite, filesystem blobs, a generated secret.key and root key, an access
// key encrypted under that secret key) copied to a real PostgreSQL and a real Ceph RGW started here (the test fails
// when either cannot start). The copy is verified (a blob whose bytes do not hash to its digest stops it before any
// metadata is copied), resumable (a blob missing from the bucket is copied again, nothing else) and idempotent (a
// second run copies nothing); a node on PostgreSQL + S3 with an empty data dir then serves every image and blob,
// accepts the old root key and the old access key, and fsck finds nothing wrong.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeImagesCommand } from '@aws-sdk/client-ecr';
import { SHARED_SECRET_KEY, startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient } from '../helpers/ecr.ts';
import { blobPath, getAndHash, pushImage, req, show, MiB, type Target } from '../helpers/http.ts';
import { berthRun } from '../helpers/policies.ts';
import { startPostgres, type Postgres } from '../helpers/postgres.ts';
import { startRgw, type Rgw } from '../helpers/rgw.ts';

/** Empty values are unset: the root key is generated and kept in the data dir. */
const NO_ROOT = { BERTH_ROOT_ACCESS_KEY_ID: '', BERTH_ROOT_SECRET_ACCESS_KEY: '' };

describe('berth relocate: an embedded registry to PostgreSQL and S3', () => {
  let postgres: Postgres;
  let rgw: Rgw;
  let s3: S3Client;
  let databaseUrl: string;
  let embedded: Berth;
  let node: Berth | undefined;
  const bucket = `berth-relocate-${randomUUID().slice(0, 8)}`;
  let root: { id: string; secret: string };
  let target: Target;
  let accessKey: { accessKeyId: string; secretAccessKey: string };
  const images: { repo: string; tag: string; digest: string; blobs: string[] }[] = [];

  before(
    async () => {
      [postgres, rgw] = await Promise.all([startPostgres(), startRgw()]);
      databaseUrl = await postgres.createDatabase('relocated');
      await rgw.createBucket(bucket);
      s3 = new S3Client({
        endpoint: rgw.endpoint,
        forcePathStyle: true,
        region: rgw.region,
        credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
      });
      embedded = await startBerth({ env: NO_ROOT });
      root = {
        id: /access key id:\s+(\S+)/.exec(embedded.output())![1],
        secret: /secret access key:\s+(\S+)/.exec(embedded.output())![1],
      };
      target = { url: embedded.url, authHeader: `Basic ${Buffer.from(`${root.id}:${root.secret}`).toString('base64')}` };
    },
    { timeout: 600_000 },
  );

  after(async () => {
    await node?.cleanup();
    await embedded?.cleanup();
    s3?.destroy();
    await rgw?.stop();
    await postgres?.stop();
  });

  /** `berth relocate` on the embedded data dir, with the target's S3 credentials and the key for the database. */
  function relocate() {
    const s3Env = rgw.berthEnv(bucket, 'reg');
    delete s3Env.BERTH_BLOB_STORE;
    return berthRun(embedded, ['relocate', '--to-database', databaseUrl, '--to-blob-store', `s3://${bucket}/reg`], 180_000, {
      ...NO_ROOT,
      ...s3Env,
      BERTH_SECRET_KEY: SHARED_SECRET_KEY,
    });
  }

  it('copies keys, blobs and metadata, with a progress bar', async () => {
    for (const [i, size] of [1000, 6 * MiB + 3].entries()) {
      const image = await pushImage(target, `team/app${i}`, 'v1', { layer: randomBytes(size) });
      images.push({ repo: `team/app${i}`, tag: 'v1', digest: image.digest, blobs: [image.config.digest, image.layer.digest] });
    }
    const created = await berthRun(embedded, ['admin', 'create-access-key'], 60_000, NO_ROOT);
    assert.equal(created.code, 0, created.stdout + created.stderr);
    accessKey = JSON.parse(created.stdout);
    await embedded.stop();

    const r = await relocate();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.secretKey, 'stored');
    assert.equal(report.rootKey, 'stored');
    // The two images share their config: blobs are stored once.
    const distinct = new Set(images.flatMap((i) => i.blobs)).size;
    assert.equal(distinct, 3);
    assert.equal(report.blobs.total, distinct);
    assert.equal(report.blobs.copied, distinct);
    assert.equal(report.rows.manifests, 2);
    assert.equal(report.rows.repositories, 2);
    assert.ok(report.rows.access_keys >= 1);
    assert.match(r.stderr, /relocate: blobs \[#{20}\] 100% 3\/3/);
  });

  it('verifies digests, resumes where it stopped, and copies nothing twice', async () => {
    const victim = images[1].blobs[1];
    const key = `reg/blobs/sha256/${victim.slice(7)}`;
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    const file = blobPath(embedded.dataDir, victim);
    const good = readFileSync(file);
    const bad = Buffer.from(good);
    bad[100] ^= 0xff;
    writeFileSync(file, bad);
    const refused = await relocate();
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, new RegExp(`${victim}: the data dir's bytes hash to sha256:`));
    writeFileSync(file, good);

    const resumed = await relocate();
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    const report = JSON.parse(resumed.stdout);
    assert.deepEqual(report.blobs, { total: 3, copied: 1, alreadyThere: 2, bytesCopied: good.length });
    assert.equal(report.secretKey, 'already stored');
    assert.equal(report.rootKey, 'already stored');
    assert.ok(
      Object.values(report.rows).every((n) => n === 0),
      `no row copied twice: ${JSON.stringify(report.rows)}`,
    );
  });

  it('a node on PostgreSQL + S3 with an empty data dir serves it all, with the old root key and access key', async () => {
    node = await startBerth({
      env: { ...NO_ROOT, ...rgw.berthEnv(bucket, 'reg'), BERTH_DATABASE_URL: databaseUrl, BERTH_SECRET_KEY: SHARED_SECRET_KEY },
    });
    assert.match(node.output(), new RegExp(`Root access key id ${root.id}; its secret was shown once`));
    const onNode = { url: node.url, authHeader: target.authHeader };
    for (const image of images) {
      const m = await req(onNode, 'GET', `/v2/${image.repo}/manifests/${image.tag}`, {
        headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      assert.equal(m.status, 200, show(m));
      assert.equal(m.headers.get('docker-content-digest'), image.digest);
      for (const blob of image.blobs)
        assert.equal((await getAndHash(`${node.url}/v2/${image.repo}/blobs/${blob}`, target.authHeader)).digest, blob);
    }
    const ecr = ecrClient(node, accessKey);
    try {
      const described = await ecr.send(new DescribeImagesCommand({ repositoryName: 'team/app1' }));
      assert.deepEqual(
        described.imageDetails?.map((d) => d.imageDigest),
        [images[1].digest],
        'the old access key signs for the new node',
      );
    } finally {
      ecr.destroy();
    }
    const fsck = await berthRun(node, ['fsck'], 180_000, {
      ...NO_ROOT,
      ...rgw.berthEnv(bucket, 'reg'),
      BERTH_DATABASE_URL: databaseUrl,
      BERTH_SECRET_KEY: SHARED_SECRET_KEY,
    });
    assert.equal(fsck.code, 0, fsck.stdout + fsck.stderr);
    assert.deepEqual(JSON.parse(fsck.stdout).problems, []);
  });
});
