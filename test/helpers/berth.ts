// Starts a real Berth server process for tests, as a user would (`berth serve`), on an ephemeral port and a
// temporary data directory, and stops it by its own pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A secret key (base64 of 32 bytes) for nodes sharing a database, which must all be given the same one. */
export const SHARED_SECRET_KEY = Buffer.alloc(32, 7).toString('base64');

export interface Berth {
  url: string; // http://127.0.0.1:PORT (https:// when the server was started with TLS)
  host: string; // 127.0.0.1:PORT (what docker/skopeo want)
  dataDir: string;
  accessKeyId: string;
  secretAccessKey: string;
  authHeader: string; // "Basic ..." for the root key
  process: ChildProcess;
  output: () => string; // everything the server printed so far
  stop: () => Promise<void>; // SIGTERM, wait for exit
  kill9: () => Promise<void>; // SIGKILL, wait for exit
  restart: () => Promise<Berth>; // start again on the same data dir and credentials
  cleanup: () => Promise<void>; // stop (if running) and remove the data dir
}

export interface StartOptions {
  dataDir?: string;
  env?: Record<string, string>;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Remove the data dir on cleanup(); by default only when startBerth made it. restart() keeps the choice. */
  removeDataDir?: boolean;
  /** Arguments after `serve` (e.g. --tls-self-signed). */
  serveArgs?: string[];
}

export async function startBerth(opts: StartOptions = {}): Promise<Berth> {
  const removeDataDir = opts.removeDataDir ?? !opts.dataDir;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'berth-test-'));
  const accessKeyId = opts.accessKeyId ?? 'AKIATESTROOT00000001';
  const secretAccessKey = opts.secretAccessKey ?? 'test-secret-' + Math.random().toString(36).slice(2);
  const child = spawn(process.execPath, [join(root, 'bin', 'berth.js'), 'serve', ...(opts.serveArgs ?? [])], {
    cwd: root,
    env: {
      ...process.env,
      BERTH_LISTEN: '127.0.0.1:0',
      BERTH_DATA_DIR: dataDir,
      BERTH_ROOT_ACCESS_KEY_ID: accessKeyId,
      BERTH_ROOT_SECRET_ACCESS_KEY: secretAccessKey,
      BERTH_LOG_LEVEL: process.env.BERTH_LOG_LEVEL ?? 'warn',
      // Most tests push to repositories they never created, as to a plain OCI registry; ECR's refusal is tested
      // with BERTH_CREATE_ON_PUSH=false.
      BERTH_CREATE_ON_PUSH: 'true',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('berth did not start in 20s:\n' + out)), 20_000);
    const check = () => {
      const m = /listening on (https?:\/\/[\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`berth exited with ${code}:\n${out}`));
    });
  });
  const host = url.replace(/^https?:\/\//, '');
  const stopWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  const berth: Berth = {
    url,
    host,
    dataDir,
    accessKeyId,
    secretAccessKey,
    authHeader: 'Basic ' + Buffer.from(`${accessKeyId}:${secretAccessKey}`).toString('base64'),
    process: child,
    output: () => out,
    stop: () => stopWith('SIGTERM'),
    kill9: () => stopWith('SIGKILL'),
    restart: async () => {
      await stopWith('SIGTERM');
      return startBerth({ ...opts, dataDir, accessKeyId, secretAccessKey, removeDataDir });
    },
    cleanup: async () => {
      await stopWith('SIGTERM');
      if (removeDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return berth;
}
