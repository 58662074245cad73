// Fuzzing manifest and index parsing (src/core/manifest.ts), which sees every manifest PUT and PutImage body: any
// bytes are either a parsed manifest or a RegistryError MANIFEST_INVALID; generated valid manifests and indexes
// of every media type parse to exactly the references they hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaType, parseManifest, type ParsedManifest } from '../../src/core/manifest.ts';
import { RegistryError } from '../../src/core/errors.ts';
import { FUZZ_TEST_TIMEOUT, assertAccepted, assertOwnError, attempt, check, deeplyNested, fc, mutate, mutation } from '../helpers/fuzz.ts';

const parse = (body: Buffer, contentType: string | undefined) => attempt({ body, contentType }, () => parseManifest(body, contentType));
const invalidOnly = (e: RegistryError) => assert.equal(e.code, 'MANIFEST_INVALID', e.message);

const contentType = fc.option(
  fc.oneof(
    fc.constantFrom(
      MediaType.ociManifest,
      MediaType.ociIndex,
      MediaType.dockerManifest,
      MediaType.dockerManifestList,
      'application/json',
      '',
    ),
    fc.string(),
  ),
  { nil: undefined },
);

const digest = fc.oneof(
  fc.stringMatching(/^[a-f0-9]{64}$/).map((h) => `sha256:${h}`),
  fc.stringMatching(/^[a-f0-9]{128}$/).map((h) => `sha512:${h}`),
);
const annotations = fc.option(fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), { maxKeys: 3 }), {
  nil: undefined,
});
const layerType = fc.constantFrom(
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
);
const descriptor = (mediaType: fc.Arbitrary<string>) =>
  fc.record(
    {
      mediaType,
      digest,
      size: fc.nat({ max: 2 ** 40 }),
      annotations,
      urls: fc.option(fc.array(fc.webUrl(), { maxLength: 2 }), { nil: undefined }),
    },
    { requiredKeys: ['mediaType', 'digest', 'size'] },
  );

const imageManifest = fc
  .record({
    docker: fc.boolean(),
    declare: fc.boolean(),
    config: descriptor(
      fc.constantFrom(
        'application/vnd.oci.image.config.v1+json',
        'application/vnd.docker.container.image.v1+json',
        'application/vnd.example.sbom+json',
      ),
    ),
    layers: fc.array(descriptor(layerType), { maxLength: 6 }),
    subject: fc.option(descriptor(fc.constant(MediaType.ociManifest)), { nil: undefined }),
    artifactType: fc.option(fc.constantFrom('application/vnd.example.sbom', 'application/spdx+json'), { nil: undefined }),
    annotations,
  })
  .map((m) => {
    const mediaType = m.docker ? MediaType.dockerManifest : MediaType.ociManifest;
    const doc: Record<string, unknown> = { schemaVersion: 2 };
    if (m.declare || m.docker) doc.mediaType = mediaType;
    doc.config = m.config;
    doc.layers = m.layers;
    if (!m.docker) {
      if (m.subject) doc.subject = m.subject;
      if (m.artifactType) doc.artifactType = m.artifactType;
    }
    if (m.annotations) doc.annotations = m.annotations;
    return { doc, mediaType };
  });

const platform = fc.record({ architecture: fc.constantFrom('amd64', 'arm64', 's390x'), os: fc.constantFrom('linux', 'windows') });
const imageIndex = fc
  .record({
    docker: fc.boolean(),
    declare: fc.boolean(),
    manifests: fc.array(
      fc
        .tuple(descriptor(fc.constantFrom(MediaType.ociManifest, MediaType.dockerManifest)), platform)
        .map(([d, p]) => ({ ...d, platform: p })),
      { maxLength: 6 },
    ),
    annotations,
  })
  .map((m) => {
    const mediaType = m.docker ? MediaType.dockerManifestList : MediaType.ociIndex;
    const doc: Record<string, unknown> = { schemaVersion: 2 };
    if (m.declare || m.docker) doc.mediaType = mediaType;
    doc.manifests = m.manifests;
    if (m.annotations) doc.annotations = m.annotations;
    return { doc, mediaType };
  });

const validManifest = fc.oneof(imageManifest, imageIndex);
const foreign = /foreign|nondistributable/;

function expectedOf(doc: Record<string, any>): Pick<ParsedManifest, 'blobs' | 'manifests' | 'layersSize'> {
  if (doc.manifests) return { blobs: [], manifests: [...new Set<string>(doc.manifests.map((d: any) => d.digest))], layersSize: 0 };
  const layers = doc.layers as { mediaType: string; digest: string; size: number }[];
  return {
    blobs: [...new Set([doc.config.digest, ...layers.filter((l) => !foreign.test(l.mediaType)).map((l) => l.digest)])],
    manifests: [],
    layersSize: layers.reduce((n, l) => n + l.size, 0),
  };
}

