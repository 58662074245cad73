// `berth serve` with its metadata in PostgreSQL (BERTH_DATABASE_URL) and blobs on the filesystem: an image pushed
// and pulled over /v2/, described over ECR, with every row in PostgreSQL and no SQLite database in the data dir;
// PutImage over ECR refused for an immutable tag; garbage collection; `berth migrate` reporting the schema version; and a second node
// on an empty data dir and the same database answering for the same images at once (manifests and metadata: the
// blobs stay on node A's filesystem until a shared blob store is configured).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateRepositoryCommand, DescribeImagesCommand, PutImageCommand, type ECRClient } from '@aws-sdk/client-ecr';
import pg from 'pg';
import { SHARED_SECRET_KEY, startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient, expectEcrError } from '../helpers/ecr.ts';
import { MANIFEST_TYPE, getAndHash, pushBlob, pushImage, req, sha256, show } from '../helpers/http.ts';
import { startPostgres, type Postgres } from '../helpers/postgres.ts';
import { POSTGRES_MIGRATIONS } from '../../src/storage/meta/postgres-schema.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let server: Postgres;
let databaseUrl: string;
let nodeA: Berth;
let nodeB: Berth | undefined;
let ecr: ECRClient;

before(async () => {
  server = await startPostgres();
  databaseUrl = await server.createDatabase('berth');
  // The recipe's DATABASE_URL is mapped onto Berth's setting explicitly; nothing else of it reaches Berth.
  // Garbage collection only on demand, with no grace period: the test runs it when nothing is being pushed.
  nodeA = await startBerth({
    env: {
      BERTH_DATABASE_URL: databaseUrl,
      BERTH_SECRET_KEY: SHARED_SECRET_KEY,
      BERTH_CREATE_ON_PUSH: 'false',
      BERTH_GC_GRACE_SECONDS: '0',
      BERTH_GC_INTERVAL_SECONDS: '0',
    },
  });
  ecr = ecrClient(nodeA);
});

after(async () => {
  await nodeB?.cleanup();
  await nodeA?.cleanup();
  await server?.stop();
});

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

test('an image pushed over /v2/ is pulled back and described by ECR, its metadata in PostgreSQL', async () => {
  await ecr.send(new CreateRepositoryCommand({ repositoryName: 'team/app', imageTagMutability: 'IMMUTABLE' }));
  const layer = Buffer.from('a layer on PostgreSQL '.repeat(1000));
  const image = await pushImage(nodeA, 'team/app', 'v1', { layer });

  const got = await req(nodeA, 'GET', '/v2/team/app/manifests/v1', { headers: { Accept: MANIFEST_TYPE } });
  assert.equal(got.status, 200, show(got));
  assert.equal(sha256(got.body), image.digest);
  assert.equal(got.headers.get('docker-content-digest'), image.digest);
  const blob = await getAndHash(`${nodeA.url}/v2/team/app/blobs/${image.layer.digest}`, nodeA.authHeader);
  assert.equal(blob.status, 200);
  assert.equal(blob.digest, image.layer.digest);
  const tags = await req(nodeA, 'GET', '/v2/team/app/tags/list');
  assert.deepEqual(JSON.parse(tags.body.toString()), { name: 'team/app', tags: ['v1'] });

  const described = await ecr.send(new DescribeImagesCommand({ repositoryName: 'team/app' }));
  assert.equal(described.imageDetails?.length, 1);
  const detail = described.imageDetails![0];
  assert.equal(detail.imageDigest, image.digest);
  assert.deepEqual(detail.imageTags, ['v1']);
  assert.equal(detail.imageSizeInBytes, layer.length);
  assert.equal(detail.imageManifestMediaType, MANIFEST_TYPE);

  // The metadata is PostgreSQL's, not a SQLite file's.
  assert.deepEqual(await rows(`SELECT r.name, m.digest FROM manifests m JOIN repositories r ON r.id = m.repository_id`), [
    { name: 'team/app', digest: image.digest },
  ]);
  assert.deepEqual(
    (await rows('SELECT digest FROM blobs ORDER BY digest')).map((r) => r.digest),
    [image.config.digest, image.layer.digest].sort(),
  );
  assert.equal(existsSync(join(nodeA.dataDir, 'meta.db')), false, 'no SQLite database in the data dir');

  // Tag immutability holds on PostgreSQL too, as ECR answers it.
  const other = JSON.parse(image.manifest.toString());
  other.annotations = { changed: 'yes' };
  await expectEcrError(
    ecr.send(
      new PutImageCommand({
        repositoryName: 'team/app',
        imageTag: 'v1',
        imageManifest: JSON.stringify(other),
        imageManifestMediaType: MANIFEST_TYPE,
      }),
    ),
    'ImageTagAlreadyExistsException',
  );
});

