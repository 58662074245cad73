// Helpers for end-to-end tests that drive real clients (docker, skopeo, podman) as child processes.
// A test that needs a tool calls requireTool()/requireDocker() in its `before` hook: a missing tool or an unreachable
// daemon is a loud failure, never a skip, so that a CI machine without them cannot pass by running nothing.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface RunOptions {
  env?: Record<string, string>; // added to (and overriding) process.env
  input?: string | Buffer; // written to stdin, then stdin is closed; without it stdin is empty
  cwd?: string;
  timeoutMs?: number; // default 180 s; the whole process group is killed past it
  /** On timeout, send the process group SIGTERM first (so the command can clean up) and SIGKILL only this many
   * ms later; without it, SIGKILL at once. */
  termGraceMs?: number;
}

export interface RunResult {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a command to completion and returns what it printed; never throws for a non-zero exit. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const command = [cmd, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // own process group, so a timeout can end the command and everything it started
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.stdin.on('error', () => {
      /* the command may exit without reading its input */
    });
    child.stdin.end(opts.input ?? '');
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        /* already gone */
      }
    };
    let graceTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      if (opts.termGraceMs === undefined) {
        killGroup('SIGKILL');
        return;
      }
      killGroup('SIGTERM');
      graceTimer = setTimeout(() => killGroup('SIGKILL'), opts.termGraceMs);
    }, opts.timeoutMs ?? 180_000);
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      if (err.code === 'ENOENT') reject(new Error(`${cmd} is not installed or not on PATH (needed by: ${command})`));
      else reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      resolve({ command, code, signal, stdout, stderr, timedOut });
    });
  });
}

export function describeResult(r: RunResult): string {
  const how = r.timedOut ? 'timed out' : r.signal ? `was killed by ${r.signal}` : `exited with ${r.code}`;
  return `\`${r.command}\` ${how}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** Runs a command and throws, with everything it printed, unless it exits 0. */
export async function runOk(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(describeResult(r));
  return r;
}

/** Runs a command that must fail (exit non-zero, not time out); throws if it succeeds. */
export async function runFails(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code === 0 || r.timedOut) throw new Error(`expected a failure, but ${describeResult(r)}`);
  return r;
}

const installHint: Record<string, string> = {
  docker: 'apt-get install -y docker.io',
  skopeo: 'apt-get install -y skopeo',
  podman: 'apt-get install -y podman',
  containerd: 'apt-get install -y containerd',
  ctr: 'apt-get install -y containerd',
  buildah: 'apt-get install -y buildah',
  umoci: 'apt-get install -y umoci',
};

/** Throws a clear error unless `name` runs; returns what `name --version` printed. */
export async function requireTool(name: string, versionArgs: string[] = ['--version']): Promise<string> {
  let r: RunResult;
  try {
    r = await run(name, versionArgs, { timeoutMs: 30_000 });
  } catch (err) {
    throw new Error(
      `This e2e test needs \`${name}\`, which is not installed or not on PATH. ` +
        `Install it (${installHint[name] ?? `apt-get install -y ${name}`}); .ci/run does this. (${(err as Error).message})`,
    );
  }
  if (r.code !== 0) {
    throw new Error(`This e2e test needs \`${name}\`, but \`${name} ${versionArgs.join(' ')}\` does not work:\n${describeResult(r)}`);
  }
  return (r.stdout + r.stderr).trim();
}

/** Throws a clear error unless the docker CLI is installed and its daemon answers. Returns the daemon's version. */
export async function requireDocker(env: Record<string, string> = {}): Promise<string> {
  await requireTool('docker');
  const r = await run('docker', ['version', '--format', '{{.Server.Version}}'], { env, timeoutMs: 30_000 });
  if (r.code !== 0 || r.stdout.trim() === '') {
    throw new Error(
      'This e2e test needs a running Docker daemon, and `docker version` cannot reach one. Start it, e.g.\n' +
        '  dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs >/tmp/dockerd.log 2>&1 &\n' +
        '(.ci/run does this).\n' +
        describeResult(r),
    );
  }
  return r.stdout.trim();
}

export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** Writes each file (path relative to root -> content), making the directories it needs. */
export function writeFiles(root: string, files: Record<string, Buffer>): void {
  for (const [path, data] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), data);
  }
}

/** "sha256:<hex>" of the bytes. */
export function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export function randomData(size: number): Buffer {
  return randomBytes(size);
}

/** A unique lower-case suffix for repository names and tags, so tests never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Parses the JSON a tool printed, with the output in the error when it is not JSON. */
export function parseJson<T = any>(text: string, what = 'output'): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${what} is not JSON (${(err as Error).message}):\n${text}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// tar: enough of ustar to write image layers by hand and to read what `docker save` produces.

