// The registries under test, started as users run them, on loopback, each on a fresh data directory:
// Berth (`node bin/berth.js serve`, authentication on, the root access key over Basic auth) and CNCF distribution
// 2.8.2 (Debian's `docker-registry`, filesystem storage, delete enabled, no auth: its most favourable setup).
// With `--backend pg-s3` (lib/pg-s3.ts), Berth runs on PostgreSQL and S3 and distribution on its own s3 driver.
// Neither ever sees the AWS_* variables of the environment: S3 settings are given to each explicitly.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Agent } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distIsFresh } from '../../scripts/dist-fresh.js';
import { newAgent, type Target } from './http.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DISTRIBUTION_BIN = process.env.BENCH_DISTRIBUTION_BIN ?? '/usr/bin/docker-registry';

export type Kind = 'berth' | 'distribution';

/** Where a registry keeps its blobs in S3 (pg-s3 mode), so that the benchmark can read a blob from the store itself. */
export interface S3Blobs {
  bucket: string;
  /** The object key of a blob. */
  key: (digest: string) => string;
}

/** An S3 store as a registry is configured for it. */
export interface S3Settings {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
}

export interface Registry extends Target {
  kind: Kind;
  /** Set when the registry's blobs are in S3. */
  s3?: S3Blobs;
  /** 127.0.0.1:PORT, what docker wants. */
  host: string;
  pid: number;
  dataDir: string;
  /** Berth's root access key (undefined for distribution). */
  accessKeyId?: string;
  secretAccessKey?: string;
  output: () => string;
  /** SIGTERM and wait for the exit (SIGKILL after 15 s); keeps the data directory. */
  stop: () => Promise<void>;
  /** stop(), then remove the data directory. */
  cleanup: () => Promise<void>;
}

export interface StartOptions {
  /** Reuse a data directory (a restart); by default a fresh one is made, and removed by cleanup(). */
  dataDir?: string;
  /** Extra node options for Berth, e.g. ['--cpu-prof', '--cpu-prof-dir', dir]. */
  nodeArgs?: string[];
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Berth: extra environment (BERTH_DATABASE_URL, BERTH_BLOB_STORE, BERTH_S3_*...). */
  env?: Record<string, string>;
  /** Berth: where its BERTH_BLOB_STORE keeps blobs, when it is S3. Distribution: its s3 driver's store. */
  s3?: S3Blobs;
  s3Settings?: S3Settings;
}

/** The environment without AWS_* variables: a registry under test gets its S3 settings explicitly, never from them. */
export function withoutAwsVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('AWS_')));
}

/** Every server started and not yet cleaned up, so that an interrupted run can stop them and remove their data. */
const live = new Set<{ child: ChildProcess; dataDir?: string }>();
/** Other things to stop on a signal (PostgreSQL and Ceph RGW of pg-s3 mode), synchronously. */
const atSignal = new Set<() => void>();

/** Registers `stop` to run on SIGINT or SIGTERM; the returned function unregisters it. */
export function stopOnSignal(stop: () => void): () => void {
  atSignal.add(stop);
  return () => atSignal.delete(stop);
}

/** On SIGINT or SIGTERM: kill the servers this run started, remove the data directories it made, exit. */
export function cleanUpOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const s of live) {
        if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
        if (s.dataDir) rmSync(s.dataDir, { recursive: true, force: true });
      }
      for (const stop of atSignal) {
        try {
          stop();
        } catch {
          /* best effort */
        }
      }
      process.stderr.write(`\n${signal}: stopped ${live.size} server(s)\n`);
      process.exit(130);
    });
  }
}

function register(child: ChildProcess, dataDir: string | undefined): void {
  const entry = { child, dataDir };
  live.add(entry);
  child.once('exit', () => {
    if (!dataDir) live.delete(entry);
  });
}

function forget(dataDir: string): void {
  for (const s of live) if (s.dataDir === dataDir) live.delete(s);
}

function track(child: ChildProcess): { output: () => string; exited: Promise<void> } {
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
    if (out.length > 1_000_000) out = out.slice(-500_000);
  });
  child.stderr?.on('data', (d) => {
    out += d;
    if (out.length > 1_000_000) out = out.slice(-500_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { output: () => out, exited };
}

function stopper(child: ChildProcess, exited: Promise<void>): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, 15_000);
      await exited;
      clearTimeout(timer);
    }
  };
}

/**
 * A server's stop() and cleanup(): both close the client agent and stop the process; cleanup() also removes the
 * data directory when this run made it (`made`), and forgets it for the signal handler.
 */
function stopAndCleanup(agent: Agent, stop: () => Promise<void>, dataDir: string, made: boolean): Pick<Registry, 'stop' | 'cleanup'> {
  return {
    stop: async () => {
      agent.destroy();
      await stop();
    },
    cleanup: async () => {
      agent.destroy();
      await stop();
      if (made) {
        rmSync(dataDir, { recursive: true, force: true });
        forget(dataDir);
      }
    },
  };
}

let built = false;

/** Compiles src/ to dist/ once per run when it is older than src/, so that Berth runs the code users run
 * (bin/berth.js falls back to the TypeScript sources, slower to start and larger in memory, when dist/ is older
 * than them). A dist/ that is up to date is left alone: a rebuild empties it first, which would break a berth
 * starting at that moment (the smoke test runs beside the other tests). */
function buildOnce(): void {
  if (built) return;
  if (!distIsFresh(ROOT)) execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.js')], { stdio: 'inherit' });
  built = true;
}

