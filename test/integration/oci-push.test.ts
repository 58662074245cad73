// OCI distribution-spec v1.1 conformance, workflow 2: Push (the official suite's 02_push_test.go, in its order,
// with OCI_AUTOMATIC_CROSSMOUNT=1), then Berth's own push requirements: the upload protocol in detail
// (monolithic, chunked, resume, cancel, digest checks, cross-repository mounts) and manifest validation
// (media types, size limit, missing references, invalid bodies, digest mismatch, subject).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startBerth, type Berth } from '../helpers/berth.ts';
import {
  EMPTY_JSON,
  EMPTY_JSON_DIGEST,
  MEDIA,
  SPEC_ERROR_CODES,
  SUITE_LAYER,
  assert2xx,
  assertError,
  assertStatus,
  configBlob,
  content,
  createClient,
  descriptor,
  dockerManifest,
  dockerManifestList,
  emptyJsonDescriptor,
  errorCodes,
  imageIndex,
  imageManifest,
  manifestDescriptor,
  randomBlob,
  sendEarlyAnswered,
  sha256,
  suiteDescriptor,
  suiteManifest,
  withQuery,
  type Content,
  type Manifest,
  type OciClient,
  type OciResponse,
} from '../helpers/oci.ts';

const repo = 'conformance/push';
const crossmountNamespace = 'conformance/crossmount';
const testTagName = 'tagtest0';
const emptyLayerTestTag = 'emptylayer';
const nonexistentManifest = '.INVALID_MANIFEST_NAME';
const dummyDigest = sha256('hello world');

// Fixtures, as the suite's setup.go builds them.
const configs: Content[] = [configBlob(), configBlob()];
const layer = SUITE_LAYER;
const manifests: Manifest[] = configs.map((config) => suiteManifest(config));
const emptyLayerManifest = suiteManifest(configs[1], { layers: false, omitMediaType: true });
const testBlobA = randomBlob(42);
let testBlobB = randomBlob(42);
let chunk1 = testBlobB.bytes.subarray(0, 42 / 2 + 1);
let chunk2 = testBlobB.bytes.subarray(42 / 2 + 1);
const setupChunkedBlob = (size: number) => {
  testBlobB = randomBlob(size);
  chunk1 = testBlobB.bytes.subarray(0, Math.floor(size / 2) + 1);
  chunk2 = testBlobB.bytes.subarray(Math.floor(size / 2) + 1);
};
const chunk1Range = () => `0-${chunk1.length - 1}`;
const chunk2Range = () => `${chunk1.length}-${testBlobB.size - 1}`;

const testRefBlobA = content('NHL Peanut Butter on my NHL bagel');
const testRefArtifactTypeA = 'application/vnd.nhl.peanut.butter.bagel';
const testRefArtifactTypeB = 'application/vnd.nba.strawberry.jam.croissant';
const testRefArtifactTypeIndex = 'application/vnd.food.stand';
const testAnnotationKey = 'org.opencontainers.conformance.test';
const emptyJSONDescriptor = suiteDescriptor(MEDIA.ociEmpty, EMPTY_JSON);

// An artifact whose type is its config's media type, and one with artifactType and the empty config.
const refsManifestConfigType = imageManifest({
  config: suiteDescriptor(testRefArtifactTypeA, testRefBlobA),
  layers: [emptyJSONDescriptor],
  annotations: { [testAnnotationKey]: 'test config a' },
});
const refsManifestArtifactType = imageManifest({
  artifactType: testRefArtifactTypeA,
  config: emptyJSONDescriptor,
  layers: [suiteDescriptor(testRefArtifactTypeA, testRefBlobA)],
  annotations: { [testAnnotationKey]: 'test layer a' },
});
// An artifact whose subject (a manifest of a third config) has never been pushed.
const unpushedSubject = suiteManifest(configBlob());
const refsManifestCLayerArtifact = imageManifest({
  artifactType: testRefArtifactTypeB,
  config: emptyJSONDescriptor,
  subject: suiteDescriptor(MEDIA.ociManifest, unpushedSubject),
  layers: [suiteDescriptor(testRefArtifactTypeB, testRefBlobA)],
});

let berth: Berth;
let c: OciClient;

before(async () => {
  berth = await startBerth();
  c = createClient(berth);
});
after(async () => {
  await berth?.cleanup();
});

