// The metadata store contract (test/contracts/meta-store.contract.ts) on SQLite: each test on a new database file;
// a second node is a second connection (DatabaseSync handle) to the same file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMetaStore } from '../../src/storage/meta/sqlite.ts';
import type { MetaStore } from '../../src/storage/meta/store.ts';
import { metaStoreContract } from '../contracts/meta-store.contract.ts';

metaStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-meta-contract-'));
  const opened: MetaStore[] = [];
  return {
    async open() {
      const store = new SqliteMetaStore(join(dir, 'meta.db'));
      opened.push(store);
      return store;
    },
    async drop() {
      for (const s of opened) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
