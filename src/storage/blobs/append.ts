// Appending to an upload's data file. Arriving chunks are copied into 1 MiB buffers, and each full buffer is
// written at its own file offset in the background while more arrives (a few writes outstanding at most, which
// bounds memory per upload). An observer (the core's hashing) sees each buffer's new bytes as the buffer is written.
//
// Two ways to write (BERTH_DIRECT_IO):
// - Through the page cache (the default), with write-behind: every SYNC_EVERY bytes a datasync starts in the
//   background (SYNCS_AT_ONCE in the process at most), so the disk writes while the body still arrives and commit's
//   fsync has little left to flush; while more than DIRTY_MAX bytes wait for a running datasync, the upload takes
//   no more. The blob stays in the page cache, so a
//   pull right after the push is served from memory. The cost: the copy into the page cache (CPU on a libuv
//   thread) and page cache that other files would have used.
// - With O_DIRECT: the writes go from aligned buffers straight to the device, no copy into the page cache, and
//   nothing of the blob is cached afterwards. O_DIRECT needs aligned offsets and lengths, so a direct append that
//   starts inside a 4096-byte block first reads that block's head back, and the last partial block of an append is
//   written through an ordinary (buffered) handle to the same file.
import { open, type FileHandle } from 'node:fs/promises';
import { ALIGN, alignedBuffersInUse, BUFFER_SIZE, giveBuffer, isAligned, openDirect, takeBuffer, takePlainBuffer } from './aligned.ts';
import type { Observer } from './store.ts';

/** Size of the buffers of page-cache writes (O_DIRECT ones are BUFFER_SIZE): smaller, as their writes are quick. */
export const CACHED_BUFFER_SIZE = 512 << 10;
/** Writes outstanding at most: O_DIRECT writes wait for the device, page-cache writes only for a copy. */
const DIRECT_WRITES_IN_FLIGHT = 4;
const CACHED_WRITES_IN_FLIGHT = 2;
/**
 * O_DIRECT buffers all uploads together hold at most (the buffer each is filling and its writes in flight): with
 * more uploads at once than this allows at DIRECT_WRITES_IN_FLIGHT each, each gets fewer writes in flight, and
 * while more aligned buffers than this are out (uploads that started when fewer ran still hold more), an upload
 * with a write in flight waits for it. One write in flight each is always allowed, so more than DIRECT_BUFFERS / 2
 * uploads at once hold two buffers each. 16 parallel uploads could hold 5 MiB each (80 MiB); the disk is as busy
 * with 16 writes of 1 MiB outstanding as with 64 (issue 21).
 */
const DIRECT_BUFFERS = 32;
/** Appenders open with an O_DIRECT handle, in this process. */
let directAppenders = 0;

/** Writes in flight allowed to each of `appenders` O_DIRECT appenders open at once. */
export function directWritesInFlight(appenders: number): number {
  return Math.max(1, Math.min(DIRECT_WRITES_IN_FLIGHT, Math.floor(DIRECT_BUFFERS / Math.max(1, appenders)) - 1));
}
/** Page-cache writes: a datasync starts after this many bytes written since the last one started. */
export const SYNC_EVERY = 16 << 20;
/** Page-cache writes: past this many bytes not yet covered by a finished datasync, the upload waits. */
export const DIRTY_MAX = 64 << 20;

/**
 * Write-behind datasyncs running at once in this process, at most: each holds a libuv thread-pool thread (4 by
 * default) until the disk is done, and the uploads' writes need the others. An upload whose turn it is while the
 * limit is reached starts none this time; commit's fsync covers whatever is left.
 */
const SYNCS_AT_ONCE = 2;
let syncsRunning = 0;

/** Write-behind datasyncs started by this process (for tests). */
export let writeBehindSyncs = 0;

export class Appender {
  private current: Buffer;
  /** Bytes in `current`; `base` is the file offset of its first byte (a multiple of ALIGN when writing directly). */
  private filled: number;
  private base: number;
  /** Where the bytes of this append start in `current` (after the head of a block read back, in the first). */
  private fresh: number;
  private readonly observe: Observer | undefined;
  private readonly inFlight: Promise<void>[] = [];
  private failed: unknown;
  private readonly buffered: FileHandle;
  private direct: FileHandle | undefined;
  private readonly onDirectRefused: () => void;
  /** Page-cache writes: bytes written since the last datasync started, and since the last one finished. */
  private unsynced = 0;
  private dirty = 0;
  private syncing: Promise<void> | undefined;
  private readonly bufferSize: number;
  /** Whether this appender counts in `directAppenders` (opened with an O_DIRECT handle, not closed yet). */
  private countedDirect: boolean;

