// `berth serve` re-executes itself once with glibc's malloc tunables in its environment (bin/berth.js, issue 21),
// keeping its pid; it leaves a malloc setting of the user's alone.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Starts `berth serve` with `env` added to an environment without any malloc setting; stops it once `check` ran. */
async function serve(env: Record<string, string>, check: (pid: number, url: string) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-test-'));
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'GLIBC_TUNABLES' && !name.startsWith('MALLOC_')));
  const child = spawn(process.execPath, [join(root, 'bin', 'berth.js'), 'serve'], {
    cwd: root,
    env: { ...base, BERTH_LISTEN: '127.0.0.1:0', BERTH_DATA_DIR: dataDir, BERTH_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`berth did not start in 20 s:\n${out}`)), 20_000);
      child.stdout.on('data', () => {
        const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`berth exited with ${code}:\n${out}`));
      });
    });
    await check(child.pid!, url);
  } finally {
    // Stopped by the pid it was started with: the re-executed server is that process.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The environment the process at `pid` was executed with (as the kernel keeps it). */
function environOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
}

describe('berth serve tunes malloc by re-executing itself', () => {
  test('the process started (same pid) runs with GLIBC_TUNABLES, and serves', async () => {
    await serve({}, async (pid, url) => {
      const tunables = environOf(pid).find((v) => v.startsWith('GLIBC_TUNABLES='));
      // glibc rewrites the variable in place as it parses it: what the kernel shows starts with the first tunable.
      assert.ok(tunables?.startsWith('GLIBC_TUNABLES=glibc.malloc.'), `the server's environment: ${tunables}`);
      assert.match(readFileSync(`/proc/${pid}/cmdline`, 'latin1'), /bin\/berth\.js\0serve\0$/);
      const res = await fetch(`${url}/v2/`);
      assert.equal(res.status, 401, 'the process with that pid answers (authentication is on)');
      await res.body?.cancel();
    });
  });

  test("the user's GLIBC_TUNABLES is left as it is", async () => {
    await serve({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=4' }, async (pid) => {
      assert.ok(environOf(pid).includes('GLIBC_TUNABLES=glibc.malloc.arena_max=4'));
    });
  });

  test('a MALLOC_* variable of the user is taken as the setting: no tunables added', async () => {
    await serve({ MALLOC_ARENA_MAX: '4' }, async (pid) => {
      const environ = environOf(pid);
      assert.ok(environ.includes('MALLOC_ARENA_MAX=4'));
      assert.equal(
        environ.find((v) => v.startsWith('GLIBC_TUNABLES=')),
        undefined,
      );
    });
  });
});
