// Last use of blobs and manifests, recorded off the serving path: a pull notes the use in memory and answers at
// once; the notes are written in one transaction a moment later (and before garbage collection, and at close).
// A write that fails (a full disk) is retried later, and never reaches a request: a pull never waits on a
// metadata write, and goes on working when the disk is full.
import type { MetaStore, RecordedUse } from '../storage/meta/store.ts';

/** How soon noted uses are written (and retried after a failure). */
const FLUSH_DELAY_MS = 1000;

export class LastUse {
  private readonly meta: MetaStore;
  private blobs = new Map<string, number>();
  /** By "repositoryId digest". */
  private pulls = new Map<string, { repositoryId: number; digest: string; at: number }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private stopped = false;
  /** Pulls whose noting waits on a look-up (manifestPulledUnless): a flush waits for them. */
  private readonly pending = new Set<Promise<void>>();

  constructor(meta: MetaStore) {
    this.meta = meta;
  }

  /** A blob was served or checked for: its lease against garbage collection is renewed. */
  blobUsed(digest: string, at: number): void {
    if ((this.blobs.get(digest) ?? 0) < at) this.blobs.set(digest, at);
    this.schedule();
  }

  /** A manifest was pulled. */
  manifestPulled(repositoryId: number, digest: string, at: number): void {
    const key = `${repositoryId} ${digest}`;
    if ((this.pulls.get(key)?.at ?? 0) < at) this.pulls.set(key, { repositoryId, digest, at });
    this.schedule();
  }

  /** A manifest was pulled: noted unless `skip` resolves true (noted when it fails); a flush called after this
   * waits for the answer, so that it writes every pull answered before it. */
  manifestPulledUnless(repositoryId: number, digest: string, at: number, skip: Promise<boolean>): void {
    const note = () => this.manifestPulled(repositoryId, digest, at);
    const done: Promise<void> = skip
      .then((s) => {
        if (!s) note();
      }, note)
      .finally(() => {
        this.pending.delete(done);
      });
    this.pending.add(done);
  }

  private schedule(): void {
    if (this.timer || this.flushing || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, FLUSH_DELAY_MS);
    this.timer.unref();
  }

  /** Writes everything noted before the call; resolves (never rejects) once written or, on failure, kept for
   * the next try. */
  async flush(): Promise<void> {
    if (this.pending.size > 0) await Promise.all([...this.pending]);
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    // One write at a time; one running may have started before the latest notes: wait for it, then write.
    while (this.flushing) await this.flushing;
    this.flushing = this.write().finally(() => {
      this.flushing = undefined;
      if (this.blobs.size > 0 || this.pulls.size > 0) this.schedule();
    });
    return this.flushing;
  }

  /** A last flush, then no more (the store is closing). */
  async close(): Promise<void> {
    await this.flush();
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async write(): Promise<void> {
    if (this.blobs.size === 0 && this.pulls.size === 0) return;
    const blobs = this.blobs;
    const pulls = this.pulls;
    this.blobs = new Map();
    this.pulls = new Map();
    const use: RecordedUse = {
      blobs: [...blobs].map(([digest, at]) => ({ digest, at })),
      pulls: [...pulls.values()],
    };
    try {
      await this.meta.recordUse(use);
    } catch {
      // Kept for the next try (the store reported a full disk itself); uses noted since then are newer.
      for (const [digest, at] of blobs) if (!this.blobs.has(digest)) this.blobs.set(digest, at);
      for (const [key, p] of pulls) if (!this.pulls.has(key)) this.pulls.set(key, p);
    }
  }
}
