// Helpers for tests that drive Berth's ECR control plane (POST / with X-Amz-Target, JSON 1.1, SigV4) with real
// clients: the AWS SDK for JavaScript v3 (@aws-sdk/client-ecr), the AWS CLI (Debian `awscli`, /usr/bin/aws) and
// boto3 (Debian `python3-boto3`, run by /usr/bin/python3). Also: raw signed and unsigned requests for protocol
// tests, and images built by hand (real gzip tar layers, a config, a manifest) to upload with the layer operations.
// Each test asserts against the ECR API reference and the botocore service model, never against Berth's code.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  CompleteLayerUploadCommand,
  ECRClient,
  InitiateLayerUploadCommand,
  PutImageCommand,
  UploadLayerPartCommand,
  type PutImageCommandOutput,
} from '@aws-sdk/client-ecr';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import type { Berth } from './berth.ts';
import type { RunOptions, RunResult } from './tools.ts';
import { describeResult, run, tarArchive, type TarEntry } from './tools.ts';

export const REGION = 'us-east-1';
export const TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921';
export const JSON_11 = 'application/x-amz-json-1.1';
/** The Debian packages' programs, by absolute path: a pyenv or pip copy earlier on PATH is not what CI installs. */
export const AWS_CLI = process.env.BERTH_TEST_AWS_CLI ?? '/usr/bin/aws';
export const PYTHON = process.env.BERTH_TEST_PYTHON ?? '/usr/bin/python3';

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

// ---------------------------------------------------------------------------------------------------------------
// The AWS SDK for JavaScript v3.

export interface ClientOptions {
  accessKeyId?: string;
  secretAccessKey?: string;
  region?: string;
  /** Milliseconds added to the clock the SDK signs with: a skew test. */
  systemClockOffset?: number;
}

/** An ECRClient pointed at Berth with the root key; one attempt only, so that an error is the server's first answer. */
export function ecrClient(berth: Berth, opts: ClientOptions = {}): ECRClient {
  const client = new ECRClient({
    endpoint: berth.url,
    region: opts.region ?? REGION,
    credentials: {
      accessKeyId: opts.accessKeyId ?? berth.accessKeyId,
      secretAccessKey: opts.secretAccessKey ?? berth.secretAccessKey,
    },
    maxAttempts: 1,
    ...(opts.systemClockOffset !== undefined ? { systemClockOffset: opts.systemClockOffset } : {}),
  });
  return client;
}

/** Every item of a paginated call: `page(nextToken)` is called from the first page until no nextToken comes back. */
export async function allPages<P extends { nextToken?: string }, T>(
  page: (nextToken: string | undefined) => Promise<P>,
  items: (p: P) => T[] | undefined,
): Promise<T[]> {
  const all: T[] = [];
  let nextToken: string | undefined;
  do {
    const p = await page(nextToken);
    all.push(...(items(p) ?? []));
    nextToken = p.nextToken;
  } while (nextToken);
  return all;
}

export interface EcrError extends Error {
  name: string;
  message: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  [field: string]: unknown;
}

/**
 * Awaits `p`, which must be rejected with the AWS error `name` (the `__type` ECR answers), with HTTP `status`
 * (400 unless told) and, when given, a message matching `message` (a string must be equal). Returns the error.
 */
export async function expectEcrError(p: Promise<unknown>, name: string, message?: RegExp | string, status = 400): Promise<EcrError> {
  let result: unknown;
  try {
    result = await p;
  } catch (e) {
    const err = e as EcrError;
    assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`);
    assert.equal(err.$metadata?.httpStatusCode, status, `${name} comes with HTTP ${status} (message: ${err.message})`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected ${name}, but the call succeeded with ${JSON.stringify(result, null, 1).slice(0, 800)}`);
}

/** Regex-escapes a literal. */
export function literal(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------------------------------
// Raw requests: what a client would send, signed with the SDK's own SigV4 signer, or not signed at all.

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json: () => any;
}

