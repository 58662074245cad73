// The blob store contract on S3, against a real Ceph RADOS Gateway (started here, stopped after; the test fails
// when it cannot start). Two store instances on one bucket and prefix stand for two nodes.
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { S3BlobStore } from '../../src/storage/blobs/s3.ts';
import { blobStoreContract } from '../contracts/blob-store.contract.ts';
import { startRgw, type Rgw } from '../helpers/rgw.ts';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

let rgw: Rgw;
const bucket = `berth-contract-${randomUUID().slice(0, 8)}`;
before(
  async () => {
    rgw = await startRgw();
    await rgw.createBucket(bucket);
  },
  { timeout: 600_000 },
);
after(async () => {
  await rgw?.stop();
});

blobStoreContract('S3 (Ceph RGW)', async () => {
  const prefix = `contract/${randomUUID()}`;
  const stores: S3BlobStore[] = [];
  return {
    async open() {
      // The gateway's settings, mapped explicitly: the store never falls back to AWS_* variables here.
      const store = new S3BlobStore({
        bucket,
        prefix,
        endpoint: rgw.endpoint,
        region: rgw.region,
        accessKeyId: rgw.accessKeyId,
        secretAccessKey: rgw.secretAccessKey,
      });
      await store.init();
      stores.push(store);
      return store;
    },
    async cleanup() {
      for (const s of stores) s.close();
    },
  };
});

describe('S3 blob store: what only S3 has', () => {
  const open = (prefix: string) =>
    new S3BlobStore({
      bucket,
      prefix,
      endpoint: rgw.endpoint,
      region: rgw.region,
      accessKeyId: rgw.accessKeyId,
      secretAccessKey: rgw.secretAccessKey,
    });

  test('each chunk is an object of its own under uploads/<id>/, and commit leaves only the blob', async () => {
    const prefix = `layout-${randomUUID()}`;
    const store = open(prefix);
    const list = async () =>
      ((await store.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/` }))).Contents ?? [])
        .map((o) => o.Key!.slice(prefix.length + 1))
        .sort();
    try {
      const id = randomUUID();
      await store.createUpload(id);
      const chunks = [randomBytes(1000), randomBytes(6 * MiB), randomBytes(5)];
      for (const c of chunks) await store.append(id, [c]);
      assert.deepEqual(await list(), [
        `uploads/${id}/${'0'.repeat(16)}`,
        `uploads/${id}/${String(1000).padStart(16, '0')}`,
        `uploads/${id}/${String(1000 + 6 * MiB).padStart(16, '0')}`,
        `uploads/${id}/start`,
      ]);
      const all = Buffer.concat(chunks);
      await store.commit(id, sha256(all));
      assert.deepEqual(await list(), [`blobs/sha256/${sha256(all).slice(7)}`]);
    } finally {
      store.close();
    }
  });

  test('a layer streamed in, and assembled from small chunks, is never held in memory whole', async () => {
    const store = open(`memory-${randomUUID()}`);
    try {
      const id = randomUUID();
      await store.createUpload(id);
      const block = randomBytes(MiB);
      const total = 256 * MiB;
      // Parts in flight and being gathered, and buffers not yet collected: bounded, far under the layer's size.
      const bound = 96 * MiB;
      const hash = createHash('sha256');
      async function* body() {
        for (let at = 0; at < total; at += MiB) {
          block[0] = at / MiB; // every MiB differs
          hash.update(block);
          yield Buffer.from(block);
        }
      }
      let peak = 0;
      const base = process.memoryUsage().arrayBuffers;
      const timer = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
      }, 5);
      try {
        assert.equal(await store.append(id, body()), total);
        const appendPeak = peak;
        assert.ok(appendPeak < bound, `appending ${total / MiB} MiB held at most ${(appendPeak / MiB).toFixed(1)} MiB`);
        // 40 more chunks of 1 MiB: commit streams them (too small to copy) into 5 MiB parts.
        for (let i = 0; i < 40; i++) {
          block[1] = i;
          hash.update(block);
          await store.append(id, [block]);
        }
        peak = 0;
        await store.commit(id, `sha256:${hash.digest('hex')}`);
        assert.ok(peak < bound, `committing held at most ${(peak / MiB).toFixed(1)} MiB`);
      } finally {
        clearInterval(timer);
      }
    } finally {
      store.close();
    }
  });

  test('abortIncomplete aborts multipart uploads left unfinished under the prefix (garbage collection calls it)', async () => {
    const prefix = `abandoned-${randomUUID()}`;
    const store = open(prefix);
    try {
      await store.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `${prefix}/uploads/x/${'0'.repeat(16)}` }));
      const elsewhere = await store.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `other-${prefix}/y` }));
      assert.equal(await store.abortIncomplete(Date.now() - 3_600_000), 0, 'a young one is kept');
      assert.equal(await store.abortIncomplete(Date.now() + 60_000), 1);
      const left = await store.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
      assert.deepEqual(left.Uploads ?? [], []);
      const other = await store.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `other-${prefix}` }));
      assert.equal(other.Uploads?.length, 1, 'another prefix is not touched');
      await store.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: `other-${prefix}/y`, UploadId: elsewhere.UploadId }));
    } finally {
      store.close();
    }
  });
});

describe('S3 blob store: two processes appending at the same offset at once', () => {
  test("one append wins, the other fails, and the upload holds exactly the winner's bytes", async () => {
    const prefix = `race-${randomUUID()}`;
    const stores = [0, 1].map(
      () =>
        new S3BlobStore({
          bucket,
          prefix,
          endpoint: rgw.endpoint,
          region: rgw.region,
          accessKeyId: rgw.accessKeyId,
          secretAccessKey: rgw.secretAccessKey,
        }),
    );
    try {
      for (const [kind, body] of [
        ['in memory', (b: Buffer) => [b]],
        [
          'streamed',
          (b: Buffer) =>
            (async function* () {
              yield b;
            })(),
        ],
      ] as const) {
        const id = randomUUID();
        await stores[0].createUpload(id);
        const chunks = [randomBytes(MiB), randomBytes(MiB)];
        const outcomes = await Promise.allSettled(stores.map((s, i) => s.append(id, body(chunks[i]))));
        const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
        assert.equal(won.length, 1, `${kind}: exactly one append succeeds (${outcomes.map((o) => o.status)})`);
        const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
        assert.match(String(lost.reason), /got there first/);
        assert.equal(await stores[1].uploadSize(id), MiB);
        const parts: Buffer[] = [];
        for await (const c of await stores[1].readUpload(id)) parts.push(c as Buffer);
        assert.ok(Buffer.concat(parts).equals(chunks[won[0]]), `${kind}: the upload holds the winner's bytes`);
      }
    } finally {
      stores.forEach((s) => s.close());
    }
  });
});
