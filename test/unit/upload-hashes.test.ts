// Upload hash state (src/core/uploads.ts): the SHA-256 of an upload's bytes, computed on the hashing thread as the
// blob store hands over what it writes, across appends; dropped when an append fails; gone, without hanging
// anyone, when the thread dies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { UploadHashes, stopHashWorker } from '../../src/core/uploads.ts';

const sha256 = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest('hex');

/** Appends `pieces` as one append at `offset`, as the registry does; returns the new size. */
async function append(hashes: UploadHashes, id: string, offset: number, pieces: Buffer[]): Promise<number> {
  const hashing = hashes.observe(id, offset);
  assert.ok(hashing.piece, 'the state is at this offset');
  let size = offset;
  for (const piece of pieces) {
    await hashing.piece(piece);
    size += piece.length;
  }
  hashing.appended(size);
  return size;
}

test("the digest covers every piece of every append, in order, whatever the pieces' sizes", async () => {
  const hashes = new UploadHashes();
  const id = randomUUID();
  hashes.start(id);
  // More than the buffers allowed in flight at once (so some pieces wait), pieces larger than a buffer, and tiny.
  const first = [randomBytes(3 << 20), randomBytes(1), randomBytes((1 << 20) - 1)];
  const second = Array.from({ length: 20 }, (_, i) => randomBytes(i * 100_000 + 7));
  const afterFirst = await append(hashes, id, 0, first);
  assert.equal(await hashes.sha256(id, afterFirst), sha256(...first));
  const afterSecond = await append(hashes, id, afterFirst, second);
  assert.equal(await hashes.sha256(id, afterSecond), sha256(...first, ...second));
  assert.equal(await hashes.sha256(id, afterSecond - 1), undefined, 'a size the state does not hold');
});

test('an upload with no byte has the digest of nothing; uploads in parallel keep their own states', async () => {
  const hashes = new UploadHashes();
  const [a, b, empty] = [randomUUID(), randomUUID(), randomUUID()];
  for (const id of [a, b, empty]) hashes.start(id);
  assert.equal(await hashes.sha256(empty, 0), sha256());
  const pa = Array.from({ length: 12 }, () => randomBytes(700_000));
  const pb = Array.from({ length: 12 }, () => randomBytes(900_000));
  const [sa, sb] = await Promise.all([append(hashes, a, 0, pa), append(hashes, b, 0, pb)]);
  assert.equal(await hashes.sha256(a, sa), sha256(...pa));
  assert.equal(await hashes.sha256(b, sb), sha256(...pb));
});

test('an append that failed half way drops the state: the upload is hashed from storage instead', async () => {
  const hashes = new UploadHashes();
  const id = randomUUID();
  hashes.start(id);
  const hashing = hashes.observe(id, 0);
  await hashing.piece!(randomBytes(1000));
  hashing.appended(undefined);
  assert.equal(await hashes.sha256(id, 1000), undefined);
  assert.equal(hashes.observe(id, 1000).piece, undefined, 'nothing is hashed into a dropped state');
});

test('a forgotten upload (completed, cancelled or collected) has no state left', async () => {
  const hashes = new UploadHashes();
  const id = randomUUID();
  hashes.start(id);
  const size = await append(hashes, id, 0, [randomBytes(100)]);
  hashes.forget(id);
  assert.equal(await hashes.sha256(id, size), undefined);
  assert.equal(hashes.observe(id, size).piece, undefined);
});

test("an append at another offset than the state's is not hashed", async () => {
  const hashes = new UploadHashes();
  const id = randomUUID();
  hashes.start(id);
  await append(hashes, id, 0, [randomBytes(10)]);
  assert.equal(hashes.observe(id, 5).piece, undefined);
  assert.equal(await hashes.sha256(id, 10), undefined, 'the state was set aside');
});

test('when the hashing thread dies, digests answer "unknown" instead of hanging, and a new thread takes over', async () => {
  const hashes = new UploadHashes();
  const before = randomUUID();
  hashes.start(before);
  const size = await append(hashes, before, 0, [randomBytes(2 << 20)]);
  await stopHashWorker();
  assert.equal(await hashes.sha256(before, size), undefined);
  assert.equal(hashes.observe(before, size).piece, undefined);
  const after = randomUUID();
  hashes.start(after);
  const data = randomBytes(5 << 20);
  assert.equal(await hashes.sha256(after, await append(hashes, after, 0, [data])), sha256(data));
});
