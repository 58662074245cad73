// A tiny OCI distribution client for the integration tests: raw HTTP over global fetch (undici), with the Basic
// auth header of a started Berth, digest helpers, random blobs, and builders for the manifest kinds the registry
// must store byte for byte. Nothing here hides a status code: every call returns the response as it came.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { Berth } from './berth.ts';

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  octetStream: 'application/octet-stream',
} as const;

/** Every error code the distribution spec v1.1 defines (code-1..code-14), plus the two legacy Docker codes it
 * mentions as OPTIONAL (TAG_INVALID, MANIFEST_UNVERIFIED): what the conformance suite accepts in an error body. */
export const SPEC_ERROR_CODES = [
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'MANIFEST_UNVERIFIED',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'TAG_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
  'TOOMANYREQUESTS',
];

export type Body = Uint8Array | string;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  [extra: string]: unknown;
}

/** A blob or manifest as bytes with its digest: what a test pushes and later compares against. */
export interface Content {
  bytes: Buffer;
  digest: string;
  size: number;
}

/** A manifest ready to PUT: its bytes, digest and the media type to send as Content-Type. */
export interface Manifest extends Content {
  mediaType: string;
}

export interface OciResponse {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The `Location` header resolved against the registry and reduced to path + query ("" when absent). */
  location: string;
  text: () => string;
  json: <T = any>() => T;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: Body;
  /** Authorization header to send; `null` sends none. Defaults to the registry's root key. */
  auth?: string | null;
}

export interface OciClient {
  url: string;
  auth: string;
  request: (method: string, path: string, opts?: RequestOptions) => Promise<OciResponse>;
  get: (path: string, opts?: RequestOptions) => Promise<OciResponse>;
  head: (path: string, opts?: RequestOptions) => Promise<OciResponse>;
  put: (path: string, opts?: RequestOptions) => Promise<OciResponse>;
  post: (path: string, opts?: RequestOptions) => Promise<OciResponse>;
  patch: (path: string, opts?: RequestOptions) => Promise<OciResponse>;
  delete: (path: string, opts?: RequestOptions) => Promise<OciResponse>;
  /** POST an upload session, then PUT the whole blob with ?digest= (the suite's own way to populate blobs). */
  pushBlob: (repo: string, blob: Body) => Promise<OciResponse>;
  /** PUT a manifest under a tag or digest, with its media type as Content-Type. */
  pushManifest: (repo: string, reference: string, manifest: Manifest) => Promise<OciResponse>;
}

export function toBuffer(body: Body): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

export function sha256(body: Body): string {
  return 'sha256:' + createHash('sha256').update(toBuffer(body)).digest('hex');
}

export function content(body: Body): Content {
  const bytes = toBuffer(body);
  return { bytes, digest: sha256(bytes), size: bytes.length };
}

export function randomBlob(size: number): Content {
  return content(randomBytes(size));
}

/** The descriptor of some content under a media type. */
export function descriptor(mediaType: string, c: Content, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType, digest: c.digest, size: c.size, ...extra };
}

/** The suite's layer: a small gzip tarball holding test.txt. */
export const SUITE_LAYER: Content = content(
  Buffer.from(
    'H4sIAAAAAAAAA+3OQQrCMBCF4a49xXgBSUnaHMCTRBptQRNpp6i3t0UEV7oqIv7fYgbmzeJpHHSjVy0' +
      'WZCa1c/MufWVe94N3RWlrZ72x3k/30nhbFWKWLPU0Dhp6keJ8im//PuU/6pZH2WVtYx8b0Sz7LjWSR5VLG6YRBumSzOlGtjkd+qD' +
      'jMWiX07Befbs7AAAAAAAAAAAAAAAAAPyzO34MnqoAKAAA',
    'base64',
  ),
);

/** A descriptor as the conformance suite's Go types serialize it: an unknown `newUnspecifiedField` always present
 * (null unless given, as Go writes a nil []byte), and `data` (base64) when given. Registries must store and serve
 * manifests carrying such fields. */
export function suiteDescriptor(mediaType: string, c: Content, opts: { data?: Buffer; unspecified?: Buffer } = {}): Descriptor {
  const d: Descriptor = { mediaType, digest: c.digest, size: c.size };
  if (opts.data) d.data = opts.data.toString('base64');
  d.newUnspecifiedField = opts.unspecified ? opts.unspecified.toString('base64') : null;
  return d;
}

/** The suite's config descriptor: the config inlined as `data`, and a non-null unknown field. */
export function suiteConfigDescriptor(config: Content): Descriptor {
  return suiteDescriptor(MEDIA.ociConfig, config, { data: config.bytes, unspecified: Buffer.from('hello world') });
}

