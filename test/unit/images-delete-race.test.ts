// Two deletes of one image at once (two nodes' lifecycle runs, two BatchDeleteImage calls): only the delete that
// happened reports the image deleted; the other answers ImageNotFound. Before, both read the image, both called the
// store, and both reported it deleted, so a lifecycle run recorded the expiry twice (seen in the two-node test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SETTINGS } from '../../src/core/repositories.ts';
import { Images } from '../../src/core/images.ts';
import { SqliteMetaStore } from '../../src/storage/meta/sqlite.ts';

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test('of two deletes of one image at once, one deletes it and the other finds it gone', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-delete-race-'));
  const meta = new SqliteMetaStore(join(dir, 'meta.db'));
  t.after(async () => {
    await meta.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await meta.ensureAccount('111122223333', 0);
  const repo = (await meta.createRepository('111122223333', 'app', DEFAULT_SETTINGS, [], 0))!;
  const layer = sha256('layer');
  await meta.recordBlob({ digest: layer, size: 5 }, 0);
  await meta.linkBlob(repo.id, layer, 0);
  const content = Buffer.from(JSON.stringify({ schemaVersion: 2, layers: [layer] }));
  const digest = sha256(content);
  const write = await meta.putManifest(
    {
      repositoryId: repo.id,
      digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: null,
      subjectDigest: null,
      size: content.length,
      content,
      annotations: null,
      pushedAt: 1,
      blobs: [layer],
      manifests: [],
      imageSize: 5,
      configMediaType: null,
    },
    'v1',
    1,
    false,
  );
  assert.equal(write.created, true);
  const images = new Images(meta);
  const results = await Promise.all([images.delete(repo, { imageDigest: digest }), images.delete(repo, { imageDigest: digest })]);
  assert.equal(results.filter((r) => 'deleted' in r).length, 1, JSON.stringify(results));
  assert.deepEqual(
    results.find((r) => 'failure' in r),
    { failure: 'ImageNotFound', reason: 'Requested image not found' },
  );
  assert.equal(await meta.getImage(repo.id, digest), undefined);
});
