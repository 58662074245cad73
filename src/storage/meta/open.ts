// Opening the configured metadata store: PostgreSQL when a database URL is set, else SQLite in the data dir.
// The PostgreSQL driver is loaded only then, so the embedded default starts as fast as before.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../../config.ts';
import { SQLITE_MIGRATIONS } from './sqlite-schema.ts';
import { SqliteMetaStore } from './sqlite.ts';
import type { MetaStore } from './store.ts';

type StoreConfig = Pick<Config, 'dataDir' | 'databaseUrl'>;

/** Opens the metadata store, applying the schema migrations it lacks. `onFull` hears of a full disk (SQLite). */
export async function openMetaStore(config: StoreConfig, options: { onFull?: () => void } = {}): Promise<MetaStore> {
  if (config.databaseUrl) return (await import('./postgres.ts')).PostgresMetaStore.open(config.databaseUrl);
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return new SqliteMetaStore(join(dataDir, 'meta.db'), options);
}

/** Applies the schema migrations (`berth migrate`): the database and the schema version it is now at. */
export async function migrateMetaStore(config: StoreConfig): Promise<{ database: 'postgresql' | 'sqlite'; schemaVersion: number }> {
  if (config.databaseUrl) {
    const store = await (await import('./postgres.ts')).PostgresMetaStore.open(config.databaseUrl);
    try {
      return { database: 'postgresql', schemaVersion: await store.migrate() };
    } finally {
      await store.close();
    }
  }
  // The SQLite store applies every migration when opened.
  await (await openMetaStore(config)).close();
  return { database: 'sqlite', schemaVersion: SQLITE_MIGRATIONS.length };
}
