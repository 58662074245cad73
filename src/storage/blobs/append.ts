// Appending to an upload's data file. Arriving chunks are copied into 1 MiB buffers, and each full buffer is
// written at its own file offset in the background while more arrives (at most WRITES_IN_FLIGHT outstanding,
// which bounds memory per upload). With O_DIRECT the writes go from those buffers straight to the device:
// no copy into the page cache (on this kind of machine, filling fresh page-cache pages costs more CPU than
// anything else in an upload), and the fsync at commit has almost nothing left to flush. O_DIRECT needs aligned
// offsets and lengths, so a direct append that starts inside a 4096-byte block first reads that block's head back, and
// the last partial block of an append is written through an ordinary (buffered) handle to the same file.
// An observer (the core's hashing) sees each buffer's new bytes as the buffer is written.
import { open, type FileHandle } from 'node:fs/promises';
import { ALIGN, BUFFER_SIZE, giveBuffer, isAligned, openDirect, takeBuffer } from './aligned.ts';
import type { Observer } from './store.ts';

const WRITES_IN_FLIGHT = 4;

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
    this.current = takeBuffer();
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
      if (this.filled < BUFFER_SIZE) continue;
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

  /** Waits for writes still running, gives the buffers back and closes the file. Call it exactly once. */
  async close(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    giveBuffer(this.current);
    await Promise.allSettled([this.buffered.close(), this.direct?.close()]);
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
    const seen = this.observe?.(full.subarray(this.fresh, BUFFER_SIZE));
    const write = this.write(full, 0, BUFFER_SIZE, this.base, true);
    this.track((seen ? Promise.all([write, seen]).then(() => {}) : write).finally(() => giveBuffer(full)));
    this.base += BUFFER_SIZE;
    this.filled = 0;
    this.fresh = 0;
    this.current = takeBuffer();
    const writing = this.inFlight.length >= WRITES_IN_FLIGHT ? this.inFlight[0] : undefined;
    // While the observer is not done with this buffer, take no more (it asked to wait).
    if (seen) return writing ? Promise.all([seen, writing]).then(() => {}) : seen;
    return writing;
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