export interface RawOptions {
  sign?: boolean; // default true
  accessKeyId?: string;
  secretAccessKey?: string;
  region?: string;
  signingDate?: Date;
  /** Headers added after signing (they are not covered by the signature unless the signer saw them). */
  headers?: Record<string, string>;
  /** Replaces the Authorization header after signing. */
  authorization?: string;
  contentType?: string;
  target?: string; // the whole X-Amz-Target value; default `${TARGET_PREFIX}.${operation}`
  /** Presign (credentials in the query string) instead of an Authorization header. */
  presign?: boolean;
  /** Send this body instead of the one that was signed (a tampering test). */
  sendBody?: string;
  /** Headers the signer leaves out of SignedHeaders (the SDK signer's `unsignableHeaders`), e.g. ['x-amz-target']. */
  unsigned?: string[];
}

/** `body`: a value sent as JSON, or a string or Buffer sent as it is. */
export async function ecrRaw(berth: Berth, operation: string, body: unknown = {}, opts: RawOptions = {}): Promise<RawResponse> {
  const url = new URL(berth.url);
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const headers: Record<string, string> = {
    host: url.host,
    'content-type': opts.contentType ?? JSON_11,
    'x-amz-target': opts.target ?? `${TARGET_PREFIX}.${operation}`,
  };
  let query: Record<string, string> = {};
  if (opts.sign !== false) {
    const signer = new SignatureV4({
      credentials: {
        accessKeyId: opts.accessKeyId ?? berth.accessKeyId,
        secretAccessKey: opts.secretAccessKey ?? berth.secretAccessKey,
      },
      region: opts.region ?? REGION,
      service: 'ecr',
      sha256: Sha256,
    });
    const request = {
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      query: {} as Record<string, string>,
      headers,
      body: payload,
    };
    const signed = opts.presign
      ? await signer.presign(request, { signingDate: opts.signingDate, expiresIn: 300 })
      : await signer.sign(request, {
          signingDate: opts.signingDate,
          ...(opts.unsigned ? { unsignableHeaders: new Set(opts.unsigned) } : {}),
        });
    Object.assign(headers, signed.headers as Record<string, string>);
    query = signed.query as Record<string, string>;
  }
  if (opts.authorization !== undefined) headers.authorization = opts.authorization;
  Object.assign(headers, opts.headers ?? {});
  delete headers.host;
  const target = new URL('/', berth.url);
  for (const [k, v] of Object.entries(query ?? {})) target.searchParams.set(k, String(v));
  const res = await fetch(target, { method: 'POST', headers, body: opts.sendBody ?? payload });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    json: () => {
      try {
        return JSON.parse(text);
      } catch {
        throw new Error(`response to ${operation} is not JSON (HTTP ${res.status}): ${text.slice(0, 500)}`);
      }
    },
  };
}

/**
 * The headers of an ECR request (POST /) signed by the SDK's signer for a body whose sha256 (hex) is given: for
 * bodies too large to hash in the signer's pure-JS SHA-256, or never sent at all. The hash travels as
 * x-amz-content-sha256, which the SDK signer takes as the payload's; Berth computes its own from what it receives.
 */
export async function signedEcrHeaders(
  berth: Berth,
  operation: string,
  bodySha256: string,
  opts: { accessKeyId?: string; secretAccessKey?: string } = {},
): Promise<Record<string, string>> {
  const url = new URL(berth.url);
  const signer = new SignatureV4({
    credentials: { accessKeyId: opts.accessKeyId ?? berth.accessKeyId, secretAccessKey: opts.secretAccessKey ?? berth.secretAccessKey },
    region: REGION,
    service: 'ecr',
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    query: {},
    headers: {
      host: url.host,
      'content-type': JSON_11,
      'x-amz-target': `${TARGET_PREFIX}.${operation}`,
      'x-amz-content-sha256': bodySha256,
    },
  });
  const headers = { ...(signed.headers as Record<string, string>) };
  delete headers.host;
  return headers;
}