export interface TarEntry {
  name: string; // "data/a.txt"; a name ending in "/" is a directory
  data?: Buffer;
  mode?: number;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function tarHeader(name: string, size: number, mode: number, type: string): Buffer {
  const h = Buffer.alloc(512);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 154);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new Error(`tar name too long: ${name}`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  h.write(base, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(1_700_000_000, 12), 136, 'ascii'); // fixed mtime: the same files give the same layer digest
  h.write('        ', 148, 'ascii'); // checksum placeholder
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

/** A tar archive of the entries, in order; parent directories must be listed by the caller if wanted. */
export function tarArchive(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const isDir = e.name.endsWith('/');
    const data = isDir ? Buffer.alloc(0) : (e.data ?? Buffer.alloc(0));
    parts.push(tarHeader(e.name, data.length, e.mode ?? (isDir ? 0o755 : 0o644), isDir ? '5' : '0'));
    parts.push(data);
    const pad = (512 - (data.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** The regular files of a tar archive, by name (without a leading "./"). */
export function readTar(tar: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= tar.length) {
    const h = tar.subarray(offset, offset + 512);
    if (h.every((b) => b === 0)) break;
    const field = (start: number, len: number) => {
      const s = h.subarray(start, start + len);
      const end = s.indexOf(0);
      return s.subarray(0, end === -1 ? len : end).toString('utf8');
    };
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const prefix = field(345, 155);
    let name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const data = tar.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    if (type === 'x') {
      const m = /\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      if (m) longName = m[1];
      continue;
    }
    if (type === 'g') continue;
    if (longName !== undefined) {
      name = longName;
      longName = undefined;
    }
    name = name.replace(/^\.\//, '');
    if (type === '0' || type === '7') files.set(name, Buffer.from(data));
  }
  return files;
}

// ---------------------------------------------------------------------------------------------------------------
// OCI image layouts written by hand (https://github.com/opencontainers/image-spec/blob/main/image-layout.md),
// for skopeo to push as they are.

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface BuiltImage {
  manifest: Buffer; // the exact manifest bytes
  descriptor: Descriptor; // of the manifest (with its platform)
  config: Descriptor;
  layers: Descriptor[];
  diffIds: string[];
  files: Map<string, Buffer>; // every file of the image, by path without a leading "/"
}

/** Writes a blob into the layout's blobs/sha256/ and returns its digest and size. */
export function writeBlob(layoutDir: string, data: Buffer): { digest: string; size: number } {
  const digest = sha256(data);
  const path = join(layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
  return { digest, size: data.length };
}

/**
 * Writes a single-platform image into an OCI layout: one gzip layer per element of `layers`
 * (each a map of path -> content), a config, and the manifest. Returns what it wrote.
 */
export function writeOciImage(
  layoutDir: string,
  opts: {
    layers: Record<string, Buffer>[];
    architecture?: string;
    os?: string;
    labels?: Record<string, string>;
  },
): BuiltImage {
  const architecture = opts.architecture ?? 'amd64';
  const os = opts.os ?? 'linux';
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  const files = new Map<string, Buffer>();
  for (const layerFiles of opts.layers) {
    const entries: TarEntry[] = [];
    const dirs = new Set<string>();
    for (const [path, data] of Object.entries(layerFiles)) {
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const d = parts.slice(0, i).join('/') + '/';
        if (!dirs.has(d)) {
          dirs.add(d);
          entries.push({ name: d });
        }
      }
      entries.push({ name: path, data });
      files.set(path, data);
    }
    const tar = tarArchive(entries);
    diffIds.push(sha256(tar));
    layers.push({ mediaType: OCI_LAYER_GZIP, ...writeBlob(layoutDir, gzipSync(tar)) });
  }
  const configJson = Buffer.from(
    JSON.stringify({
      created: '2024-01-01T00:00:00Z',
      architecture,
      os,
      config: { Labels: opts.labels ?? {} },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: diffIds.map(() => ({ created: '2024-01-01T00:00:00Z', created_by: 'berth e2e test' })),
    }),
  );
  const config: Descriptor = { mediaType: OCI_CONFIG, ...writeBlob(layoutDir, configJson) };
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers }));
  const written = writeBlob(layoutDir, manifest);
  return {
    manifest,
    descriptor: { mediaType: OCI_MANIFEST, ...written, platform: { architecture, os } },
    config,
    layers,
    diffIds,
    files,
  };
}

/** Writes an image index over the given manifests into the layout's blobs; returns its bytes and descriptor. */
export function writeOciIndex(layoutDir: string, manifests: Descriptor[]): { index: Buffer; descriptor: Descriptor } {
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
  return { index, descriptor: { mediaType: OCI_INDEX, ...writeBlob(layoutDir, index) } };
}

/** Writes oci-layout and index.json, naming each descriptor by the given reference (the "ref" in oci:DIR:ref). */
export function writeOciLayoutIndex(layoutDir: string, refs: Record<string, Descriptor>): void {
  mkdirSync(layoutDir, { recursive: true });
  writeFileSync(join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const manifests = Object.entries(refs).map(([ref, d]) => ({
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    annotations: { 'org.opencontainers.image.ref.name': ref },
  }));
  writeFileSync(join(layoutDir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
}

/** Reads a blob back from an OCI layout by digest. */
export function readLayoutBlob(layoutDir: string, digest: string): Buffer {
  return readFileSync(join(layoutDir, 'blobs', 'sha256', digest.replace(/^sha256:/, '')));
}
