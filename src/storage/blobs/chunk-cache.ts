// Serving blobs from the filesystem through one shared, bounded set of chunk buffers. A blob file is read in
// CHUNK-sized pieces at CHUNK-aligned offsets; a piece read for one GET is kept (least recently used first out) and
// written to every other GET of the same blob that reaches it while it is kept. Blob files are immutable and named
// by their digest, so a kept piece can never be stale.
//
// Why: when a fleet of nodes pulls a new image at once, every puller reads the same layers in the same order at
// nearly the same time. Each piece is then read from the file once, not once per puller, and the memory of all the
// GETs together stays within the cache's capacity however many run: a GET that needs a piece while every byte of
// the capacity is pinned (being written to a socket) waits its turn, holding nothing, so waits cannot deadlock.
// While there is room, a GET also reads its next piece ahead while the current one is being sent.
import { open, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';

interface Entry {
  key: string;
  /** The piece's bytes once read (a prefix of the buffer: the last piece of a file is shorter). */
  data?: Buffer;
  /** Set while the piece is being read. */
  loading?: Promise<void>;
  failed?: unknown;
  /** GETs writing this piece now: it is not evicted while pinned. */
  pins: number;
  /** Bytes of memory the entry holds. */
  bytes: number;
}

export class ChunkCache {
  readonly chunk: number;
  readonly capacity: number;
  /** In least recently used order (a Map iterates in insertion order; a use re-inserts). */
  private readonly entries = new Map<string, Entry>();
  private used = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(capacity: number, chunk: number) {
    this.capacity = capacity;
    this.chunk = chunk;
  }

  /** Bytes held now (for tests and metrics). */
  get bytesHeld(): number {
    return this.used;
  }

  /**
   * Writes bytes `range.start` to `range.end` (inclusive) of the file at `path`, of `size` bytes, to `out`, piece by
   * piece, each once `out` has taken the one before (backpressure), reading the next piece ahead while there is room.
   */
  async copy(path: string, size: number, range: { start: number; end: number }, out: Writable): Promise<void> {
    const files = new FileOpener(path);
    try {
      for (let index = Math.floor(range.start / this.chunk); index * this.chunk <= range.end; index++) {
        const entry = await this.pin(path, size, index, files, true);
        try {
          const next = (index + 1) * this.chunk;
          if (next <= range.end) void this.prefetch(path, size, index + 1, files);
          const from = Math.max(range.start - index * this.chunk, 0);
          const to = Math.min(range.end + 1 - index * this.chunk, entry.data!.length);
          if (to <= from) throw new Error(`${path} is shorter than expected`);
          if (out.destroyed) throw new Error('the destination closed');
          await new Promise<void>((resolve, reject) => {
            out.write(entry.data!.subarray(from, to), (err) => (err ? reject(err) : resolve()));
          });
        } finally {
          this.unpin(entry);
        }
      }
    } finally {
      await files.close();
    }
  }

  /** Reads a piece ahead into the cache when that needs no waiting; never fails (the GET reads it again if needed). */
  private async prefetch(path: string, size: number, index: number, files: FileOpener): Promise<void> {
    try {
      const entry = await this.pin(path, size, index, files, false);
      if (entry) this.unpin(entry);
    } catch {
      // The GET's own read of this piece reports the error.
    }
  }

  /** The piece, read and pinned. With `wait` false, undefined when it would have to wait for room. */
  private pin(path: string, size: number, index: number, files: FileOpener, wait: true): Promise<Entry>;
  private pin(path: string, size: number, index: number, files: FileOpener, wait: false): Promise<Entry | undefined>;
  private async pin(path: string, size: number, index: number, files: FileOpener, wait: boolean): Promise<Entry | undefined> {
    const key = `${index}:${path}`;
    for (;;) {
      let entry = this.entries.get(key);
      if (entry) {
        // A use makes it the most recently used.
        this.entries.delete(key);
        this.entries.set(key, entry);
      } else {
        const bytes = Math.min(this.chunk, size - index * this.chunk);
        if (bytes <= 0) throw new Error(`${path} is shorter than expected`);
        if (!this.makeRoom(bytes)) {
          if (!wait) return undefined;
          await new Promise<void>((resolve) => this.waiting.push(resolve));
          continue;
        }
        entry = { key, pins: 0, bytes };
        this.entries.set(key, entry);
        this.used += bytes;
        entry.loading = files.track(this.load(entry, files, index * this.chunk));
      }
      entry.pins++;
      if (entry.loading) await entry.loading;
      if (entry.failed !== undefined) {
        const failed = entry.failed;
        this.unpin(entry);
        throw failed;
      }
      return entry;
    }
  }

  private async load(entry: Entry, files: FileOpener, position: number): Promise<void> {
    try {
      const buffer = Buffer.allocUnsafeSlow(entry.bytes);
      const fh = await files.get();
      for (let at = 0; at < entry.bytes; ) {
        const { bytesRead } = await fh.read(buffer, at, entry.bytes - at, position + at);
        if (bytesRead === 0) throw new Error('a blob file is shorter than its recorded size');
        at += bytesRead;
      }
      entry.data = buffer;
    } catch (e) {
      entry.failed = e;
      // A failed read is not kept: the next GET tries again.
      this.remove(entry);
    } finally {
      entry.loading = undefined;
    }
  }

  private unpin(entry: Entry): void {
    entry.pins--;
    if (entry.pins === 0 && entry.failed !== undefined) this.remove(entry);
    if (entry.pins === 0) this.wake();
  }

  /** Evicts unpinned pieces, least recently used first, until `bytes` more fit; false when they cannot. */
  private makeRoom(bytes: number): boolean {
    if (this.used + bytes <= this.capacity) return true;
    for (const entry of this.entries.values()) {
      if (entry.pins > 0 || entry.loading) continue;
      this.remove(entry);
      if (this.used + bytes <= this.capacity) return true;
    }
    // Nothing pinned at all and still too big (a capacity smaller than a piece): let it through alone.
    return this.used === 0;
  }

  private remove(entry: Entry): void {
    if (this.entries.get(entry.key) !== entry) return;
    this.entries.delete(entry.key);
    this.used -= entry.bytes;
    this.wake();
  }

  /** Lets the GETs waiting for room try again (in arrival order). */
  private wake(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

/**
 * Opens the file on first need only (a GET served wholly from the cache opens nothing), and closes it once every
 * read started through it is over (another GET may be waiting for a piece this GET started reading).
 */
class FileOpener {
  private readonly path: string;
  private handle: Promise<FileHandle> | undefined;
  private readonly reads = new Set<Promise<void>>();
  constructor(path: string) {
    this.path = path;
  }
  get(): Promise<FileHandle> {
    this.handle ??= open(this.path, 'r');
    return this.handle;
  }
  track(read: Promise<void>): Promise<void> {
    this.reads.add(read);
    void read.finally(() => this.reads.delete(read));
    return read;
  }
  async close(): Promise<void> {
    await Promise.all(this.reads);
    const h = this.handle;
    this.handle = undefined;
    if (h) await (await h.catch(() => undefined))?.close();
  }
}
