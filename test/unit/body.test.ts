// Reading a small request body (src/server/body.ts): within the limit, over it, and from a client already gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { readBody } from '../../src/server/body.ts';

function request(headers: Record<string, string> = {}): IncomingMessage & PassThrough {
  return Object.assign(new PassThrough(), { headers }) as unknown as IncomingMessage & PassThrough;
}

test('a body within the limit is read whole; one over it is refused and dropped', async () => {
  const small = request();
  small.end('{"a":1}');
  assert.deepEqual(await readBody(small, 100), { bytes: Buffer.from('{"a":1}'), size: 7 });
  const large = request();
  large.end(Buffer.alloc(101));
  assert.deepEqual(await readBody(large, 100), { bytes: undefined, size: 101 });
  assert.deepEqual(await readBody(request({ 'content-length': '5000' }), 100), { bytes: undefined, size: 5000 });
});

test('a body that grows past the limit is refused as it streams, without waiting for its end', { timeout: 10_000 }, async () => {
  const endless = request();
  endless.write(Buffer.alloc(60));
  endless.write(Buffer.alloc(60));
  // The stream never ends: the answer must not wait for it.
  const body = await readBody(endless, 100);
  assert.deepEqual(body, { bytes: undefined, size: 120 });
});

test('a request whose client went away before the read starts fails at once', { timeout: 10_000 }, async () => {
  const gone = request();
  gone.destroy();
  await assert.rejects(readBody(gone, 100));
});
