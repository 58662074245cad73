// The SQLite store's blob-link methods of issue 16: unlinkBlobIfUnreferenced (a blob a manifest of the repository
// references stays linked, decided in the same transaction as the unlink), repositoriesHoldingBlob (the candidates of
// an automatic mount: one account's repositories holding the digest, by name, bounded) and mountBlob (links only from
// a repository that holds the blob).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SETTINGS } from '../../src/core/repositories.ts';
import { SqliteMetaStore } from '../../src/storage/meta/sqlite.ts';

const A = '111122223333';
const B = '444455556666';
const digestOf = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

async function openStore(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-blob-links-'));
  const meta = new SqliteMetaStore(join(dir, 'meta.db'));
  t.after(() => {
    void meta.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await meta.ensureAccount(A, 0);
  await meta.ensureAccount(B, 0);
  return meta;
}

test('unlinkBlobIfUnreferenced: refused while a manifest of the repository references the blob', async (t) => {
  const meta = await openStore(t);
  const repo = (await meta.createRepository(A, 'app', DEFAULT_SETTINGS, [], 0))!;
  const other = (await meta.createRepository(A, 'other', DEFAULT_SETTINGS, [], 0))!;
  const layer = digestOf('layer');
  await meta.recordBlob({ digest: layer, size: 5 }, 0);
  await meta.linkBlob(repo.id, layer, 0);
  await meta.linkBlob(other.id, layer, 0);
  const content = Buffer.from('{"n":1}');
  const manifest = digestOf('{"n":1}');
  await meta.putManifest(
    {
      repositoryId: repo.id,
      digest: manifest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: null,
      subjectDigest: null,
      size: content.length,
      content,
      annotations: null,
      pushedAt: 0,
      blobs: [layer],
      manifests: [],
      imageSize: 5,
      configMediaType: null,
    },
    'v1',
    0,
    false,
  );

  assert.deepEqual(await meta.unlinkBlobIfUnreferenced(repo.id, layer), { referencedBy: manifest });
  assert.ok(await meta.getRepositoryBlob(repo.id, layer), 'still linked');
  assert.equal(await meta.unlinkBlobIfUnreferenced(other.id, layer), 'unlinked', "another repository's manifest does not hold it");
  assert.equal(await meta.unlinkBlobIfUnreferenced(other.id, layer), 'unknown');
  assert.equal(await meta.deleteManifest(repo.id, manifest), true);
  assert.equal(await meta.unlinkBlobIfUnreferenced(repo.id, layer), 'unlinked');
  assert.equal(await meta.getRepositoryBlob(repo.id, layer), undefined);
});

test("repositoriesHoldingBlob: the account's repositories linking the digest, by name, at most `limit`", async (t) => {
  const meta = await openStore(t);
  const blob = digestOf('blob');
  await meta.recordBlob({ digest: blob, size: 4 }, 0);
  for (const name of ['c', 'a', 'b', 'd']) {
    const repo = (await meta.createRepository(A, name, DEFAULT_SETTINGS, [], 0))!;
    if (name !== 'd') await meta.linkBlob(repo.id, blob, 0);
  }
  const theirs = (await meta.createRepository(B, 'a', DEFAULT_SETTINGS, [], 0))!;
  await meta.linkBlob(theirs.id, blob, 0);
  assert.deepEqual(
    (await meta.repositoriesHoldingBlob(A, blob, 10)).map((r) => [r.accountId, r.name]),
    [
      [A, 'a'],
      [A, 'b'],
      [A, 'c'],
    ],
  );
  assert.deepEqual(
    (await meta.repositoriesHoldingBlob(A, blob, 2)).map((r) => r.name),
    ['a', 'b'],
  );
  assert.deepEqual(
    (await meta.repositoriesHoldingBlob(B, blob, 10)).map((r) => [r.accountId, r.name]),
    [[B, 'a']],
  );
  assert.deepEqual(await meta.repositoriesHoldingBlob(A, digestOf('none'), 10), []);
});

test('mountBlob: links only from a repository that holds the blob, and renews its lease', async (t) => {
  const meta = await openStore(t);
  const from = (await meta.createRepository(A, 'from', DEFAULT_SETTINGS, [], 0))!;
  const to = (await meta.createRepository(A, 'to', DEFAULT_SETTINGS, [], 0))!;
  const empty = (await meta.createRepository(A, 'empty', DEFAULT_SETTINGS, [], 0))!;
  const blob = digestOf('mounted');
  await meta.recordBlob({ digest: blob, size: 7 }, 0);
  await meta.linkBlob(from.id, blob, 0);
  assert.equal(await meta.mountBlob(to.id, empty.id, blob, 10), undefined, 'the source does not hold it');
  assert.equal(await meta.getRepositoryBlob(to.id, blob), undefined);
  assert.deepEqual(await meta.mountBlob(to.id, from.id, blob, 20), { digest: blob, size: 7 });
  assert.deepEqual(await meta.getRepositoryBlob(to.id, blob), { digest: blob, size: 7, touchedAt: 20 });
  assert.deepEqual(await meta.mountBlob(to.id, from.id, blob, 30), { digest: blob, size: 7 }, 'idempotent');
});
