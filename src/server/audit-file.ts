// The audit log's file: a pino destination that appends JSON lines and never fails a request or stalls the
// process. Lines wait in a small bounded queue and are written in batches, one write at a time; a write that
// fails (a full disk) drops its lines and counts them, and so does a full queue. pino's own file destination
// retries a failing write forever instead, and throws when nothing listens for its errors.
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, write } from 'node:fs';
import { dirname } from 'node:path';

/** Bytes of lines waiting to be written at most; beyond, new lines are dropped (and counted). */
const MAX_QUEUED_BYTES = 1024 * 1024;

export class AuditFile {
  private readonly fd: number;
  private queue: string[] = [];
  private queuedBytes = 0;
  private writing = false;
  /** A write failed partway through a line, and the part could not be taken back: the next write starts on a new
   * line, so that the lines after it stay JSON. */
  private partialLine = false;
  private closed = false;
  /** Called when the last queued write is done (close() waits for it). */
  private idle: (() => void) | undefined;
  /** Hears of lines dropped (how many, and why). */
  private readonly onDropped: (lines: number, error: unknown) => void;

  constructor(path: string, onDropped: (lines: number, error: unknown) => void) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.fd = openSync(path, 'a', 0o600);
    this.onDropped = onDropped;
  }

  /** pino's destination interface: one line, newline included. */
  write(line: string): boolean {
    if (this.closed) return true;
    if (this.queuedBytes + line.length > MAX_QUEUED_BYTES) {
      this.onDropped(1, new Error('the audit log queue is full'));
      return true;
    }
    this.queue.push(line);
    this.queuedBytes += line.length;
    if (!this.writing) this.writeQueued();
    return true;
  }

  private writeQueued(): void {
    const lines = this.queue.length;
    const buffer = Buffer.from((this.partialLine ? '\n' : '') + this.queue.join(''));
    this.queue = [];
    this.queuedBytes = 0;
    this.writing = true;
    const next = (offset: number) => {
      write(this.fd, buffer, offset, buffer.length - offset, null, (error, written) => {
        if (!error && offset + written < buffer.length) return next(offset + written);
        if (error) {
          if (offset > 0) this.cut(offset);
          this.onDropped(lines, error);
        } else {
          this.partialLine = false;
        }
        this.writing = false;
        if (this.queue.length > 0) this.writeQueued();
        else this.idle?.();
      });
    };
    next(0);
  }

  /** Takes back the `written` bytes a failed write left at the end of the file (a full disk takes what fits):
   * no line is left cut. Shrinking a file needs no space; should it fail, the next write starts a new line. */
  private cut(written: number): void {
    try {
      ftruncateSync(this.fd, fstatSync(this.fd).size - written);
    } catch {
      this.partialLine = true;
    }
  }

  /** pino's flush: calls back at once (the queue drains by itself; close() waits for it). */
  flush(cb?: (err?: Error) => void): void {
    cb?.();
  }

  /** Waits for what is queued to be written (or dropped), then closes the file; lines after that are ignored. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.writing)
      await new Promise<void>((resolve) => {
        this.idle = resolve;
      });
    closeSync(this.fd);
  }
}
