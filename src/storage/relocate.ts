// `berth relocate`: moves an embedded registry (a data dir: SQLite metadata, filesystem blobs, secret.key,
// root-credentials.json) to PostgreSQL and S3, for several nodes. In this order, so that nothing a node could read
// from the target refers to what is not there yet: the keys (the data dir's secret key becomes the database's,
// encrypted under the configured BERTH_SECRET_KEY; the generated root key is kept in the database), then the blobs
// (each read from the data dir, hashed as it streams to the store, committed only under its verified digest), then
// the metadata rows (table by table, in the order of their references). It is resumable and idempotent: a blob the
// store holds at its size is not copied again, and rows already in the database are left as they are.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { join, resolve } from 'node:path';
import pg from 'pg';
import type { Config } from '../config.ts';
import { ConfigError } from '../config.ts';
import { ROOT_CREDENTIALS_FILE, ROOT_CREDENTIALS_SETTING } from '../auth/credentials.ts';
import { SECRET_KEY_SETTING, SecretBox } from '../auth/secrets.ts';
import { openBlobStore } from './blobs/open.ts';
import { PostgresMetaStore } from './meta/postgres.ts';
import { SqliteMetaStore } from './meta/sqlite.ts';

/** Tables copied, each after those it references. Uploads in progress, jobs and lifecycle previews are not
 * moved (clients restart uploads; schedules are set again by the nodes; a preview is asked for again). */
const TABLES = [
  'settings',
  'accounts',
  'users',
  'access_keys',
  'repositories',
  'repository_resource_tags',
  'blobs',
  'repository_blobs',
  'manifests',
  'manifest_references',
  'tags',
  'registry_policies',
  'user_policies',
  'refresh_tokens',
  'audit_records',
  'usage_snapshots',
  'pull_through_rules',
  'upstream_tag_checks',
  'secrets',
  'replication_destinations',
  'replication_statuses',
  'signing_profiles',
  'image_signing',
];
/** Tables whose `id` the database generates: moved past the largest id copied. */
const IDENTITY_TABLES = ['repositories', 'audit_records'];
const ROWS_PER_INSERT = 200;

export interface RelocateReport {
  secretKey: 'stored' | 'already stored';
  rootKey: 'stored' | 'already stored' | 'from configuration' | 'none in the data dir';
  blobs: { total: number; copied: number; alreadyThere: number; bytesCopied: number };
  /** Rows inserted per table (rows already there are not counted). */
  rows: Record<string, number>;
}

/** Progress of the blob copy: blobs and bytes done of the totals. */
export type Progress = (done: { blobs: number; bytes: number }, total: { blobs: number; bytes: number }) => void;

/** Copies the embedded registry of `source.dataDir` to `target` (its databaseUrl and blobStore, its S3 settings,
 * and the secret key that will encrypt the database's key). */
export async function relocate(source: Config, target: Config, progress: Progress = () => {}): Promise<RelocateReport> {
  if (!target.databaseUrl || !target.blobStore) throw new ConfigError('relocate needs --to-database and --to-blob-store');
  if (!target.secretKey)
    throw new ConfigError(
      "relocate needs BERTH_SECRET_KEY or BERTH_SECRET_KEY_FILE: it encrypts the registry's key in the database (give the nodes the same)",
    );
  const dataDir = resolve(source.dataDir);
  const dbFile = join(dataDir, 'meta.db');
  if (!existsSync(dbFile)) throw new ConfigError(`no embedded registry in ${dataDir} (no meta.db)`);
  // Brings the source's schema up to date (a registry of an older version), then reads it as it is.
  await new SqliteMetaStore(dbFile).close();
  const sqlite = new DatabaseSync(dbFile, { readOnly: true });
  const meta = await PostgresMetaStore.open(target.databaseUrl);
  const client = new pg.Client({ connectionString: target.databaseUrl });
  await client.connect();
  try {
    await sameRegistry(sqlite, client);
    const keys = await moveKeys(dataDir, source, target.secretKey, meta);
    const blobs = await copyBlobs(sqlite, source, target, dataDir, progress);
    const rows = await copyRows(sqlite, client);
    return { ...keys, blobs, rows };
  } finally {
    sqlite.close();
    await client.end();
    await meta.close();
  }
}

/** Refuses a database that already holds another registry (another default account). */
async function sameRegistry(sqlite: DatabaseSync, client: pg.Client): Promise<void> {
  const mine = sqlite.prepare("SELECT value FROM settings WHERE key = 'default_account_id'").get()?.value;
  const theirs = (await client.query("SELECT value FROM settings WHERE key = 'default_account_id'")).rows[0]?.value;
  if (mine !== undefined && theirs !== undefined && String(mine) !== String(theirs)) {
    throw new ConfigError(`the database holds another registry (account ${theirs}, this data dir's is ${mine})`);
  }
}

/** The data dir's secret key becomes the database's (so that the access keys' secrets encrypted under it still
 * decrypt), and its generated root key is kept in the database. */
