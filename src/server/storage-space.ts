// Space on the data directory's filesystem, as the server meets it. When the metadata store, the blob store or
// the audit log is refused a write for lack of space, one line is logged (not one per request), and the
// filesystem is watched until space returns, when one more line tells how many audit lines were dropped
// meanwhile. Nothing is refused here: every write is attempted, fails on its own while the disk is full (each
// protocol answers "storage is full"), and succeeds as soon as there is space again, with no restart.
import { statfs } from 'node:fs/promises';
import { isNoSpace, type StorageArea } from '../core/errors.ts';
import type { Logger } from './log.ts';

/** How often the filesystem is looked at while it is full. */
const CHECK_INTERVAL_MS = 2000;
/** Space counts as returned with this much free: 1% of the filesystem, at most 64 MiB. */
const enoughFree = (total: number) => Math.min(64 * 1024 * 1024, total / 100);

export interface StorageStatus {
  /** A write was refused for lack of space, and space has not returned since. */
  full: boolean;
  /** Since when (ISO 8601), while full. */
  fullSince?: string;
  /** Audit log lines dropped since the server started (a full disk, or a queue overflowing). */
  droppedAuditLines: number;
}

export class StorageSpace {
  private readonly dir: string;
  private readonly log: Logger | undefined;
  private fullSince: number | undefined;
  private droppedAuditLines = 0;
  /** Dropped since the disk became full (told when space returns). */
  private droppedWhileFull = 0;
  private readonly warned = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(dir: string, log?: Logger) {
    this.dir = dir;
    this.log = log;
  }

  /** A write to `area` found no space. */
  ranOut(area: StorageArea): void {
    if (this.fullSince !== undefined) return;
    this.fullSince = Date.now();
    this.droppedWhileFull = 0;
    this.log?.error(
      { storage: { area, dataDir: this.dir } },
      `storage is full: writes are refused ("storage is full") until space is freed on the filesystem of ${this.dir}; pulls and reads go on`,
    );
    this.timer = setInterval(() => void this.check(), CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  /** The audit log dropped `lines` (a write failed with `error`, or its queue was full). */
  auditDropped(lines: number, error: unknown): void {
    this.droppedAuditLines += lines;
    if (isNoSpace(error)) {
      this.ranOut('audit log');
      this.droppedWhileFull += lines;
      return;
    }
    if (this.fullSince !== undefined) this.droppedWhileFull += lines;
    // Another cause (an I/O error, a queue overflowing): told once per kind.
    const kind = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.log?.error({ err: error }, 'audit log lines are being dropped (the count is in /healthz)');
  }

  status(): StorageStatus {
    return {
      full: this.fullSince !== undefined,
      ...(this.fullSince !== undefined ? { fullSince: new Date(this.fullSince).toISOString() } : {}),
      droppedAuditLines: this.droppedAuditLines,
    };
  }

  private async check(): Promise<void> {
    if (this.fullSince === undefined) return;
    let free: number;
    let total: number;
    let inodesLeft: boolean;
    try {
      const s = await statfs(this.dir);
      free = s.bavail * s.bsize;
      total = s.blocks * s.bsize;
      // A filesystem out of inodes is full too (ENOSPC), whatever its free blocks.
      inodesLeft = s.files === 0 || s.ffree > 0;
    } catch {
      return;
    }
    if (free < enoughFree(total) || !inodesLeft || this.fullSince === undefined) return;
    const seconds = Math.round((Date.now() - this.fullSince) / 1000);
    this.fullSince = undefined;
    this.stop();
    const dropped = this.droppedWhileFull;
    // A warning when the audit log lost lines; good news otherwise.
    this.log?.[dropped > 0 ? 'warn' : 'info'](
      { storage: { freeBytes: free, fullForSeconds: seconds, droppedAuditLines: dropped } },
      `storage has space again: writes are accepted; ${dropped} audit log lines were dropped while it was full`,
    );
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
