// The files Berth keeps are its owner's alone: every file 0600 and every directory 0700, in a data directory it
// creates and in one that exists already with looser modes (as earlier versions left meta.db and audit.log, 0644).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { pushBlob, req, show, startUpload } from '../helpers/http.ts';

const temp = mkdtempSync(join(tmpdir(), 'berth-modes-'));
const servers: Berth[] = [];
after(async () => {
  for (const s of servers) await s.cleanup();
  rmSync(temp, { recursive: true, force: true });
});

/** Every path under `dir` (itself included) with its permission bits. */
function modes(dir: string): Map<string, number> {
  const out = new Map<string, number>([[dir, statSync(dir).mode & 0o777]]);
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    out.set(path, statSync(path).mode & 0o777);
  }
  return out;
}

function assertPrivate(dir: string): void {
  const wrong: string[] = [];
  for (const [path, mode] of modes(dir)) {
    const want = statSync(path).isDirectory() ? 0o700 : 0o600;
    if (mode !== want) wrong.push(`${path.slice(dir.length) || '/'}: ${mode.toString(8)}`);
  }
  assert.deepEqual(wrong, [], 'files or directories others may read');
}

/** Pushes a blob, leaves an upload in progress, and waits for the audit log to be written. */
async function use(berth: Berth, repo: string): Promise<void> {
  await pushBlob(berth, repo, Buffer.from(`blob of ${repo}`));
  await startUpload(berth, repo);
  const r = await req(berth, 'GET', `/v2/${repo}/tags/list`);
  assert.ok(r.status === 200 || r.status === 404, show(r));
  for (let i = 0; i < 100 && !existsSync(join(berth.dataDir, 'audit.log')); i++) await sleep(50);
}

test('a data directory Berth creates: files 0600, directories 0700', async () => {
  const dataDir = join(temp, 'fresh', 'data');
  const berth = await startBerth({ dataDir, removeDataDir: true });
  servers.push(berth);
  await use(berth, 'modes/fresh');
  const names = [...modes(dataDir).keys()].map((p) => p.slice(dataDir.length));
  for (const name of ['/meta.db', '/meta.db-wal', '/meta.db-shm', '/secret.key', '/audit.log', '/blobs', '/uploads']) {
    assert.ok(names.includes(name), `${name} is missing: ${names.join(' ')}`);
  }
  assert.ok(
    names.some((n) => n.startsWith('/blobs/sha256/')),
    'no blob file',
  );
  assert.ok(
    names.some((n) => /^\/uploads\/[^/]+\/data$/.test(n)),
    'no upload file',
  );
  assertPrivate(dataDir);
});

test('a data directory that exists with looser modes is made private at startup', async () => {
  const dataDir = join(temp, 'existing');
  mkdirSync(dataDir, { mode: 0o755 });
  chmodSync(dataDir, 0o755);
  let berth = await startBerth({ dataDir, removeDataDir: true });
  servers.push(berth);
  await use(berth, 'modes/existing');
  await berth.stop();
  // As an earlier version left it: everything readable by others, and nothing recorded about modes.
  for (const [path] of modes(dataDir)) chmodSync(path, statSync(path).isDirectory() ? 0o755 : 0o644);
  const db = new DatabaseSync(join(dataDir, 'meta.db'));
  db.exec("DELETE FROM settings WHERE key = 'file_modes_secured'");
  db.close();
  for (const [path] of modes(dataDir)) chmodSync(path, statSync(path).isDirectory() ? 0o755 : 0o644);
  berth = await berth.restart();
  servers.push(berth);
  assertPrivate(dataDir);
  // What it creates from then on is private too.
  await use(berth, 'modes/after');
  assertPrivate(dataDir);
});
