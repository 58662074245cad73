// Fuzzing the Range grammars of the data plane (src/oci/range.ts): a blob GET's `Range` and an upload PATCH's
// `Content-Range`. Any header value gives a range inside the blob, 416 or "send it all", never a throw or a range
// the response could not honour; generated valid headers give exactly the bytes RFC 9110 says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseContentRange, parseRange, uploadRange } from '../../src/oci/range.ts';
import { FUZZ_TEST_TIMEOUT, attempt, check, fc } from '../helpers/fuzz.ts';

const number = fc.oneof(fc.nat({ max: 1000 }), fc.nat(), fc.maxSafeNat(), fc.bigInt({ min: 0n, max: 10n ** 30n }));
const nearRange = fc
  .tuple(
    fc.constantFrom('bytes=', 'bytes= ', 'Bytes=', 'bytes ', 'items=', ''),
    fc.option(number, { nil: undefined }),
    fc.constantFrom('-', '--', '', ' - '),
    fc.option(number, { nil: undefined }),
    fc.constantFrom('', ',0-1', ' ', '/10', '/*'),
  )
  .map(([unit, a, dash, b, tail]) => `${unit}${a ?? ''}${dash}${b ?? ''}${tail}`);
const header = fc.oneof(nearRange, fc.string(), fc.string({ unit: 'binary', maxLength: 100 }));
const size = fc.oneof(fc.constant(0), fc.constant(1), fc.nat({ max: 1000 }), fc.maxSafeNat());

test('any Range header gives a range inside the blob, 416 or the whole blob', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  check(
    fc.property(header, size, (value, n) => {
      const outcome = attempt({ value, n }, () => parseRange(value, n));
      assert.ok(outcome.ok, String(!outcome.ok && outcome.error));
      const r = outcome.value;
      if (r === undefined || r === 'unsatisfiable') return;
      assert.ok(Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end), JSON.stringify(r));
      assert.ok(r.start >= 0 && r.start <= r.end && r.end <= n - 1, `${JSON.stringify(value)} on ${n} bytes gave ${JSON.stringify(r)}`);
    }),
  );
});

test('valid single ranges select the bytes RFC 9110 says', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  check(
    fc.property(fc.nat({ max: 10_000 }), fc.nat({ max: 20_000 }), fc.nat({ max: 20_000 }), (n, a, b) => {
      const first = Math.min(a, b);
      const last = Math.max(a, b);
      const closed = parseRange(`bytes=${first}-${last}`, n);
      if (first >= n) assert.equal(closed, 'unsatisfiable');
      else assert.deepEqual(closed, { start: first, end: Math.min(last, n - 1) });
      const open = parseRange(`bytes=${first}-`, n);
      if (first >= n) assert.equal(open, 'unsatisfiable');
      else assert.deepEqual(open, { start: first, end: n - 1 });
      // A suffix range: the last `a` bytes (all of them when the blob is shorter); a zero-length suffix is unsatisfiable,
      // and an empty blob has no bytes to select (its whole, empty, body is sent).
      const suffix = parseRange(`bytes=-${a}`, n);
      if (a === 0) assert.equal(suffix, 'unsatisfiable');
      else if (n === 0) assert.equal(suffix, undefined);
      else assert.deepEqual(suffix, { start: Math.max(0, n - a), end: n - 1 });
    }),
  );
});

test('any Content-Range is a chunk of safe integers in order, or refused', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  check(
    fc.property(header, (value) => {
      const outcome = attempt(value, () => parseContentRange(value));
      assert.ok(outcome.ok, String(!outcome.ok && outcome.error));
      const r = outcome.value;
      if (r === undefined) return;
      assert.ok(
        Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end) && r.start >= 0 && r.start <= r.end,
        `${JSON.stringify(value)} gave ${JSON.stringify(r)}`,
      );
    }),
  );
});

test('valid Content-Range values round-trip, in the spec\'s form and the "bytes" forms', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  check(
    fc.property(
      fc.maxSafeNat(),
      fc.maxSafeNat(),
      fc.constantFrom('', 'bytes ', 'bytes='),
      fc.constantFrom('', '/*', '/123'),
      (a, b, unit, total) => {
        const start = Math.min(a, b);
        const end = Math.max(a, b);
        assert.deepEqual(parseContentRange(`${unit}${start}-${end}${total}`), { start, end });
        if (start < end) assert.equal(parseContentRange(`${end}-${start}`), undefined);
      },
    ),
  );
  check(
    fc.property(fc.maxSafeNat(), (offset) => {
      const r = parseContentRange(uploadRange(offset));
      assert.deepEqual(r, { start: 0, end: Math.max(0, offset - 1) });
    }),
  );
});