test('any bytes are a manifest or MANIFEST_INVALID', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  const body = fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
    fc.string({ unit: 'binary' }).map((s) => Buffer.from(s)),
    fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))),
    fc
      .record(
        {
          schemaVersion: fc.constantFrom(2, 1, '2'),
          mediaType: fc.anything(),
          config: fc.anything(),
          layers: fc.anything(),
          manifests: fc.anything(),
          subject: fc.anything(),
          annotations: fc.anything(),
        },
        { requiredKeys: [] },
      )
      .map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  );
  check(
    fc.property(body, contentType, (b, ct) => {
      assertOwnError(parse(b, ct), RegistryError, invalidOnly);
    }),
  );
});

test('generated valid manifests and indexes parse to the references they hold', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  check(
    fc.property(validManifest, fc.boolean(), ({ doc, mediaType }, sendType) => {
      const parsed = assertAccepted(
        parse(Buffer.from(JSON.stringify(doc)), sendType ? `${mediaType}; charset=utf-8` : undefined),
        `a valid ${mediaType}`,
      );
      assert.equal(parsed.mediaType, mediaType);
      assert.deepEqual({ blobs: parsed.blobs, manifests: parsed.manifests, layersSize: parsed.layersSize }, expectedOf(doc));
      if (!doc.manifests) assert.equal(parsed.configDigest, (doc.config as { digest: string }).digest);
      assert.deepEqual(parsed.annotations, doc.annotations && JSON.parse(JSON.stringify(doc.annotations)));
      assert.equal(parsed.subject?.digest, (doc.subject as { digest?: string } | undefined)?.digest);
    }),
  );
});

test('mutated valid manifests parse or fail with MANIFEST_INVALID', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  check(
    fc.property(validManifest, fc.array(mutation(), { minLength: 1, maxLength: 3 }), contentType, ({ doc }, mutations, ct) => {
      const outcome = parse(Buffer.from(JSON.stringify(mutations.reduce((d, m) => mutate(d, m), doc as any))), ct);
      assertOwnError(outcome, RegistryError, invalidOnly);
      // What is accepted references only valid digests, whatever the mutation did.
      if (outcome.ok)
        for (const d of [...outcome.value.blobs, ...outcome.value.manifests]) assert.match(d, /^sha(256:[a-f0-9]{64}|512:[a-f0-9]{128})$/);
    }),
  );
});

test('a manifest whose digests are damaged is refused', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  const damage = fc.oneof(
    fc.constant((d: string) => d.toUpperCase()),
    fc.constant((d: string) => d.slice(0, -1)),
    fc.constant((d: string) => `${d}0`),
    fc.constant((d: string) => d.replace(/^sha\d+/, 'md5')),
    fc.string().map((s) => () => s),
  );
  check(
    fc.property(validManifest, fc.nat(), damage, ({ doc }, pick, hurt) => {
      const text = JSON.stringify(doc);
      const digests = [...text.matchAll(/"digest":"(sha\d+:[a-f0-9]+)"/g)];
      if (digests.length === 0) return;
      const m = digests[pick % digests.length];
      const bad = hurt(m[1]);
      if (/^sha(256:[a-f0-9]{64}|512:[a-f0-9]{128})$/.test(bad)) return;
      const damaged = text.slice(0, m.index) + `"digest":${JSON.stringify(bad)}` + text.slice(m.index + m[0].length);
      const outcome = parse(Buffer.from(damaged), undefined);
      assert.equal(outcome.ok, false, `a manifest with digest ${JSON.stringify(bad)} was accepted`);
      assertOwnError(outcome, RegistryError, invalidOnly);
    }),
  );
});

test('deeply nested documents are refused or parsed, never a crash', () => {
  check(
    fc.property(
      fc.integer({ min: 1, max: 20_000 }),
      fc.boolean(),
      fc.constantFrom('annotations', 'config', 'layers', 'platform'),
      (depth, objects, where) => {
        const nested = deeplyNested(depth, '"x"', objects);
        const text =
          where === 'platform'
            ? `{"schemaVersion":2,"manifests":[{"mediaType":"${MediaType.ociManifest}","digest":"sha256:${'a'.repeat(64)}","size":1,"platform":${nested}}]}`
            : `{"schemaVersion":2,"${where}":${nested}}`;
        assertOwnError(parse(Buffer.from(text), undefined), RegistryError, invalidOnly);
      },
    ),
    100,
  );
});
