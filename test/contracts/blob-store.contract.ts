// One contract for every blob store (filesystem, S3): what the core and garbage collection rely on, whatever the
// storage. Run by test/integration/blob-store-fs.test.ts and blob-store-s3.test.ts. As CNCF distribution runs
// one driver suite against every storage driver.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import type { CollectableBlobStore } from '../../src/gc/collector.ts';

const MiB = 1024 * 1024;

/** Storage that several store instances can open, as several processes (or nodes) would. */
export interface BlobStoreBacking {
  /** A new store instance on this storage. */
  open(): Promise<CollectableBlobStore>;
  /** Closes the instances opened and removes the storage. */
  cleanup(): Promise<void>;
}

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(parts);
}

/** A destination that keeps a copy of what it is given, slowly when asked (`delayMs` per chunk). */
function sink(delayMs = 0, onChunk?: (n: number) => void): { out: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  const out = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _enc, cb) {
      parts.push(Buffer.from(chunk));
      onChunk?.(parts.length);
      setTimeout(cb, delayMs);
    },
  });
  return { out, bytes: () => Buffer.concat(parts) };
}

/** A request-like body: a stream of `data` in pieces of `piece` bytes. */
function streamOf(data: Buffer, piece = 64 * 1024): PassThrough {
  const body = new PassThrough();
  (async () => {
    for (let at = 0; at < data.length; at += piece) {
      if (!body.write(data.subarray(at, at + piece))) await new Promise((r) => body.once('drain', r));
    }
    body.end();
  })();
  return body;
}

/** Uploads `data` as one blob through `store`, in the appends given (sizes), and commits it. */
async function storeBlob(store: CollectableBlobStore, data: Buffer, sizes = [data.length]): Promise<string> {
  const id = randomUUID();
  await store.createUpload(id);
  let at = 0;
  for (const n of sizes) {
    await store.append(id, streamOf(data.subarray(at, at + n)));
    at += n;
  }
  const digest = sha256(data);
  await store.commit(id, digest);
  return digest;
}

