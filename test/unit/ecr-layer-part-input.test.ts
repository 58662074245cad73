// The fast road of a large UploadLayerPart body (src/ecr/input.ts, src/ecr/base64.ts): the layer part's base64 is
// found in the bytes, checked and decoded natively, and the rest parsed as JSON. Whatever the body, the result must
// be what the ordinary parse and validation give: the same input (the part's bytes for its base64), or the same
// error. And the native base64 check must never accept what ECR's pattern refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  BASE64,
  decodeBase64,
  decodeBase64Bytes,
  decodeCheckedInPlace,
  isBase64,
  isPlainBase64Bytes,
  SLICE,
} from '../../src/ecr/base64.ts';
import { parseEcrInput } from '../../src/ecr/input.ts';
import { validateInput } from '../../src/ecr/validate.ts';

const MiB = 1024 * 1024;

/** What a call gives: its value, or its error's type and message. */
function outcome(fn: () => unknown): unknown {
  try {
    return { value: fn() };
  } catch (e) {
    return { error: (e as { type?: string }).type ?? (e as Error).name, message: (e as Error).message };
  }
}

/** An input with every Uint8Array member written as base64, as JSON would have carried it. */
function asJson(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (Array.isArray(v)) return v.map(asJson);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asJson(x)]));
  return v;
}

/** Parsing and validating `body` as UploadLayerPart, by the fast road (the operation named) and the ordinary one. */
function both(body: Buffer): { fast: unknown; ordinary: unknown; decoded: boolean } {
  // The fast road decodes the part into the body's own memory: the ordinary one gets the body as it came.
  const asItCame = Buffer.from(body);
  let decoded = false;
  const fast = outcome(() => {
    const input = parseEcrInput(body, 'UploadLayerPart') as Record<string, unknown>;
    decoded = input?.layerPartBlob instanceof Uint8Array;
    validateInput('UploadLayerPart', input);
    return asJson(input);
  });
  const ordinary = outcome(() => {
    const input = parseEcrInput(asItCame);
    validateInput('UploadLayerPart', input);
    return input;
  });
  return { fast, ordinary, decoded };
}

const part = randomBytes(2 * MiB + 1);
const b64 = part.toString('base64');
const members = `"registryId":"123456789012","repositoryName":"a/b","uploadId":"u-1","partFirstByte":0,"partLastByte":${part.length - 1}`;

test('a large layer part is decoded from the bytes, and the input is what the ordinary parse gives', () => {
  const body = Buffer.from(`{${members},"layerPartBlob":"${b64}"}`);
  const { fast, ordinary, decoded } = both(Buffer.from(body));
  assert.ok(decoded, 'the fast road was taken');
  assert.deepEqual(fast, ordinary);
  const input = parseEcrInput(body, 'UploadLayerPart') as { layerPartBlob: Buffer };
  assert.equal(input.layerPartBlob.buffer, body.buffer, "the part is decoded into the body's own memory");
  assert.ok(Buffer.from(input.layerPartBlob).equals(part));
});

