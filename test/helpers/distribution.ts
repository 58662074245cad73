// CNCF distribution 2.8.2 (Debian's `docker-registry`) for tests, with HTTP Basic authentication from an htpasswd
// file (bcrypt, the only hash it takes; made with python3's crypt module): the configuration of bench/lib/servers.ts
// with an `auth: htpasswd` section. Listens on a free port, keeps its data in a temporary directory, and is stopped by
// its own pid. Fails loudly when the program or python3's bcrypt is missing.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DISTRIBUTION_BIN, distributionConfig, freePort } from '../../bench/lib/servers.ts';
import { run } from './tools.ts';

export interface Distribution {
  url: string;
  host: string;
  /** "Basic ..." for the htpasswd user. */
  authHeader: string;
  username: string;
  password: string;
  output: () => string;
  stop: () => Promise<void>;
  cleanup: () => Promise<void>;
}

/** A bcrypt htpasswd line, made with python3's crypt module (Blowfish). */
async function htpasswdLine(username: string, password: string): Promise<string> {
  const r = await run('python3', [
    '-W',
    'ignore',
    '-c',
    'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))',
    password,
  ]);
  const hash = r.stdout.trim();
  if (r.code !== 0 || !hash.startsWith('$2'))
    throw new Error(
      `python3 could not make a bcrypt hash for the htpasswd file (python3 with crypt.METHOD_BLOWFISH is needed): ${r.stderr}`,
    );
  return `${username}:${hash}\n`;
}

export async function startDistributionWithAuth(
  username = 'upstream',
  password = 'upstream-password-' + Math.random().toString(36).slice(2),
): Promise<Distribution> {
  if (!existsSync(DISTRIBUTION_BIN))
    throw new Error(`CNCF distribution is not installed (${DISTRIBUTION_BIN} is missing): apt-get install -y docker-registry`);
  const dataDir = mkdtempSync(join(tmpdir(), 'distribution-test-'));
  const htpasswd = join(dataDir, 'htpasswd');
  writeFileSync(htpasswd, await htpasswdLine(username, password));
  const port = await freePort();
  const config = join(dataDir, 'config.yml');
  writeFileSync(
    config,
    `${distributionConfig(join(dataDir, 'storage'), port)}auth:\n  htpasswd:\n    realm: berth-test\n    path: ${htpasswd}\n`,
  );
  const child = spawn(DISTRIBUTION_BIN, ['serve', config], { cwd: dataDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`docker-registry exited:\n${out}`);
    const status = await fetch(`${url}/v2/`).then(
      async (r) => {
        await r.arrayBuffer();
        return r.status;
      },
      () => 0,
    );
    // Without credentials an authenticating registry answers 401: it is up.
    if (status === 401) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not answer on ${url} in 20 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    username,
    password,
    authHeader: 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64'),
    output: () => out,
    stop,
    cleanup: async () => {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
