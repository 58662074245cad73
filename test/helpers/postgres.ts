// A private PostgreSQL server for tests, started by scripts/postgres.sh (a copy of the shared recipe: initdb in a
// temporary directory, a free loopback port, trust auth; it installs Debian's postgresql if no server is found).
// It fails loudly when the server cannot start: tests on PostgreSQL are never skipped.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const recipe = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'postgres.sh');

export interface Postgres {
  /** The server's URL (its `postgres` database), as the recipe prints it in DATABASE_URL. */
  url: string;
  /** The recipe's directory, for `postgres.sh stop DIR` from a signal handler. */
  dir: string;
  /** Creates an empty database; its URL. */
  createDatabase(name: string): Promise<string>;
  /** Drops a database (closing what is still connected to it). */
  dropDatabase(name: string): Promise<void>;
  /** Stops the server and keeps its data (an outage); `resume` starts it again on the same port. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [recipe, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`postgres.sh ${args.join(' ')} failed (exit ${code}):\n${err}${out}`)),
    );
  });
}

export async function startPostgres(): Promise<Postgres> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pg-'));
  let exports: string;
  try {
    exports = await run(['start', dir]);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const url = /DATABASE_URL=(\S+)/.exec(exports)?.[1];
  if (!url) throw new Error(`postgres.sh printed no DATABASE_URL:\n${exports}`);
  const withDatabase = (name: string) => {
    const u = new URL(url);
    u.pathname = `/${name}`;
    return u.toString();
  };
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    url,
    dir,
    async createDatabase(name) {
      await admin(`CREATE DATABASE "${name}"`);
      return withDatabase(name);
    },
    async dropDatabase(name) {
      await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
    async pause() {
      await run(['stop', dir]);
    },
    async resume() {
      await run(['start', dir]);
    },
    async stop() {
      try {
        await run(['stop', dir]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
