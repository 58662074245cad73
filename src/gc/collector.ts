// Online garbage collection. Deletes, while pushes and pulls go on:
//   - blobs no manifest references, once untouched (not pushed, mounted, linked or checked for) for the grace
//     period: the lease a push in progress holds on the blobs it uploaded or found;
//   - blob files with no record (left by a crash between writing a blob and recording it), as old;
//   - uploads abandoned for longer than the upload age limit, and the store's unfinished multipart uploads (S3).
// Safety: a manifest write checks its references in the same transaction as the write, and a blob's rows are
// deleted only in a transaction that re-checks it is unreferenced and untouched; the file is removed under the
// digest's lock, which commits and mounts of that digest also take.
import type { BlobStore } from '../storage/blobs/store.ts';
import type { MetaStore } from '../storage/meta/store.ts';
import type { KeyedLock } from '../core/locks.ts';

export interface GcOptions {
  /** Unreferenced blobs younger than this (since last touched) are kept. */
  graceMs: number;
  /** Uploads older than this (since last written) are abandoned. */
  uploadMaxAgeMs: number;
  dryRun?: boolean;
}

export interface GcReport {
  dryRun: boolean;
  blobsDeleted: number;
  bytesDeleted: number;
  orphanFilesDeleted: number;
  orphanBytesDeleted: number;
  uploadsDeleted: number;
  uploadBytesDeleted: number;
  /** Digests deleted (or, on a dry run, that would be). */
  deleted: string[];
  durationMs: number;
}

/** The blob store's extra abilities collection needs. */
export interface CollectableBlobStore extends BlobStore {
  /** Every stored blob file: digest, size and modification time (ms). */
  walk(): AsyncIterable<{ digest: string; size: number; modifiedAt: number }>;
  /** Every stored blob file's digest, a batch at a time (a directory, a page of a listing): what walk() gives
   * without the size and time of each file, which collection needs only of the files with no record. */
  walkDigests(): AsyncIterable<string[]>;
  /** A stored blob file's size and modification time (ms), or undefined when it is gone. */
  blobInfo(digest: string): Promise<{ size: number; modifiedAt: number } | undefined>;
  /** An upload's size and last write time (its directory's while it has no data yet), or undefined when gone. */
  uploadInfo(id: string): Promise<{ size: number; modifiedAt: number } | undefined>;
  /** Upload directories present in storage (some may have no record). */
  listUploadIds(): Promise<string[]>;
  /** Aborts what the store keeps of writes never finished, begun before `before` (ms since the epoch); S3 has
   * them (multipart uploads), the filesystem none. */
  abortIncomplete?(before: number): Promise<number>;
}

/** Blob records looked at per query (the mark's slices, and the record lookups of the blob files walked): a few
 * milliseconds of SQLite's time each at 1,000,000 blobs. */
const MARK_SLICE = 500;

/** Waits `ms`, or only lets what is waiting on the event loop run first (0). */
const wait = (ms: number) => new Promise<void>((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));

export class Collector {
  private readonly meta: MetaStore;
  private readonly blobs: CollectableBlobStore;
  private readonly locks: KeyedLock;
  private readonly now: () => number;
  private readonly onUploadDeleted: (id: string) => void | Promise<void>;
  private running: Promise<GcReport> | undefined;
  /** Whether requests are being served (the server sets it): collection then leaves them more of the event loop. */
  busy: () => boolean = () => false;

  /** `onUploadDeleted` hears of each abandoned upload deleted (the registry drops its hash state), and is awaited. */
  constructor(
    meta: MetaStore,
    blobs: CollectableBlobStore,
    locks: KeyedLock,
    now: () => number = Date.now,
    onUploadDeleted: (id: string) => void | Promise<void> = () => {},
  ) {
    this.meta = meta;
    this.blobs = blobs;
    this.locks = locks;
    this.now = now;
    this.onUploadDeleted = onUploadDeleted;
  }

  /** When the collection's current slice of work began (its last pace()). */
  private sliceStart = 0;

  /**
   * Between two slices of collection work. An embedded store's calls are synchronous underneath: awaiting them back
   * to back never leaves the microtask queue, and a mark over 1,000,000 blobs held every request for seconds (issue
   * 21: pushes kept 25 % of their rate). So the requests waiting run first; and while the registry is busy,
   * collection waits three times as long as its slice took (all its work since the last pace), taking about a
   * quarter of the event loop from them at most. On an idle registry it goes at full speed.
   */
  private async pace(): Promise<void> {
    const slice = performance.now() - this.sliceStart;
    await wait(this.busy() ? Math.ceil(3 * slice) : 0);
    this.sliceStart = performance.now();
  }