describe('Push (conformance 02)', () => {
  let lastResponse: OciResponse | undefined;
  let prevResponse: OciResponse | undefined;
  const deleted = { configType: false, artifactType: false, emptyLayer: false, emptyJSON: false };

  describe('Setup', () => {
    it('Upload empty JSON blob needed for further tests', async () => {
      assert.equal(EMPTY_JSON.digest, EMPTY_JSON_DIGEST);
      assert2xx(await c.pushBlob(repo, EMPTY_JSON.bytes));
      deleted.emptyJSON = true;
    });
    it('Upload blob needed for further tests', async () => {
      assert2xx(await c.pushBlob(repo, testRefBlobA.bytes));
    });
  });

  describe('Blob Upload Streamed', () => {
    it('PATCH request with blob in body should yield 202 response', async () => {
      const post = await c.post(`/v2/${repo}/blobs/uploads/`);
      assert.ok(post.headers.get('location'), 'POST gives a Location');
      const res = await c.patch(post.location, {
        headers: { 'Content-Type': MEDIA.octetStream },
        body: testBlobA.bytes,
      });
      assertStatus(res, 202);
      lastResponse = res;
    });
    it('PUT request to session URL with digest should yield 201 response', async () => {
      assert.ok(lastResponse, 'a previous PATCH');
      const res = await c.put(withQuery(lastResponse.location, { digest: testBlobA.digest }), {
        headers: { 'Content-Type': MEDIA.octetStream },
      });
      assertStatus(res, 201);
      assert.ok(res.headers.get('location'), 'Location is set');
    });
  });

  describe('Blob Upload Monolithic', () => {
    it('GET nonexistent blob should result in 404 response', async () => {
      assertStatus(await c.get(`/v2/${repo}/blobs/${dummyDigest}`), 404);
    });
    it('POST request with digest and blob should yield a 201 or 202', async () => {
      const res = await c.post(withQuery(`/v2/${repo}/blobs/uploads/`, { digest: configs[1].digest }), {
        headers: { 'Content-Type': MEDIA.octetStream },
        body: configs[1].bytes,
      });
      assert.ok(res.headers.get('location'), 'Location is set');
      assertStatus(res, [201, 202]);
      lastResponse = res;
    });
    it('GET request to blob URL from prior request should yield 200 or 404 based on response code', async () => {
      assert.ok(lastResponse);
      const res = await c.get(`/v2/${repo}/blobs/${configs[1].digest}`);
      assertStatus(res, lastResponse.status === 202 ? 404 : 200);
    });
    it('POST request should yield a session ID', async () => {
      const res = await c.post(`/v2/${repo}/blobs/uploads/`);
      assertStatus(res, 202);
      lastResponse = res;
    });
    it('PUT upload of a blob should yield a 201 Response', async () => {
      assert.ok(lastResponse);
      const res = await c.put(withQuery(lastResponse.location, { digest: configs[1].digest }), {
        headers: { 'Content-Type': MEDIA.octetStream },
        body: configs[1].bytes,
      });
      assert.ok(res.headers.get('location'), 'Location is set');
      assertStatus(res, 201);
    });
    it('GET request to existing blob should yield 200 response', async () => {
      assertStatus(await c.get(`/v2/${repo}/blobs/${configs[1].digest}`), 200);
    });
    it('PUT upload of a layer blob should yield a 201 Response', async () => {
      const res = await c.pushBlob(repo, layer.bytes);
      assert.ok(res.headers.get('location'), 'Location is set');
      assertStatus(res, 201);
    });
    it('GET request to existing layer should yield 200 response', async () => {
      assertStatus(await c.get(`/v2/${repo}/blobs/${layer.digest}`), 200);
    });
  });

  describe('Blob Upload Chunked', () => {
    it('Out-of-order blob upload should return 416', async () => {
      const post = await c.post(`/v2/${repo}/blobs/uploads/`, { headers: { 'Content-Length': '0' } });
      assert.ok(post.headers.get('location'), 'Location is set');
      const min = post.headers.get('oci-chunk-min-length');
      if (min) {
        const minSize = Number(min);
        assert.ok(Number.isInteger(minSize), `OCI-Chunk-Min-Length is an integer: ${min}`);
        if (minSize > chunk1.length) setupChunkedBlob(minSize * 2 - 2);
      }
      const res = await c.patch(post.location, {
        headers: { 'Content-Type': MEDIA.octetStream, 'Content-Range': chunk2Range() },
        body: chunk2,
      });
      assertStatus(res, 416);
    });
    it('PATCH request with first chunk should return 202', async () => {
      const post = await c.post(`/v2/${repo}/blobs/uploads/`, { headers: { 'Content-Length': '0' } });
      assert.ok(post.headers.get('location'), 'Location is set');
      prevResponse = post;
      const res = await c.patch(post.location, {
        headers: { 'Content-Type': MEDIA.octetStream, 'Content-Range': chunk1Range() },
        body: chunk1,
      });
      assertStatus(res, 202);
      assert.equal(res.headers.get('range'), chunk1Range());
      lastResponse = res;
    });
    it('Retry previous blob chunk should return 416', async () => {
      assert.ok(prevResponse);
      const res = await c.patch(prevResponse.location, {
        headers: { 'Content-Type': MEDIA.octetStream, 'Content-Range': chunk1Range() },
        body: chunk1,
      });
      assertStatus(res, 416);
    });
    it('Get on stale blob upload should return 204 with a range and location', async () => {
      assert.ok(prevResponse);
      const res = await c.get(prevResponse.location);
      assertStatus(res, 204);
      assert.ok(res.headers.get('location'), 'Location is set');
      assert.equal(res.headers.get('range'), chunk1Range());
      lastResponse = res;
    });
    it('PATCH request with second chunk should return 202', async () => {
      assert.ok(lastResponse);
      const res = await c.patch(lastResponse.location, {
        headers: { 'Content-Type': MEDIA.octetStream, 'Content-Range': chunk2Range() },
        body: chunk2,
      });
      assertStatus(res, 202);
      assert.equal(res.headers.get('range'), `0-${testBlobB.size - 1}`);
      assert.ok(res.headers.get('location'), 'Location is set');
      lastResponse = res;
    });
    it('PUT request with digest should return 201', async () => {
      assert.ok(lastResponse);
      const res = await c.put(withQuery(lastResponse.location, { digest: testBlobB.digest }), {
        headers: { 'Content-Length': '0', 'Content-Type': MEDIA.octetStream },
      });
      assertStatus(res, 201);
      assert.ok(res.headers.get('location'), 'Location is set');
    });
  });

  describe('Cross-Repository Blob Mount', () => {
    it('Cross-mounting of a blob without the from argument should yield session id', async () => {
      const res = await c.post(withQuery(`/v2/${crossmountNamespace}/blobs/uploads/`, { mount: dummyDigest }));
      assertStatus(res, 202);
      assert.ok(res.location, 'Location is set');
    });
    it("POST request to mount another repository's blob should return 201", async () => {
      const res = await c.post(withQuery(`/v2/${crossmountNamespace}/blobs/uploads/`, { mount: testBlobA.digest, from: repo }));
      assertStatus(res, 201);
      lastResponse = res;
    });
    it('GET request to test digest within cross-mount namespace should return 200', async () => {
      assert.ok(lastResponse);
      assert.equal(lastResponse.location, `/v2/${crossmountNamespace}/blobs/${testBlobA.digest}`);
      assertStatus(await c.get(lastResponse.location), 200);
    });
    it('Cross-mounting of nonexistent blob should yield session id', async () => {
      const res = await c.post(withQuery(`/v2/${crossmountNamespace}/blobs/uploads/`, { mount: dummyDigest, from: repo }));
      assertStatus(res, 202);
      assert.ok(res.location.startsWith(`/v2/${crossmountNamespace}/blobs/uploads/`));
    });
    it('Cross-mounting without from, and automatic content discovery enabled should return a 201', async () => {
      const res = await c.post(withQuery(`/v2/${crossmountNamespace}-auto/blobs/uploads/`, { mount: testBlobA.digest }));
      assertStatus(res, 201);
    });
  });

  describe('Manifest Upload', () => {
    it('GET nonexistent manifest should return 404', async () => {
      assertStatus(await c.get(`/v2/${repo}/manifests/${nonexistentManifest}`), 404);
    });
    it('PUT should accept a manifest upload', async () => {
      for (let i = 0; i < 4; i++) {
        const res = await c.pushManifest(repo, `test${i}`, manifests[1]);
        assert.ok(res.headers.get('location'), `test${i}: Location is set`);
        assertStatus(res, 201, `test${i}`);
      }
    });
    it('Registry should accept a manifest upload with no layers', async (t) => {
      const res = await c.pushManifest(repo, emptyLayerTestTag, emptyLayerManifest);
      if (res.status === 201) {
        assert.ok(res.headers.get('location'), 'Location is set');
        deleted.emptyLayer = true;
      } else {
        t.diagnostic(`WARNING: image manifest with no layers is not supported (${res.status})`);
      }
    });
    it('GET request to manifest URL (digest) should yield 200 response', async () => {
      const res = await c.get(`/v2/${repo}/manifests/${manifests[1].digest}`, { headers: { Accept: MEDIA.ociManifest } });
      assertStatus(res, 200);
    });
    it('Registry should accept a manifest upload with custom config/mediaType (as artifact type) [OCI-Image v1.1]', async () => {
      assert2xx(await c.pushManifest(repo, refsManifestConfigType.digest, refsManifestConfigType), 'PUT manifest fails');
      deleted.configType = true;
    });
    it('Registry should accept a manifest upload with custom artifactType [OCI-Image v1.1]', async () => {
      assert2xx(await c.pushManifest(repo, refsManifestArtifactType.digest, refsManifestArtifactType), 'PUT manifest fails');
      deleted.artifactType = true;
    });
    let refsIndex: Manifest | undefined;
    it('Registry should accept a manifest upload with image index', async () => {
      assert2xx(await c.pushBlob(repo, configs[0].bytes));
      assert2xx(await c.pushManifest(repo, testTagName, manifests[0]));
      refsIndex = imageIndex({
        artifactType: testRefArtifactTypeIndex,
        manifests: [suiteDescriptor(MEDIA.ociManifest, manifests[0])],
        annotations: { [testAnnotationKey]: 'test index' },
      });
      assert2xx(await c.pushManifest(repo, refsIndex.digest, refsIndex), 'PUT index fails');
    });
    it('Registry should accept a manifest upload with nested image index [OCI-Image v1.1]', async () => {
      assert.ok(refsIndex, 'the index was built');
      const nested = imageIndex({
        artifactType: testRefArtifactTypeIndex,
        manifests: [suiteDescriptor(MEDIA.ociIndex, refsIndex)],
        annotations: { [testAnnotationKey]: 'test index' },
      });
      assert2xx(await c.pushManifest(repo, nested.digest, nested), 'PUT index fails');
    });
    it('Dangling subject [OCI-Image v1.1]', async () => {
      const res = await c.pushManifest(repo, refsManifestCLayerArtifact.digest, refsManifestCLayerArtifact);
      assert2xx(res, "PUT manifest with 'dangling' subject fails, but must not");
      // The suite matches ^[a-f0-9]+:[a-f0-9]+$, which no "sha256:" digest can match; this is the spec's digest grammar.
      assert.match(
        res.headers.get('oci-subject') ?? '',
        /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/,
        "PUT manifest with subject does not return a header 'OCI-Subject' with the subject digest",
      );
      assert.equal(res.headers.get('oci-subject'), unpushedSubject.digest);
    });
  });

  describe('Teardown', () => {
    const ok = [200, 201, 202, 203, 204, 405];
    it('Delete manifest created in tests', async () => {
      assertStatus(await c.delete(`/v2/${repo}/manifests/${manifests[1].digest}`), ok);
      if (deleted.configType) assertStatus(await c.delete(`/v2/${repo}/manifests/${refsManifestConfigType.digest}`), ok);
      if (deleted.artifactType) assertStatus(await c.delete(`/v2/${repo}/manifests/${refsManifestArtifactType.digest}`), ok);
      if (deleted.emptyLayer) assertStatus(await c.delete(`/v2/${repo}/manifests/${emptyLayerManifest.digest}`), ok);
    });
    it('Delete config blob created in tests', async () => {
      assertStatus(await c.delete(`/v2/${repo}/blobs/${configs[1].digest}`), [...ok, 404]);
    });
    it('Delete layer blob created in setup', async () => {
      assertStatus(await c.delete(`/v2/${repo}/blobs/${layer.digest}`), [...ok, 404]);
      if (deleted.emptyJSON) assertStatus(await c.delete(`/v2/${repo}/blobs/${EMPTY_JSON.digest}`), [...ok, 404]);
    });
  });
});

