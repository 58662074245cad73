import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import { ImageFiles, type KeptFile } from '../../src/scan/layers.ts';
import { inventory } from '../../src/scan/inventory/index.ts';
import { CYCLONEDX_MEDIA_TYPE, cycloneDx, cycloneDxJson, imagePurl } from '../../src/scan/sbom.ts';
import { DEBIAN_OS_RELEASE, DPKG_STATUS, PACKAGE_LOCK_V3 } from '../helpers/scan-fixtures.ts';

const DIGEST = 'sha256:8f2a1e6d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5';

/** The official CycloneDX 1.6 JSON schema (shipped by @cyclonedx/cyclonedx-library), compiled with ajv. */
function cycloneDxValidator(): (doc: unknown) => string[] {
  const dir = join(dirname(createRequire(import.meta.url).resolve('@cyclonedx/cyclonedx-library/package.json')), 'res', 'schema');
  const load = (file: string): Record<string, unknown> => ({
    ...JSON.parse(readFileSync(join(dir, file), 'utf8')),
    $id: `http://cyclonedx.org/schema/${file}`,
  });
  const ajv = new Ajv({ strict: false, allErrors: true, formats: { 'idn-email': true, 'iri-reference': true } });
  ((ajvFormats as unknown as { default?: (a: Ajv) => void }).default ?? (ajvFormats as unknown as (a: Ajv) => void))(ajv);
  ajv.addSchema(load('spdx.SNAPSHOT.schema.json'));
  ajv.addSchema(load('jsf-0.82.SNAPSHOT.schema.json'));
  const validate = ajv.compile(load('bom-1.6.SNAPSHOT.schema.json'));
  return (doc) => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
}

async function debianInventory(): Promise<Awaited<ReturnType<typeof inventory>>> {
  const map = new Map<string, KeptFile>();
  const add = (path: string, text: string): void => void map.set(path, { path, layer: 0, data: Buffer.from(text) });
  add('etc/os-release', DEBIAN_OS_RELEASE);
  add('var/lib/dpkg/status', DPKG_STATUS);
  add('srv/web/package-lock.json', PACKAGE_LOCK_V3);
  add('srv/web/node_modules/lodash/package.json', JSON.stringify({ name: 'lodash', version: '4.17.20' }));
  return inventory(new ImageFiles(map));
}

test('CycloneDX 1.6: the image as metadata.component, the OS and every package as components with purls', async () => {
  const inv = await debianInventory();
  const bom = cycloneDx({ digest: DIGEST, repository: 'team/web', registry: 'registry.example:5000', tags: ['v2', 'latest'] }, inv, {
    timestamp: '2026-12-07T15:00:00Z',
    toolVersion: '0.1.0',
  }) as any;
  assert.equal(CYCLONEDX_MEDIA_TYPE, 'application/vnd.cyclonedx+json');
  assert.equal(bom.bomFormat, 'CycloneDX');
  assert.equal(bom.specVersion, '1.6');
  assert.equal(bom.version, 1);
  assert.match(bom.serialNumber, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(bom.metadata.timestamp, '2026-12-07T15:00:00Z');
  assert.deepEqual(bom.metadata.tools, { components: [{ type: 'application', name: 'berth', version: '0.1.0' }] });
  assert.deepEqual(bom.metadata.component, {
    type: 'container',
    'bom-ref':
      'pkg:oci/web@sha256%3A8f2a1e6d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5?repository_url=registry.example%3A5000%2Fteam%2Fweb',
    name: 'team/web',
    version: DIGEST,
    purl: 'pkg:oci/web@sha256%3A8f2a1e6d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5?repository_url=registry.example%3A5000%2Fteam%2Fweb',
    properties: [
      { name: 'berth:image:tag', value: 'latest' },
      { name: 'berth:image:tag', value: 'v2' },
    ],
  });
  assert.deepEqual(bom.components[0], {
    type: 'operating-system',
    'bom-ref': 'os:debian',
    name: 'debian',
    version: '12',
    description: 'Debian GNU/Linux 12 (bookworm)',
    properties: [{ name: 'berth:os:ecosystem', value: 'Debian:12' }],
  });
  const refs = bom.components.map((c: any) => c['bom-ref']);
  assert.equal(new Set(refs).size, refs.length, 'bom-refs are unique');
  assert.deepEqual(
    bom.components.slice(1).map((c: any) => `${c.name}@${c.version}`),
    [
      'libbz2-1.0@1.0.8-5+b1',
      'libssl3@3.0.11-1~deb12u2',
      'tar@1.34+dfsg-1.2+deb12u1',
      'zlib1g@1:1.2.13.dfsg-1',
      '@babel/core@7.23.2',
      'lodash@4.17.11',
      'lodash@4.17.20',
      'lodash@4.17.20',
      'lodash@4.17.4',
    ],
  );
  const bz2 = bom.components.find((c: any) => c.name === 'libbz2-1.0');
  assert.equal(bz2.purl, 'pkg:deb/debian/libbz2-1.0@1.0.8-5%2Bb1?arch=amd64&distro=debian-12&upstream=bzip2%401.0.8-5');
  assert.deepEqual(bz2.properties, [
    { name: 'berth:package:type', value: 'deb' },
    { name: 'berth:package:ecosystem', value: 'Debian:12' },
    { name: 'berth:package:path', value: '/var/lib/dpkg/status' },
    { name: 'berth:package:source_name', value: 'bzip2' },
    { name: 'berth:package:source_version', value: '1.0.8-5' },
    { name: 'berth:package:arch', value: 'amd64' },
  ]);
  assert.deepEqual(bom.dependencies, [{ ref: bom.metadata.component['bom-ref'], dependsOn: refs }]);
  assert.deepEqual(cycloneDxValidator()(bom), [], 'valid against the CycloneDX 1.6 JSON schema');
  assert.notDeepEqual(cycloneDxValidator()({ ...bom, components: [{ name: 'no type' }] }), [], 'the validator does refuse');
});

test('the same inventory gives the same bytes; another image or inventory another serial number', async () => {
  const image = { digest: DIGEST, repository: 'web' };
  const a = cycloneDxJson(image, await debianInventory());
  const b = cycloneDxJson(image, await debianInventory());
  assert.ok(a.equals(b));
  const parsed = JSON.parse(a.toString());
  assert.equal(parsed.metadata.timestamp, undefined);
  assert.equal(
    imagePurl(image),
    'pkg:oci/web@sha256%3A8f2a1e6d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5?repository_url=web',
  );
  const other = JSON.parse(cycloneDxJson({ ...image, digest: DIGEST.replace('8f2a', '0000') }, await debianInventory()).toString());
  assert.notEqual(other.serialNumber, parsed.serialNumber);
  const fewer = await debianInventory();
  fewer.packages.pop();
  assert.notEqual(JSON.parse(cycloneDxJson(image, fewer).toString()).serialNumber, parsed.serialNumber);
  const empty = JSON.parse(cycloneDxJson(image, { packages: [], errors: [] }).toString());
  assert.deepEqual(empty.components, []);
});