test('garbage collection on PostgreSQL deletes an unreferenced blob and keeps the image', async () => {
  const orphan = Buffer.from('pushed, never referenced');
  const digest = await pushBlob(nodeA, 'team/app', orphan);
  const gc = await req(nodeA, 'POST', '/_berth/admin/gc', { headers: { 'Content-Type': 'application/json' }, body: '{}' });
  assert.equal(gc.status, 200, show(gc));
  assert.deepEqual(JSON.parse(gc.body.toString()).deleted, [digest]);
  assert.equal((await req(nodeA, 'HEAD', `/v2/team/app/blobs/${digest}`)).status, 404);
  assert.deepEqual(await rows(`SELECT digest FROM blobs WHERE digest = '${digest}'`), []);
  const manifest = await req(nodeA, 'GET', '/v2/team/app/manifests/v1', { headers: { Accept: MANIFEST_TYPE } });
  assert.equal(manifest.status, 200);
  for (const layer of JSON.parse(manifest.body.toString()).layers as { digest: string }[]) {
    assert.equal((await req(nodeA, 'HEAD', `/v2/team/app/blobs/${layer.digest}`)).status, 200);
  }
});

test('berth migrate applies the PostgreSQL schema and prints its version', async () => {
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'berth.js'), 'migrate'], {
      cwd: root,
      env: { ...process.env, BERTH_DATABASE_URL: databaseUrl, BERTH_DATA_DIR: nodeA.dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (d) => {
      text += d;
    });
    child.stderr.on('data', (d) => {
      text += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`berth migrate exited with ${code}: ${text}`))));
  });
  assert.deepEqual(JSON.parse(out), { database: 'postgresql', schemaVersion: POSTGRES_MIGRATIONS.length });
  assert.deepEqual(
    (await rows('SELECT version FROM schema_migrations ORDER BY version')).map((r) => r.version),
    POSTGRES_MIGRATIONS.map((_, i) => i + 1),
  );
});

test('a second node on an empty data dir and the same database serves the same metadata at once', async () => {
  nodeB = await startBerth({
    env: { BERTH_DATABASE_URL: databaseUrl, BERTH_SECRET_KEY: SHARED_SECRET_KEY, BERTH_CREATE_ON_PUSH: 'false' },
    accessKeyId: nodeA.accessKeyId,
    secretAccessKey: nodeA.secretAccessKey,
  });
  const onA = await req(nodeA, 'GET', '/v2/team/app/manifests/v1', { headers: { Accept: MANIFEST_TYPE } });
  const onB = await req(nodeB, 'GET', '/v2/team/app/manifests/v1', { headers: { Accept: MANIFEST_TYPE } });
  assert.equal(onB.status, 200, show(onB));
  assert.deepEqual(onB.body, onA.body);
  const described = await ecrClient(nodeB).send(new DescribeImagesCommand({ repositoryName: 'team/app' }));
  assert.deepEqual(
    described.imageDetails?.map((d) => d.imageTags),
    [['v1']],
  );
  // A repository created on B is at once visible on A.
  await ecrClient(nodeB).send(new CreateRepositoryCommand({ repositoryName: 'made-on-b' }));
  const catalog = await req(nodeA, 'GET', '/v2/_catalog');
  assert.deepEqual(JSON.parse(catalog.body.toString()).repositories, ['made-on-b', 'team/app']);
});
