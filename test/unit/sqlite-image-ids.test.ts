// ListImages' page query in the SQLite store (listImageIds): images with several tags, one tag or none, walked in
// pages of every small size for each tag status. The pages must join up into exactly the ordered list of
// (digest, tag) entries, without a gap or a repeat, whatever the page boundaries cut through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SETTINGS } from '../../src/core/repositories.ts';
import { SqliteMetaStore } from '../../src/storage/meta/sqlite.ts';
import type { ImageId, TagStatus } from '../../src/storage/meta/store.ts';

const TAGS_BY_IMAGE = [[], ['v1', 'latest', 'stable'], ['a'], [], ['z', 'y'], ['only'], []];

test('listImageIds pages join up into every entry, in order, for ANY, TAGGED and UNTAGGED', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-image-ids-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const meta = new SqliteMetaStore(join(dir, 'meta.db'));
  await meta.ensureAccount('111122223333', 0);
  const repo = (await meta.createRepository('111122223333', 'app', DEFAULT_SETTINGS, [], 0))!;
  const all: ImageId[] = [];
  for (const [i, tags] of TAGS_BY_IMAGE.entries()) {
    const content = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', n: i }));
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    const manifest = {
      repositoryId: repo.id,
      digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: null,
      subjectDigest: null,
      size: content.length,
      content,
      annotations: null,
      pushedAt: i,
      blobs: [],
      manifests: [],
      imageSize: 0,
      configMediaType: null,
    };
    if (tags.length === 0) await meta.putManifest(manifest, undefined, i, false);
    for (const tag of tags) await meta.putManifest(manifest, tag, i, false);
    if (tags.length === 0) all.push({ digest, tag: null });
    for (const tag of tags) all.push({ digest, tag });
  }
  const key = (e: ImageId) => `${e.digest} ${e.tag ?? ''}`;
  all.sort((a, b) => (key(a) < key(b) ? -1 : 1));
  const expected: Record<TagStatus, ImageId[]> = {
    ANY: all,
    TAGGED: all.filter((e) => e.tag !== null),
    UNTAGGED: all.filter((e) => e.tag === null),
  };
  assert.equal(expected.ANY.length, 10);
  for (const status of ['ANY', 'TAGGED', 'UNTAGGED'] as TagStatus[]) {
    for (const limit of [1, 2, 3, 4, 5, 100]) {
      const walked: ImageId[] = [];
      let after: string | undefined;
      for (let pages = 0; ; pages++) {
        assert.ok(pages <= expected[status].length, `${status}/${limit}: the walk ends`);
        const page = await meta.listImageIds(repo.id, status, after, limit);
        assert.ok(page.length <= limit);
        walked.push(...page);
        if (page.length < limit) break;
        const last = page[page.length - 1];
        after = `${last.digest} ${last.tag ?? ''}`;
      }
      assert.deepEqual(walked, expected[status], `${status} in pages of ${limit}`);
    }
  }
});
