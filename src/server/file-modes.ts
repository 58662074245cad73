// Files Berth keeps are its owner's alone: files 0600, directories 0700, whether Berth creates them now or found
// them from an earlier version (which left meta.db and audit.log 0644). New files get those modes from the umask
// (SQLite's database and its -wal and -shm, the audit log) and from the modes they are created with; existing
// ones are set right when a data directory is opened.
import { chmodSync, existsSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MetaStore } from '../storage/meta/store.ts';

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;
/** Set once every file under the data directory had its mode set, so that later starts need not walk the blobs. */
const SECURED = 'file_modes_secured';

/** New files and directories of this process are created without group or other permissions. */
export function restrictNewFiles(): void {
  process.umask(0o077);
}

/**
 * Sets the modes of the data directory and of the files directly in it (meta.db and its -wal and -shm, secret.key,
 * audit.log, ...) on every start, and of everything below it (blobs, uploads) once, on the first start that finds
 * it not done. `extraFiles` are Berth's files kept elsewhere (an audit log configured outside the directory).
 */
export async function secureDataDir(dataDir: string, meta: MetaStore, extraFiles: string[] = []): Promise<void> {
  const deep = (await meta.getSetting(SECURED)) === undefined;
  secure(dataDir, deep ? Infinity : 1);
  for (const file of extraFiles) if (existsSync(file)) secure(file, 0);
  if (deep) await meta.setSetting(SECURED, String(Date.now()));
}

/** Sets the mode of `path` and, for a directory, of its entries down to `depth` levels. Symbolic links are left. */
function secure(path: string, depth: number): void {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (st.isDirectory()) {
    if ((st.mode & 0o777) !== DIR_MODE) chmodOwn(path, DIR_MODE);
    if (depth > 0) for (const name of readdirSync(path)) secure(join(path, name), depth - 1);
  } else if (st.isFile() && (st.mode & 0o777) !== FILE_MODE) {
    chmodOwn(path, FILE_MODE);
  }
}

/** chmod, except on what another user owns (a data directory that is a mount point owned by root, say). */
function chmodOwn(path: string, mode: number): void {
  try {
    chmodSync(path, mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
  }
}