export function blobStoreContract(name: string, backing: () => Promise<BlobStoreBacking>): void {
  describe(`blob store contract: ${name}`, () => {
    let storage: BlobStoreBacking;
    let a: CollectableBlobStore;
    let b: CollectableBlobStore;
    before(async () => {
      storage = await backing();
      a = await storage.open();
      b = await storage.open();
    });
    after(async () => {
      await storage?.cleanup();
    });

    test('probe resolves on a store that answers (what /readyz asks)', async () => {
      await a.probe();
      await b.probe();
    });

    test('stat of a blob never stored is undefined; so is the size of an upload never created', async () => {
      assert.equal(await a.stat(sha256(randomBytes(16))), undefined);
      assert.equal(await a.uploadSize(randomUUID()), undefined);
    });

    test('an upload holds exactly the bytes appended (streams and in-memory parts, every size), in order', async () => {
      const id = randomUUID();
      await a.createUpload(id);
      assert.equal(await a.uploadSize(id), 0, 'a new upload holds no bytes');
      const pieces = [randomBytes(1), randomBytes(4097), randomBytes(MiB + 3), randomBytes(6 * MiB + 1), randomBytes(100)];
      const seen: Buffer[] = [];
      let total = 0;
      for (const [i, piece] of pieces.entries()) {
        // Odd appends arrive as a stream (a request body), even ones as buffers in memory (an ECR layer part).
        const body = i % 2 ? streamOf(piece, 65_000) : [piece.subarray(0, piece.length >> 1), piece.subarray(piece.length >> 1)];
        const size = await a.append(id, body, (p) => {
          seen.push(Buffer.from(p));
          return undefined;
        });
        total += piece.length;
        assert.equal(size, total, `append ${i} returns the new size`);
        assert.equal(await a.uploadSize(id), total);
      }
      const all = Buffer.concat(pieces);
      assert.ok(Buffer.concat(seen).equals(all), 'the observer saw every byte once, in order');
      assert.ok((await readAll(await a.readUpload(id))).equals(all), 'readUpload returns exactly the bytes appended');
      assert.ok((await readAll(await b.readUpload(id))).equals(all), '... from another instance too');
      await a.deleteUpload(id);
    });

    test("a stream of declared length (a request's Content-Length) is appended whole; one that fails half way keeps a prefix", async () => {
      const id = randomUUID();
      await a.createUpload(id);
      const first = randomBytes(6 * MiB + 7);
      const seen: Buffer[] = [];
      assert.equal(
        await a.append(
          id,
          streamOf(first, 65_000),
          (p) => {
            seen.push(Buffer.from(p));
            return undefined;
          },
          0,
          first.length,
        ),
        first.length,
      );
      assert.ok(Buffer.concat(seen).equals(first), 'the observer saw every byte once, in order');
      const second = randomBytes(3 * MiB);
      async function* failing() {
        for (let at = 0; at < 2 * MiB; at += 65536) yield second.subarray(at, at + 65536);
        throw new Error('the client went away');
      }
      await assert.rejects(a.append(id, failing(), undefined, first.length, second.length), /the client went away/);
      const kept = (await b.uploadSize(id))!;
      assert.ok(kept >= first.length && kept <= first.length + 2 * MiB, `kept ${kept} bytes`);
      const held = await readAll(await b.readUpload(id));
      assert.ok(held.equals(Buffer.concat([first, second]).subarray(0, kept)), 'what is kept is a prefix of what was sent');
      assert.equal(
        await b.append(id, streamOf(Buffer.concat([first, second]).subarray(kept)), undefined, kept, first.length + second.length - kept),
        first.length + second.length,
      );
      const digest = sha256(Buffer.concat([first, second]));
      await b.commit(id, digest);
      assert.ok((await readAll(await a.read(digest))).equals(Buffer.concat([first, second])));
      await a.delete(digest);
    });

    test('an observer that returns a promise holds the append until it settles', async () => {
      const id = randomUUID();
      await a.createUpload(id);
      const data = randomBytes(3 * MiB);
      let pending = 0;
      let most = 0;
      const size = await a.append(id, streamOf(data), () => {
        pending++;
        most = Math.max(most, pending);
        return new Promise<void>((r) =>
          setTimeout(() => {
            pending--;
            r();
          }, 1),
        );
      });
      assert.equal(size, data.length);
      assert.equal(most, 1, 'no piece was handed over while the previous one was still being observed');
      await a.deleteUpload(id);
    });

    test('a body that fails half way leaves a prefix of it, and the upload resumes from the size it reports', async () => {
      const id = randomUUID();
      await a.createUpload(id);
      const data = randomBytes(7 * MiB + 12345);
      await a.append(id, [data.subarray(0, 777)]);
      async function* failing() {
        for (let at = 777; at < 6 * MiB; at += 65536) yield data.subarray(at, Math.min(at + 65536, 6 * MiB));
        throw new Error('the client went away');
      }
      await assert.rejects(a.append(id, failing()), /the client went away/);
      const kept = (await b.uploadSize(id))!;
      assert.ok(kept >= 777 && kept <= 6 * MiB, `kept ${kept} bytes`);
      assert.ok((await readAll(await b.readUpload(id))).equals(data.subarray(0, kept)), 'what was kept is exactly the start of the data');
      assert.equal(await b.append(id, [data.subarray(kept)]), data.length);
      assert.ok((await readAll(await a.readUpload(id))).equals(data));
      await b.commit(id, sha256(data));
      assert.equal(await a.stat(sha256(data)), data.length);
    });

    test('durable commit: the blob is readable from another instance, and the upload is gone', async () => {
      const data = randomBytes(2 * MiB + 5);
      const digest = await storeBlob(a, data);
      const other = await storage.open();
      assert.equal(await other.stat(digest), data.length);
      assert.ok((await readAll(await other.read(digest))).equals(data), 'read() returns the blob');
      const { out, bytes } = sink();
      await other.copyTo(digest, { start: 0, end: data.length - 1 }, out);
      assert.ok(bytes().equals(data), 'copyTo the whole blob');
      const walked = [];
      for await (const f of other.walk()) if (f.digest === digest) walked.push(f);
      assert.equal(walked.length, 1, 'walk() lists the blob once');
      assert.equal(walked[0].size, data.length);
      let listed = 0;
      for await (const batch of other.walkDigests()) listed += batch.filter((d) => d === digest).length;
      assert.equal(listed, 1, 'walkDigests() lists the blob once');
      const info = await other.blobInfo(digest);
      assert.equal(info?.size, data.length);
      assert.ok(info && Math.abs(info.modifiedAt - walked[0].modifiedAt) < 1000, 'blobInfo() gives the time walk() gives');
      await other.delete(digest);
      assert.equal(await other.blobInfo(digest), undefined, 'gone: no info');
    });

    test('an empty blob', async () => {
      const digest = await storeBlob(a, Buffer.alloc(0), []);
      assert.equal(await b.stat(digest), 0);
      assert.equal((await readAll(await b.read(digest))).length, 0);
    });

    test('chunks of every size around 5 MiB assemble to exactly the bytes', async () => {
      // Small chunks then a large one, large then small, one exactly 5 MiB, and a tail: S3 assembles these from
      // streamed and server-side-copied parts; any storage must return the same bytes.
      const sizes = [MiB, 3 * MiB, 6 * MiB + 7, 5 * MiB, 100, 5 * MiB - 1, 2, 7 * MiB, MiB + 1];
      const data = randomBytes(sizes.reduce((n, s) => n + s, 0));
      const digest = await storeBlob(a, data, sizes);
      assert.equal(await b.stat(digest), data.length);
      assert.ok((await readAll(await b.read(digest))).equals(data));
    });

    test('ranges: the first byte, the last byte, the middle, the whole', async () => {
      const data = randomBytes(6 * MiB + 321);
      const digest = await storeBlob(a, data, [MiB, 5 * MiB + 321]);
      const size = data.length;
      for (const [start, end] of [
        [0, 0],
        [size - 1, size - 1],
        [1, 4095],
        [12345, 5 * MiB + 7],
        [MiB - 1, MiB],
        [0, size - 1],
        [size - 5000, size - 1],
      ]) {
        const { out, bytes } = sink();
        await b.copyTo(digest, { start, end }, out);
        assert.ok(bytes().equals(data.subarray(start, end + 1)), `bytes ${start}-${end}`);
      }
    });

    test('commit of a digest already stored succeeds, keeps the blob, and removes the upload', async () => {
      const data = randomBytes(MiB);
      const digest = await storeBlob(a, data);
      const id = randomUUID();
      await b.createUpload(id);
      await b.append(id, [data]);
      await b.commit(id, digest);
      assert.equal(await b.uploadSize(id), undefined, 'the second upload is gone');
      assert.equal(await a.stat(digest), data.length);
      assert.ok((await readAll(await a.read(digest))).equals(data));
    });

    test('two uploads of the same bytes committed at once: both succeed, one blob', async () => {
      const data = randomBytes(6 * MiB + 3);
      const digest = sha256(data);
      const ids = [randomUUID(), randomUUID()];
      await a.createUpload(ids[0]);
      await b.createUpload(ids[1]);
      await Promise.all([a.append(ids[0], streamOf(data)), b.append(ids[1], [data.subarray(0, MiB), data.subarray(MiB)])]);
      await Promise.all([a.commit(ids[0], digest), b.commit(ids[1], digest)]);
      assert.equal(await a.stat(digest), data.length);
      assert.ok((await readAll(await b.read(digest))).equals(data));
      let found = 0;
      for await (const f of a.walk()) if (f.digest === digest) found++;
      assert.equal(found, 1, 'one blob');
      assert.equal(await a.uploadSize(ids[0]), undefined);
      assert.equal(await a.uploadSize(ids[1]), undefined);
    });

    test('delete while reading: a read already started completes or fails, and never gives wrong bytes', async () => {
      const data = randomBytes(8 * MiB);
      const digest = await storeBlob(a, data);
      let deleted: Promise<void> | undefined;
      const { out, bytes } = sink(2, (n) => {
        if (n === 2) deleted = b.delete(digest);
      });
      const outcome = await a.copyTo(digest, { start: 0, end: data.length - 1 }, out).then(
        () => 'completed',
        (e: Error) => e.message,
      );
      await deleted;
      const got = bytes();
      if (outcome === 'completed') assert.ok(got.equals(data), 'a read that completes gives the whole blob');
      else assert.ok(got.equals(data.subarray(0, got.length)), `a read that fails (${outcome}) gave a prefix of the blob`);
      assert.equal(await a.stat(digest), undefined, 'the blob is gone');
      assert.equal(await b.stat(digest), undefined);
    });

    test('an upload appended from two instances in turn: A appends, B appends and commits', async () => {
      const id = randomUUID();
      const first = randomBytes(2 * MiB + 1);
      const second = randomBytes(3 * MiB + 2);
      await a.createUpload(id);
      assert.equal(await a.append(id, streamOf(first)), first.length);
      const seen = await b.uploadSize(id);
      assert.equal(seen, first.length, 'B sees what A appended');
      // As the core does: the size just read is passed on, so that the store need not read it again.
      assert.equal(await b.append(id, streamOf(second), undefined, seen), first.length + second.length);
      assert.equal(await a.uploadSize(id), first.length + second.length, 'A sees what B appended');
      const all = Buffer.concat([first, second]);
      assert.ok((await readAll(await b.readUpload(id))).equals(all), 'B reads back both appends (to hash them again)');
      await b.commit(id, sha256(all));
      assert.equal(await a.stat(sha256(all)), all.length);
      assert.ok((await readAll(await a.read(sha256(all)))).equals(all));
      assert.equal(await a.uploadSize(id), undefined);
    });

    test('deleteUpload removes the upload (from every instance); deleting twice is fine', async () => {
      const id = randomUUID();
      await a.createUpload(id);
      await a.append(id, [randomBytes(1000)]);
      assert.ok((await b.listUploadIds()).includes(id), 'listed while it exists');
      const info = await b.uploadInfo(id);
      assert.equal(info?.size, 1000);
      assert.ok(info && Math.abs(info.modifiedAt - Date.now()) < 10 * 60_000, 'its last write time is about now');
      await b.deleteUpload(id);
      assert.equal(await a.uploadSize(id), undefined);
      assert.equal(await a.uploadInfo(id), undefined);
      assert.ok(!(await a.listUploadIds()).includes(id));
      await assert.rejects(a.readUpload(id));
      await a.deleteUpload(id);
    });

    test('delete of a blob: gone for every instance; deleting twice is fine', async () => {
      const data = randomBytes(4096);
      const digest = await storeBlob(a, data);
      await b.delete(digest);
      assert.equal(await a.stat(digest), undefined);
      await a.delete(digest);
    });
  });
}