export async function startBerth(opts: StartOptions = {}): Promise<Registry> {
  buildOnce();
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'berth-bench-'));
  const accessKeyId = opts.accessKeyId ?? 'AKIABENCHROOT0000001';
  const secretAccessKey = opts.secretAccessKey ?? 'bench-' + randomBytes(12).toString('hex');
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), join(ROOT, 'bin', 'berth.js'), 'serve'], {
    cwd: ROOT,
    env: {
      ...withoutAwsVariables(process.env),
      BERTH_LISTEN: '127.0.0.1:0',
      BERTH_DATA_DIR: dataDir,
      BERTH_ROOT_ACCESS_KEY_ID: accessKeyId,
      BERTH_ROOT_SECRET_ACCESS_KEY: secretAccessKey,
      BERTH_CREATE_ON_PUSH: 'true',
      BERTH_LOG_LEVEL: 'warn',
      BERTH_AUDIT_LOG: 'off',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  register(child, opts.dataDir ? undefined : dataDir);
  const { output, exited } = track(child);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('berth did not start in 30 s:\n' + output())), 30_000);
    const check = () => {
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(output());
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`berth exited with ${code}:\n${output()}`));
    });
    // A spawn that fails (the node binary gone) rejects here, so that the run stops its stores on the way out.
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  const stop = stopper(child, exited);
  const agent = newAgent();
  return {
    kind: 'berth',
    url,
    host: url.replace('http://', ''),
    auth: 'Basic ' + Buffer.from(`${accessKeyId}:${secretAccessKey}`).toString('base64'),
    agent,
    pid: child.pid!,
    dataDir,
    accessKeyId,
    secretAccessKey,
    ...(opts.s3 ? { s3: opts.s3 } : {}),
    output,
    ...stopAndCleanup(agent, stop, dataDir, !opts.dataDir),
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Where distribution's s3 driver keeps its data in the bucket (its `rootdirectory`), and a blob's key there. */
export const DISTRIBUTION_S3_ROOT = 'registry';
export const distributionBlobKey = (digest: string) => {
  const [algorithm, hex] = digest.split(':');
  return `${DISTRIBUTION_S3_ROOT}/docker/registry/v2/blobs/${algorithm}/${hex.slice(0, 2)}/${hex}/data`;
};

/** The config Debian's docker-registry runs with here: filesystem storage (or, given `s3`, its own s3 driver on that
 * store), delete enabled, no auth, quiet logs. Distribution 2.8.2 has no `forcepathstyle`: with `regionendpoint`
 * set it addresses buckets by path. Blob GETs answer with a redirect to a presigned URL (its default on S3). */
export function distributionConfig(storageDir: string, port: number, s3?: S3Settings): string {
  const storage = s3
    ? [
        '  s3:',
        `    accesskey: ${s3.accessKeyId}`,
        `    secretkey: ${s3.secretAccessKey}`,
        `    region: ${s3.region}`,
        `    regionendpoint: ${s3.endpoint}`,
        `    bucket: ${s3.bucket}`,
        `    rootdirectory: /${DISTRIBUTION_S3_ROOT}`,
        '    encrypt: false',
        '    secure: false',
        '    v4auth: true',
      ]
    : ['  filesystem:', `    rootdirectory: ${storageDir}`];
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    ...storage,
    '  delete:',
    '    enabled: true',
    '  cache:',
    '    blobdescriptor: inmemory',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  headers:',
    '    X-Content-Type-Options: [nosniff]',
    '',
  ].join('\n');
}

export async function startDistribution(opts: { dataDir?: string; s3Settings?: S3Settings } = {}): Promise<Registry> {
  if (!existsSync(DISTRIBUTION_BIN)) {
    throw new Error(
      `CNCF distribution is not installed (${DISTRIBUTION_BIN} is missing): apt-get install -y docker-registry, ` +
        'or run with --berth-only',
    );
  }
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'distribution-bench-'));
  const storage = join(dataDir, 'storage');
  let lastError: Error | undefined;
  // The free port is found by binding and releasing it: another process may take it in between, so try again.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const configPath = join(dataDir, 'config.yml');
    writeFileSync(configPath, distributionConfig(storage, port, opts.s3Settings));
    const child = spawn(DISTRIBUTION_BIN, ['serve', configPath], {
      cwd: dataDir,
      env: withoutAwsVariables(process.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    register(child, opts.dataDir ? undefined : dataDir);
    const { output, exited } = track(child);
    const stop = stopper(child, exited);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(url, child, output);
    } catch (e) {
      lastError = e as Error;
      await stop();
      continue;
    }
    const agent = newAgent();
    return {
      kind: 'distribution',
      url,
      host: `127.0.0.1:${port}`,
      auth: undefined,
      agent,
      pid: child.pid!,
      dataDir,
      ...(opts.s3Settings ? { s3: { bucket: opts.s3Settings.bucket, key: distributionBlobKey } } : {}),
      output,
      ...stopAndCleanup(agent, stop, dataDir, !opts.dataDir),
    };
  }
  rmSync(dataDir, { recursive: true, force: true });
  throw lastError ?? new Error('distribution did not start');
}

async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`docker-registry exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
    try {
      const r = await fetch(`${url}/v2/`);
      await r.arrayBuffer();
      if (r.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not answer on ${url} in 20 s:\n${output()}`);
}

export function startRegistry(kind: Kind, opts: StartOptions = {}): Promise<Registry> {
  return kind === 'berth' ? startBerth(opts) : startDistribution({ dataDir: opts.dataDir, s3Settings: opts.s3Settings });
}
