// Collection over many blob records goes a slice at a time and lets the event loop serve requests between slices
// (issue 21): an embedded store's calls are synchronous underneath, and awaiting them back to back would hold every
// request until the whole mark is done. While the registry says it is busy, collection also waits between slices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyedLock } from '../../src/core/locks.ts';
import { Collector } from '../../src/gc/collector.ts';
import { FilesystemBlobStore } from '../../src/storage/blobs/fs.ts';
import { SqliteMetaStore } from '../../src/storage/meta/sqlite.ts';

const sha256 = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

test('a collection over 5,000 blob records lets the event loop turn between slices, and waits more when busy', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-gc-pace-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const meta = new SqliteMetaStore(join(dir, 'meta.db'), { bulkLoad: true });
  t.after(() => meta.close());
  const blobs = new FilesystemBlobStore(join(dir, 'data'));
  await blobs.init();
  // Young records (inside the grace period): every one is looked at, none is deleted. No files: the walk is empty.
  for (let i = 0; i < 5000; i++) await meta.recordBlob({ digest: sha256(`blob ${i}`), size: 1 }, Date.now());
  const collector = new Collector(meta, blobs, new KeyedLock());

  const turnsDuring = async () => {
    let turns = 0;
    let done = false;
    const tick = () => {
      if (done) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const t0 = performance.now();
    const report = await collector.run({ graceMs: 3600_000, uploadMaxAgeMs: 3600_000 });
    done = true;
    assert.equal(report.blobsDeleted, 0);
    assert.equal(report.orphanFilesDeleted, 0);
    return { turns, ms: performance.now() - t0 };
  };
  const idle = await turnsDuring();
  assert.ok(idle.turns >= 9, `5,000 records in slices of 500: the loop turned ${idle.turns} times during the collection`);

  let asked = 0;
  collector.busy = () => {
    asked++;
    return true;
  };
  const busy = await turnsDuring();
  assert.ok(asked >= 10, `the collector asked whether the registry is busy between slices (${asked} times)`);
  assert.ok(busy.turns >= 9, `busy: the loop turned ${busy.turns} times`);
});