/** The exception name of an AWS JSON error body: `__type`, without any "namespace#" prefix. */
export function errorType(r: RawResponse): string {
  const t = String(r.json().__type ?? '');
  return t.includes('#') ? t.slice(t.lastIndexOf('#') + 1) : t;
}

/** The message of an AWS JSON error body (`message`, or `Message` as some AWS services spell it). */
export function errorMessage(r: RawResponse): string {
  const b = r.json();
  return String(b.message ?? b.Message ?? '');
}

// ---------------------------------------------------------------------------------------------------------------
// The AWS CLI.

export interface AwsCli {
  env: Record<string, string>;
  version: string;
  /** Runs `aws ecr ARGS --endpoint-url ... --region us-east-1 --output json`; never throws for a non-zero exit. */
  run: (args: string[], opts?: RunOptions) => Promise<RunResult>;
  /** Same, must exit 0; returns the parsed JSON it printed ({} for no output). */
  ok: <T = any>(args: string[], opts?: RunOptions) => Promise<T>;
  /** Same, must exit non-zero; returns what it printed. */
  fails: (args: string[], opts?: RunOptions) => Promise<RunResult>;
  /** The raw text of a successful command (for get-login-password). */
  text: (args: string[], opts?: RunOptions) => Promise<string>;
}

/**
 * The AWS CLI of the Debian package, with the root key of `berth` in its environment and no config or credentials
 * files (they point at paths that do not exist), so nothing from the machine leaks in. Fails loudly without it.
 */