  /** One collection; a call while one runs waits for that one. */
  run(options: GcOptions): Promise<GcReport> {
    if (!this.running) {
      this.running = this.collect(options).finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async collect(options: GcOptions): Promise<GcReport> {
    const started = this.now();
    this.sliceStart = performance.now();
    const dryRun = options.dryRun ?? false;
    const cutoff = started - options.graceMs;
    const report: GcReport = {
      dryRun,
      blobsDeleted: 0,
      bytesDeleted: 0,
      orphanFilesDeleted: 0,
      orphanBytesDeleted: 0,
      uploadsDeleted: 0,
      uploadBytesDeleted: 0,
      deleted: [],
      durationMs: 0,
    };

    // 1. Unreferenced blobs past their lease, found a slice of the blob records at a time (in digest order, each
    // looked at once): on SQLite each slice is a short synchronous query, and requests are served between them
    // (pace()).
    for (let after = ''; ; ) {
      const { candidates, last } = await this.meta.unreferencedBlobs(cutoff, after, MARK_SLICE);
      await this.pace();
      for (const candidate of candidates) {
        if (dryRun) {
          report.blobsDeleted++;
          report.bytesDeleted += candidate.size;
          report.deleted.push(candidate.digest);
          continue;
        }
        const deleted = await this.locks.run(candidate.digest, async () => {
          if (!(await this.meta.deleteBlobIfUnreferenced(candidate.digest, cutoff))) return false;
          await this.blobs.delete(candidate.digest);
          return true;
        });
        if (deleted) {
          report.blobsDeleted++;
          report.bytesDeleted += candidate.size;
          report.deleted.push(candidate.digest);
        }
      }
      if (last === undefined) break;
      after = last;
    }

    // 2. Blob files nothing records (a crash between writing and recording), as old as the grace period. The
    // records are looked up a batch of files at a time; only a file without one is looked at (its time).
    for await (const batch of this.blobs.walkDigests()) {
      for (let i = 0; i < batch.length; i += MARK_SLICE) {
        const unrecorded = await this.meta.unrecordedBlobs(batch.slice(i, i + MARK_SLICE));
        await this.pace();
        for (const digest of unrecorded) {
          const file = await this.blobs.blobInfo(digest);
          if (!file || file.modifiedAt >= cutoff) continue;
          // Checked again under the digest's lock, which a commit of that digest takes to record it.
          const orphan = await this.locks.run(digest, async () => {
            if (await this.meta.getBlob(digest)) return false;
            if (!dryRun) await this.blobs.delete(digest);
            return true;
          });
          if (orphan) {
            report.orphanFilesDeleted++;
            report.orphanBytesDeleted += file.size;
            report.deleted.push(digest);
          }
        }
      }
    }

    // 3. Abandoned uploads: recorded ones not written to for the age limit, and unrecorded directories.
    const uploadCutoff = started - options.uploadMaxAgeMs;
    const recorded = new Set((await this.meta.listUploads()).map((u) => u.id));
    for (const id of await this.blobs.listUploadIds()) {
      const info = await this.blobs.uploadInfo(id);
      // Its record, if any, is settled here: the loop below only looks at records without a directory.
      if (info) recorded.delete(id);
      // Gone since the listing (completed or cancelled), or in use: not abandoned.
      if (!info || info.modifiedAt >= uploadCutoff) continue;
      report.uploadsDeleted++;
      report.uploadBytesDeleted += info.size;
      if (!dryRun) {
        await this.blobs.deleteUpload(id);
        await this.meta.deleteUpload(id);
        await this.onUploadDeleted(id);
      }
    }
    for (const id of recorded) {
      if ((await this.blobs.uploadInfo(id)) !== undefined) continue;
      // A record whose data is gone (deleted by hand, or a crash between the two deletions).
      if (!dryRun) {
        await this.meta.deleteUpload(id);
        await this.onUploadDeleted(id);
      }
    }

    // 4. The store's own unfinished multipart uploads (S3: a process that died while writing a chunk or a blob),
    // by the store's wall clock, which stamps them.
    if (!dryRun && this.blobs.abortIncomplete) await this.blobs.abortIncomplete(Date.now() - options.uploadMaxAgeMs);

    report.durationMs = this.now() - started;
    return report;
  }
}