/** The OCI empty JSON blob `{}` and its well-known digest. */
export const EMPTY_JSON: Content = content('{}');
export const EMPTY_JSON_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
export const emptyJsonDescriptor = (): Descriptor => descriptor(MEDIA.ociEmpty, EMPTY_JSON);

/** A config blob unique to this run (a random author, as the suite does). */
export function configBlob(): Content {
  const config = {
    author: randomBytes(8).toString('hex'),
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [] as string[] },
  };
  return content(JSON.stringify(config, null, '\t'));
}

/** Serialize like Go's json.MarshalIndent(v, "", "\t"): the byte form is what the digest is of. */
function manifestOf(mediaType: string, doc: Record<string, unknown>): Manifest {
  const c = content(JSON.stringify(doc, null, '\t'));
  return { ...c, mediaType };
}

export interface ImageManifestInput {
  config: Descriptor;
  layers?: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
  /** Leave out the mediaType field (it is OPTIONAL in an OCI manifest; the Content-Type still says it). */
  omitMediaType?: boolean;
}

export function imageManifest(input: ImageManifestInput): Manifest {
  const doc: Record<string, unknown> = { schemaVersion: 2 };
  if (!input.omitMediaType) doc.mediaType = MEDIA.ociManifest;
  if (input.artifactType !== undefined) doc.artifactType = input.artifactType;
  doc.config = input.config;
  doc.layers = input.layers ?? [];
  if (input.subject) doc.subject = input.subject;
  if (input.annotations) doc.annotations = input.annotations;
  return manifestOf(MEDIA.ociManifest, doc);
}

/** One of the suite's per-workflow image manifests: its unique config and the shared layer, with the unknown
 * fields the suite adds to descriptors. */
export function suiteManifest(config: Content, opts: { layers?: boolean; omitMediaType?: boolean } = {}): Manifest {
  return imageManifest({
    config: suiteConfigDescriptor(config),
    layers: opts.layers === false ? [] : [suiteDescriptor(MEDIA.ociLayerGzip, SUITE_LAYER)],
    omitMediaType: opts.omitMediaType,
  });
}

export interface IndexInput {
  manifests: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export function imageIndex(input: IndexInput): Manifest {
  const doc: Record<string, unknown> = { schemaVersion: 2, mediaType: MEDIA.ociIndex };
  if (input.artifactType !== undefined) doc.artifactType = input.artifactType;
  doc.manifests = input.manifests;
  if (input.subject) doc.subject = input.subject;
  if (input.annotations) doc.annotations = input.annotations;
  return manifestOf(MEDIA.ociIndex, doc);
}

export function dockerManifest(config: Descriptor, layers: Descriptor[]): Manifest {
  return manifestOf(MEDIA.dockerManifest, {
    schemaVersion: 2,
    mediaType: MEDIA.dockerManifest,
    config,
    layers,
  });
}

export function dockerManifestList(manifests: Descriptor[]): Manifest {
  return manifestOf(MEDIA.dockerManifestList, {
    schemaVersion: 2,
    mediaType: MEDIA.dockerManifestList,
    manifests,
  });
}

/** The descriptor of a manifest, as an index or a subject field would hold it. */
export function manifestDescriptor(m: Manifest, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType: m.mediaType, digest: m.digest, size: m.size, ...extra };
}

export function createClient(berth: Berth): OciClient {
  const url = berth.url;
  const auth = berth.authHeader;
  const request = async (method: string, path: string, opts: RequestOptions = {}): Promise<OciResponse> => {
    const headers: Record<string, string> = { 'Accept-Encoding': 'identity', ...opts.headers };
    const authorization = opts.auth === undefined ? auth : opts.auth;
    if (authorization !== null) headers.Authorization = authorization;
    const target = new URL(path, url);
    const res = await fetch(target, {
      method,
      headers,
      body: opts.body === undefined ? undefined : toBuffer(opts.body),
      redirect: 'follow',
    });
    const body = Buffer.from(await res.arrayBuffer());
    const loc = res.headers.get('location');
    let location = '';
    if (loc) {
      const u = new URL(loc, target);
      location = u.origin === new URL(url).origin ? u.pathname + u.search : u.href;
    }
    return {
      status: res.status,
      headers: res.headers,
      body,
      location,
      text: () => body.toString('utf8'),
      json: <T = any>() => JSON.parse(body.toString('utf8')) as T,
    };
  };
  const client: OciClient = {
    url,
    auth,
    request,
    get: (p, o) => request('GET', p, o),
    head: (p, o) => request('HEAD', p, o),
    put: (p, o) => request('PUT', p, o),
    post: (p, o) => request('POST', p, o),
    patch: (p, o) => request('PATCH', p, o),
    delete: (p, o) => request('DELETE', p, o),
    pushBlob: async (repo, blob) => {
      const c = content(blob);
      const start = await request('POST', `/v2/${repo}/blobs/uploads/`);
      assert.equal(start.status, 202, `POST /v2/${repo}/blobs/uploads/ -> ${start.status} ${start.text()}`);
      assert.ok(start.location, 'upload session has a Location');
      return request('PUT', withQuery(start.location, { digest: c.digest }), {
        headers: { 'Content-Type': MEDIA.octetStream },
        body: c.bytes,
      });
    },
    pushManifest: (repo, reference, manifest) =>
      request('PUT', `/v2/${repo}/manifests/${reference}`, {
        headers: { 'Content-Type': manifest.mediaType },
        body: manifest.bytes,
      }),
  };
  return client;
}