async function moveKeys(
  dataDir: string,
  source: Config,
  wrappingKey: string,
  meta: PostgresMetaStore,
): Promise<Pick<RelocateReport, 'secretKey' | 'rootKey'>> {
  const keyFile = join(dataDir, 'secret.key');
  // The embedded registry used its configured key as is, else the file's.
  const key = existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : source.secretKey;
  if (!key) throw new ConfigError(`no secret key in ${dataDir} (secret.key) nor in the configuration`);
  const wrapping = new SecretBox(Buffer.from(wrappingKey, 'base64'));
  const wrapped = wrapping.encrypt(key);
  const stored = await meta.addSetting(SECRET_KEY_SETTING, wrapped);
  let storedKey: string;
  try {
    storedKey = wrapping.decrypt(stored);
  } catch {
    throw new ConfigError('the database holds a secret key that BERTH_SECRET_KEY does not decrypt');
  }
  if (storedKey !== key) throw new ConfigError('the database already holds another secret key (another registry was started on it)');
  const box = new SecretBox(Buffer.from(key, 'base64'));
  let rootKey: RelocateReport['rootKey'] = 'none in the data dir';
  const rootFile = join(dataDir, ROOT_CREDENTIALS_FILE);
  if (source.rootAccessKeyId) {
    rootKey = 'from configuration';
  } else if (existsSync(rootFile)) {
    const root = JSON.parse(readFileSync(rootFile, 'utf8')) as { accessKeyId: string; secretAccessKey: string };
    const value = JSON.stringify({ accessKeyId: root.accessKeyId, secretCiphertext: box.encrypt(root.secretAccessKey) });
    const keptText = await meta.addSetting(ROOT_CREDENTIALS_SETTING, value);
    const kept = JSON.parse(keptText) as { accessKeyId: string };
    if (kept.accessKeyId !== root.accessKeyId) throw new ConfigError(`the database holds another root key (${kept.accessKeyId})`);
    rootKey = keptText === value ? 'stored' : 'already stored';
  }
  return { secretKey: stored === wrapped ? 'stored' : 'already stored', rootKey };
}

/** Copies every blob the metadata records, verified: read from the data dir, hashed as it streams to the store,
 * committed under its digest only when the bytes hash to it. A blob the store holds at its size is skipped. */
async function copyBlobs(
  sqlite: DatabaseSync,
  source: Config,
  target: Config,
  dataDir: string,
  progress: Progress,
): Promise<RelocateReport['blobs']> {
  const from = await openBlobStore({ ...source, blobStore: undefined }, dataDir);
  const to = await openBlobStore(target, dataDir);
  const list = sqlite
    .prepare('SELECT digest, size FROM blobs ORDER BY digest')
    .all()
    .map((r) => ({ digest: String(r.digest), size: Number(r.size) }));
  const total = { blobs: list.length, bytes: list.reduce((n, b) => n + b.size, 0) };
  const done = { blobs: 0, bytes: 0 };
  const report = { total: list.length, copied: 0, alreadyThere: 0, bytesCopied: 0 };
  const failed: string[] = [];
  progress(done, total);
  for (const blob of list) {
    if ((await to.stat(blob.digest)) === blob.size) {
      report.alreadyThere++;
    } else if ((await from.stat(blob.digest)) !== blob.size) {
      failed.push(`${blob.digest}: missing from ${dataDir} or of another size`);
    } else {
      const id = `relocate-${randomUUID()}`;
      const hash = createHash('sha256');
      await to.createUpload(id);
      try {
        const size = await to.append(
          id,
          await from.read(blob.digest),
          (piece) => {
            hash.update(piece);
            return undefined;
          },
          0,
        );
        const digest = `sha256:${hash.digest('hex')}`;
        if (digest !== blob.digest || size !== blob.size) {
          failed.push(`${blob.digest}: the data dir's bytes hash to ${digest} (${size} bytes)`);
        } else {
          await to.commit(id, blob.digest);
          report.copied++;
          report.bytesCopied += size;
        }
      } finally {
        await to.deleteUpload(id).catch(() => {});
      }
    }
    done.blobs++;
    done.bytes += blob.size;
    progress(done, total);
  }
  if (failed.length > 0) {
    throw new Error(
      `${failed.length} blob(s) could not be copied, so no metadata was copied (run berth fsck on the data dir):\n  ${failed.join('\n  ')}`,
    );
  }
  return report;
}

/** Copies the rows of each table (the columns both schemas have; SQLite's 0/1 flags become booleans), leaving rows
 * already in the database as they are, then moves generated ids past the largest copied. */
async function copyRows(sqlite: DatabaseSync, client: pg.Client): Promise<Record<string, number>> {
  const types = new Map<string, Map<string, string>>();
  for (const r of (
    await client.query('SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema()')
  ).rows) {
    if (!types.has(r.table_name)) types.set(r.table_name, new Map());
    types.get(r.table_name)!.set(r.column_name, r.data_type);
  }
  const copied: Record<string, number> = {};
  for (const table of TABLES) {
    const pgColumns = types.get(table);
    if (!pgColumns) throw new Error(`the database has no table ${table}: is it migrated?`);
    const columns = sqlite
      .prepare(`PRAGMA table_info(${table})`)
      .all()
      .map((c) => String(c.name))
      .filter((c) => pgColumns.has(c));
    const rows = sqlite.prepare(`SELECT ${columns.join(', ')} FROM ${table} ORDER BY rowid`).all();
    copied[table] = 0;
    for (let at = 0; at < rows.length; at += ROWS_PER_INSERT) {
      const batch = rows.slice(at, at + ROWS_PER_INSERT);
      const params: unknown[] = [];
      const values = batch.map(
        (row) =>
          `(${columns
            .map((c) => {
              params.push(toPostgres(row[c], pgColumns.get(c)!));
              return `$${params.length}`;
            })
            .join(', ')})`,
      );
      const result = await client.query(
        `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values.join(', ')} ON CONFLICT DO NOTHING`,
        params,
      );
      copied[table] += result.rowCount ?? 0;
    }
    if (IDENTITY_TABLES.includes(table)) {
      await client.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), GREATEST((SELECT max(id) FROM ${table}), 1))`);
    }
  }
  return copied;
}

function toPostgres(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return null;
  if (type === 'boolean') return Number(value) !== 0;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'bigint') return value.toString();
  return value;
}
