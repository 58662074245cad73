import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseContentRange, parseRange, uploadRange } from '../../src/oci/range.ts';

test('Content-Range of an upload chunk', () => {
  assert.deepEqual(parseContentRange('0-99'), { start: 0, end: 99 });
  assert.deepEqual(parseContentRange('100-100'), { start: 100, end: 100 });
  assert.deepEqual(parseContentRange('bytes 5-9/10'), { start: 5, end: 9 });
  assert.deepEqual(parseContentRange('bytes 5-9/*'), { start: 5, end: 9 });
  for (const bad of ['', '10', '-5', '9-5', 'a-b', '1-2-3', 'bytes=']) assert.equal(parseContentRange(bad), undefined, bad);
});

test('Range of a blob GET', () => {
  assert.equal(parseRange(undefined, 10), undefined);
  assert.deepEqual(parseRange('bytes=0-4', 10), { start: 0, end: 4 });
  assert.deepEqual(parseRange('bytes=5-', 10), { start: 5, end: 9 });
  assert.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
  assert.deepEqual(parseRange('bytes=-30', 10), { start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=8-100', 10), { start: 8, end: 9 });
  assert.equal(parseRange('bytes=10-', 10), 'unsatisfiable');
  assert.equal(parseRange('bytes=-0', 10), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-1,3-4', 10), undefined, 'several ranges: the whole blob is sent');
  assert.equal(parseRange('items=0-1', 10), undefined);
  assert.equal(parseRange('bytes=5-2', 10), undefined);
});

test('Range header of an upload', () => {
  assert.equal(uploadRange(0), '0-0');
  assert.equal(uploadRange(1), '0-0');
  assert.equal(uploadRange(100), '0-99');
});