/** Add query parameters to a path that may already carry some (an upload Location MAY hold critical ones). */
export function withQuery(path: string, params: Record<string, string>): string {
  const u = new URL(path, 'http://placeholder');
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.pathname + u.search;
}

/** The `code`s of an OCI error body (`{"errors":[{"code":...}]}`); throws when the body is not one. */
export function errorCodes(res: OciResponse): string[] {
  let doc: any;
  try {
    doc = res.json();
  } catch {
    assert.fail(`expected an OCI error JSON body with ${res.status}, got: ${JSON.stringify(res.text().slice(0, 300))}`);
  }
  assert.ok(doc && Array.isArray(doc.errors), `error body has an "errors" array: ${res.text().slice(0, 300)}`);
  assert.ok(doc.errors.length > 0, 'error body lists at least one error');
  for (const e of doc.errors) {
    assert.equal(typeof e.code, 'string', `error entry has a string code: ${JSON.stringify(e)}`);
    assert.match(e.code, /^[A-Z_]+$/, 'error code is uppercase letters and underscores');
    if (e.message !== undefined) assert.equal(typeof e.message, 'string', 'error message is a string');
  }
  return doc.errors.map((e: { code: string }) => e.code);
}

/** Assert an error response: one of the statuses, and (when a JSON body is expected) the first code among `codes`. */
export function assertError(res: OciResponse, status: number | number[], codes: string | string[], what = ''): void {
  const statuses = Array.isArray(status) ? status : [status];
  const wanted = Array.isArray(codes) ? codes : [codes];
  assert.ok(
    statuses.includes(res.status),
    `${what} expected status ${statuses.join(' or ')}, got ${res.status}: ${res.text().slice(0, 300)}`,
  );
  const got = errorCodes(res);
  assert.ok(wanted.includes(got[0]), `${what} expected error code ${wanted.join(' or ')}, got ${got.join(',')}`);
}

/** Assert a status, showing the body when it differs. */
export function assertStatus(res: OciResponse, status: number | number[], what = ''): void {
  const statuses = Array.isArray(status) ? status : [status];
  assert.ok(
    statuses.includes(res.status),
    `${what} expected status ${statuses.join(' or ')}, got ${res.status}: ${res.text().slice(0, 500)}`,
  );
}

/** 2xx, as the suite's SatisfyAll(>=200, <300). */
export function assert2xx(res: OciResponse, what = ''): void {
  assert.ok(res.status >= 200 && res.status < 300, `${what} expected 2xx, got ${res.status}: ${res.text().slice(0, 500)}`);
}

/** Parse an RFC 5988 `Link` header into rel -> URL (path + query when on the registry). */
export function parseLink(value: string | null, base: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!value) return out;
  for (const part of value.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*((?:;\s*[^;]+)*)$/.exec(part);
    if (!m) continue;
    const rel = /;\s*rel="?([^";]+)"?/.exec(m[2]);
    if (!rel) continue;
    const u = new URL(m[1], base);
    out[rel[1]] = u.origin === new URL(base).origin ? u.pathname + u.search : u.href;
  }
  return out;
}

/** One request over node:http that keeps the response even when the server answers before it has read the whole
 * body and closes (as Go's HTTP client does): for requests the server is expected to refuse early, such as an
 * oversized manifest. A write error after the response has arrived is ignored; one before it fails the call. */
export function sendEarlyAnswered(c: OciClient, method: string, path: string, opts: RequestOptions = {}): Promise<OciResponse> {
  const target = new URL(path, c.url);
  const body = opts.body === undefined ? Buffer.alloc(0) : toBuffer(opts.body);
  const headers: Record<string, string | number> = { ...opts.headers, 'Content-Length': body.length };
  const authorization = opts.auth === undefined ? c.auth : opts.auth;
  if (authorization !== null) headers.Authorization = authorization;
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(target, { method, headers }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('error', reject);
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        }
        const loc = h.get('location');
        resolve({
          status: res.statusCode ?? 0,
          headers: h,
          body: buf,
          location: loc ? new URL(loc, target).pathname + new URL(loc, target).search : '',
          text: () => buf.toString('utf8'),
          json: <T = any>() => JSON.parse(buf.toString('utf8')) as T,
        });
      });
    });
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    req.end(body);
  });
}
