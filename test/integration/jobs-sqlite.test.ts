// The jobs contract on the embedded SQLite store: two store instances on one database file stand for two nodes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMetaStore } from '../../src/storage/meta/sqlite.ts';
import { jobStoreContract } from '../contracts/job-store.contract.ts';

jobStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-jobs-'));
  const a = new SqliteMetaStore(join(dir, 'meta.db'));
  const b = new SqliteMetaStore(join(dir, 'meta.db'));
  return {
    a,
    b,
    close: async () => {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