export async function awsCli(berth: Berth, keys: { accessKeyId?: string; secretAccessKey?: string } = {}): Promise<AwsCli> {
  const nowhere = join(tmpdir(), `berth-e2e-no-aws-files-${randomBytes(6).toString('hex')}`); // never created
  const env: Record<string, string> = {
    AWS_ACCESS_KEY_ID: keys.accessKeyId ?? berth.accessKeyId,
    AWS_SECRET_ACCESS_KEY: keys.secretAccessKey ?? berth.secretAccessKey,
    AWS_SESSION_TOKEN: '',
    AWS_CONFIG_FILE: join(nowhere, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(nowhere, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    AWS_DEFAULT_OUTPUT: 'json',
    AWS_RETRY_MODE: 'standard',
    AWS_MAX_ATTEMPTS: '1',
  };
  const version = await requireProgram(AWS_CLI, ['--version'], 'the AWS CLI', 'apt-get install -y awscli', env);
  const full = (args: string[]) => ['ecr', ...args, '--endpoint-url', berth.url, '--region', REGION, '--output', 'json'];
  const withEnv = (opts: RunOptions = {}): RunOptions => ({ ...opts, env: { ...env, ...opts.env } });
  const cli: AwsCli = {
    env,
    version,
    run: (args, opts) => run(AWS_CLI, full(args), withEnv(opts)),
    ok: async <T>(args: string[], opts?: RunOptions): Promise<T> => {
      const r = await run(AWS_CLI, full(args), withEnv(opts));
      if (r.code !== 0) throw new Error(describeResult(r));
      if (r.stdout.trim() === '') return {} as T;
      try {
        return JSON.parse(r.stdout) as T;
      } catch (e) {
        throw new Error(`aws printed something that is not JSON (${(e as Error).message}):\n${describeResult(r)}`);
      }
    },
    fails: async (args, opts) => {
      const r = await run(AWS_CLI, full(args), withEnv(opts));
      if (r.code === 0 || r.timedOut) throw new Error(`expected the AWS CLI to fail, but ${describeResult(r)}`);
      return r;
    },
    text: async (args, opts) => {
      const r = await run(AWS_CLI, full(args).slice(0, -2), withEnv(opts)); // no --output json for plain text
      if (r.code !== 0) throw new Error(describeResult(r));
      return r.stdout;
    },
  };
  return cli;
}

/** Throws a clear error unless `program ARGS` runs and exits 0; returns what it printed. */
export async function requireProgram(
  program: string,
  args: string[],
  what: string,
  install: string,
  env: Record<string, string> = {},
): Promise<string> {
  let r: RunResult;
  try {
    r = await run(program, args, { env, timeoutMs: 60_000 });
  } catch (err) {
    throw new Error(
      `This test needs ${what} (${program}), which is not installed. Install it (${install}); .ci/run does this. ` +
        `(${(err as Error).message})`,
    );
  }
  if (r.code !== 0) throw new Error(`This test needs ${what}, but it does not work (${install}; .ci/run does this):\n${describeResult(r)}`);
  return (r.stdout + r.stderr).trim();
}

/** Throws unless /usr/bin/python3 can import boto3; returns "boto3 X, botocore Y". */
export async function requireBoto3(): Promise<string> {
  return requireProgram(
    PYTHON,
    ['-c', 'import boto3, botocore; print("boto3", boto3.__version__, "botocore", botocore.__version__)'],
    'boto3 for the Debian python3',
    'apt-get install -y python3-boto3',
  );
}

/** The error name the AWS CLI printed: "An error occurred (Name) when calling the Op operation: message". */
export function cliError(r: RunResult): { name: string; operation: string; message: string } {
  const m = /An error occurred \(([A-Za-z]+)\) when calling the ([A-Za-z]+) operation(?: \(reached max retries: \d+\))?: (.*)/s.exec(
    r.stderr,
  );
  assert.ok(m, `the AWS CLI printed an AWS error:\n${describeResult(r)}`);
  return { name: m[1], operation: m[2], message: m[3].trim() };
}

// ---------------------------------------------------------------------------------------------------------------
// Images built by hand.

export interface Blob {
  bytes: Buffer;
  digest: string;
  size: number;
  mediaType: string;
}

export interface HandImage {
  config: Blob;
  layers: Blob[];
  manifest: string; // the exact manifest text
  digest: string; // of the manifest
  mediaType: string; // of the manifest
  files: Map<string, Buffer>;
}

function blob(bytes: Buffer, mediaType: string): Blob {
  return { bytes, digest: sha256(bytes), size: bytes.length, mediaType };
}

/** A gzip tar layer holding `files` (path -> content) under their directories. */
export function makeLayer(files: Record<string, Buffer>, mediaType: string = MEDIA.dockerLayer): Blob & { diffId: string } {
  const entries: TarEntry[] = [];
  const dirs = new Set<string>();
  for (const [path, data] of Object.entries(files)) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/') + '/';
      if (!dirs.has(d)) {
        dirs.add(d);
        entries.push({ name: d });
      }
    }
    entries.push({ name: path, data });
  }
  const tar = tarArchive(entries);
  return { ...blob(gzipSync(tar), mediaType), diffId: sha256(tar) };
}

/**
 * A runnable-by-docker single-platform image: one layer per element of `layers` (path -> content), a config naming
 * their diff ids, and a manifest (Docker schema 2 by default, OCI with `oci: true`). `label` makes the config unique.
 */
export function makeImage(
  opts: { layers?: Record<string, Buffer>[]; oci?: boolean; label?: string; architecture?: string } = {},
): HandImage {
  const oci = opts.oci ?? false;
  const layerFiles = opts.layers ?? [{ [`data/${randomBytes(4).toString('hex')}.bin`]: randomBytes(2048) }];
  const files = new Map<string, Buffer>();
  const layers = layerFiles.map((f) => {
    for (const [p, d] of Object.entries(f)) files.set(p, d);
    return makeLayer(f, oci ? MEDIA.ociLayer : MEDIA.dockerLayer);
  });
  const configJson = Buffer.from(
    JSON.stringify({
      architecture: opts.architecture ?? 'amd64',
      os: 'linux',
      created: '2024-01-01T00:00:00Z',
      config: { Cmd: ['/data/none'], Labels: { 'berth.test': opts.label ?? randomBytes(8).toString('hex') } },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map(() => ({ created: '2024-01-01T00:00:00Z', created_by: 'berth ecr test' })),
    }),
  );
  const config = blob(configJson, oci ? MEDIA.ociConfig : MEDIA.dockerConfig);
  const mediaType = oci ? MEDIA.ociManifest : MEDIA.dockerManifest;
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType,
    config: { mediaType: config.mediaType, size: config.size, digest: config.digest },
    layers: layers.map((l) => ({ mediaType: l.mediaType, size: l.size, digest: l.digest })),
  });
  return {
    config,
    layers: layers.map(({ diffId: _d, ...l }) => l),
    manifest,
    digest: sha256(manifest),
    mediaType,
    files,
  };
}

