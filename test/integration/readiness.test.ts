// GET /readyz (public) over real HTTP: 200 while the metadata and blob stores answer; 503 naming the store that
// does not (the blob directory gone on SQLite; the PostgreSQL server stopped), while /healthz still answers 200;
// 200 again once the store is back, and the registry serves pushes and pulls again without a restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED_SECRET_KEY, startBerth, type Berth } from '../helpers/berth.ts';
import { MANIFEST_TYPE, pushImage, req, sha256, show } from '../helpers/http.ts';
import { startPostgres, type Postgres } from '../helpers/postgres.ts';

async function readyz(b: Berth): Promise<{ status: number; body: any }> {
  const res = await fetch(`${b.url}/readyz`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(res.headers.get('content-type'), 'application/json');
  return { status: res.status, body: await res.json() };
}

async function healthz(b: Berth): Promise<number> {
  return (await fetch(`${b.url}/healthz`, { signal: AbortSignal.timeout(10_000) })).status;
}

/** Asks until `ok` holds of the answer (the stores come back asynchronously), for up to `ms`. */
async function eventually<T>(ask: () => Promise<T>, ok: (t: T) => boolean, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const got = await ask();
    if (ok(got) || Date.now() > until) return got;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function pushAndPull(b: Berth, repo: string, tag: string): Promise<void> {
  const image = await pushImage(b, repo, tag, { layer: Buffer.from(`ready ${tag} `.repeat(500)) });
  const got = await req(b, 'GET', `/v2/${repo}/manifests/${tag}`, { headers: { Accept: MANIFEST_TYPE } });
  assert.equal(got.status, 200, show(got));
  assert.equal(sha256(got.body), image.digest);
}

describe('embedded (SQLite, filesystem blobs)', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth();
  });
  after(async () => {
    await berth?.cleanup();
  });

  test('ready: 200 with both stores ok, anonymous', async () => {
    const r = await readyz(berth);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { status: 'ready', checks: { metadata: { ok: true }, blobs: { ok: true } } });
  });

  test('the blob directory gone: 503 naming the blob store, /healthz still 200; back: 200', async () => {
    const blobs = join(berth.dataDir, 'blobs');
    renameSync(blobs, `${blobs}.away`);
    try {
      const r = await readyz(berth);
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.deepEqual(r.body, { status: 'unavailable', checks: { metadata: { ok: true }, blobs: { ok: false, reason: 'error' } } });
      assert.equal(await healthz(berth), 200);
    } finally {
      renameSync(`${blobs}.away`, blobs);
    }
    assert.equal((await readyz(berth)).status, 200);
    await pushAndPull(berth, 'ready/fs', 'v1');
  });
});

describe('PostgreSQL metadata', () => {
  let server: Postgres;
  let berth: Berth;
  before(async () => {
    server = await startPostgres();
    const url = await server.createDatabase('berth');
    berth = await startBerth({ env: { BERTH_DATABASE_URL: url, BERTH_SECRET_KEY: SHARED_SECRET_KEY } });
  });
  after(async () => {
    await berth?.cleanup();
    await server?.stop();
  });

  test('the database stopped: /readyz 503 naming the metadata store while /healthz answers 200; started again: 200', async () => {
    assert.equal((await readyz(berth)).status, 200);
    await pushAndPull(berth, 'ready/pg', 'before');

    await server.pause();
    const down = await readyz(berth);
    assert.equal(down.status, 503, JSON.stringify(down.body));
    assert.equal(down.body.status, 'unavailable');
    assert.equal(down.body.checks.metadata.ok, false);
    assert.deepEqual(down.body.checks.blobs, { ok: true });
    assert.equal(await healthz(berth), 200, '/healthz: the process is up');
    assert.doesNotMatch(JSON.stringify(down.body), /127\.0\.0\.1|postgres/, 'the public body names the store, not its address');

    await server.resume();
    const up = await eventually(
      () => readyz(berth),
      (r) => r.status === 200,
    );
    assert.equal(up.status, 200, JSON.stringify(up.body));
    await pushAndPull(berth, 'ready/pg', 'after');
    assert.match(berth.output(), /readiness: the metadata store does not answer/, 'the outage is logged');
  });
});
