// Fuzzing the grammars that decide what a request path names (src/core/grammar.ts): repository names, tags,
// digests and manifest references. Each is checked against an oracle written independently of the module's
// regular expressions (a walk over the characters, from the OCI distribution spec's grammar), on random strings,
// on strings drawn from the grammar's own alphabet (near-valid), and on generated valid values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDigestReference, isValidDigest, isValidRepositoryName, isValidTag, parseDigest } from '../../src/core/grammar.ts';
import { FUZZ_TEST_TIMEOUT, attempt, check, fc } from '../helpers/fuzz.ts';

const isAlnum = (c: string) => (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

/** path-component: [a-z0-9]+ (separator [a-z0-9]+)*, separator: "." | "_" | "__" | "-"+ */
function componentOk(c: string): boolean {
  if (c === '' || !isAlnum(c[0]) || !isAlnum(c[c.length - 1])) return false;
  let i = 0;
  while (i < c.length) {
    if (isAlnum(c[i])) {
      i++;
      continue;
    }
    let j = i;
    while (j < c.length && !isAlnum(c[j])) j++;
    const sep = c.slice(i, j);
    if (!(sep === '.' || sep === '_' || sep === '__' || /^-+$/.test(sep))) return false;
    i = j;
  }
  return true;
}
const nameOracle = (s: string) => s.length >= 2 && s.length <= 256 && s.split('/').every(componentOk);

const isTagChar = (c: string) => /^[A-Za-z0-9_.-]$/.test(c);
const tagOracle = (s: string) => s.length >= 1 && s.length <= 128 && /^[A-Za-z0-9_]$/.test(s[0]) && [...s].every(isTagChar);

const HEX = '0123456789abcdef';
function digestOracle(s: string): { algorithm: string; hex: string } | undefined {
  const colon = s.indexOf(':');
  if (colon < 0) return undefined;
  const algorithm = s.slice(0, colon);
  const hex = s.slice(colon + 1);
  const len = algorithm === 'sha256' ? 64 : algorithm === 'sha512' ? 128 : -1;
  return hex.length === len && [...hex].every((c) => HEX.includes(c)) ? { algorithm, hex } : undefined;
}

/** Strings over the grammar's own characters and a few strangers: most are near-valid. */
const nearName = fc.string({ unit: fc.constantFrom(...'abz09._-/', '__', '--', 'A', ':', '@', ' ', 'é', '\u0000'), maxLength: 40 });
const nearTag = fc.string({ unit: fc.constantFrom(...'aZ9_.-', ':', '/', '@', ' ', 'é'), maxLength: 140 });
const nearDigest = fc
  .tuple(
    fc.constantFrom('sha256', 'sha512', 'sha384', 'SHA256', 'sha256+b64', ''),
    fc.string({ unit: fc.constantFrom(...'0af9', 'A', 'g', '=', '-', '_', ':'), minLength: 60, maxLength: 132 }),
  )
  .map(([a, h]) => `${a}:${h}`);
const anyString = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 300 }));

const component = fc
  .tuple(
    fc.stringMatching(/^[a-z0-9]{1,8}$/),
    fc.array(fc.tuple(fc.constantFrom('.', '_', '__', '-', '---'), fc.stringMatching(/^[a-z0-9]{1,8}$/)), { maxLength: 3 }),
  )
  .map(([first, rest]) => first + rest.map(([sep, part]) => sep + part).join(''));
const validName = fc
  .array(component, { minLength: 1, maxLength: 5 })
  .map((parts) => parts.join('/'))
  .filter((n) => n.length >= 2 && n.length <= 256);
const validTag = fc.tuple(fc.stringMatching(/^[A-Za-z0-9_]$/), fc.stringMatching(/^[A-Za-z0-9._-]{0,127}$/)).map(([a, b]) => a + b);
const validDigest = fc.oneof(
  fc.stringMatching(/^[a-f0-9]{64}$/).map((h) => `sha256:${h}`),
  fc.stringMatching(/^[a-f0-9]{128}$/).map((h) => `sha512:${h}`),
);

test('repository names: the module agrees with the grammar on any string', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  check(
    fc.property(fc.oneof(nearName, anyString, validName), (s) => {
      const outcome = attempt(s, () => isValidRepositoryName(s));
      assert.ok(outcome.ok);
      assert.equal(outcome.value, nameOracle(s), JSON.stringify(s));
    }),
  );
});

test('generated valid repository names are valid; one upper-case letter or a doubled slash makes them invalid', {
  timeout: FUZZ_TEST_TIMEOUT,
}, () => {
  check(
    fc.property(validName, fc.nat(), (name, at) => {
      assert.ok(isValidRepositoryName(name), name);
      const i = at % name.length;
      if (/[a-z]/.test(name[i])) assert.ok(!isValidRepositoryName(name.slice(0, i) + name[i].toUpperCase() + name.slice(i + 1)));
      assert.ok(!isValidRepositoryName(`${name}//x`));
      assert.ok(!isValidRepositoryName(`${name}/`));
    }),
  );
});

test('tags: the module agrees with the grammar on any string', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  check(
    fc.property(fc.oneof(nearTag, anyString, validTag), (s) => {
      const outcome = attempt(s, () => isValidTag(s));
      assert.ok(outcome.ok);
      assert.equal(outcome.value, tagOracle(s), JSON.stringify(s));
    }),
  );
  check(fc.property(validTag, (t) => assert.ok(isValidTag(t) && !isDigestReference(t), t)));
});

test('digests: accepted exactly when the algorithm is verifiable and the hex is right, and they round-trip', {
  timeout: FUZZ_TEST_TIMEOUT,
}, () => {
  check(
    fc.property(fc.oneof(nearDigest, anyString, validDigest), (s) => {
      const outcome = attempt(s, () => parseDigest(s));
      assert.ok(outcome.ok);
      assert.deepEqual(outcome.value, digestOracle(s), JSON.stringify(s));
      assert.equal(isValidDigest(s), outcome.value !== undefined);
      if (outcome.value) assert.equal(`${outcome.value.algorithm}:${outcome.value.hex}`, s);
    }),
  );
  check(
    fc.property(validDigest, (d) => {
      assert.ok(isDigestReference(d));
      assert.deepEqual(parseDigest(d), digestOracle(d));
    }),
  );
});

test('a manifest reference is a tag or a digest, never both', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  check(
    fc.property(fc.oneof(nearTag, nearDigest, anyString, validTag, validDigest), (ref) => {
      const outcome = attempt(ref, () => isDigestReference(ref));
      assert.ok(outcome.ok);
      if (outcome.value) assert.ok(!isValidTag(ref), `${ref} is both`);
      if (isValidDigest(ref)) assert.ok(outcome.value);
    }),
  );
});
