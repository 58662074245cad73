// Small HTTP helpers for integration tests against a real Berth process: plain requests, blob and manifest
// pushes over the OCI distribution API, request bodies streamed from a deterministic generator (never held in
// memory whole), responses hashed as they stream, the data dir's files hashed, and a server's memory sampled.
import { createHash } from 'node:crypto';
import { createReadStream, type Dirent, readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const CONFIG_TYPE = 'application/vnd.oci.image.config.v1+json';
export const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const MiB = 1024 * 1024;

/** Where to send requests: a running Berth (or anything with the same two fields). */
export interface Target {
  url: string;
  authHeader: string;
}

export interface Res {
  status: number;
  headers: Headers;
  body: Buffer;
}

export function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** A relative or absolute Location resolved against the target, so that it survives a restart on a new port. */
export function resolveLocation(t: Target, location: string): string {
  const u = new URL(location, t.url);
  return new URL(u.pathname + u.search, t.url).toString();
}

/** `url` with `digest=<digest>` added to its query, keeping any query it already has. */
export function withDigest(url: string, digest: string): string {
  const u = new URL(url);
  u.searchParams.set('digest', digest);
  return u.toString();
}

/** One request with fetch; `path` may be absolute or relative to the target. Reads the whole (small) body. */
export async function req(
  t: Target,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: Buffer | string; auth?: boolean } = {},
): Promise<Res> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.auth !== false && !('Authorization' in headers)) headers.Authorization = t.authHeader;
  const res = await fetch(new URL(path, t.url), { method, headers, body: opts.body, redirect: 'manual' });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body };
}

export function show(r: Res): string {
  return `${r.status} ${r.body.toString('utf8').slice(0, 500)}`;
}

/** POST /v2/<repo>/blobs/uploads/ -> 202; returns the absolute upload URL. */
export async function startUpload(t: Target, repo: string): Promise<string> {
  const r = await req(t, 'POST', `/v2/${repo}/blobs/uploads/`);
  if (r.status !== 202) throw new Error(`POST upload to ${repo}: expected 202, got ${show(r)}`);
  const location = r.headers.get('location');
  if (!location) throw new Error('POST upload: no Location header');
  return resolveLocation(t, location);
}

/** Push a small blob: POST, then a monolithic PUT ?digest=. Returns its digest. */
export async function pushBlob(t: Target, repo: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const location = await startUpload(t, repo);
  const r = await req(t, 'PUT', withDigest(location, digest), {
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.length) },
    body: data,
  });
  if (r.status !== 201) throw new Error(`PUT blob ${digest}: expected 201, got ${show(r)}`);
  return digest;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export function ociManifest(config: Descriptor, layers: Descriptor[], annotations?: Record<string, string>): Buffer {
  const m: Record<string, unknown> = { schemaVersion: 2, mediaType: MANIFEST_TYPE, config, layers };
  if (annotations) m.annotations = annotations;
  return Buffer.from(JSON.stringify(m));
}

export async function putManifest(t: Target, repo: string, ref: string, body: Buffer): Promise<Res> {
  return req(t, 'PUT', `/v2/${repo}/manifests/${ref}`, {
    headers: { 'Content-Type': MANIFEST_TYPE },
    body,
  });
}

/** Push a config and a layer blob, then a manifest referencing them under `tag`. */
export async function pushImage(
  t: Target,
  repo: string,
  tag: string,
  opts: { layer?: Buffer; config?: Buffer; annotations?: Record<string, string> } = {},
): Promise<{ manifest: Buffer; digest: string; config: Descriptor; layer: Descriptor }> {
  const configData =
    opts.config ?? Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layerData = opts.layer ?? Buffer.from('layer ' + Math.random());
  const config = { mediaType: CONFIG_TYPE, digest: await pushBlob(t, repo, configData), size: configData.length };
  const layer = { mediaType: LAYER_TYPE, digest: await pushBlob(t, repo, layerData), size: layerData.length };
  const manifest = ociManifest(config, [layer], opts.annotations);
  const r = await putManifest(t, repo, tag, manifest);
  if (r.status !== 201) throw new Error(`PUT manifest ${repo}:${tag}: expected 201, got ${show(r)}`);
  return { manifest, digest: sha256(manifest), config, layer };
}

// ---------------------------------------------------------------------------------------------------------
// Generated blobs: deterministic, cheap, every 1 MiB chunk different, never held in memory whole.

const CHUNK = MiB;

export interface GeneratedBlob {
  size: number;
  digest: string;
  /** The bytes [start, end) as an async iterable of fresh buffers; `beforeOffset(offset)` may hold the flow. */
  chunks(start?: number, end?: number, hooks?: { beforeOffset?: (offset: number) => Promise<void> | void }): AsyncGenerator<Buffer>;
  /** The bytes [start, end) as a Readable (backpressure-friendly). */
  stream(start?: number, end?: number): Readable;
}

