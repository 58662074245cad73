// Reading zip files with yauzl, entry by entry from the central directory: OSV `all.zip` files from disk, Java
// archives from memory. An entry's contents are read only when asked for, up to a size limit. A zip on disk is read
// through large blocks (BlockReader): an all.zip holds a hundred thousand small records, and a read from the file, or
// an inflate on the thread pool, for each of them would cost more than parsing them.
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { inflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';

export type ZipFile = yauzl.ZipFile;
export type ZipEntry = yauzl.Entry;

const OPTIONS = { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true };
const BLOCK = 4 * 1024 * 1024;

/**
 * Reads a file in blocks of 4 MiB, keeping the last two: yauzl reads the central directory, then each entry's header
 * and data, mostly in order, so nearly every read is served from memory. Memory stays at two blocks.
 */
class BlockReader extends yauzl.RandomAccessReader {
  private readonly file: FileHandle;
  private readonly size: number;
  private readonly blocks = new Map<number, Promise<Buffer>>();

  constructor(file: FileHandle, size: number) {
    super();
    this.file = file;
    this.size = size;
  }

  private block(index: number): Promise<Buffer> {
    let block = this.blocks.get(index);
    if (!block) {
      const length = Math.min(BLOCK, this.size - index * BLOCK);
      block = this.file.read(Buffer.allocUnsafe(length), 0, length, index * BLOCK).then((r) => r.buffer.subarray(0, r.bytesRead));
      this.blocks.set(index, block);
      for (const key of this.blocks.keys()) if (this.blocks.size > 2 && key !== index) this.blocks.delete(key);
    }
    return block;
  }

  /** The bytes from `start` to `end` (exclusive), in one buffer. */
  async range(start: number, end: number): Promise<Buffer> {
    const first = Math.floor(start / BLOCK);
    const last = Math.floor((end - 1) / BLOCK);
    if (first === last) return (await this.block(first)).subarray(start - first * BLOCK, end - first * BLOCK);
    const parts: Buffer[] = [];
    for (let i = first; i <= last; i++) {
      const b = await this.block(i);
      parts.push(b.subarray(Math.max(0, start - i * BLOCK), Math.min(b.length, end - i * BLOCK)));
    }
    return Buffer.concat(parts);
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null) => void): void {
    this.range(position, position + length).then((data) => {
      data.copy(buffer, offset);
      callback(data.length === length ? null : new Error('unexpected end of the zip file'));
    }, callback);
  }

  override _readStreamForRange(start: number, end: number): Readable {
    return Readable.from(start === end ? [] : [this.range(start, end)]);
  }

  override close(callback: (err: Error | null) => void): void {
    this.file.close().then(() => callback(null), callback);
  }
}

export async function openZipFile(path: string): Promise<ZipFile> {
  const file = await open(path, 'r');
  const { size } = await file.stat();
  const reader = new BlockReader(file, size);
  return new Promise((resolve, reject) =>
    yauzl.fromRandomAccessReader(reader, size, OPTIONS, (err, zip) => {
      if (err) {
        reader.close(() => {});
        reject(err);
      } else resolve(zip);
    }),
  );
}

export const openZipBuffer = (data: Buffer): Promise<ZipFile> =>
  new Promise((resolve, reject) => yauzl.fromBuffer(data, OPTIONS, (err, zip) => (err ? reject(err) : resolve(zip))));

function nextEntry(zip: ZipFile): Promise<ZipEntry | undefined> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      zip.off('entry', onEntry).off('end', onEnd).off('error', onError);
    };
    const onEntry = (entry: ZipEntry): void => {
      done();
      resolve(entry);
    };
    const onEnd = (): void => {
      done();
      resolve(undefined);
    };
    const onError = (err: Error): void => {
      done();
      reject(err);
    };
    zip.on('entry', onEntry).on('end', onEnd).on('error', onError);
    zip.readEntry();
  });
}

/** The entries of a zip, one at a time; the zip is closed at the end (or when the caller stops early). */
export async function* zipEntries(zip: ZipFile): AsyncGenerator<ZipEntry> {
  try {
    for (let entry = await nextEntry(zip); entry; entry = await nextEntry(zip)) yield entry;
  } finally {
    zip.close();
  }
}

/** An entry's data as stored (compressed or not): from a file's blocks directly, from a buffer through yauzl's stream. */
async function rawEntry(zip: ZipFile, entry: ZipEntry, limit: number): Promise<Buffer> {
  const reader = (zip as ZipFile & { reader?: unknown }).reader;
  if (!(reader instanceof BlockReader)) return readLimited(await openRawEntry(zip, entry), limit, entry.fileName);
  const { fileDataStart } = await zip.readLocalFileHeaderPromise(entry, { minimal: true });
  return entry.compressedSize === 0 ? Buffer.alloc(0) : reader.range(fileDataStart, fileDataStart + entry.compressedSize);
}

/** An entry's data as stored (compressed or not), not decoded. */
const openRawEntry = (zip: ZipFile, entry: ZipEntry): Promise<Readable> =>
  new Promise((resolve, reject) =>
    zip.openReadStream(entry, { decodeFileData: false }, (err, stream) => (err ? reject(err) : resolve(stream))),
  );

/** Reads a stream whole, refusing more than `limit` bytes. */
export async function readLimited(stream: Readable, limit: number, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.destroy();
      throw new Error(`${name} is larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The contents of one entry, refused when its declared or actual size is over `limit`; stored or deflated. */
export async function readZipEntry(zip: ZipFile, entry: ZipEntry, limit: number): Promise<Buffer> {
  if (entry.uncompressedSize > limit) throw new Error(`${entry.fileName} is larger than ${limit} bytes`);
  if (entry.isEncrypted()) throw new Error(`${entry.fileName} is encrypted`);
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8)
    throw new Error(`${entry.fileName}: unsupported compression method ${entry.compressionMethod}`);
  const raw = await rawEntry(zip, entry, Math.max(limit, entry.compressedSize));
  let data: Buffer;
  try {
    // Inflated here, at once: the entries are small, and a stream through the thread pool per entry costs more.
    data = entry.compressionMethod === 0 ? raw : inflateRawSync(raw, { maxOutputLength: limit + 1 });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new Error(`${entry.fileName} is larger than ${limit} bytes`);
    throw new Error(`${entry.fileName}: ${(e as Error).message}`);
  }
  if (data.length > limit) throw new Error(`${entry.fileName} is larger than ${limit} bytes`);
  if (data.length !== entry.uncompressedSize)
    throw new Error(`${entry.fileName}: ${data.length} bytes inflated, the zip declares ${entry.uncompressedSize}`);
  return data;
}