  private constructor(
    buffered: FileHandle,
    direct: FileHandle | undefined,
    onDirectRefused: () => void,
    position: number,
    observe: Observer | undefined,
  ) {
    this.buffered = buffered;
    this.observe = observe;
    this.direct = direct;
    this.onDirectRefused = onDirectRefused;
    this.bufferSize = direct ? BUFFER_SIZE : CACHED_BUFFER_SIZE;
    this.countedDirect = direct !== undefined;
    if (this.countedDirect) directAppenders++;
    this.current = this.takeBuffer();
    // Only O_DIRECT writes need whole blocks; buffered ones start where the file ends.
    this.base = direct ? position - (position % ALIGN) : position;
    this.filled = position - this.base;
    this.fresh = this.filled;
  }

  /**
   * Opens `path` for appending at its end. With `direct`, also through O_DIRECT when the filesystem allows it;
   * `onDirectRefused` is called when it does not (tmpfs before Linux 6.6, for one), and the appender then writes
   * buffered. `observe` sees the bytes appended (see `BlobStore.append`).
   */
  static async open(path: string, direct: boolean, onDirectRefused: () => void, observe?: Observer): Promise<Appender> {
    const buffered = await open(path, 'r+');
    let directHandle: FileHandle | undefined;
    let appender: Appender | undefined;
    try {
      const size = (await buffered.stat()).size;
      if (direct) {
        directHandle = await openDirect(path, 'write');
        if (!directHandle) onDirectRefused();
      }
      appender = new Appender(buffered, directHandle, onDirectRefused, size, observe);
      await appender.readHead();
      return appender;
    } catch (e) {
      if (appender) await appender.close();
      else await Promise.allSettled([buffered.close(), directHandle?.close()]);
      throw e;
    }
  }

  /** The file's size once everything pushed so far is written. */
  get size(): number {
    return this.base + this.filled;
  }

  /**
   * Takes a chunk (from byte `from` on). When a promise is returned, push no more until it settles (writes are
   * catching up). A chunk larger than the writes allowed in flight (an ECR layer part, up to 20 MiB) is taken in
   * turns: the rest of it waits for the oldest write.
   */
  push(chunk: Buffer, from = 0): Promise<void> | undefined {
    if (this.failed) return Promise.reject(this.failed);
    for (let at = from; at < chunk.length; ) {
      const n = chunk.copy(this.current, this.filled, at);
      at += n;
      this.filled += n;
      if (this.filled < this.current.length) continue;
      const wait = this.flush();
      if (wait) return at < chunk.length ? wait.then(() => this.push(chunk, at)) : wait;
    }
    return undefined;
  }

  /** Writes what is left and waits for every write; returns the file's new size. Not fsynced. */
  async finish(): Promise<number> {
    const size = this.size;
    const seen = this.observe?.(this.current.subarray(this.fresh, this.filled));
    if (seen) this.track(seen);
    const whole = this.direct ? this.filled - (this.filled % ALIGN) : 0;
    if (whole > 0) this.track(this.write(this.current, 0, whole, this.base, true));
    if (this.filled > whole) this.track(this.write(this.current, whole, this.filled - whole, this.base + whole, false));
    await Promise.all(this.inFlight);
    if (this.failed) throw this.failed;
    return size;
  }

  /**
   * The write-behind datasync still running, if any: it goes on after the append (the answer to a PATCH does not
   * wait for the disk; commit's fsync does), and rejects with its error. The caller must not lose that error (a
   * datasync that saw it consumed it: a later fsync may not report it again).
   */
  get backgroundSync(): Promise<void> | undefined {
    return this.syncing;
  }

  /**
   * Waits for writes still running, gives the buffers back and closes the file (once a write-behind datasync still
   * running is over: it syncs through this handle). Call it exactly once.
   */
  async close(): Promise<void> {
    if (this.countedDirect) {
      this.countedDirect = false;
      directAppenders--;
    }
    await Promise.allSettled(this.inFlight);
    giveBuffer(this.current);
    const sync = this.syncing;
    await Promise.allSettled([this.direct?.close(), sync ? undefined : this.buffered.close()]);
    if (sync) void sync.catch(() => {}).finally(() => this.buffered.close().catch(() => {}));
  }

