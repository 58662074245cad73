// The nesting bound of untrusted JSON (src/core/json-limits.ts): a linear scan before JSON.parse that counts only
// brackets outside strings, and every parser of client JSON refuses what is nested deeper than 64 levels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkJsonDepth, jsonDepth, JsonTooDeepError, MAX_JSON_DEPTH, parseUntrustedJson } from '../../src/core/json-limits.ts';
import { parseManifest } from '../../src/core/manifest.ts';
import { parsePolicy, PolicyError } from '../../src/auth/policy/document.ts';
import { LifecyclePolicyError, parseLifecyclePolicy } from '../../src/lifecycle/policy.ts';
import { RegistryError } from '../../src/core/errors.ts';

const nested = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);

test('depth counts objects and arrays, not brackets inside strings or escapes', () => {
  assert.equal(jsonDepth('1'), 0);
  assert.equal(jsonDepth('{"a":[1,{"b":2}]}'), 3);
  assert.equal(jsonDepth('"[[[[{{{{"'), 0);
  assert.equal(jsonDepth('["\\"[[[", {"k\\\\": ["]"]}]'), 3);
  assert.equal(jsonDepth(Buffer.from('{"é":[["☃"]]}')), 3, 'bytes of UTF-8 text count alike');
  assert.equal(jsonDepth(nested(64)), 64);
  assert.equal(jsonDepth(nested(65)), Infinity);
});

test('64 levels parse, 65 are refused before parsing', () => {
  assert.deepEqual(parseUntrustedJson(nested(2)), [[1]]);
  assert.doesNotThrow(() => checkJsonDepth(nested(MAX_JSON_DEPTH)));
  assert.throws(() => parseUntrustedJson(nested(MAX_JSON_DEPTH + 1)), JsonTooDeepError);
  assert.throws(() => parseUntrustedJson('{"a":'), SyntaxError);
});

test('2,000,000 levels are refused (the scan stops at the first level too deep)', () => {
  assert.throws(() => parseUntrustedJson(Buffer.from(nested(2_000_000))), JsonTooDeepError);
  assert.throws(() => parseUntrustedJson(nested(2_000_000)), JsonTooDeepError);
});

test('a flat 28 MiB body with long strings and escapes is one level deep', () => {
  const flat = Buffer.from(JSON.stringify({ layerPartBlob: 'A'.repeat(28 * 1024 * 1024), quoted: '\\"[[[{'.repeat(1000) }));
  assert.equal(jsonDepth(flat), 1);
});

test('manifests, policy documents and lifecycle policies refuse deep nesting with their own errors', () => {
  const manifest = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","annotations":{"x":${nested(100, '"y"')}}}`;
  assert.throws(
    () => parseManifest(Buffer.from(manifest), undefined),
    (e: unknown) => e instanceof RegistryError && e.code === 'MANIFEST_INVALID' && /deeper than 64/.test(e.message),
  );
  // The policy parser recurses per level: before the bound, 100,000 levels overflowed its stack.
  const policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":${nested(100_000, '{}')}}]}`;
  assert.throws(
    () => parsePolicy(policy, 'identity'),
    (e: unknown) => e instanceof PolicyError && /deeper than 64/.test(e.message),
  );
  const lifecycle = `{"rules":${nested(100)}}`;
  assert.throws(
    () => parseLifecyclePolicy(lifecycle),
    (e: unknown) => e instanceof LifecyclePolicyError,
  );
});
