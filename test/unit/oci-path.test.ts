// Percent-decoding of /v2/ route parameters (src/oci/path.ts): a malformed escape is a RegistryError with the code of
// what it spoils (NAME_INVALID for the name; MANIFEST_INVALID, BLOB_UPLOAD_INVALID or DIGEST_INVALID for the
// reference), never a URIError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePathParams } from '../../src/oci/path.ts';
import { RegistryError } from '../../src/core/errors.ts';

test('well-formed parameters are decoded', () => {
  assert.deepEqual(decodePathParams('/v2/a%2Fb/manifests/sha256%3Aabc', ['a%2Fb', 'sha256%3Aabc']), ['a/b', 'sha256:abc']);
  assert.deepEqual(decodePathParams('/v2/app/tags/list', ['app']), ['app']);
  assert.deepEqual(decodePathParams('/v2/app/manifests/%C3%A9', ['app', '%C3%A9']), ['app', 'é']);
});

const cases: [string, string[], string][] = [
  ['/v2/a%zz/tags/list', ['a%zz'], 'NAME_INVALID'],
  ['/v2/a%E0%A4/manifests/v1', ['a%E0%A4', 'v1'], 'NAME_INVALID'],
  ['/v2/a/manifests/%E0%A4%A', ['a', '%E0%A4%A'], 'MANIFEST_INVALID'],
  ['/v2/a/blobs/sha256%zz', ['a', 'sha256%zz'], 'DIGEST_INVALID'],
  ['/v2/a/referrers/%', ['a', '%'], 'DIGEST_INVALID'],
  ['/v2/a/blobs/uploads/%FF', ['a', '%FF'], 'BLOB_UPLOAD_INVALID'],
  ['/v2/a%zz/blobs/uploads/%FF', ['a%zz', '%FF'], 'NAME_INVALID'],
];

for (const [path, params, code] of cases) {
  test(`${path}: ${code}`, () => {
    assert.throws(
      () => decodePathParams(path, params),
      (e: unknown) => {
        assert.ok(e instanceof RegistryError, `a RegistryError, not ${(e as Error).name}`);
        assert.equal(e.code, code);
        assert.match(e.message, /invalid percent-encoding/);
        return true;
      },
    );
  });
}
