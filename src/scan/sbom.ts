// A CycloneDX 1.6 JSON SBOM for an image's inventory: the image as metadata.component (a container, named by its
// digest), its operating system and packages as components with package URLs. The same inventory always gives
// the same bytes (components sorted, serial number derived from the content, timestamp only when given).
import { createHash } from 'node:crypto';
import type { Inventory } from './inventory/index.ts';
import type { Package } from './inventory/package.ts';
import { purl } from './inventory/purl.ts';

export interface SbomImage {
  /** The image manifest's digest, `sha256:...`. */
  digest: string;
  /** The repository name. */
  repository: string;
  /** The registry host, for the image's purl `repository_url` qualifier. */
  registry?: string;
  tags?: string[];
}

export interface SbomOptions {
  /** The scan time (ISO 8601); left out when not given, so that the document is reproducible. */
  timestamp?: string;
  toolVersion?: string;
}

export { CYCLONEDX_MEDIA_TYPE } from './media-types.ts';

interface Property {
  name: string;
  value: string;
}

interface Component {
  type: 'library' | 'operating-system' | 'container';
  'bom-ref': string;
  name: string;
  version?: string;
  purl?: string;
  description?: string;
  properties?: Property[];
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A UUID (version 8, RFC 9562 "custom") made of a SHA-256 of the content, for a reproducible serialNumber. */
function contentUuid(text: string): string {
  const h = createHash('sha256').update(text).digest();
  h[6] = (h[6] & 0x0f) | 0x80;
  h[8] = (h[8] & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function packageComponent(p: Package, ref: string): Component {
  const properties: Property[] = [
    { name: 'berth:package:type', value: p.type },
    { name: 'berth:package:ecosystem', value: p.ecosystem },
    { name: 'berth:package:path', value: p.path },
  ];
  if (p.sourceName !== undefined && p.sourceName !== p.name) properties.push({ name: 'berth:package:source_name', value: p.sourceName });
  if (p.sourceVersion !== undefined && p.sourceVersion !== p.version)
    properties.push({ name: 'berth:package:source_version', value: p.sourceVersion });
  if (p.arch !== undefined) properties.push({ name: 'berth:package:arch', value: p.arch });
  return { type: 'library', 'bom-ref': ref, name: p.name, version: p.version, purl: p.purl, properties };
}

export function imagePurl(image: SbomImage): string {
  const name = image.repository.split('/').at(-1) ?? image.repository;
  return purl('oci', undefined, name, image.digest, {
    repository_url: image.registry ? `${image.registry}/${image.repository}` : image.repository,
  });
}

/** The SBOM document (an object ready for JSON.stringify). */
export function cycloneDx(image: SbomImage, inv: Inventory, options: SbomOptions = {}): Record<string, unknown> {
  const packages = [...inv.packages].sort((a, b) => cmp(a.purl, b.purl) || cmp(a.path, b.path));
  const seen = new Map<string, number>();
  const components: Component[] = [];
  if (inv.os) {
    const os: Component = { type: 'operating-system', 'bom-ref': `os:${inv.os.id}`, name: inv.os.id };
    if (inv.os.versionId) os.version = inv.os.versionId;
    if (inv.os.prettyName) os.description = inv.os.prettyName;
    if (inv.os.ecosystem) os.properties = [{ name: 'berth:os:ecosystem', value: inv.os.ecosystem }];
    components.push(os);
  }
  for (const p of packages) {
    // The same package may be found in several places (a lockfile and node_modules): each is its own component.
    const n = seen.get(p.purl) ?? 0;
    seen.set(p.purl, n + 1);
    components.push(packageComponent(p, n === 0 ? p.purl : `${p.purl}#${n}`));
  }
  const imageRef = imagePurl(image);
  const metadataComponent: Component = {
    type: 'container',
    'bom-ref': imageRef,
    name: image.repository,
    version: image.digest,
    purl: imageRef,
  };
  if (image.tags && image.tags.length > 0)
    metadataComponent.properties = [...image.tags].sort().map((t) => ({ name: 'berth:image:tag', value: t }));
  const metadata: Record<string, unknown> = {
    ...(options.timestamp ? { timestamp: options.timestamp } : {}),
    tools: { components: [{ type: 'application', name: 'berth', ...(options.toolVersion ? { version: options.toolVersion } : {}) }] },
    component: metadataComponent,
  };
  const dependencies = [{ ref: imageRef, dependsOn: components.map((c) => c['bom-ref']) }];
  const body = { metadata, components, dependencies };
  return {
    $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: `urn:uuid:${contentUuid(JSON.stringify({ digest: image.digest, components, tools: metadata.tools }))}`,
    version: 1,
    ...body,
  };
}

/** The SBOM as bytes: JSON with a trailing newline. */
export function cycloneDxJson(image: SbomImage, inv: Inventory, options: SbomOptions = {}): Buffer {
  return Buffer.from(`${JSON.stringify(cycloneDx(image, inv, options), null, 2)}\n`);
}
