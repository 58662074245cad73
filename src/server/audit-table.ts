// The audit records kept in the metadata store: every node's in one place, read with `berth audit` and searched
// in the console. Written besides the audit log file or stdout (BERTH_AUDIT_LOG), or alone (BERTH_AUDIT_LOG=database,
// the default on PostgreSQL); kept BERTH_AUDIT_RETENTION_DAYS (an hourly job, AUDIT_RETENTION_JOB, deletes older ones). A pino destination like AuditFile: lines wait in a small bounded
// queue and are written in batches, one write at a time; a write that fails drops its lines and counts them, and
// so does a full queue. A request never waits for its audit record, nor fails with it.
import type { AuditStore } from '../storage/meta/store.ts';

/** Bytes of lines waiting to be written at most; beyond, new lines are dropped (and counted). */
const MAX_QUEUED_BYTES = 1024 * 1024;
/** Records per insert at most. */
const BATCH = 500;

/** The recurring job that deletes audit records older than the retention. */
export const AUDIT_RETENTION_JOB = 'audit-retention';

export class AuditTable {
  private readonly store: AuditStore;
  private readonly now: () => number;
  private queue: { at: number; record: string }[] = [];
  private queuedBytes = 0;
  private writing: Promise<void> | undefined;
  private closed = false;
  private readonly onDropped: (lines: number, error: unknown) => void;

  constructor(store: AuditStore, onDropped: (lines: number, error: unknown) => void, now: () => number = Date.now) {
    this.store = store;
    this.onDropped = onDropped;
    this.now = now;
  }

  /** pino's destination interface: one line, newline included. */
  write(line: string): boolean {
    if (this.closed) return true;
    if (this.queuedBytes + line.length > MAX_QUEUED_BYTES) {
      this.onDropped(1, new Error('the audit log queue is full'));
      return true;
    }
    this.queue.push({ at: this.now(), record: line.trimEnd() });
    this.queuedBytes += line.length;
    this.writing ??= this.writeQueued();
    return true;
  }

  private async writeQueued(): Promise<void> {
    // Lines written in the same tick go in one insert.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, BATCH);
      this.queuedBytes -= batch.reduce((n, r) => n + r.record.length + 1, 0);
      try {
        await this.store.appendAuditRecords(batch);
      } catch (e) {
        this.onDropped(batch.length, e);
      }
    }
    this.queuedBytes = 0;
    this.writing = undefined;
  }

  /** pino's flush: calls back at once (the queue drains by itself; close() waits for it). */
  flush(cb?: (err?: Error) => void): void {
    cb?.();
  }

  /** Waits for what is queued to be written (or dropped); lines after that are ignored. */
  async close(): Promise<void> {
    while (this.writing) await this.writing;
    this.closed = true;
  }
}