test('bodies of every shape give the ordinary result, value or error', () => {
  const bad = (i: number, c: string) => b64.slice(0, i) + c + b64.slice(i + 1);
  const cases: [string, string, boolean][] = [
    // [what, body, whether the part is decoded from the bytes (false too when the body is refused)]
    ['blob first, spaces and newlines', ` \n{ "layerPartBlob" :\t"${b64}" ,\r\n ${members} }\n`, true],
    [
      'other members nested, with brackets and quotes in strings',
      `{${members},"x":{"y":["]}\\"[{",{"z":[1,2,{}]}]},"layerPartBlob":"${b64}","w":[]}`,
      true,
    ],
    ['an escaped member name', `{${members},"layerPart\\u0042lob":"${b64}"}`, true],
    ['the last of two big blobs counts', `{${members},"layerPartBlob":"${b64.slice(0, 4 * 30000)}","layerPartBlob":"${b64}"}`, true],
    ['a small blob after a big one counts', `{${members},"layerPartBlob":"${b64}","layerPartBlob":"AAAA"}`, false],
    ['a big blob after a small one counts', `{${members},"layerPartBlob":"AAAA","layerPartBlob":"${b64}"}`, true],
    [
      'an earlier duplicate that is not base64 is still parsed',
      `{${members},"layerPartBlob":"${bad(9, '-')}","layerPartBlob":"${b64}"}`,
      true,
    ],
    ['an earlier duplicate that is not JSON', `{${members},"layerPartBlob":"${bad(9, '\u0001')}","layerPartBlob":"${b64}"}`, false],
    ['a blob in a nested object is not the member', `{${members},"x":{"layerPartBlob":"${b64}"},"layerPartBlob":"AAAA"}`, false],
    ['a big string in another member', `{${members},"uploadId":"${b64}","layerPartBlob":"AAAA"}`, false],
    ['base64url characters', `{${members},"layerPartBlob":"${bad(100, '-')}"}`, false],
    ['an underscore', `{${members},"layerPartBlob":"${bad(100, '_')}"}`, false],
    ['padding in the middle', `{${members},"layerPartBlob":"${bad(100, '=')}"}`, false],
    ['an escaped newline', `{${members},"layerPartBlob":"${bad(100, '\\n').slice(0, -1)}"}`, false],
    ['an escaped quote', `{${members},"layerPartBlob":"${b64.slice(0, 4000)}\\"${b64.slice(4000)}"}`, false],
    ['a control character (not JSON)', `{${members},"layerPartBlob":"${bad(100, '\u0001')}"}`, false],
    ['a non-ASCII character', `{${members},"layerPartBlob":"${bad(100, 'é')}"}`, false],
    ['a character beyond Latin-1', `{${members},"layerPartBlob":"${bad(100, 'Ł')}"}`, false],
    ['a length that is not a multiple of 4', `{${members},"layerPartBlob":"${b64.slice(0, -4)}AAA"}`, false],
    ['three = at the end', `{${members},"layerPartBlob":"${b64.slice(0, -4)}A==="}`, false],
    ['a part over 20 MiB', `{${members},"layerPartBlob":"${randomBytes(20 * MiB + 3).toString('base64')}"}`, true],
    ['trailing garbage', `{${members},"layerPartBlob":"${b64}"} x`, false],
    ['a missing brace', `{${members},"layerPartBlob":"${b64}"`, false],
    ['a missing comma', `{${members} "layerPartBlob":"${b64}"}`, false],
    ['a bad scalar with a quote', `{"partFirstByte":0",${members},"layerPartBlob":"${b64}"}`, false],
    ['a top-level array', `[{"layerPartBlob":"${b64}"}]`, false],
    ['a string at the top', `"${b64}"`, false],
    ['the blob as a number after a big string', `{${members},"layerPartBlob":"${b64}","layerPartBlob":1}`, false],
    ['too deep elsewhere', `{${members},"x":${'['.repeat(70)}${']'.repeat(70)},"layerPartBlob":"${b64}"}`, false],
    ['an unclosed string', `{${members},"layerPartBlob":"${b64}`, false],
  ];
  for (const [what, text, fastRoad] of cases) {
    const { fast, ordinary, decoded } = both(Buffer.from(text));
    assert.deepEqual(fast, ordinary, what);
    assert.equal(decoded, fastRoad, `${what}: decoded from the bytes`);
  }
});

test('small bodies and other operations take the ordinary road', () => {
  const small = Buffer.from(`{${members},"layerPartBlob":"${randomBytes(100).toString('base64')}"}`);
  assert.equal(typeof (parseEcrInput(small, 'UploadLayerPart') as { layerPartBlob: unknown }).layerPartBlob, 'string');
  const big = Buffer.from(`{"repositoryName":"a","layerPartBlob":"${b64}"}`);
  assert.equal(typeof (parseEcrInput(big, 'PutImage') as { layerPartBlob: unknown }).layerPartBlob, 'string');
});

