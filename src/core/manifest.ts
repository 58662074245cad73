// Manifest parsing and validation: OCI image manifest and index, Docker schema 2 manifest and manifest list,
// OCI artifacts. Pure: no I/O. What it returns is what the core needs to check references and answer referrers.
import { isValidDigest } from './grammar.ts';
import { fail } from './errors.ts';
import { JsonTooDeepError, parseUntrustedJson } from './json-limits.ts';

export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
} as const;

export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MediaType.ociManifest,
  MediaType.ociIndex,
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
];

/** ECR's manifest size limit. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** Layer media types whose blobs live elsewhere (`urls`) and so need not be in the registry. */
export const NON_DISTRIBUTABLE =
  /^application\/vnd\.(docker\.image\.rootfs\.foreign\.diff\.tar(\.gzip)?|oci\.image\.layer\.nondistributable\.v1\.tar(\+gzip|\+zstd)?)$/;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
  platform?: unknown;
}

export interface ParsedManifest {
  mediaType: string;
  /** The artifact type the referrers API reports: `artifactType`, else the config's media type (image manifests). */
  artifactType?: string;
  /** Blobs the manifest references (config and distributable layers): must exist in the repository. */
  blobs: string[];
  /** Manifests an index references: must exist in the repository; they are kept alive by the index. */
  manifests: string[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
  configDigest?: string;
  configMediaType?: string;
  /** Sum of the layers' sizes (what ECR reports as an image's size); 0 for an index. */
  layersSize: number;
}

const isIndex = (t: string) => t === MediaType.ociIndex || t === MediaType.dockerManifestList;

/**
 * Parses and validates manifest bytes. `contentType` is the request's Content-Type (may be empty).
 * Throws MANIFEST_INVALID with a message that says what is wrong.
 */
export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  try {
    // Nesting is bounded before parsing: a manifest needs a handful of levels, and a deep one would stall the
    // parser and every walk of the document after it.
    doc = parseUntrustedJson(body);
  } catch (e) {
    if (e instanceof JsonTooDeepError) return fail('MANIFEST_INVALID', `manifest is not valid: ${e.message}`);
    return fail('MANIFEST_INVALID', `manifest is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) return fail('MANIFEST_INVALID', 'manifest must be a JSON object');
  if (doc.schemaVersion !== 2) {
    return fail(
      'MANIFEST_INVALID',
      `unsupported manifest schemaVersion ${JSON.stringify(doc.schemaVersion)}: only schemaVersion 2 is accepted`,
    );
  }
  const declared = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  if (doc.mediaType !== undefined && declared === undefined) return fail('MANIFEST_INVALID', 'manifest mediaType must be a string');
  const header = normalizeContentType(contentType);
  if (declared && header && header !== declared && MANIFEST_MEDIA_TYPES.includes(header)) {
    return fail('MANIFEST_INVALID', `manifest mediaType ${declared} does not match Content-Type ${header}`);
  }
  // The media type: the document's own, else the Content-Type, else inferred from the shape (OCI allows omitting it).
  let mediaType = declared ?? (header && MANIFEST_MEDIA_TYPES.includes(header) ? header : undefined);
  if (!mediaType) mediaType = Array.isArray(doc.manifests) ? MediaType.ociIndex : MediaType.ociManifest;
  if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) {
    return fail('MANIFEST_INVALID', `unsupported manifest media type ${mediaType}`);
  }

  const subject = doc.subject === undefined ? undefined : descriptor(doc.subject, 'subject');
  const annotations = stringMap(doc.annotations, 'annotations');
  if (doc.artifactType !== undefined && typeof doc.artifactType !== 'string') {
    return fail('MANIFEST_INVALID', 'artifactType must be a string');
  }
  const artifactType = doc.artifactType as string | undefined;

  if (isIndex(mediaType)) {
    if (!Array.isArray(doc.manifests)) return fail('MANIFEST_INVALID', 'index must have a manifests array');
    const children = doc.manifests.map((d, i) => descriptor(d, `manifests[${i}]`));
    return { mediaType, artifactType, blobs: [], manifests: unique(children.map((d) => d.digest)), subject, annotations, layersSize: 0 };
  }

  if (doc.manifests !== undefined) return fail('MANIFEST_INVALID', `a ${mediaType} must not have a manifests field`);
  if (doc.config === undefined) return fail('MANIFEST_INVALID', 'image manifest must have a config descriptor');
  const config = descriptor(doc.config, 'config');
  if (doc.layers !== undefined && !Array.isArray(doc.layers)) return fail('MANIFEST_INVALID', 'layers must be an array');
  if (mediaType === MediaType.dockerManifest && !Array.isArray(doc.layers)) {
    return fail('MANIFEST_INVALID', 'docker image manifest must have a layers array');
  }
  const layers = ((doc.layers as unknown[] | undefined) ?? []).map((d, i) => descriptor(d, `layers[${i}]`));
  const blobs = [config.digest, ...layers.filter((l) => !NON_DISTRIBUTABLE.test(l.mediaType)).map((l) => l.digest)];
  return {
    mediaType,
    artifactType: artifactType ?? (mediaType === MediaType.ociManifest ? config.mediaType : undefined),
    blobs: unique(blobs),
    manifests: [],
    subject,
    annotations,
    configDigest: config.digest,
    configMediaType: config.mediaType,
    layersSize: layers.reduce((n, l) => n + l.size, 0),
  };
}

/** The bare media type of a Content-Type header (parameters dropped, lower-cased). */
export function normalizeContentType(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const t = value.split(';')[0].trim().toLowerCase();
  return t || undefined;
}

function descriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) return fail('MANIFEST_INVALID', `${where} must be a descriptor object`);
  const { mediaType, digest, size } = value;
  if (typeof mediaType !== 'string' || mediaType === '') return fail('MANIFEST_INVALID', `${where}.mediaType must be a non-empty string`);
  if (typeof digest !== 'string' || !isValidDigest(digest))
    return fail('MANIFEST_INVALID', `${where}.digest ${JSON.stringify(digest)} is not a valid digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    return fail('MANIFEST_INVALID', `${where}.size must be a non-negative integer`);
  if (value.artifactType !== undefined && typeof value.artifactType !== 'string')
    return fail('MANIFEST_INVALID', `${where}.artifactType must be a string`);
  if (value.urls !== undefined && !(Array.isArray(value.urls) && value.urls.every((u) => typeof u === 'string'))) {
    return fail('MANIFEST_INVALID', `${where}.urls must be an array of strings`);
  }
  return {
    mediaType,
    digest,
    size,
    artifactType: value.artifactType as string | undefined,
    annotations: stringMap(value.annotations, `${where}.annotations`),
    urls: value.urls as string[] | undefined,
    platform: value.platform,
  };
}

function stringMap(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    return fail('MANIFEST_INVALID', `${where} must be a map of strings`);
  }
  return value as Record<string, string>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const unique = (xs: string[]) => [...new Set(xs)];
