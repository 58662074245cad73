import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidDigest, isValidRepositoryName, isValidTag, parseDigest, isDigestReference } from '../../src/core/grammar.ts';

test('repository names follow the OCI grammar and ECR limits', () => {
  const valid = ['ab', 'library/ubuntu', 'a.b', 'a_b', 'a__b', 'a-b', 'a---b', 'org/team/app', 'x1/y2', 'a'.repeat(256)];
  const invalid = [
    '',
    'a',
    'Abc',
    'UPPER/case',
    '-ab',
    'ab-',
    'a..b',
    'a___b',
    'a/',
    '/a',
    'a//b',
    'a b',
    'a:b',
    'a@b',
    'a.-b',
    'a'.repeat(257),
    'ab/_c',
  ];
  for (const n of valid) assert.equal(isValidRepositoryName(n), true, `expected valid: ${n}`);
  for (const n of invalid) assert.equal(isValidRepositoryName(n), false, `expected invalid: ${n}`);
});

test('tags: word characters, dots and dashes, at most 128, not starting with . or -', () => {
  const valid = ['latest', 'v1.2.3', '_x', 'A-b_c.d', '1', 'x'.repeat(128)];
  const invalid = ['', '.x', '-x', 'a/b', 'a:b', 'a b', 'x'.repeat(129), 'tag@sha'];
  for (const t of valid) assert.equal(isValidTag(t), true, `expected valid: ${t}`);
  for (const t of invalid) assert.equal(isValidTag(t), false, `expected invalid: ${t}`);
});

test('digests: sha256 and sha512 with lower-case hex of the right length', () => {
  const h64 = 'a'.repeat(64);
  assert.deepEqual(parseDigest(`sha256:${h64}`), { algorithm: 'sha256', hex: h64 });
  assert.equal(isValidDigest(`sha512:${'0'.repeat(128)}`), true);
  for (const d of [
    `sha256:${'a'.repeat(63)}`,
    `sha256:${'A'.repeat(64)}`,
    `sha256:${'g'.repeat(64)}`,
    `sha512:${h64}`,
    `md5:${'a'.repeat(32)}`,
    h64,
    'sha256:',
    ':abc',
    `SHA256:${h64}`,
  ]) {
    assert.equal(isValidDigest(d), false, `expected invalid: ${d}`);
  }
});

test('a reference with a colon is a digest, else a tag', () => {
  assert.equal(isDigestReference('sha256:abc'), true);
  assert.equal(isDigestReference('latest'), false);
});
