// The collector's abandoned-upload pass tells the registry which uploads it deleted, so that the hash state the
// registry keeps for them (in memory and on the hashing thread) goes with them instead of piling up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyedLock } from '../../src/core/locks.ts';
import { Collector } from '../../src/gc/collector.ts';
import { FilesystemBlobStore } from '../../src/storage/blobs/fs.ts';
import { SqliteMetaStore } from '../../src/storage/meta/sqlite.ts';

test('abandoned uploads deleted by a collection are reported; young ones are neither deleted nor reported', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-gc-uploads-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const meta = new SqliteMetaStore(join(dir, 'meta.db'));
  const blobs = new FilesystemBlobStore(join(dir, 'data'));
  await blobs.init();
  const [old, young] = [randomUUID(), randomUUID()];
  for (const id of [old, young]) await blobs.createUpload(id);
  const hourAgo = new Date(Date.now() - 3600_000);
  for (const path of [join(blobs.root, 'uploads', old, 'data'), join(blobs.root, 'uploads', old)]) utimesSync(path, hourAgo, hourAgo);

  const reported: string[] = [];
  const collector = new Collector(meta, blobs, new KeyedLock(), Date.now, (id) => {
    reported.push(id);
  });
  const dry = await collector.run({ graceMs: 0, uploadMaxAgeMs: 60_000, dryRun: true });
  assert.equal(dry.uploadsDeleted, 1);
  assert.deepEqual(reported, [], 'a dry run deletes nothing, so reports nothing');
  const report = await collector.run({ graceMs: 0, uploadMaxAgeMs: 60_000 });
  assert.equal(report.uploadsDeleted, 1);
  assert.deepEqual(reported, [old]);
  assert.equal(await blobs.uploadInfo(old), undefined);
  assert.notEqual(await blobs.uploadInfo(young), undefined);
});