test('the native base64 check never accepts what the pattern refuses, and decodes as Buffer.from does', () => {
  const chars = [0, 9, 10, 13, 32, 34, 43, 45, 46, 47, 61, 65, 92, 95, 122, 127, 128, 160, 255, 0x141, 0x3d41, 0xd800, 0xff0b];
  for (const n of [3, 4, 5, 6, 9, 10, 11, 12]) {
    const valid = randomBytes(n).toString('base64');
    for (let i = 0; i < valid.length; i++) {
      for (const c of chars) {
        const s = valid.slice(0, i) + String.fromCharCode(c) + valid.slice(i + 1);
        const d = decodeBase64(s);
        if (d) {
          assert.ok(BASE64.test(s), JSON.stringify(s));
          assert.ok(d.equals(Buffer.from(s, 'base64')));
        }
        if (c < 256) {
          const db = decodeBase64Bytes(Buffer.from(s, 'latin1'));
          if (db) assert.ok(BASE64.test(s) && db.equals(Buffer.from(s, 'base64')), JSON.stringify(s));
        }
        for (const j of [0, valid.length - 1, valid.length - 2]) {
          const t = s.slice(0, j) + '=' + s.slice(j + 1);
          if (decodeBase64(t)) assert.ok(BASE64.test(t), JSON.stringify(t));
        }
      }
    }
  }
  // Long strings: isBase64 is the pattern, whichever way it decides.
  const long = randomBytes(3 * 4000 + 1).toString('base64');
  assert.ok(long.length >= 4096 && isBase64(long) && decodeBase64(long));
  for (const c of chars) {
    for (const i of [0, 1, 2000, long.length - 3, long.length - 2, long.length - 1]) {
      const s = long.slice(0, i) + String.fromCharCode(c) + long.slice(i + 1);
      assert.equal(isBase64(s), BASE64.test(s), `${c} at ${i}`);
    }
  }
  assert.equal(isBase64(long.slice(0, -4) + 'AAA'), BASE64.test(long.slice(0, -4) + 'AAA'), 'unpadded, as the pattern allows');
});

test('bytes are decoded a slice at a time, and what is wrong at a slice boundary is found', () => {
  const bytes = randomBytes(3 * SLICE + 2);
  const text = Buffer.from(bytes.toString('base64'), 'latin1');
  assert.ok(decodeBase64Bytes(text)?.equals(bytes), 'several slices and padding decode whole');
  for (const at of [SLICE - 2, SLICE - 1, SLICE, SLICE + 1, 2 * SLICE - 1, text.length - 3]) {
    for (const c of [0x3d, 0x2d, 0x5f, 0x20, 0x0a, 0x2e, 0x80, 0xff, 0x00]) {
      const bad = Buffer.from(text);
      bad[at] = c;
      assert.equal(decodeBase64Bytes(bad), undefined, `${c} at ${at}`);
    }
  }
  const padded = Buffer.from(text);
  padded[SLICE - 1] = 0x3d;
  padded[SLICE - 2] = 0x3d;
  assert.equal(decodeBase64Bytes(padded), undefined, 'padding at the end of a slice that is not the last');
});

test('in place: checked bytes decode into their own memory, and what fails the check is left as it came', () => {
  const bytes = randomBytes(3 * SLICE + 1);
  const text = Buffer.from(bytes.toString('base64'), 'latin1');
  assert.equal(isPlainBase64Bytes(text), true);
  const decoded = decodeCheckedInPlace(text);
  assert.ok(decoded.equals(bytes), 'the same bytes as a decode into a new buffer');
  assert.equal(decoded.buffer, text.buffer, 'in the text buffer itself');
  assert.equal(decoded.byteOffset, text.byteOffset);
  for (const at of [0, SLICE, text.length - 5]) {
    const bad = Buffer.from(bytes.toString('base64'), 'latin1');
    bad[at] = 0x2e;
    const before = Buffer.from(bad);
    assert.equal(isPlainBase64Bytes(bad), false, `. at ${at}`);
    assert.ok(bad.equals(before), 'the check changes nothing');
  }
  assert.throws(() => decodeCheckedInPlace(Buffer.from('ab.d', 'latin1')), /not checked/);
});
