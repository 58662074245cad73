import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaType, parseManifest } from '../../src/core/manifest.ts';
import { RegistryError } from '../../src/core/errors.ts';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const desc = (mediaType: string, digest: string, size = 1) => ({ mediaType, digest, size });
const buf = (o: unknown) => Buffer.from(JSON.stringify(o));

const image = {
  schemaVersion: 2,
  mediaType: MediaType.ociManifest,
  config: desc('application/vnd.oci.image.config.v1+json', d('a')),
  layers: [desc('application/vnd.oci.image.layer.v1.tar+gzip', d('b')), desc('application/vnd.oci.image.layer.v1.tar+gzip', d('b'))],
};

function invalid(body: Buffer, contentType: string | undefined, pattern: RegExp) {
  assert.throws(
    () => parseManifest(body, contentType),
    (e: unknown) => {
      assert.ok(e instanceof RegistryError);
      assert.equal(e.code, 'MANIFEST_INVALID');
      assert.match(e.message, pattern);
      return true;
    },
  );
}

test('an OCI image manifest references its config and layers once each', () => {
  const m = parseManifest(buf(image), MediaType.ociManifest);
  assert.equal(m.mediaType, MediaType.ociManifest);
  assert.deepEqual(m.blobs, [d('a'), d('b')]);
  assert.deepEqual(m.manifests, []);
  assert.equal(m.artifactType, 'application/vnd.oci.image.config.v1+json');
  assert.equal(m.configDigest, d('a'));
});

test('an OCI artifact reports its artifactType and subject', () => {
  const artifact = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType: 'application/vnd.example.sbom',
    config: { mediaType: MediaType.ociEmpty, digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 },
    layers: [],
    subject: desc(MediaType.ociManifest, d('c'), 10),
    annotations: { 'org.example': 'x' },
  };
  const m = parseManifest(buf(artifact), MediaType.ociManifest);
  assert.equal(m.artifactType, 'application/vnd.example.sbom');
  assert.equal(m.subject?.digest, d('c'));
  assert.deepEqual(m.annotations, { 'org.example': 'x' });
});

test('indexes and Docker manifest lists reference child manifests', () => {
  for (const mediaType of [MediaType.ociIndex, MediaType.dockerManifestList]) {
    const index = { schemaVersion: 2, mediaType, manifests: [desc(MediaType.ociManifest, d('1')), desc(MediaType.ociManifest, d('2'))] };
    const m = parseManifest(buf(index), mediaType);
    assert.deepEqual(m.manifests, [d('1'), d('2')]);
    assert.deepEqual(m.blobs, []);
  }
});

test('a Docker schema 2 manifest; foreign layers need not be in the registry', () => {
  const docker = {
    schemaVersion: 2,
    mediaType: MediaType.dockerManifest,
    config: desc('application/vnd.docker.container.image.v1+json', d('a')),
    layers: [
      desc('application/vnd.docker.image.rootfs.diff.tar.gzip', d('b')),
      { ...desc('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', d('f')), urls: ['https://example.com/x'] },
    ],
  };
  const m = parseManifest(buf(docker), MediaType.dockerManifest);
  assert.deepEqual(m.blobs, [d('a'), d('b')]);
  assert.equal(m.artifactType, undefined);
});

test('the media type comes from the document, else Content-Type, else the shape', () => {
  const { mediaType: _, ...bare } = image;
  assert.equal(parseManifest(buf(bare), MediaType.ociManifest).mediaType, MediaType.ociManifest);
  assert.equal(parseManifest(buf(bare), undefined).mediaType, MediaType.ociManifest);
  assert.equal(parseManifest(buf({ schemaVersion: 2, manifests: [] }), undefined).mediaType, MediaType.ociIndex);
  assert.equal(parseManifest(buf(image), 'application/vnd.oci.image.manifest.v1+json; charset=utf-8').mediaType, MediaType.ociManifest);
});

test('invalid manifests are refused with a message that says what is wrong', () => {
  invalid(Buffer.from('{not json'), MediaType.ociManifest, /not valid JSON/);
  invalid(buf([1]), MediaType.ociManifest, /JSON object/);
  invalid(buf({ ...image, schemaVersion: 1 }), MediaType.ociManifest, /schemaVersion/);
  invalid(buf(image), MediaType.dockerManifest, /does not match Content-Type/);
  invalid(
    buf({ ...image, mediaType: 'application/vnd.docker.distribution.manifest.v1+prettyjws' }),
    undefined,
    /unsupported manifest media type/,
  );
  invalid(buf({ ...image, config: undefined }), MediaType.ociManifest, /config descriptor/);
  invalid(buf({ ...image, config: desc('x', 'sha256:nothex') }), MediaType.ociManifest, /config\.digest/);
  invalid(buf({ ...image, layers: [{ ...desc('x', d('a')), size: -1 }] }), MediaType.ociManifest, /layers\[0\]\.size/);
  invalid(buf({ ...image, layers: [{ digest: d('a'), size: 1 }] }), MediaType.ociManifest, /layers\[0\]\.mediaType/);
  invalid(buf({ ...image, layers: 'x' }), MediaType.ociManifest, /layers must be an array/);
  invalid(buf({ ...image, annotations: { a: 1 } }), MediaType.ociManifest, /annotations/);
  invalid(buf({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: 'x' }), MediaType.ociIndex, /manifests array/);
  invalid(
    buf({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ mediaType: MediaType.ociManifest, size: 1 }] }),
    MediaType.ociIndex,
    /manifests\[0\]\.digest/,
  );
  invalid(buf({ ...image, subject: { mediaType: 'x', digest: 'bad', size: 1 } }), MediaType.ociManifest, /subject\.digest/);
  invalid(buf({ ...image, artifactType: 5 }), MediaType.ociManifest, /artifactType/);
});