function baseChunk(seed: string): Buffer {
  const base = Buffer.allocUnsafe(CHUNK);
  for (let i = 0; i < CHUNK / 32; i++)
    createHash('sha256')
      .update(`${seed}:${i}`)
      .digest()
      .copy(base, i * 32);
  return base;
}

function chunkAt(base: Buffer, index: number): Buffer {
  const c = Buffer.from(base);
  // A counter in a few places so that no two chunks are equal and a duplicated or dropped chunk shows.
  for (const off of [0, 4096, CHUNK / 2, CHUNK - 8]) c.writeBigUInt64BE(BigInt(index) ^ c.readBigUInt64BE(off), off);
  return c;
}

/** A blob of `size` bytes generated from `seed`; computes its digest by generating it once (about 1 s/GiB). */
export function generatedBlob(size: number, seed: string): GeneratedBlob {
  const base = baseChunk(seed);
  const h = createHash('sha256');
  for (let i = 0; i * CHUNK < size; i++) {
    const c = chunkAt(base, i);
    h.update(size - i * CHUNK >= CHUNK ? c : c.subarray(0, size - i * CHUNK));
  }
  const digest = 'sha256:' + h.digest('hex');
  async function* chunks(
    start = 0,
    end = size,
    hooks: { beforeOffset?: (offset: number) => Promise<void> | void } = {},
  ): AsyncGenerator<Buffer> {
    let off = start;
    while (off < end) {
      if (hooks.beforeOffset) await hooks.beforeOffset(off);
      const index = Math.floor(off / CHUNK);
      const c = chunkAt(base, index);
      const from = off - index * CHUNK;
      const to = Math.min(CHUNK, end - index * CHUNK);
      yield from === 0 && to === CHUNK ? c : c.subarray(from, to);
      off = index * CHUNK + to;
    }
  }
  return {
    size,
    digest,
    chunks,
    stream: (start = 0, end = size) => Readable.from(chunks(start, end), { objectMode: false }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Streaming with node:http (backpressure both ways).

export interface StreamRes {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Send `body` as the request body with backpressure and resolve with the response. Resolves as soon as a full
 * response has arrived, even if the server answered before the body was all sent. Rejects if the connection
 * fails before a response.
 */
export function sendStream(
  url: string,
  method: string,
  headers: Record<string, string | number>,
  body: AsyncIterable<Buffer> | Readable,
  opts: { onRequest?: (r: http.ClientRequest) => void } = {},
): Promise<StreamRes> {
  return new Promise<StreamRes>((resolve, reject) => {
    let settled = false;
    let responded = false;
    const r = http.request(url, { method, headers, agent: false }, (res) => {
      responded = true;
      const parts: Buffer[] = [];
      // Once the status line is in, the answer is known: a connection closed after it (a server that answers an
      // error without reading the body may do that) still resolves, with the body received so far.
      const done = () => {
        if (settled) return;
        settled = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) });
      };
      res.on('data', (d: Buffer) => {
        if (parts.length < 64) parts.push(d);
      });
      res.on('end', done);
      res.on('error', done);
      res.on('close', done);
    });
    opts.onRequest?.(r);
    r.on('error', (e) => {
      if (!settled && !responded) {
        settled = true;
        reject(e);
      }
    });
    const src = body instanceof Readable ? body : Readable.from(body);
    pipeline(src, r).catch((e: unknown) => {
      if (!settled && !responded) {
        settled = true;
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

/** GET `url` streaming, hashing as it goes (follows redirects without the Authorization header). */
export async function getAndHash(
  url: string,
  authHeader?: string,
  redirects = 3,
): Promise<{ status: number; digest: string; size: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (authHeader) headers.Authorization = authHeader;
    const r = http.get(url, { headers, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location && redirects > 0) {
        res.resume();
        getAndHash(new URL(res.headers.location, url).toString(), undefined, redirects - 1).then(resolve, reject);
        return;
      }
      const h = createHash('sha256');
      let size = 0;
      res.on('data', (d: Buffer) => {
        h.update(d);
        size += d.length;
      });
      res.on('end', () => resolve({ status, digest: 'sha256:' + h.digest('hex'), size, headers: res.headers }));
      res.on('error', reject);
    });
    r.on('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------------------
// The data dir.

/** Every regular file under `dir`, recursively (absolute paths); [] if `dir` does not exist. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

export async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const d of createReadStream(path)) h.update(d as Buffer);
  return 'sha256:' + h.digest('hex');
}

/** Where a blob lives in the filesystem blob store. */
export function blobPath(dataDir: string, digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  return join(dataDir, 'blobs', 'sha256', hex.slice(0, 2), hex);
}

/**
 * Every file under `<dataDir>/blobs/sha256` must be named by its own digest and sit in its two-hex-digit
 * directory: returns the list of offending files (path and what they hash to) and the number of files checked.
 */
export async function checkBlobArea(dataDir: string): Promise<{ checked: number; bad: string[] }> {
  const root = join(dataDir, 'blobs', 'sha256');
  const bad: string[] = [];
  const files = listFiles(root);
  for (const f of files) {
    const rel = f.slice(root.length + 1).split('/');
    const name = rel[rel.length - 1];
    const okShape = rel.length === 2 && /^[0-9a-f]{64}$/.test(name) && rel[0] === name.slice(0, 2);
    const actual = await hashFile(f);
    if (!okShape || actual !== 'sha256:' + name) bad.push(`${f} (size ${statSync(f).size}, content ${actual})`);
  }
  return { checked: files.length, bad };
}

// ---------------------------------------------------------------------------------------------------------
// Memory of a process (and its descendants) from /proc.

function statusKiB(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function descendants(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const c of children.split(/\s+/).filter(Boolean)) {
      out.push(Number(c), ...descendants(Number(c)));
    }
  }
  return out;
}

export interface MemoryReport {
  /** Highest VmRSS sampled, summed over the process and its descendants (MiB). */
  sampledPeakMiB: number;
  /** VmHWM (kernel-tracked peak RSS) of the process itself (MiB). */
  hwmMiB: number;
  /** VmHWM summed over the process and the descendants alive at the end (MiB). */
  treeHwmMiB: number;
  samples: number;
}

/** Sample VmRSS of `pid` and its descendants every `intervalMs` until stop(); stop() reads VmHWM too. */
export function sampleMemory(pid: number, intervalMs = 50): { stop: () => MemoryReport; peek: () => MemoryReport } {
  let peakKiB = 0;
  let samples = 0;
  const sample = () => {
    const pids = [pid, ...descendants(pid)];
    const rss = pids.reduce((s, p) => s + statusKiB(p, 'VmRSS'), 0);
    samples++;
    if (rss > peakKiB) peakKiB = rss;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  const peek = (): MemoryReport => {
    sample();
    const pids = [pid, ...descendants(pid)];
    return {
      sampledPeakMiB: peakKiB / 1024,
      hwmMiB: statusKiB(pid, 'VmHWM') / 1024,
      treeHwmMiB: pids.reduce((s, p) => s + statusKiB(p, 'VmHWM'), 0) / 1024,
      samples,
    };
  };
  return {
    peek,
    stop: () => {
      clearInterval(timer);
      return peek();
    },
  };
}

/** The error and fatal lines (pino levels 50 and 60) of a server's output, for printing after a failure. */
export function serverErrors(output: string): string {
  return output
    .split('\n')
    .filter((l) => /"level":\s*(50|60)\b/.test(l))
    .slice(-20)
    .join('\n');
}

/** What to print about a server process at the end of a test file: its errors, and how it died if it did. */
export function serverReport(b: { process: import('node:child_process').ChildProcess; output: () => string }): string {
  const lines: string[] = [];
  const errors = serverErrors(b.output());
  if (errors) lines.push('server errors:', errors);
  if (b.process.exitCode !== null || b.process.signalCode !== null) {
    lines.push(
      `server pid ${b.process.pid} exited on its own (code ${b.process.exitCode}, signal ${b.process.signalCode}); its last output:`,
      b.output().slice(-3000),
    );
  }
  return lines.join('\n').replace(/^/gm, '# ');
}

export interface EarlyAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: () => any;
  /** Body bytes written before the answer came. */
  bytesSent: number;
}

/**
 * One request over node:http whose answer is awaited while its body is (or is not yet) being sent: for requests
 * the server must refuse before reading their body. `body`: 'none' sends the headers only (with the Content-Length
 * given) and never a byte of body; a Buffer is sent whole; a number streams that many bytes of `fill` in 64 KiB
 * chunks (chunked when no Content-Length is given) and stops as soon as the answer arrives, never ending the body.
 * A write error after the answer is ignored; an error before it, or no answer within `timeoutMs`, fails the call.
 */
export function sendAnsweredEarly(
  url: string,
  method: string,
  headers: Record<string, string | number>,
  body: 'none' | Buffer | number,
  opts: { fill?: string; timeoutMs?: number } = {},
): Promise<EarlyAnswer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    let bytesSent = 0;
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${opts.timeoutMs ?? 30_000} ms (${bytesSent} body bytes sent)`));
    }, opts.timeoutMs ?? 30_000);
    const req = http.request(url, { method, headers }, (res) => {
      answered = true;
      const sentBeforeAnswer = bytesSent;
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      res.on('end', () => {
        clearTimeout(timer);
        req.destroy();
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text), bytesSent: sentBeforeAnswer });
      });
    });
    req.on('error', (e) => {
      if (!answered) {
        clearTimeout(timer);
        reject(e);
      }
    });
    if (body === 'none') {
      req.flushHeaders();
    } else if (Buffer.isBuffer(body)) {
      bytesSent = body.length;
      req.end(body);
    } else {
      const chunk = Buffer.alloc(64 * 1024, opts.fill ?? 'a');
      const pump = () => {
        while (!answered && !req.destroyed && bytesSent < body) {
          const piece = chunk.subarray(0, Math.min(chunk.length, body - bytesSent));
          bytesSent += piece.length;
          if (!req.write(piece)) return void req.once('drain', pump);
        }
      };
      pump();
    }
  });
}