  /** An append that starts inside a block rewrites the block whole: its head comes back from the file first. */
  private async readHead(): Promise<void> {
    for (let at = 0; at < this.filled; ) {
      const { bytesRead } = await this.buffered.read(this.current, at, this.filled - at, this.base + at);
      if (bytesRead === 0) throw new Error('the upload file shrank while being appended to');
      at += bytesRead;
    }
  }

  private flush(): Promise<void> | undefined {
    const full = this.current;
    const seen = this.observe?.(full.subarray(this.fresh, full.length));
    const write = this.write(full, 0, full.length, this.base, true);
    this.track((seen ? Promise.all([write, seen]).then(() => {}) : write).finally(() => giveBuffer(full)));
    this.base += full.length;
    this.filled = 0;
    this.fresh = 0;
    this.current = this.takeBuffer();
    // Take no more while the writes in flight are at their limit (until they are below it: a limit lowered as more
    // uploads started is reached, not kept at), while too much waits for a datasync, or while the observer is not
    // done with this buffer (it asked to wait).
    const over = this.direct !== undefined && alignedBuffersInUse() > DIRECT_BUFFERS;
    const limit = this.direct ? (over ? 1 : directWritesInFlight(directAppenders)) : CACHED_WRITES_IN_FLIGHT;
    const excess = this.inFlight.length - limit + 1;
    const writing = excess <= 0 ? undefined : excess === 1 ? this.inFlight[0] : Promise.all(this.inFlight.slice(0, excess)).then(() => {});
    const waits = [writing, this.writeBehind(full.length), seen].filter((w) => w !== undefined);
    if (waits.length <= 1) return waits[0];
    return Promise.all(waits).then(() => {});
  }

  private takeBuffer(): Buffer {
    return this.direct ? takeBuffer() : takePlainBuffer(this.bufferSize);
  }

  /**
   * Page-cache writes: counts `bytes` handed to writes, starts a datasync (of what is written by then) every
   * SYNC_EVERY bytes, and returns the running one when too much is not yet on the device.
   */
  private writeBehind(bytes: number): Promise<void> | undefined {
    if (this.direct) return undefined;
    this.unsynced += bytes;
    this.dirty += bytes;
    if (!this.syncing && this.unsynced >= SYNC_EVERY && syncsRunning < SYNCS_AT_ONCE) {
      const covered = this.dirty;
      this.unsynced = 0;
      writeBehindSyncs++;
      syncsRunning++;
      const sync = Promise.all(this.inFlight)
        .then(() => this.buffered.datasync())
        .then(
          () => {
            this.dirty -= covered;
          },
          (e: unknown) => {
            this.failed ??= e;
            throw e;
          },
        )
        .finally(() => {
          syncsRunning--;
          if (this.syncing === sync) this.syncing = undefined;
        });
      sync.catch(() => {});
      this.syncing = sync;
    }
    return this.dirty > DIRTY_MAX ? this.syncing : undefined;
  }

  private track(write: Promise<void>): void {
    const tracked = write.then(
      () => {
        this.inFlight.splice(this.inFlight.indexOf(tracked), 1);
      },
      (e: unknown) => {
        this.failed ??= e;
        throw e;
      },
    );
    tracked.catch(() => {});
    this.inFlight.push(tracked);
  }

  /** Writes all of buffer[offset, offset + length) at `position`, directly when everything is aligned. */
  private async write(buffer: Buffer, offset: number, length: number, position: number, mayBeDirect: boolean): Promise<void> {
    while (length > 0) {
      const direct =
        mayBeDirect && this.direct && isAligned(buffer) && offset % ALIGN === 0 && length % ALIGN === 0 && position % ALIGN === 0
          ? this.direct
          : undefined;
      let written: number;
      try {
        ({ bytesWritten: written } = await (direct ?? this.buffered).write(buffer, offset, length, position));
      } catch (e) {
        if (!direct || (e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
        // The device wants a larger alignment than ALIGN: write buffered from now on.
        this.direct = undefined;
        this.onDirectRefused();
        continue;
      }
      if (written === 0) throw new Error(`no byte of ${length} could be written at offset ${position}`);
      offset += written;
      position += written;
      length -= written;
    }
  }
}
