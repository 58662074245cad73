// Filesystem blob store. Layout under the root:
//   blobs/<algorithm>/<first two hex>/<hex>   verified blobs, immutable
//   uploads/<id>/data                         upload sessions in progress
// A blob appears under blobs/ only by rename of an fsynced upload file, followed by an fsync of the directory,
// so a reader never sees a partial blob and an acknowledged blob survives kill -9 and power loss.
import { access, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { dirname, join } from 'node:path';
import { isNoSpace, storageFull } from '../../core/errors.ts';
import { parseDigest } from '../../core/grammar.ts';
import { bytesReceived } from '../../core/memory.ts';
import { BUFFER_SIZE } from './aligned.ts';
import { Appender } from './append.ts';
import { ChunkCache } from './chunk-cache.ts';
import { copyRange } from './copy.ts';
import type { Chunks, Observer } from './store.ts';
import type { CollectableBlobStore } from '../../gc/collector.ts';

/** An upload's file name (its id). */
export const UPLOAD_FILE_NAME = /^[a-zA-Z0-9-]+$/;

const READ_CHUNK = BUFFER_SIZE;
/** Blob and upload files are the owner's alone (see server/file-modes.ts). */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
/**
 * The pieces of blob files being served, shared by every GET of this process: 64 MiB at most, however many GETs run
 * (a fleet pulling at once included), in 1 MiB pieces, and nothing once none runs. 64 pullers of a 5-layer image
 * moved 10 % more per second than with 32 MiB (10 of 10 alternating pairs better): fewer pieces were evicted and read
 * again while the pullers drifted apart.
 */
const readCache = new ChunkCache(64 << 20, 1 << 20);
/** GETs that stream through a ring of their own at once, at most (4 MiB each). */
const RINGS = 4;
let ringsInUse = 0;
/** Cold blobs remembered at most (the oldest are forgotten: they are then read through the page cache). */
const COLD_MAX = 10_000;

export class FilesystemBlobStore implements CollectableBlobStore {
  readonly root: string;
  /** Whether uploads are written with O_DIRECT (turned off for good when the filesystem refuses it). */
  private directIO: boolean;
  /** Blobs committed from uploads written with O_DIRECT and not read since: none of their bytes are cached. */
  private readonly cold = new Set<string>();
  private readonly onFull: () => void;
  /**
   * Per upload, the write-behind datasync an append left running (see Appender.backgroundSync). The next append,
   * the commit and the delete of that upload wait for it; one that failed fails every later append and the commit.
   */
  private readonly syncs = new Map<string, Promise<void>>();
  /** GETs running per blob file. */
  private readonly reading = new Map<string, number>();
  /** `onFull` hears of each write refused for lack of space (the server logs it once and counts). */
  constructor(root: string, options: { directIO?: boolean; onFull?: () => void } = {}) {
    this.root = root;
    this.directIO = options.directIO ?? true;
    this.onFull = options.onFull ?? (() => {});
  }

  /** No space left (ENOSPC, EDQUOT) as the core's STORAGE_FULL; any other error as it is. */
  private mapped(e: unknown): unknown {
    if (!isNoSpace(e)) return e;
    this.onFull();
    return storageFull('blobs');
  }

  async init(): Promise<void> {
    await mkdir(join(this.root, 'blobs'), { recursive: true, mode: DIR_MODE });
    await mkdir(join(this.root, 'uploads'), { recursive: true, mode: DIR_MODE });
  }

  blobPath(digest: string): string {
    const d = parseDigest(digest);
    if (!d) throw new Error(`invalid digest ${digest}`);
    return join(this.root, 'blobs', d.algorithm, d.hex.slice(0, 2), d.hex);
  }

  private uploadDir(id: string): string {
    if (!UPLOAD_FILE_NAME.test(id)) throw new Error(`invalid upload id ${id}`);
    return join(this.root, 'uploads', id);
  }

  async stat(digest: string): Promise<number | undefined> {
    return sizeOf(this.blobPath(digest));
  }

  /** The blob and upload directories are there, readable and writable (an unmounted volume is not). */
  async probe(): Promise<void> {
    for (const dir of ['blobs', 'uploads']) await access(join(this.root, dir), constants.R_OK | constants.W_OK | constants.X_OK);
  }

  async read(digest: string): Promise<Readable> {
    const fh = await open(this.blobPath(digest), 'r');
    return fh.createReadStream({ highWaterMark: READ_CHUNK });
  }

  async copyTo(digest: string, range: { start: number; end: number }, out: Writable, size?: number): Promise<void> {
    const path = this.blobPath(digest);
    // A blob just written with O_DIRECT is not in the page cache: its first GET reads ahead in parallel (copy.ts).
    if (this.cold.delete(digest)) return copyRange(path, range, out, true);
    // A GET alone on its blob streams through a ring of its own (the fastest for one stream; RINGS of them at most);
    // GETs of a blob others are reading too (a fleet pulling a new image) share the chunk cache (chunk-cache.ts).
    const others = this.reading.get(path) ?? 0;
    this.reading.set(path, others + 1);
    try {
      if (others === 0 && ringsInUse < RINGS) {
        ringsInUse++;
        try {
          return await copyRange(path, range, out, false);
        } finally {
          ringsInUse--;
        }
      }
      const bytes = size ?? (await sizeOf(path));
      if (bytes === undefined) throw Object.assign(new Error(`no blob file ${path}`), { code: 'ENOENT' });
      await readCache.copy(path, bytes, range, out);
    } finally {
      const left = (this.reading.get(path) ?? 1) - 1;
      if (left > 0) this.reading.set(path, left);
      else this.reading.delete(path);
    }
  }

  async delete(digest: string): Promise<void> {
    this.cold.delete(digest);
    await rm(this.blobPath(digest), { force: true });
  }

  async createUpload(id: string): Promise<void> {
    const dir = this.uploadDir(id);
    try {
      await mkdir(dir, { recursive: true, mode: DIR_MODE });
      const fh = await open(join(dir, 'data'), 'a', FILE_MODE);
      await fh.sync();
      await fh.close();
      await fsyncPath(dir);
      await fsyncPath(join(this.root, 'uploads'));
    } catch (e) {
      throw this.mapped(e);
    }
  }

  async uploadSize(id: string): Promise<number | undefined> {
    return sizeOf(join(this.uploadDir(id), 'data'));
  }

  async append(id: string, body: Chunks, observe?: Observer): Promise<number> {
    // Receiving, hashing (`observe`, which sees each buffer as it is written) and writing overlap (see
    // append.ts). Written, not fsynced: a chunk survives the process dying; after a power loss the upload reports
    // the bytes that did survive, the client resumes from there, and commit() fsyncs the whole before the blob
    // becomes visible (its digest verified before that).
    await this.syncs.get(id);
    const appender = await Appender.open(
      join(this.uploadDir(id), 'data'),
      this.directIO,
      () => {
        this.directIO = false;
      },
      observe,
    ).catch((e: unknown) => Promise.reject(this.mapped(e)));
    try {
      await eachChunk(body, (chunk) => {
        bytesReceived(chunk.length);
        return appender.push(chunk);
      });
      return await appender.finish();
    } catch (e) {
      throw this.mapped(e);
    } finally {
      const sync = appender.backgroundSync;
      if (sync) {
        this.syncs.set(id, sync);
        // Forgotten once it succeeded (a failure stays: the upload is unusable from then on).
        void sync.then(
          () => {
            if (this.syncs.get(id) === sync) this.syncs.delete(id);
          },
          () => {},
        );
      }
      await appender.close();
    }
  }

  async readUpload(id: string): Promise<Readable> {
    const fh = await open(join(this.uploadDir(id), 'data'), 'r');
    return fh.createReadStream({ highWaterMark: READ_CHUNK });
  }

  async commit(id: string, digest: string): Promise<void> {
    try {
      await this.commitUpload(id, digest);
    } catch (e) {
      throw this.mapped(e);
    }
  }

  private async commitUpload(id: string, digest: string): Promise<void> {
    await this.syncs.get(id);
    const target = this.blobPath(digest);
    const dir = dirname(target);
    const source = join(this.uploadDir(id), 'data');
    if ((await sizeOf(target)) === undefined) {
      await fsyncPath(source);
      const created = await mkdir(dir, { recursive: true, mode: DIR_MODE });
      await rename(source, target);
      await fsyncPath(dir);
      if (this.directIO) {
        this.cold.add(digest);
        if (this.cold.size > COLD_MAX) this.cold.delete(this.cold.values().next().value!);
      }
      // Directories made just now are durable only once their parents' entries are: fsync up the chain.
      if (created) {
        for (let d = dirname(dir); d.length >= dirname(created).length; d = dirname(d)) {
          await fsyncPath(d);
          if (d === dirname(created)) break;
        }
      }
    }
    // The upload's directory goes, with its data when the blob was already stored.
    await this.deleteUpload(id);
  }

  async deleteUpload(id: string): Promise<void> {
    await this.syncs.get(id)?.catch(() => {});
    this.syncs.delete(id);
    await rm(this.uploadDir(id), { recursive: true, force: true });
  }

  async uploadInfo(id: string): Promise<{ size: number; modifiedAt: number } | undefined> {
    // A directory without its data file is an upload being created (or committed): its age is the directory's.
    for (const path of [join(this.uploadDir(id), 'data'), this.uploadDir(id)]) {
      try {
        const st = await stat(path);
        return { size: st.isFile() ? st.size : 0, modifiedAt: st.mtimeMs };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    return undefined;
  }

  async listUploadIds(): Promise<string[]> {
    return (await readdir(join(this.root, 'uploads'))).filter((n) => UPLOAD_FILE_NAME.test(n));
  }

  async *walkDigests(): AsyncIterable<string[]> {
    const base = join(this.root, 'blobs');
    for (const algorithm of await readdirIfExists(base)) {
      for (const prefix of await readdirIfExists(join(base, algorithm))) {
        const digests = (await readdirIfExists(join(base, algorithm, prefix)))
          .map((hex) => `${algorithm}:${hex}`)
          .filter((d) => parseDigest(d));
        if (digests.length > 0) yield digests;
      }
    }
  }

  async blobInfo(digest: string): Promise<{ size: number; modifiedAt: number } | undefined> {
    try {
      const st = await stat(this.blobPath(digest));
      return { size: st.size, modifiedAt: st.mtimeMs };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      return undefined;
    }
  }

  async *walk(): AsyncIterable<{ digest: string; size: number; modifiedAt: number }> {
    const base = join(this.root, 'blobs');
    for (const algorithm of await readdirIfExists(base)) {
      for (const prefix of await readdirIfExists(join(base, algorithm))) {
        for (const hex of await readdirIfExists(join(base, algorithm, prefix))) {
          const digest = `${algorithm}:${hex}`;
          if (!parseDigest(digest)) continue;
          try {
            const st = await stat(join(base, algorithm, prefix, hex));
            yield { digest, size: st.size, modifiedAt: st.mtimeMs };
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
          }
        }
      }
    }
  }
}

async function readdirIfExists(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/**
 * Calls `fn` on every chunk in order; while a promise it returns is pending, no more chunks are read. A request
 * stream is read through its events (no async iterator and promise per chunk on the hot path).
 */
async function eachChunk(body: Chunks, fn: (chunk: Buffer) => Promise<unknown> | undefined): Promise<void> {
  if (!(body instanceof Readable)) {
    for await (const chunk of body) await fn(chunk);
    return;
  }
  const stream = body;
  // `finished` also settles for a stream that ended or was destroyed before we got here (a client gone already).
  let refuse: (e: unknown) => void = () => {};
  const refused = new Promise<never>((_, reject) => {
    refuse = reject;
  });
  const onData = (chunk: Buffer) => {
    const wait = fn(chunk);
    if (wait) {
      stream.pause();
      wait.then(
        () => stream.resume(),
        (e: unknown) => {
          // Storing failed (a full disk): the rest of the body is read and dropped rather than the connection cut,
          // so that the client gets the answer (a clear error) and the connection stays usable.
          stream.off('data', onData);
          stream.resume();
          refuse(e);
        },
      );
    }
  };
  stream.on('data', onData);
  const ended = finished(stream, { writable: false });
  try {
    await Promise.race([ended, refused]);
  } finally {
    stream.off('data', onData);
    // Whichever lost the race settles unheard.
    ended.catch(() => {});
    refused.catch(() => {});
  }
}

/** A file's size, or undefined when there is none. */
export async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** fsync of a file or a directory (a directory's entries: creations and renames in it). */
export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
