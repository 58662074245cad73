// Starting Berth as a user would: first start without root credentials generates and prints them once and keeps
// them in the data dir (mode 0600); `--help`; a JSON config file, with environment variables overriding it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listFiles } from '../helpers/http.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'berth.js');
const tempDirs: string[] = [];
const running: Served[] = [];

after(async () => {
  for (const s of running) await s.stop();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'berth-startup-'));
  tempDirs.push(d);
  return d;
}

interface Served {
  url: string;
  process: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/** The environment of this process without any BERTH_ variable, plus `extra`. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BERTH_')) env[k] = v;
  return { ...env, ...extra };
}

/** Spawn `berth <args>` and wait for "listening on http://...". */
async function serve(args: string[], env: Record<string, string>): Promise<Served> {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
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
  const served: Served = { url: '', process: child, output: () => out, stop };
  running.push(served);
  served.url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('berth did not start in 20s:\n' + out)), 20_000);
    const check = () => {
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`berth exited with ${code ?? signal}:\n${out}`));
    });
  });
  // Let whatever is printed around the listening line arrive.
  await new Promise((r) => setTimeout(r, 300));
  return served;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function basic(id: string, secret: string): string {
  return 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');
}

async function v2Status(url: string, auth?: string): Promise<number> {
  const r = await fetch(`${url}/v2/`, { headers: auth ? { Authorization: auth } : {} });
  await r.arrayBuffer();
  return r.status;
}

/** The first string value whose key matches `re`, anywhere in a parsed JSON value. */
function findValue(v: unknown, re: RegExp): string | undefined {
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (re.test(k) && typeof x === 'string') return x;
      const inner = findValue(x, re);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

test('first start without root credentials generates them, prints them once, keeps them 0600; they keep working', async () => {
  const dataDir = tempDir();
  const first = await serve(['serve'], { BERTH_DATA_DIR: dataDir, BERTH_LISTEN: '127.0.0.1:0' });

  const credFiles = listFiles(dataDir).filter((f) => /cred/i.test(basename(f)));
  assert.equal(credFiles.length, 1, `expected one credentials file in the data dir, found: ${listFiles(dataDir).join(', ')}`);
  const credFile = credFiles[0];
  assert.equal(credFile, join(dataDir, 'root-credentials.json'), `credentials file is ${credFile}`);
  assert.equal(statSync(credFile).mode & 0o777, 0o600, `mode of ${credFile} is ${(statSync(credFile).mode & 0o777).toString(8)}`);
  const creds = JSON.parse(readFileSync(credFile, 'utf8')) as unknown;
  const id = findValue(creds, /access.?key.?id/i);
  const secret = findValue(creds, /secret/i);
  assert.ok(id && id.length >= 16, `no access key id in ${credFile}`);
  assert.ok(secret && secret.length >= 20, `no secret in ${credFile}`);

  const out1 = first.output();
  assert.ok(out1.includes(id), 'the generated access key id was not printed');
  assert.ok(out1.includes(secret), 'the generated secret was not printed');
  assert.match(out1, /docker login/, 'no docker login command printed');

  assert.equal(await v2Status(first.url, basic(id, secret)), 200, 'generated credentials rejected');
  assert.equal(await v2Status(first.url), 401, 'anonymous GET /v2/ accepted');
  assert.equal(await v2Status(first.url, basic(id, secret + 'x')), 401, 'a wrong secret accepted');
  await first.stop();

  const before = readFileSync(credFile, 'utf8');
  const second = await serve(['serve'], { BERTH_DATA_DIR: dataDir, BERTH_LISTEN: '127.0.0.1:0' });
  assert.ok(!second.output().includes(secret), 'the secret was printed again on the second start');
  assert.equal(readFileSync(credFile, 'utf8'), before, 'the credentials file changed on the second start');
  assert.equal(statSync(credFile).mode & 0o777, 0o600);
  assert.equal(await v2Status(second.url, basic(id, secret)), 200, 'credentials stopped working after a restart');
  assert.equal(await v2Status(second.url), 401);
  await second.stop();
});

test('berth --help exits 0 and lists serve', () => {
  const r = spawnSync(process.execPath, [bin, '--help'], { cwd: root, env: cleanEnv({}), encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, `--help exited ${r.status}: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout + r.stderr, /\bserve\b/);
});

const rootEnv = { BERTH_ROOT_ACCESS_KEY_ID: 'AKIASTARTUPTEST00001', BERTH_ROOT_SECRET_ACCESS_KEY: 'startup-test-secret-0123456789' };
const rootAuth = basic(rootEnv.BERTH_ROOT_ACCESS_KEY_ID, rootEnv.BERTH_ROOT_SECRET_ACCESS_KEY);

function isEmptyOrMissing(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}

for (const how of ['BERTH_CONFIG', '--config'] as const) {
  test(`a JSON config file given by ${how} is honoured`, async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data-from-config');
    const port = await freePort();
    const configPath = join(dir, 'berth.json');
    writeFileSync(configPath, JSON.stringify({ listen: `127.0.0.1:${port}`, dataDir }));
    const s =
      how === 'BERTH_CONFIG'
        ? await serve(['serve'], { ...rootEnv, BERTH_CONFIG: configPath })
        : await serve(['serve', '--config', configPath], { ...rootEnv });
    assert.equal(s.url, `http://127.0.0.1:${port}`, 'listen from the config file ignored');
    assert.ok(!isEmptyOrMissing(dataDir), 'dataDir from the config file unused');
    assert.equal(await v2Status(s.url, rootAuth), 200);
    await s.stop();
  });
}

test('environment variables override the config file', async () => {
  const dir = tempDir();
  const configDataDir = join(dir, 'data-from-config');
  const envDataDir = join(dir, 'data-from-env');
  const configPort = await freePort();
  const envPort = await freePort();
  const configPath = join(dir, 'berth.json');
  writeFileSync(configPath, JSON.stringify({ listen: `127.0.0.1:${configPort}`, dataDir: configDataDir }));
  const s = await serve(['serve'], {
    ...rootEnv,
    BERTH_CONFIG: configPath,
    BERTH_LISTEN: `127.0.0.1:${envPort}`,
    BERTH_DATA_DIR: envDataDir,
  });
  assert.equal(s.url, `http://127.0.0.1:${envPort}`, 'BERTH_LISTEN did not override listen from the config file');
  assert.ok(!isEmptyOrMissing(envDataDir), 'BERTH_DATA_DIR did not override dataDir from the config file');
  assert.ok(isEmptyOrMissing(configDataDir), "the config file's dataDir was used despite BERTH_DATA_DIR");
  assert.equal(await v2Status(s.url, rootAuth), 200);
  await s.stop();
});
