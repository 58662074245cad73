// The filesystem blob store's upload path against real filesystems: O_DIRECT on the temporary directory's
// filesystem, buffered writes when asked, ramfs (mounted for the test: it refuses O_DIRECT, so the store falls
// back to buffered writes), and tmpfs (which refused O_DIRECT before Linux 6.6; whichever way the kernel here
// goes, the bytes must land). Mounting ramfs needs root, as the Docker engine tests do.
// What every blob store must do (commit, ranges, idempotent and concurrent commits, two processes on one upload)
// is the contract in test/contracts/blob-store.contract.ts, run on this store by blob-store-fs.test.ts.
import { test, describe, before, after } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { PassThrough, Writable } from 'node:stream';
import { alignedBytesHeld, buffersInUse } from '../../src/storage/blobs/aligned.ts';
import { SYNC_EVERY, writeBehindSyncs } from '../../src/storage/blobs/append.ts';
import { copyRange } from '../../src/storage/blobs/copy.ts';
import { FilesystemBlobStore } from '../../src/storage/blobs/fs.ts';
import { startBerth } from '../helpers/berth.ts';
import { MiB, sha256 } from '../helpers/http.ts';

const O_DIRECT = 0o40000; // x86_64 and arm64 Linux

const roots: string[] = [];
let ramfs: string | undefined;
before(() => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ramfs-'));
  try {
    execFileSync('mount', ['-t', 'ramfs', 'ramfs', dir]);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  ramfs = dir;
});
after(() => {
  roots.forEach((r) => rmSync(r, { recursive: true, force: true }));
  if (ramfs) {
    execFileSync('umount', [ramfs]);
    rmSync(ramfs, { recursive: true, force: true });
  }
});

function makeRoot(parent: string): string {
  const root = mkdtempSync(join(parent, 'berth-blobstore-'));
  roots.push(root);
  return root;
}

/** Flags (octal, from /proc/<pid>/fdinfo) of a process's open descriptors on files `matches` accepts. */
function openFlags(path: string | ((target: string) => boolean), pid: number | 'self' = 'self'): number[] {
  const matches = typeof path === 'string' ? (t: string) => t === path : path;
  const flags: number[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    if (!matches(target)) continue;
    try {
      const m = /flags:\s+([0-7]+)/.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m) flags.push(parseInt(m[1], 8));
    } catch {
      // closed meanwhile
    }
  }
  return flags;
}

/** Append sizes that cross 4096-byte blocks and 1 MiB buffers at odd places, and start appends mid-block. */
const APPENDS = [[1], [4095, 1], [4097], [MiB + 3, 100], [3 * MiB - 7], [5], [2 * MiB]];

const cases: { name: string; parent: () => string; directIO: boolean; expectDirect?: boolean }[] = [
  { name: 'O_DIRECT on the temporary directory', parent: tmpdir, directIO: true, expectDirect: true },
  { name: 'buffered writes (directIO off)', parent: tmpdir, directIO: false, expectDirect: false },
  { name: 'ramfs, which refuses O_DIRECT: buffered instead', parent: () => ramfs!, directIO: true, expectDirect: false },
  { name: 'tmpfs (/dev/shm)', parent: () => '/dev/shm', directIO: true },
];