/** An image index (OCI by default) over the given manifests, each listed with a platform. */
export function makeIndex(
  children: { digest: string; size: number; mediaType: string; architecture: string }[],
  oci = true,
): { manifest: string; digest: string; mediaType: string } {
  const mediaType = oci ? MEDIA.ociIndex : MEDIA.dockerManifestList;
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType,
    manifests: children.map((c) => ({
      mediaType: c.mediaType,
      size: c.size,
      digest: c.digest,
      platform: { architecture: c.architecture, os: 'linux' },
    })),
  });
  return { manifest, digest: sha256(manifest), mediaType };
}

/**
 * Uploads one blob with InitiateLayerUpload, UploadLayerPart (parts of `partSize` bytes, in order) and
 * CompleteLayerUpload, checking each answer's shape against the API reference. Returns the upload id.
 */
export async function uploadLayer(
  client: ECRClient,
  repositoryName: string,
  data: Buffer,
  partSize = 5 * 1024 * 1024 + 7,
): Promise<string> {
  const init = await client.send(new InitiateLayerUploadCommand({ repositoryName }));
  assert.match(
    init.uploadId ?? '',
    /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
    'uploadId has the shape of the model (a UUID)',
  );
  assert.ok(typeof init.partSize === 'number' && init.partSize > 0, `partSize is a positive number: ${init.partSize}`);
  const uploadId = init.uploadId!;
  for (let off = 0; off < data.length; off += partSize) {
    const part = data.subarray(off, Math.min(off + partSize, data.length));
    const r = await client.send(
      new UploadLayerPartCommand({
        repositoryName,
        uploadId,
        partFirstByte: off,
        partLastByte: off + part.length - 1,
        layerPartBlob: part,
      }),
    );
    assert.equal(r.uploadId, uploadId);
    assert.equal(r.repositoryName, repositoryName);
    assert.match(r.registryId ?? '', /^\d{12}$/);
    assert.equal(r.lastByteReceived, off + part.length - 1, 'lastByteReceived is the last byte of the part');
  }
  const done = await client.send(new CompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [sha256(data)] }));
  assert.equal(done.layerDigest, sha256(data));
  assert.equal(done.uploadId, uploadId);
  assert.equal(done.repositoryName, repositoryName);
  assert.match(done.registryId ?? '', /^\d{12}$/);
  return uploadId;
}

/** Uploads the config and layers of `image` with the layer operations, then PutImage under `tag`. */
export async function putImageViaUpload(
  client: ECRClient,
  repositoryName: string,
  image: HandImage,
  tag?: string,
): Promise<PutImageCommandOutput> {
  for (const b of [image.config, ...image.layers]) await uploadLayer(client, repositoryName, b.bytes);
  return client.send(
    new PutImageCommand({
      repositoryName,
      imageManifest: image.manifest,
      imageManifestMediaType: image.mediaType,
      imageTag: tag,
    }),
  );
}

/** Waits until `check` returns a truthy value (polling every 200 ms), up to `ms`; returns the last value. */
export async function eventually<T>(check: () => Promise<T>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  let v = await check();
  while (!v && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
    v = await check();
  }
  return v;
}
