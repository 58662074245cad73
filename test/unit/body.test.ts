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

test('a large body of announced length is read into one buffer, the same bytes as chunks give', async () => {
  const data = Buffer.from(Array.from({ length: 3 << 20 }, (_, i) => i % 251));
  const send = (r: PassThrough, bytes: Buffer) => {
    for (let at = 0; at < bytes.length; at += 65_536) r.write(bytes.subarray(at, at + 65_536));
    r.end();
  };
  const one = request({ 'content-length': String(data.length) });
  send(one, data);
  const read = await readBody(one, 4 << 20, { intoOneBuffer: true });
  assert.equal(read.size, data.length);
  assert.ok(read.bytes?.equals(data));
  // More than announced (no HTTP parser would pass it on, but the reader keeps every byte all the same), and less.
  const more = request({ 'content-length': String(data.length - 100) });
  send(more, data);
  assert.ok((await readBody(more, 4 << 20, { intoOneBuffer: true })).bytes?.equals(data));
  const less = request({ 'content-length': String(data.length + 100) });
  send(less, data);
  assert.ok((await readBody(less, 4 << 20, { intoOneBuffer: true })).bytes?.equals(data));
  // Past the limit as it streams: refused, as without the option.
  const over = request({ 'content-length': String(data.length) });
  send(over, data);
  assert.deepEqual(await readBody(over, data.length - 1, { intoOneBuffer: true }), { bytes: undefined, size: data.length });
});