for (const c of cases) {
  describe(`blob store uploads: ${c.name}`, () => {
    test('appends of every size land byte for byte, each starting where the last ended', async () => {
      assert.ok(existsSync(c.parent()), `${c.parent()} must exist for this test`);
      const store = new FilesystemBlobStore(makeRoot(c.parent()), { directIO: c.directIO });
      await store.init();
      await store.createUpload('u1');
      const dataPath = join(store.root, 'uploads', 'u1', 'data');
      const expected: Buffer[] = [];
      let total = 0;
      const seenFlags: number[] = [];
      for (const sizes of APPENDS) {
        const chunks = sizes.map((n) => randomBytes(n));
        async function* body() {
          for (const chunk of chunks) {
            yield chunk;
            seenFlags.push(...openFlags(dataPath));
          }
        }
        const size = await store.append('u1', body());
        total += sizes.reduce((a, b) => a + b, 0);
        expected.push(...chunks);
        assert.equal(size, total, `size after appending ${sizes.join('+')} bytes`);
        assert.equal(await store.uploadSize('u1'), total);
      }
      const want = Buffer.concat(expected);
      assert.ok(readFileSync(dataPath).equals(want), 'the upload file holds exactly the bytes appended, in order');
      assert.ok(seenFlags.length > 0, 'the upload file was open while its body was read');
      if (c.expectDirect !== undefined) {
        assert.equal(
          seenFlags.some((f) => (f & O_DIRECT) !== 0),
          c.expectDirect,
          `O_DIRECT in use: ${c.expectDirect}`,
        );
      }

      const digest = sha256(want);
      await store.commit('u1', digest);
      assert.equal(await store.stat(digest), want.length);
      assert.ok(readFileSync(store.blobPath(digest)).equals(want));
      assert.equal(existsSync(dataPath), false, 'the upload is gone once committed');
    });

    test('a body that fails half way leaves a prefix of it, and the upload resumes from the size it reports', async () => {
      const store = new FilesystemBlobStore(makeRoot(c.parent()), { directIO: c.directIO });
      await store.init();
      await store.createUpload('u2');
      const data = randomBytes(5 * MiB + 12345);
      await store.append('u2', [data.subarray(0, 777)]);
      async function* failing() {
        for (let at = 777; at < 4 * MiB; at += 65536) yield data.subarray(at, Math.min(at + 65536, 4 * MiB));
        throw new Error('the client went away');
      }
      await assert.rejects(store.append('u2', failing()), /the client went away/);
      const kept = (await store.uploadSize('u2'))!;
      assert.ok(kept >= 777 && kept <= 4 * MiB, `kept ${kept} bytes`);
      const dataPath = join(store.root, 'uploads', 'u2', 'data');
      assert.ok(readFileSync(dataPath).equals(data.subarray(0, kept)), 'what was kept is exactly the start of the data');
      const size = await store.append('u2', [data.subarray(kept)]);
      assert.equal(size, data.length);
      assert.ok(readFileSync(dataPath).equals(data));
    });
  });
}

/** What `run` gives, and the most buffers (aligned or not) in use at once while it ran, sampled every turn. */
async function mostBuffersInUse<T>(run: () => Promise<T>): Promise<{ result: T; most: number }> {
  let most = 0;
  let running = true;
  const sample = () => {
    most = Math.max(most, buffersInUse());
    if (running) setImmediate(sample);
  };
  sample();
  const result = await run().finally(() => {
    running = false;
  });
  return { result, most };
}

