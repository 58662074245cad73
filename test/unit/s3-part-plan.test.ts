// How the S3 blob store assembles an upload's chunks into one multipart upload: every part but the last is at
// least 5 MiB, chunks of 5 MiB or more are copied inside the store, and the parts cover every byte once, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MIN_PART, planParts } from '../../src/storage/blobs/s3.ts';

const MiB = 1024 * 1024;

function check(sizes: number[]) {
  const chunks = sizes.map((size, i) => ({ key: `c${i}`, size }));
  const plan = planParts(chunks);
  // Every byte of every chunk once, in order.
  const covered = plan.flatMap((p) => p.segments);
  let chunk = 0;
  let at = 0;
  for (const s of covered) {
    while (chunks[chunk].size === at) {
      chunk++;
      at = 0;
    }
    assert.equal(s.key, chunks[chunk].key);
    assert.equal(s.start, at, `${JSON.stringify(sizes)}: segment starts where the last ended`);
    at = s.end + 1;
  }
  assert.equal(chunk, chunks.length - 1);
  assert.equal(at, chunks.at(-1)!.size);
  for (const [i, p] of plan.entries()) {
    const size = p.segments.reduce((n, s) => n + s.end - s.start + 1, 0);
    if (i < plan.length - 1) assert.ok(size >= MIN_PART, `${JSON.stringify(sizes)}: part ${i + 1} of ${size} bytes is not the last`);
    if (p.copy) assert.equal(p.segments.length, 1, 'a copied part is one range of one chunk');
    else assert.ok(size <= MIN_PART || i === plan.length - 1, 'a streamed part holds at most 5 MiB');
  }
  return plan;
}

test('one large chunk is copied; small ones are streamed', () => {
  assert.deepEqual(
    check([6 * MiB]).map((p) => p.copy),
    [true],
  );
  assert.deepEqual(
    check([MiB, MiB]).map((p) => p.copy),
    [false],
  );
  assert.deepEqual(
    check([5 * MiB, 5 * MiB, 1]).map((p) => p.copy),
    [true, true, false],
  );
});

test('small chunks before a large one borrow its head to make 5 MiB, and the rest of it is copied', () => {
  const plan = check([MiB, 10 * MiB]);
  assert.deepEqual(
    plan.map((p) => p.copy),
    [false, true],
  );
  assert.deepEqual(plan[0].segments, [
    { key: 'c0', start: 0, end: MiB - 1 },
    { key: 'c1', start: 0, end: 4 * MiB - 1 },
  ]);
  assert.deepEqual(plan[1].segments, [{ key: 'c1', start: 4 * MiB, end: 10 * MiB - 1 }]);
  // When the rest is under 5 MiB it is streamed with what follows.
  assert.deepEqual(
    check([4 * MiB, 6 * MiB, 3 * MiB]).map((p) => p.copy),
    [false, true, false],
  );
  assert.deepEqual(
    check([4 * MiB, 5 * MiB + 10, 3 * MiB]).map((p) => p.copy),
    [false, false, false],
  );
});

test('odd mixes of sizes', () => {
  for (const sizes of [
    [1],
    [MIN_PART - 1, 2],
    [MIN_PART],
    [3, MIN_PART, 3],
    [MiB, 3 * MiB, 6 * MiB + 7, 5 * MiB, 100, 5 * MiB - 1, 2, 7 * MiB, MiB + 1],
    [12 * MiB, 1, 12 * MiB],
    Array(20).fill(MiB + 17),
  ])
    check(sizes);
});

test('a chunk over 4 GiB is copied in pieces of 4 GiB at most', () => {
  const plan = check([9 * 1024 * MiB + 5]);
  assert.equal(plan.length, 3);
  for (const p of plan) assert.ok(p.copy && p.segments[0].end - p.segments[0].start + 1 <= 4 * 1024 * MiB);
});
