// `berth backup --to DIR`: an online backup of an embedded registry (SQLite metadata and filesystem blobs), taken
// while the server runs. The result is itself a data directory: restoring is starting `berth serve` on it (or on a
// copy). In this order, so that the backup never names what it does not hold:
//   1. the metadata: a consistent snapshot with SQLite's VACUUM INTO (one read transaction: the server goes on
//      writing meanwhile) into DIR/meta.db.partial;
//   2. every blob the snapshot records, copied from the data dir (a reflink where the filesystem can), fsynced,
//      renamed into place; a blob already in DIR at its size is not copied again (a second backup to the same DIR
//      copies only what is new);
//   3. the keys: secret.key (it decrypts the access keys' secrets), root-credentials.json, the self-signed TLS
//      certificate, when present;
//   4. DIR/meta.db.partial renamed to DIR/meta.db, last: a DIR whose meta.db exists is a complete backup.
// Uploads in progress are not copied (clients start them again). A blob that garbage collection deleted after the
// snapshot (its last manifest deleted meanwhile, and its grace period over) fails the backup, which names it: run
// it again.
import { constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { copyFile, rename, rm } from 'node:fs/promises';
import { DatabaseSync } from 'node:sqlite';
import { dirname, join, relative, resolve } from 'node:path';
import type { Config } from '../config.ts';
import { ConfigError } from '../config.ts';
import { ROOT_CREDENTIALS_FILE } from '../auth/credentials.ts';
import { FilesystemBlobStore, fsyncPath, sizeOf } from './blobs/fs.ts';
import { restrictNewFiles } from '../server/file-modes.ts';

const DIR_MODE = 0o700;
/** Files of the data dir a restored registry needs besides the metadata and the blobs (when present). */
const KEY_FILES = ['secret.key', ROOT_CREDENTIALS_FILE, 'tls/self-signed.crt', 'tls/self-signed.key'];

export interface BackupReport {
  to: string;
  metadataBytes: number;
  blobs: { total: number; copied: number; alreadyThere: number; bytesCopied: number };
  keys: string[];
}

export class BackupError extends Error {}

export async function backup(config: Config, to: string): Promise<BackupReport> {
  if (config.databaseUrl || config.blobStore) {
    throw new ConfigError(
      "berth backup copies an embedded registry (SQLite and the data dir's blobs): back up PostgreSQL with pg_dump and S3 with its versioning or replication (docs/operations.md)",
    );
  }
  const dataDir = resolve(config.dataDir);
  const target = resolve(to);
  const dbFile = join(dataDir, 'meta.db');
  if (!existsSync(dbFile)) throw new ConfigError(`no embedded registry in ${dataDir} (no meta.db)`);
  const inside = relative(dataDir, target);
  if (inside === '' || (!inside.startsWith('..') && !inside.startsWith('/')))
    throw new ConfigError(`the backup directory ${target} must be outside the data directory ${dataDir}`);
  restrictNewFiles();
  mkdirSync(target, { recursive: true, mode: DIR_MODE });

  // 1. The metadata, as of one moment.
  const partial = join(target, 'meta.db.partial');
  await rm(partial, { force: true });
  const source = new DatabaseSync(dbFile);
  let blobs: { digest: string; size: number }[];
  try {
    source.exec('PRAGMA busy_timeout = 10000');
    source.prepare('VACUUM INTO ?').run(partial);
  } finally {
    source.close();
  }
  const snapshot = new DatabaseSync(partial, { readOnly: true });
  try {
    blobs = snapshot
      .prepare('SELECT digest, size FROM blobs ORDER BY digest')
      .all()
      .map((r) => ({ digest: String(r.digest), size: Number(r.size) }));
  } finally {
    snapshot.close();
  }
  await fsyncPath(partial);

  // 2. The blobs it records.
  const from = new FilesystemBlobStore(dataDir);
  const into = new FilesystemBlobStore(target);
  await into.init();
  const report: BackupReport['blobs'] = { total: blobs.length, copied: 0, alreadyThere: 0, bytesCopied: 0 };
  const missing: string[] = [];
  for (const blob of blobs) {
    const dest = into.blobPath(blob.digest);
    if ((await sizeOf(dest)) === blob.size) {
      report.alreadyThere++;
      continue;
    }
    const src = from.blobPath(blob.digest);
    if ((await sizeOf(src)) === undefined) {
      missing.push(blob.digest);
      continue;
    }
    await copyDurably(src, dest);
    report.copied++;
    report.bytesCopied += blob.size;
  }
  if (missing.length > 0) {
    throw new BackupError(
      `${missing.length} blob(s) the metadata names were deleted while the backup ran (garbage collection), e.g. ${missing[0]}: run berth backup again`,
    );
  }

  // 3. The keys.
  const keys: string[] = [];
  for (const name of KEY_FILES) {
    if (!existsSync(join(dataDir, name))) continue;
    await copyDurably(join(dataDir, name), join(target, name));
    keys.push(name);
  }

  // 4. Complete.
  await rename(partial, join(target, 'meta.db'));
  await fsyncPath(target);
  return { to: target, metadataBytes: statSync(join(target, 'meta.db')).size, blobs: report, keys };
}

/** Copies a file under a temporary name (a reflink where the filesystem offers one), fsyncs it, renames it into
 * place and fsyncs the directory: a file in the backup is whole or absent. */
async function copyDurably(src: string, dest: string): Promise<void> {
  mkdirSync(dirname(dest), { recursive: true, mode: DIR_MODE });
  const tmp = `${dest}.partial`;
  await copyFile(src, tmp, constants.COPYFILE_FICLONE);
  await fsyncPath(tmp);
  await rename(tmp, dest);
  await fsyncPath(dirname(dest));
}
