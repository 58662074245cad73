// The metadata store contract (test/contracts/meta-store.contract.ts) on a real PostgreSQL server, private to this
// file: each test on a new database; a second node is a second store (its own connection pool) on that database.
// The recipe's DATABASE_URL is mapped onto the adapter explicitly; the test fails when PostgreSQL cannot start.
import { after, before } from 'node:test';
import { PostgresMetaStore } from '../../src/storage/meta/postgres.ts';
import type { MetaStore } from '../../src/storage/meta/store.ts';
import { metaStoreContract } from '../contracts/meta-store.contract.ts';
import { startPostgres, type Postgres } from '../helpers/postgres.ts';

let server: Postgres | undefined;
let databases = 0;

before(async () => {
  server = await startPostgres();
});

after(async () => {
  await server?.stop();
});

metaStoreContract('PostgreSQL', async () => {
  if (!server) throw new Error('PostgreSQL did not start');
  const pg = server;
  const name = `contract_${++databases}`;
  const url = await pg.createDatabase(name);
  const opened: MetaStore[] = [];
  return {
    async open() {
      const store = await PostgresMetaStore.open(url);
      opened.push(store);
      return store;
    },
    async drop() {
      for (const s of opened) await s.close();
      await pg.dropDatabase(name);
    },
  };
});