/** Start an upload session; returns its Location and the server's minimum chunk length (0 when none). */
async function startUpload(repoName: string): Promise<{ location: string; min: number; res: OciResponse }> {
  const res = await c.post(`/v2/${repoName}/blobs/uploads/`, { headers: { 'Content-Length': '0' } });
  assertStatus(res, 202, 'POST upload');
  assert.ok(res.location, 'upload Location');
  return { location: res.location, min: Number(res.headers.get('oci-chunk-min-length') ?? 0) || 0, res };
}

describe('Blob uploads in detail', () => {
  const urepo = 'conformance/uploads';

  it('single POST ?digest=: 201, Location of the blob, Docker-Content-Digest; the blob is readable', async () => {
    const blob = randomBlob(513);
    const res = await c.post(withQuery(`/v2/${urepo}/blobs/uploads/`, { digest: blob.digest }), {
      headers: { 'Content-Type': MEDIA.octetStream },
      body: blob.bytes,
    });
    assertStatus(res, 201);
    assert.equal(res.location, `/v2/${urepo}/blobs/${blob.digest}`);
    assert.equal(res.headers.get('docker-content-digest'), blob.digest);
    const got = await c.get(res.location);
    assertStatus(got, 200);
    assert.ok(got.body.equals(blob.bytes));
  });

  it('POST then PUT ?digest= with the whole blob: 201, Location, Docker-Content-Digest', async () => {
    const blob = randomBlob(2048);
    const { location } = await startUpload(urepo);
    const res = await c.put(withQuery(location, { digest: blob.digest }), {
      headers: { 'Content-Type': MEDIA.octetStream },
      body: blob.bytes,
    });
    assertStatus(res, 201);
    assert.equal(res.location, `/v2/${urepo}/blobs/${blob.digest}`);
    assert.equal(res.headers.get('docker-content-digest'), blob.digest);
    const head = await c.head(res.location);
    assertStatus(head, 200);
    assert.equal(head.headers.get('content-length'), String(blob.size));
  });

  it('each POST opens a distinct session', async () => {
    const a = await startUpload(urepo);
    const b = await startUpload(urepo);
    assert.notEqual(a.location, b.location);
  });

  it('a new session answers GET with 204 and its Location', async () => {
    const { location } = await startUpload(urepo);
    const res = await c.get(location);
    assertStatus(res, 204);
    assert.ok(res.location, 'Location is set');
  });

  it('chunked: three PATCHes with Content-Range, each 202 with Location and Range, then PUT ?digest=', async () => {
    const first = await startUpload(urepo);
    const size = Math.max(16, first.min);
    const blob = randomBlob(size * 3);
    let location = first.location;
    for (let i = 0; i < 3; i++) {
      const start = i * size;
      const end = start + size - 1;
      const res = await c.patch(location, {
        headers: { 'Content-Type': MEDIA.octetStream, 'Content-Range': `${start}-${end}` },
        body: blob.bytes.subarray(start, end + 1),
      });
      assertStatus(res, 202, `chunk ${i}`);
      assert.equal(res.headers.get('range'), `0-${end}`, `chunk ${i} Range`);
      assert.ok(res.location, `chunk ${i} Location`);
      location = res.location;
    }
    const done = await c.put(withQuery(location, { digest: blob.digest }));
    assertStatus(done, 201);
    assert.equal(done.location, `/v2/${urepo}/blobs/${blob.digest}`);
    const got = await c.get(done.location);
    assert.ok(got.body.equals(blob.bytes), 'the stored blob is the chunks in order');
  });

  it('chunked: the final chunk may come with the closing PUT', async () => {
    const first = await startUpload(urepo);
    const size = Math.max(16, first.min);
    const blob = randomBlob(size + 7);
    const patch = await c.patch(first.location, {
      headers: { 'Content-Type': MEDIA.octetStream, 'Content-Range': `0-${size - 1}` },
      body: blob.bytes.subarray(0, size),
    });
    assertStatus(patch, 202);
    const done = await c.put(withQuery(patch.location, { digest: blob.digest }), {
      headers: { 'Content-Type': MEDIA.octetStream, 'Content-Range': `${size}-${blob.size - 1}` },
      body: blob.bytes.subarray(size),
    });
    assertStatus(done, 201);
    const got = await c.get(`/v2/${urepo}/blobs/${blob.digest}`);
    assert.ok(got.body.equals(blob.bytes));
  });

  it('an out-of-order chunk gets 416 with the current Range; an overlapping one too; the upload goes on', async () => {
    const first = await startUpload(urepo);
    const size = Math.max(16, first.min);
    const blob = randomBlob(size * 3);
    const p1 = await c.patch(first.location, {
      headers: { 'Content-Type': MEDIA.octetStream, 'Content-Range': `0-${size - 1}` },
      body: blob.bytes.subarray(0, size),
    });
    assertStatus(p1, 202);
    // A gap: starts one chunk too late.
    const gap = await c.patch(p1.location, {
      headers: { 'Content-Type': MEDIA.octetStream, 'Content-Range': `${2 * size}-${3 * size - 1}` },
      body: blob.bytes.subarray(2 * size),
    });
    assertStatus(gap, 416, 'gap');
    assert.equal(gap.headers.get('range'), `0-${size - 1}`, '416 (gap) carries the current Range');
    // An overlap: starts inside what was already received.
    const half = Math.floor(size / 2);
    const overlap = await c.patch(p1.location, {
      headers: { 'Content-Type': MEDIA.octetStream, 'Content-Range': `${half}-${half + size - 1}` },
      body: blob.bytes.subarray(half, half + size),
    });
    assertStatus(overlap, 416, 'overlap');
    assert.equal(overlap.headers.get('range'), `0-${size - 1}`, '416 (overlap) carries the current Range');
    // Resume: GET tells where we are, the rest follows.
    const status = await c.get(p1.location);
    assertStatus(status, 204);
    assert.equal(status.headers.get('range'), `0-${size - 1}`);
    assert.ok(status.location);
    const p2 = await c.patch(status.location, {
      headers: { 'Content-Type': MEDIA.octetStream, 'Content-Range': `${size}-${3 * size - 1}` },
      body: blob.bytes.subarray(size),
    });
    assertStatus(p2, 202);
    assert.equal(p2.headers.get('range'), `0-${3 * size - 1}`);
    const done = await c.put(withQuery(p2.location, { digest: blob.digest }));
    assertStatus(done, 201);
    assert.ok((await c.get(`/v2/${urepo}/blobs/${blob.digest}`)).body.equals(blob.bytes));
  });

  it('a Content-Range that disagrees with the body length is refused (416 or 400)', async () => {
    const first = await startUpload(urepo);
    const res = await c.patch(first.location, {
      headers: { 'Content-Type': MEDIA.octetStream, 'Content-Range': '0-99' },
      body: randomBlob(10).bytes,
    });
    assertStatus(res, [400, 416]);
  });

  it('DELETE cancels an upload (204); the session is then unknown: 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const { location } = await startUpload(urepo);
    const patch = await c.patch(location, { headers: { 'Content-Type': MEDIA.octetStream }, body: 'partial' });
    assertStatus(patch, 202);
    assertStatus(await c.delete(patch.location), 204);
    assertError(await c.get(patch.location), 404, 'BLOB_UPLOAD_UNKNOWN', 'GET after cancel');
    assertError(
      await c.patch(patch.location, { headers: { 'Content-Type': MEDIA.octetStream }, body: 'more' }),
      404,
      'BLOB_UPLOAD_UNKNOWN',
      'PATCH after cancel',
    );
    assertError(await c.put(withQuery(patch.location, { digest: sha256('partial') })), 404, 'BLOB_UPLOAD_UNKNOWN', 'PUT after cancel');
    assertError(await c.delete(patch.location), 404, 'BLOB_UPLOAD_UNKNOWN', 'DELETE after cancel');
  });

  it('an upload id that never existed: 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const { location } = await startUpload(urepo);
    const u = new URL(location, berth.url);
    const parts = u.pathname.split('/');
    parts[parts.length - 1] = randomUUID();
    const bogus = parts.join('/');
    assertError(await c.get(bogus), 404, 'BLOB_UPLOAD_UNKNOWN', 'GET');
    assertError(await c.patch(bogus, { headers: { 'Content-Type': MEDIA.octetStream }, body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN', 'PATCH');
    assertError(await c.put(withQuery(bogus, { digest: sha256('x') }), { body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN', 'PUT');
  });

  it('an upload session belongs to its repository', async () => {
    const { location } = await startUpload(urepo);
    const u = new URL(location, berth.url);
    const other = u.pathname.replace(`/v2/${urepo}/`, '/v2/conformance/uploads-other/') + u.search;
    assert.notEqual(other, location);
    assertError(await c.get(other), 404, ['BLOB_UPLOAD_UNKNOWN', 'NAME_UNKNOWN']);
  });

  it('PUT with a digest that does not match the bytes: 400 DIGEST_INVALID, and nothing is stored', async () => {
    const blob = randomBlob(100);
    const claimed = sha256('something else');
    const { location } = await startUpload(urepo);
    const res = await c.put(withQuery(location, { digest: claimed }), {
      headers: { 'Content-Type': MEDIA.octetStream },
      body: blob.bytes,
    });
    assertError(res, 400, 'DIGEST_INVALID');
    assertStatus(await c.head(`/v2/${urepo}/blobs/${claimed}`), 404);
    assertStatus(await c.head(`/v2/${urepo}/blobs/${blob.digest}`), 404);
  });

  it('single POST with a digest that does not match, or is malformed: 400 DIGEST_INVALID, and no session left behind', async () => {
    const uploads = () => readdirSync(join(berth.dataDir, 'uploads')).length;
    const before = uploads();
    for (const digest of [sha256('not it'), 'sha256:nothex', 'md5:abc']) {
      const res = await c.post(withQuery(`/v2/${urepo}/blobs/uploads/`, { digest }), {
        headers: { 'Content-Type': MEDIA.octetStream },
        body: randomBlob(100).bytes,
      });
      assertError(res, 400, 'DIGEST_INVALID', digest);
    }
    assert.equal(uploads(), before, 'no upload session remains');
  });

  it('chunked upload closed with the wrong digest: 400 DIGEST_INVALID', async () => {
    const { location } = await startUpload(urepo);
    const patch = await c.patch(location, { headers: { 'Content-Type': MEDIA.octetStream }, body: 'chunk data' });
    assertStatus(patch, 202);
    assertError(await c.put(withQuery(patch.location, { digest: sha256('other data') })), 400, 'DIGEST_INVALID');
  });

  it('PUT with a malformed digest: 400 DIGEST_INVALID', async () => {
    const { location } = await startUpload(urepo);
    assertError(await c.put(withQuery(location, { digest: 'sha256:nothex' }), { body: 'abc' }), 400, 'DIGEST_INVALID');
  });

  it('PUT without a digest: 400 (DIGEST_INVALID or BLOB_UPLOAD_INVALID)', async () => {
    const { location } = await startUpload(urepo);
    assertError(await c.put(location, { body: 'abc' }), 400, ['DIGEST_INVALID', 'BLOB_UPLOAD_INVALID']);
  });

  it('pushing the same blob twice is fine (201 both times)', async () => {
    const blob = randomBlob(64);
    assertStatus(await c.pushBlob(urepo, blob.bytes), 201);
    assertStatus(await c.pushBlob(urepo, blob.bytes), 201);
  });

  it('an empty blob can be pushed and pulled', async () => {
    const empty = content('');
    assertStatus(await c.pushBlob(urepo, empty.bytes), 201);
    const res = await c.get(`/v2/${urepo}/blobs/${empty.digest}`);
    assertStatus(res, 200);
    assert.equal(res.body.length, 0);
    assert.equal(res.headers.get('content-length'), '0');
  });
});

describe('Cross-repository mount', () => {
  const source = 'conformance/mount-source';

  it('mount=&from=: 201, Location in the target, Docker-Content-Digest; the blob is then readable there', async () => {
    const blob = randomBlob(777);
    assertStatus(await c.pushBlob(source, blob.bytes), 201);
    const target = 'conformance/mount-target';
    const res = await c.post(withQuery(`/v2/${target}/blobs/uploads/`, { mount: blob.digest, from: source }));
    assertStatus(res, 201);
    assert.equal(res.location, `/v2/${target}/blobs/${blob.digest}`);
    assert.equal(res.headers.get('docker-content-digest'), blob.digest);
    const got = await c.get(`/v2/${target}/blobs/${blob.digest}`);
    assertStatus(got, 200);
    assert.ok(got.body.equals(blob.bytes));
    assertStatus(await c.head(`/v2/${target}/blobs/${blob.digest}`), 200);
  });

  it('a blob pushed to one repository is not readable from another before a mount', async () => {
    const blob = randomBlob(99);
    assertStatus(await c.pushBlob(source, blob.bytes), 201);
    const other = 'conformance/mount-unrelated';
    assertStatus(await c.pushBlob(other, randomBlob(5).bytes), 201); // the repository exists
    assertError(await c.get(`/v2/${other}/blobs/${blob.digest}`), 404, 'BLOB_UNKNOWN');
    assertStatus(await c.head(`/v2/${other}/blobs/${blob.digest}`), 404);
  });

  it('automatic cross-mount: mount= without from= of a blob stored in another repository: 201', async () => {
    const blob = randomBlob(321);
    assertStatus(await c.pushBlob(source, blob.bytes), 201);
    const target = 'conformance/mount-auto';
    const res = await c.post(withQuery(`/v2/${target}/blobs/uploads/`, { mount: blob.digest }));
    assertStatus(res, 201);
    assert.equal(res.location, `/v2/${target}/blobs/${blob.digest}`);
    const got = await c.get(`/v2/${target}/blobs/${blob.digest}`);
    assertStatus(got, 200);
    assert.ok(got.body.equals(blob.bytes));
  });

  it('mount of a blob the registry does not have: 202 and an upload session in the target', async () => {
    const target = 'conformance/mount-target';
    const res = await c.post(withQuery(`/v2/${target}/blobs/uploads/`, { mount: dummyDigest, from: source }));
    assertStatus(res, 202);
    assert.ok(res.location.startsWith(`/v2/${target}/blobs/uploads/`), `session Location: ${res.location}`);
    // The session is usable.
    const blob = randomBlob(50);
    assertStatus(await c.put(withQuery(res.location, { digest: blob.digest }), { body: blob.bytes }), 201);
  });

  it('a mounted blob can back a manifest in the target repository', async () => {
    const config = configBlob();
    const blob = randomBlob(200);
    assertStatus(await c.pushBlob(source, config.bytes), 201);
    assertStatus(await c.pushBlob(source, blob.bytes), 201);
    const target = 'conformance/mount-manifest';
    for (const b of [config, blob]) {
      assertStatus(await c.post(withQuery(`/v2/${target}/blobs/uploads/`, { mount: b.digest, from: source })), 201);
    }
    const m = imageManifest({ config: descriptor(MEDIA.ociConfig, config), layers: [descriptor(MEDIA.ociLayerGzip, blob)] });
    assertStatus(await c.pushManifest(target, 'mounted', m), 201);
  });
});

describe('Manifest push: media types and validation', () => {
  const mrepo = 'conformance/manifests';
  const config = configBlob();
  const dconfig = configBlob();
  const layerA = randomBlob(400);
  const layerB = randomBlob(500);
  const artifactBlob = content('{"sbom":"yes"}');

  before(async () => {
    for (const b of [config, dconfig, layerA, layerB, artifactBlob, EMPTY_JSON]) {
      assertStatus(await c.pushBlob(mrepo, b.bytes), 201);
    }
  });

  const ociImage = () =>
    imageManifest({
      config: descriptor(MEDIA.ociConfig, config),
      layers: [descriptor(MEDIA.ociLayerGzip, layerA), descriptor(MEDIA.ociLayerGzip, layerB)],
    });

  async function roundTrip(tag: string, m: Manifest): Promise<OciResponse> {
    const put = await c.pushManifest(mrepo, tag, m);
    assertStatus(put, 201, `PUT ${tag}`);
    assert.ok(put.location, 'Location is set');
    assert.ok(put.location.startsWith(`/v2/${mrepo}/manifests/`), `Location is a manifest URL: ${put.location}`);
    assert.equal(put.headers.get('docker-content-digest'), m.digest, 'Docker-Content-Digest is the manifest digest');
    const byLocation = await c.get(put.location, { headers: { Accept: m.mediaType } });
    assertStatus(byLocation, 200, 'GET Location');
    assert.ok(byLocation.body.equals(m.bytes), 'Location serves the manifest');
    for (const ref of [tag, m.digest]) {
      const res = await c.get(`/v2/${mrepo}/manifests/${ref}`, { headers: { Accept: m.mediaType } });
      assertStatus(res, 200, `GET ${ref}`);
      assert.equal(res.headers.get('content-type'), m.mediaType);
      assert.equal(res.headers.get('docker-content-digest'), m.digest);
      assert.ok(res.body.equals(m.bytes), 'stored in the exact byte representation');
    }
    return put;
  }

  it('OCI image manifest', async () => {
    await roundTrip('oci-image', ociImage());
  });

  it('OCI image manifest without a mediaType field (Content-Type says it)', async () => {
    await roundTrip(
      'oci-image-no-mediatype',
      imageManifest({
        config: descriptor(MEDIA.ociConfig, config),
        layers: [descriptor(MEDIA.ociLayerGzip, layerA)],
        omitMediaType: true,
      }),
    );
  });

  it('OCI image manifest with no layers', async () => {
    await roundTrip('oci-no-layers', imageManifest({ config: descriptor(MEDIA.ociConfig, config), layers: [] }));
  });

  it('OCI image index (multi-platform)', async () => {
    const amd = ociImage();
    const arm = imageManifest({ config: descriptor(MEDIA.ociConfig, config), layers: [descriptor(MEDIA.ociLayerGzip, layerB)] });
    assertStatus(await c.pushManifest(mrepo, amd.digest, amd), 201);
    assertStatus(await c.pushManifest(mrepo, arm.digest, arm), 201);
    await roundTrip(
      'oci-index',
      imageIndex({
        manifests: [
          manifestDescriptor(amd, { platform: { architecture: 'amd64', os: 'linux' } }),
          manifestDescriptor(arm, { platform: { architecture: 'arm64', os: 'linux' } }),
        ],
      }),
    );
  });

  it('Docker schema 2 manifest', async () => {
    await roundTrip(
      'docker-v2',
      dockerManifest(descriptor(MEDIA.dockerConfig, dconfig), [
        descriptor(MEDIA.dockerLayerGzip, layerA),
        descriptor(MEDIA.dockerLayerGzip, layerB),
      ]),
    );
  });

  it('Docker manifest list', async () => {
    const child = dockerManifest(descriptor(MEDIA.dockerConfig, dconfig), [descriptor(MEDIA.dockerLayerGzip, layerA)]);
    assertStatus(await c.pushManifest(mrepo, child.digest, child), 201);
    await roundTrip('docker-list', dockerManifestList([manifestDescriptor(child, { platform: { architecture: 'amd64', os: 'linux' } })]));
  });

  it('OCI artifact: artifactType and the empty config (application/vnd.oci.empty.v1+json, digest of {})', async () => {
    assert.equal(EMPTY_JSON.digest, EMPTY_JSON_DIGEST);
    assert.equal(EMPTY_JSON.size, 2);
    await roundTrip(
      'artifact',
      imageManifest({
        artifactType: 'application/vnd.example.sbom.v1',
        config: emptyJsonDescriptor(),
        layers: [descriptor('application/vnd.example.sbom.v1+json', artifactBlob)],
        annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
      }),
    );
  });

  it('OCI artifact with only the empty blob as its layer', async () => {
    await roundTrip(
      'artifact-empty-layer',
      imageManifest({
        artifactType: 'application/vnd.example.marker',
        config: emptyJsonDescriptor(),
        layers: [emptyJsonDescriptor()],
      }),
    );
  });

  it('PUT by digest: 201 with Location and Docker-Content-Digest', async () => {
    const m = imageManifest({ config: descriptor(MEDIA.ociConfig, config), annotations: { by: 'digest' } });
    const res = await c.pushManifest(mrepo, m.digest, m);
    assertStatus(res, 201);
    assert.ok(res.location);
    assert.equal(res.headers.get('docker-content-digest'), m.digest);
    assertStatus(await c.get(`/v2/${mrepo}/manifests/${m.digest}`), 200);
  });

  it('the same manifest pushed again, and under a second tag: 201, both tags resolve', async () => {
    const m = ociImage();
    assertStatus(await c.pushManifest(mrepo, 'again', m), 201);
    assertStatus(await c.pushManifest(mrepo, 'again', m), 201);
    assertStatus(await c.pushManifest(mrepo, 'again-too', m), 201);
    for (const tag of ['again', 'again-too']) {
      assert.equal((await c.head(`/v2/${mrepo}/manifests/${tag}`)).headers.get('docker-content-digest'), m.digest);
    }
  });

  it('moving a tag to another manifest', async () => {
    const m1 = imageManifest({ config: descriptor(MEDIA.ociConfig, config), annotations: { n: '1' } });
    const m2 = imageManifest({ config: descriptor(MEDIA.ociConfig, config), annotations: { n: '2' } });
    assertStatus(await c.pushManifest(mrepo, 'moving', m1), 201);
    assertStatus(await c.pushManifest(mrepo, 'moving', m2), 201);
    const res = await c.get(`/v2/${mrepo}/manifests/moving`);
    assert.equal(res.headers.get('docker-content-digest'), m2.digest);
    assertStatus(await c.get(`/v2/${mrepo}/manifests/${m1.digest}`), 200);
  });

  it('Content-Type with parameters is accepted, and served without them', async () => {
    const m = imageManifest({ config: descriptor(MEDIA.ociConfig, config), annotations: { params: 'yes' } });
    const res = await c.put(`/v2/${mrepo}/manifests/params`, {
      headers: { 'Content-Type': `${MEDIA.ociManifest}; charset=utf-8` },
      body: m.bytes,
    });
    assertStatus(res, 201);
    const got = await c.get(`/v2/${mrepo}/manifests/params`);
    assert.equal(got.headers.get('content-type'), MEDIA.ociManifest);
  });

  /** A manifest padded with an annotation to exactly `size` bytes. */
  function manifestOfSize(size: number): Manifest {
    const base = imageManifest({ config: descriptor(MEDIA.ociConfig, config), annotations: { pad: '' } });
    const m = imageManifest({ config: descriptor(MEDIA.ociConfig, config), annotations: { pad: 'x'.repeat(size - base.size) } });
    assert.equal(m.size, size);
    return m;
  }

  it('a manifest of exactly 4 MiB is accepted', async () => {
    await roundTrip('four-mib', manifestOfSize(4 * 1024 * 1024));
  });

  // These two go over node:http, which (like Go's client) keeps a response that arrives before the request body is
  // fully sent: the server may answer an oversized manifest without reading it.
  const pushEarly = (tag: string, m: Manifest) =>
    sendEarlyAnswered(c, 'PUT', `/v2/${mrepo}/manifests/${tag}`, {
      headers: { 'Content-Type': m.mediaType },
      body: m.bytes,
    });

  it('a manifest over 4 MiB is refused: 413 with an OCI error body', async () => {
    const m = manifestOfSize(4 * 1024 * 1024 + 1);
    const res = await pushEarly('too-big', m);
    assertStatus(res, 413);
    const codes = errorCodes(res);
    assert.ok(SPEC_ERROR_CODES.includes(codes[0]), `a spec error code: ${codes[0]}`);
    assertStatus(await c.get(`/v2/${mrepo}/manifests/too-big`), 404);
  });

  it('a manifest much larger than the limit is refused: 413', async () => {
    const m = manifestOfSize(9 * 1024 * 1024);
    const res = await pushEarly('far-too-big', m);
    assertStatus(res, 413);
    errorCodes(res);
  });

  it('a layer blob that does not exist: 400 MANIFEST_BLOB_UNKNOWN, nothing tagged', async () => {
    const m = imageManifest({ config: descriptor(MEDIA.ociConfig, config), layers: [descriptor(MEDIA.ociLayerGzip, randomBlob(10))] });
    assertError(await c.pushManifest(mrepo, 'missing-layer', m), 400, 'MANIFEST_BLOB_UNKNOWN');
    assertStatus(await c.get(`/v2/${mrepo}/manifests/missing-layer`), 404);
    assertStatus(await c.get(`/v2/${mrepo}/manifests/${m.digest}`), 404);
  });

  it('a config blob that does not exist: 400 MANIFEST_BLOB_UNKNOWN', async () => {
    const m = imageManifest({ config: descriptor(MEDIA.ociConfig, configBlob()), layers: [descriptor(MEDIA.ociLayerGzip, layerA)] });
    assertError(await c.pushManifest(mrepo, 'missing-config', m), 400, 'MANIFEST_BLOB_UNKNOWN');
  });

  it('a Docker manifest with a missing layer: 400 MANIFEST_BLOB_UNKNOWN', async () => {
    const m = dockerManifest(descriptor(MEDIA.dockerConfig, dconfig), [descriptor(MEDIA.dockerLayerGzip, randomBlob(10))]);
    assertError(await c.pushManifest(mrepo, 'docker-missing', m), 400, 'MANIFEST_BLOB_UNKNOWN');
  });

  it('an index with a child manifest that does not exist: 400 MANIFEST_BLOB_UNKNOWN', async () => {
    const ghost = imageManifest({ config: descriptor(MEDIA.ociConfig, config), annotations: { ghost: 'never pushed' } });
    const idx = imageIndex({ manifests: [manifestDescriptor(ghost)] });
    assertError(await c.pushManifest(mrepo, 'index-missing-child', idx), 400, 'MANIFEST_BLOB_UNKNOWN');
    assertStatus(await c.get(`/v2/${mrepo}/manifests/index-missing-child`), 404);
  });

  it('a Docker manifest list with a child that does not exist: 400 MANIFEST_BLOB_UNKNOWN', async () => {
    const ghost = dockerManifest(descriptor(MEDIA.dockerConfig, dconfig), [descriptor(MEDIA.dockerLayerGzip, layerB)]);
    const list = dockerManifestList([manifestDescriptor(ghost)]);
    assertError(await c.pushManifest(mrepo, 'list-missing-child', list), 400, 'MANIFEST_BLOB_UNKNOWN');
  });

  it('a blob stored only in another repository does not satisfy a manifest: 400 MANIFEST_BLOB_UNKNOWN', async () => {
    const elsewhere = randomBlob(123);
    assertStatus(await c.pushBlob('conformance/elsewhere', elsewhere.bytes), 201);
    const m = imageManifest({ config: descriptor(MEDIA.ociConfig, config), layers: [descriptor(MEDIA.ociLayerGzip, elsewhere)] });
    assertError(await c.pushManifest(mrepo, 'foreign-layer', m), 400, 'MANIFEST_BLOB_UNKNOWN');
  });

  it('invalid JSON: 400 MANIFEST_INVALID', async () => {
    const res = await c.put(`/v2/${mrepo}/manifests/broken`, {
      headers: { 'Content-Type': MEDIA.ociManifest },
      body: '{"schemaVersion": 2, "config": ',
    });
    assertError(res, 400, 'MANIFEST_INVALID');
    assertStatus(await c.get(`/v2/${mrepo}/manifests/broken`), 404);
  });

  it('not JSON at all: 400 MANIFEST_INVALID', async () => {
    const res = await c.put(`/v2/${mrepo}/manifests/blabla`, { headers: { 'Content-Type': MEDIA.ociManifest }, body: 'blablabla' });
    assertError(res, 400, 'MANIFEST_INVALID');
  });

  it('an OCI image manifest without a config: 400 MANIFEST_INVALID', async () => {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, layers: [] });
    assertError(
      await c.put(`/v2/${mrepo}/manifests/no-config`, { headers: { 'Content-Type': MEDIA.ociManifest }, body }),
      400,
      'MANIFEST_INVALID',
    );
  });

  it('an OCI image manifest with schemaVersion 1: 400 MANIFEST_INVALID', async () => {
    const body = JSON.stringify({
      schemaVersion: 1,
      mediaType: MEDIA.ociManifest,
      config: descriptor(MEDIA.ociConfig, config),
      layers: [],
    });
    assertError(
      await c.put(`/v2/${mrepo}/manifests/schema1`, { headers: { 'Content-Type': MEDIA.ociManifest }, body }),
      400,
      'MANIFEST_INVALID',
    );
  });

  it('PUT by digest whose body has another digest: 400 DIGEST_INVALID', async () => {
    const m = imageManifest({ config: descriptor(MEDIA.ociConfig, config), annotations: { mismatch: 'yes' } });
    const other = sha256('not this manifest');
    assertError(await c.pushManifest(mrepo, other, m), 400, 'DIGEST_INVALID');
    assertStatus(await c.get(`/v2/${mrepo}/manifests/${other}`), 404);
    assertStatus(await c.get(`/v2/${mrepo}/manifests/${m.digest}`), 404);
  });

  it('a manifest with a subject: 201 and OCI-Subject: <subject digest>, even when the subject is not pushed', async () => {
    const subject = imageManifest({ config: descriptor(MEDIA.ociConfig, config), annotations: { role: 'subject, never pushed' } });
    const m = imageManifest({
      artifactType: 'application/vnd.example.signature',
      config: emptyJsonDescriptor(),
      layers: [emptyJsonDescriptor()],
      subject: manifestDescriptor(subject),
    });
    const res = await c.pushManifest(mrepo, m.digest, m);
    assertStatus(res, 201);
    assert.equal(res.headers.get('oci-subject'), subject.digest);
  });

  it('an index with a subject: 201 and OCI-Subject', async () => {
    const subject = ociImage();
    assertStatus(await c.pushManifest(mrepo, subject.digest, subject), 201);
    const child = imageManifest({
      config: emptyJsonDescriptor(),
      layers: [emptyJsonDescriptor()],
      artifactType: 'application/vnd.example.part',
    });
    assertStatus(await c.pushManifest(mrepo, child.digest, child), 201);
    const idx = imageIndex({
      manifests: [manifestDescriptor(child)],
      subject: manifestDescriptor(subject),
      artifactType: 'application/vnd.example.bundle',
    });
    const res = await c.pushManifest(mrepo, idx.digest, idx);
    assertStatus(res, 201);
    assert.equal(res.headers.get('oci-subject'), subject.digest);
  });

  it('a manifest without a subject has no OCI-Subject header', async () => {
    const m = imageManifest({ config: descriptor(MEDIA.ociConfig, config), annotations: { subject: 'none' } });
    const res = await c.pushManifest(mrepo, 'no-subject', m);
    assertStatus(res, 201);
    assert.equal(res.headers.get('oci-subject'), null);
  });
});
