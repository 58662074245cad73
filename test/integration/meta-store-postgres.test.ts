// The metadata store contract (test/contracts/meta-store.contract.ts) on a real PostgreSQL server, private to this
// file: each test on a new database; a second node is a second store (its own connection pool) on that database.
// The recipe's DATABASE_URL is mapped onto the adapter explicitly; the test fails when PostgreSQL cannot start.
// Also: nodes starting together on an empty database migrate it once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PostgresMetaStore } from '../../src/storage/meta/postgres.ts';
import { POSTGRES_MIGRATIONS } from '../../src/storage/meta/postgres-schema.ts';
import type { MetaStore } from '../../src/storage/meta/store.ts';
import { metaStoreContract } from '../contracts/meta-store.contract.ts';
import { jobStoreContract } from '../contracts/job-store.contract.ts';
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

jobStoreContract('PostgreSQL', async () => {
  if (!server) throw new Error('PostgreSQL did not start');
  const name = `jobs_${++databases}`;
  const url = await server.createDatabase(name);
  const [a, b] = [await PostgresMetaStore.open(url), await PostgresMetaStore.open(url)];
  const pgServer = server;
  return {
    a,
    b,
    close: async () => {
      await a.close();
      await b.close();
      await pgServer.dropDatabase(name);
    },
  };
});

test('nodes starting at once on an empty database apply each migration once (advisory lock)', async () => {
  if (!server) throw new Error('PostgreSQL did not start');
  const name = 'migrate_race';
  const url = await server.createDatabase(name);
  try {
    const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresMetaStore.open(url)));
    try {
      assert.deepEqual(
        await Promise.all(stores.map((s) => s.migrate())),
        stores.map(() => POSTGRES_MIGRATIONS.length),
      );
      await stores[0].ensureAccount('111122223333', 1);
      assert.deepEqual(await stores[3].listAccounts(), ['111122223333']);
    } finally {
      for (const s of stores) await s.close();
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const versions = (await client.query('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version);
      assert.deepEqual(
        versions,
        POSTGRES_MIGRATIONS.map((_, i) => i + 1),
      );
    } finally {
      await client.end();
    }
  } finally {
    await server.dropDatabase(name);
  }
});