describe('blob store uploads: the body', () => {
  test('a request stream that is gone before the append starts fails it at once, and the upload goes on', { timeout: 10_000 }, async () => {
    const store = new FilesystemBlobStore(makeRoot(tmpdir()));
    await store.init();
    await store.createUpload('gone');
    const body = new PassThrough();
    body.destroy();
    await assert.rejects(store.append('gone', body));
    assert.equal(await store.uploadSize('gone'), 0);
    assert.equal(await store.append('gone', [Buffer.from('next')]), 4);
  });

  for (const directIO of [false, true]) {
    test(`one large chunk in memory (an ECR layer part) is written a few buffers at a time (${directIO ? 'O_DIRECT' : 'page cache'})`, async () => {
      const store = new FilesystemBlobStore(makeRoot(tmpdir()), { directIO });
      await store.init();
      await store.createUpload('part');
      const part = randomBytes(20 * MiB + 5);
      const { result: size, most } = await mostBuffersInUse(() => store.append('part', [part]));
      assert.equal(size, part.length);
      assert.ok(readFileSync(join(store.root, 'uploads', 'part', 'data')).equals(part));
      assert.ok(most >= 2, `buffers were in use while the part was written (${most})`);
      assert.ok(most <= 6, `at most the writes in flight and the buffer being filled: ${most} buffers at once`);
      assert.equal(buffersInUse(), 0, 'every buffer is given back');
    });
  }

  test('16 O_DIRECT uploads at once hold 32 buffers at most (each its buffer being filled and one write)', async () => {
    const store = new FilesystemBlobStore(makeRoot(tmpdir()), { directIO: true });
    await store.init();
    const parts = Array.from({ length: 16 }, () => randomBytes(6 * MiB + 11));
    const bodies = parts.map(() => new PassThrough());
    await Promise.all(parts.map((_, i) => store.createUpload(`p${i}`)));
    const appends = Promise.all(bodies.map((body, i) => store.append(`p${i}`, body)));
    // Every upload under way (its first bytes in), then the rest of each at once.
    bodies.forEach((body, i) => body.write(parts[i].subarray(0, 1024)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { result: sizes, most } = await mostBuffersInUse(() => {
      bodies.forEach((body, i) => body.end(parts[i].subarray(1024)));
      return appends;
    });
    assert.deepEqual(
      sizes,
      parts.map((p) => p.length),
    );
    parts.forEach((part, i) => assert.ok(readFileSync(join(store.root, 'uploads', `p${i}`, 'data')).equals(part)));
    assert.ok(most >= 16, `every upload had its buffers (${most} at most)`);
    assert.ok(most <= 32, `32 buffers at most for all the uploads together: ${most}`);
    assert.equal(buffersInUse(), 0, 'every buffer is given back');
  });

  test('the aligned memory is let go once every buffer has been back for 2 s, and made again when needed', {
    timeout: 10_000,
  }, async () => {
    const store = new FilesystemBlobStore(makeRoot(tmpdir()), { directIO: true });
    await store.init();
    await store.createUpload('idle');
    await store.append('idle', [randomBytes(3 * MiB)]);
    assert.ok(alignedBytesHeld() > 0, 'the upload was written from aligned buffers');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.ok(alignedBytesHeld() > 0, 'kept while uploads may follow');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(alignedBytesHeld(), 0, 'let go after 2 s with every buffer back');
    const more = randomBytes(2 * MiB);
    assert.equal(await store.append('idle', [more]), 3 * MiB + more.length);
    assert.ok(alignedBytesHeld() > 0, 'made again for the next upload');
    assert.ok(
      readFileSync(join(store.root, 'uploads', 'idle', 'data'))
        .subarray(3 * MiB)
        .equals(more),
    );
  });

  test('a page-cache upload larger than the write-behind step starts datasyncs while it is written', async () => {
    const store = new FilesystemBlobStore(makeRoot(tmpdir()), { directIO: false });
    await store.init();
    await store.createUpload('wb');
    const before = writeBehindSyncs;
    const data = randomBytes(SYNC_EVERY * 2 + 7);
    const size = await store.append('wb', [data.subarray(0, SYNC_EVERY), data.subarray(SYNC_EVERY)]);
    assert.equal(size, data.length);
    assert.ok(writeBehindSyncs - before >= 1, `datasyncs started during the append: ${writeBehindSyncs - before}`);
    assert.ok(readFileSync(join(store.root, 'uploads', 'wb', 'data')).equals(data));
  });
});

describe('the server writes uploads with O_DIRECT unless BERTH_DIRECT_IO=false', () => {
  for (const setting of [undefined, 'false'] as const) {
    test(`BERTH_DIRECT_IO ${setting ?? 'unset'}`, async () => {
      const berth = await startBerth(setting ? { env: { BERTH_DIRECT_IO: setting } } : {});
      try {
        const auth = { Authorization: berth.authHeader };
        const post = await fetch(`${berth.url}/v2/directio/blobs/uploads/`, { method: 'POST', headers: auth });
        assert.equal(post.status, 202);
        const location = new URL(post.headers.get('location')!, berth.url);
        const id = location.pathname.split('/').pop()!;
        const data = randomBytes(3 * MiB + 5);
        // A PATCH whose body is held open half way, so that the server has the upload file open meanwhile.
        const patch = request(location, {
          method: 'PATCH',
          headers: { ...auth, 'Content-Type': 'application/octet-stream', 'Content-Length': data.length },
        });
        const answered = new Promise<number>((resolve, reject) => {
          patch.on('response', (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          patch.on('error', reject);
        });
        patch.write(data.subarray(0, 2 * MiB));
        const isUploadFile = (t: string) => t.endsWith(`/uploads/${id}/data`);
        // The appender opens a buffered handle, then the direct one: every handle seen in a second is gathered, so a
        // look between the two opens cannot pass for "no O_DIRECT".
        const flags: number[] = [];
        for (let i = 0; i < 50 && !flags.some((f) => (f & O_DIRECT) !== 0); i++) {
          await new Promise((r) => setTimeout(r, 20));
          flags.push(...openFlags(isUploadFile, berth.process.pid!));
        }
        patch.end(data.subarray(2 * MiB));
        assert.equal(await answered, 202);
        assert.ok(flags.length > 0, 'the server had the upload file open while the body arrived');
        assert.equal(
          flags.some((f) => (f & O_DIRECT) !== 0),
          setting === undefined,
          `O_DIRECT in use: ${setting === undefined}`,
        );

        const digest = sha256(data);
        location.searchParams.set('digest', digest);
        const put = await fetch(location, { method: 'PUT', headers: auth });
        assert.equal(put.status, 201);
        const got = await fetch(`${berth.url}/v2/directio/blobs/${digest}`, { headers: auth });
        assert.equal(got.status, 200);
        assert.ok(Buffer.from(await got.arrayBuffer()).equals(data), 'the blob reads back byte for byte');
      } finally {
        await berth.cleanup();
      }
    });
  }
});

/** A destination that keeps a copy of every chunk (the source's buffers are reused) and can look around while
 * a chunk is in its hands. */
function collector(onChunk?: () => void): { out: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      parts.push(Buffer.from(chunk));
      onChunk?.();
      setImmediate(cb);
    },
  });
  return { out, bytes: () => Buffer.concat(parts) };
}

describe('serving blobs: the first read of a blob just written with O_DIRECT reads ahead on more file handles', () => {
  test('the first read of a committed blob reads ahead in parallel, the next reads alone, none with O_DIRECT, both whole', async () => {
    const store = new FilesystemBlobStore(makeRoot(tmpdir()), { directIO: true });
    await store.init();
    await store.createUpload('r1');
    // Larger than one read-ahead region (16 MiB), so that the read-ahead runs.
    const data = randomBytes(40 * MiB + 12345);
    await store.append('r1', [data]);
    const digest = sha256(data);
    await store.commit('r1', digest);
    const path = store.blobPath(digest);
    for (const first of [true, false]) {
      let most = 0;
      let direct = false;
      const { out, bytes } = collector(() => {
        const flags = openFlags(path);
        most = Math.max(most, flags.length);
        direct ||= flags.some((f) => (f & O_DIRECT) !== 0);
      });
      await store.copyTo(digest, { start: 0, end: data.length - 1 }, out);
      assert.ok(bytes().equals(data), 'the whole blob, byte for byte');
      assert.equal(direct, false, 'no read with O_DIRECT');
      if (first) assert.ok(most >= 2, `the first read had ${most} file handle(s) open on the blob at most, expected read-ahead beside it`);
      else assert.equal(most, 1, 'the second read reads alone');
    }
    assert.deepEqual(openFlags(path), [], 'every file handle closed');
  });

  test('byte ranges at every kind of boundary, cold (read ahead) or not', async () => {
    const dir = makeRoot(tmpdir());
    const path = join(dir, 'blob');
    const data = randomBytes(2 * MiB + 4096 * 3 + 17);
    writeFileSync(path, data);
    const size = data.length;
    const ranges = [
      [0, 0],
      [1, 4095],
      [4095, 4096],
      [4096, 8191],
      [12345, MiB + 5],
      [MiB - 1, 2 * MiB],
      [size - 1, size - 1],
      [size - 5000, size - 1],
      [0, size - 1],
      [2 * MiB, size - 1],
    ];
    for (const cold of [true, false]) {
      for (const [start, end] of ranges) {
        const { out, bytes } = collector();
        await copyRange(path, { start, end }, out, cold);
        assert.ok(bytes().equals(data.subarray(start, end + 1)), `bytes ${start}-${end} (cold: ${cold})`);
      }
    }
    const { out } = collector();
    await assert.rejects(copyRange(path, { start: size - 10, end: size + 10 }, out, true), /shorter than expected/);
    // Ranges longer than a read-ahead region, where a cold read reads ahead, and one past the end of the file.
    const big = randomBytes(40 * MiB + 17);
    const bigPath = join(dir, 'big');
    writeFileSync(bigPath, big);
    for (const [start, end] of [
      [0, big.length - 1],
      [5, big.length - 1],
      [17 * MiB + 3, 35 * MiB],
    ]) {
      const c = collector();
      await copyRange(bigPath, { start, end }, c.out, true);
      assert.ok(c.bytes().equals(big.subarray(start, end + 1)), `bytes ${start}-${end} of the large file (cold)`);
    }
    const c = collector();
    await assert.rejects(copyRange(bigPath, { start: 20 * MiB, end: big.length + 10 }, c.out, true), /shorter than expected/);
    assert.deepEqual(openFlags(bigPath), [], 'every file handle closed, the read-ahead too');
  });
});
