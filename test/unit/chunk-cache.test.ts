// The shared chunk cache that serves blob files: right bytes for any range, one read per piece however many GETs
// want it, memory within capacity however many GETs run, a client that stops reading holds up nobody else, and a
// missing file is an error for the GETs that wanted it and is not kept.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { ChunkCache } from '../../src/storage/blobs/chunk-cache.ts';
import { buffersInUse } from '../../src/storage/blobs/aligned.ts';
import { makeTempDir } from '../helpers/tools.ts';

const CHUNK = 1024;

/** A writable that keeps what it gets; `delayMs` holds each write's callback that long (a slow client). */
function sink(delayMs = 0): Writable & { bytes: () => Buffer } {
  const parts: Buffer[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      parts.push(Buffer.from(chunk));
      if (delayMs > 0) setTimeout(cb, delayMs);
      else cb();
    },
  });
  return Object.assign(w, { bytes: () => Buffer.concat(parts) });
}

function file(size: number): { path: string; data: Buffer } {
  const data = randomBytes(size);
  const path = join(makeTempDir('berth-chunk-cache-'), 'blob');
  writeFileSync(path, data);
  return { path, data };
}

/**
 * Copies every file whole through the cache at once, each to a sink that holds each write `delayMs`, checks every
 * byte, and returns the most `watched()` was seen at meanwhile.
 */
async function copyWholeWatching(
  cache: ChunkCache,
  files: { path: string; data: Buffer }[],
  delayMs: number,
  watched: () => number,
): Promise<number> {
  let most = 0;
  const watch = setInterval(() => {
    most = Math.max(most, watched());
  }, 0);
  try {
    const outs = files.map(() => sink(delayMs));
    await Promise.all(files.map((f, i) => cache.copy(f.path, f.data.length, { start: 0, end: f.data.length - 1 }, outs[i])));
    files.forEach((f, i) => assert.deepEqual(outs[i].bytes(), f.data));
  } finally {
    clearInterval(watch);
  }
  return most;
}

test('every range of a file comes back byte for byte, across piece boundaries', async () => {
  const { path, data } = file(CHUNK * 5 + 17);
  const cache = new ChunkCache(CHUNK * 3, CHUNK);
  const ranges = [
    [0, data.length - 1],
    [0, 0],
    [CHUNK - 1, CHUNK],
    [CHUNK * 2 + 5, CHUNK * 4 + 3],
    [data.length - 1, data.length - 1],
    [CHUNK * 5, data.length - 1],
  ];
  for (const [start, end] of ranges) {
    const out = sink();
    await cache.copy(path, data.length, { start, end }, out);
    assert.deepEqual(out.bytes(), data.subarray(start, end + 1), `range ${start}-${end}`);
  }
  assert.ok(cache.bytesHeld <= CHUNK * 3, `held ${cache.bytesHeld} bytes, capacity ${CHUNK * 3}`);
});

test('many concurrent GETs of one file share its pieces and stay within capacity', async () => {
  const { path, data } = file(CHUNK * 8);
  const capacity = CHUNK * 4;
  const cache = new ChunkCache(capacity, CHUNK);
  let most = 0;
  const outs = Array.from({ length: 40 }, () => sink(1));
  const watch = setInterval(() => {
    most = Math.max(most, cache.bytesHeld);
  }, 0);
  try {
    await Promise.all(outs.map((o) => cache.copy(path, data.length, { start: 0, end: data.length - 1 }, o)));
  } finally {
    clearInterval(watch);
  }
  for (const o of outs) assert.deepEqual(o.bytes(), data);
  assert.ok(most <= capacity, `held up to ${most} bytes, capacity ${capacity}`);
  assert.ok(most > 0, 'the GETs went through the cache');
  assert.equal(cache.bytesHeld, 0, 'nothing is kept once no GET runs');
});

test('GETs of different files beyond the capacity read through their own buffers, and all finish', async () => {
  const files = Array.from({ length: 6 }, () => file(CHUNK * 3 + 100));
  const capacity = CHUNK * 2;
  const cache = new ChunkCache(capacity, CHUNK);
  const most = await copyWholeWatching(cache, files, 2, () => cache.bytesHeld);
  assert.ok(most <= capacity, `held up to ${most} bytes, capacity ${capacity}`);
});

test('GETs without room share a budget of large own buffers, take small ones past it, and give all back', async () => {
  const files = Array.from({ length: 8 }, () => file(CHUNK * 3 + 100));
  const large = 256 << 10;
  const cache = new ChunkCache(CHUNK, CHUNK, 2 * large);
  const before = buffersInUse();
  const most = await copyWholeWatching(cache, files, 3, () => cache.ownBytesHeld);
  // 8 GETs, one piece of room: most read through their own buffers, at most two of them large.
  assert.equal(most, 2 * large, `the large own buffers held at most: ${most} bytes`);
  assert.equal(cache.ownBytesHeld, 0);
  assert.equal(buffersInUse(), before, 'every own buffer went back');
});

test('a missing file fails the GET, is not kept, and a later GET of a file written since succeeds', async () => {
  const { path, data } = file(CHUNK * 2);
  const missing = `${path}.missing`;
  const cache = new ChunkCache(CHUNK * 4, CHUNK);
  await assert.rejects(cache.copy(missing, data.length, { start: 0, end: data.length - 1 }, sink()), { code: 'ENOENT' });
  assert.equal(cache.bytesHeld, 0);
  writeFileSync(missing, data);
  const out = sink();
  await cache.copy(missing, data.length, { start: 0, end: data.length - 1 }, out);
  assert.deepEqual(out.bytes(), data);
});

test('a file shorter than its recorded size is an error, not a short answer', async () => {
  const { path, data } = file(CHUNK + 10);
  const cache = new ChunkCache(CHUNK * 4, CHUNK);
  await assert.rejects(cache.copy(path, data.length + 50, { start: 0, end: data.length + 49 }, sink()), /shorter/);
});

test('clients that stop reading, holding every byte of the capacity, do not hold up another GET', { timeout: 10_000 }, async () => {
  const { path, data } = file(CHUNK * 6);
  const cache = new ChunkCache(CHUNK * 2, CHUNK);
  // Writables whose writes never complete until they are destroyed (as a socket whose peer stopped reading, then
  // went away): each stalled GET keeps the pieces it handed over pinned meanwhile.
  const stalled = Array.from({ length: 3 }, () => {
    const pending: ((e: Error) => void)[] = [];
    return new Writable({
      write(_chunk, _enc, cb) {
        pending.push(cb);
      },
      destroy(err, cb) {
        for (const p of pending.splice(0)) p(new Error('the client went away'));
        cb(err);
      },
    });
  });
  const stuck = stalled.map((w) => cache.copy(path, data.length, { start: 0, end: data.length - 1 }, w));
  await new Promise((r) => setTimeout(r, 50));
  const out = sink();
  await cache.copy(path, data.length, { start: 0, end: data.length - 1 }, out);
  assert.deepEqual(out.bytes(), data);
  assert.ok(cache.bytesHeld <= CHUNK * 2);
  for (const w of stalled) w.destroy();
  await Promise.allSettled(stuck);
});
