// Reading zip files with yauzl, entry by entry from the central directory: OSV `all.zip` files from disk, Java
// archives from memory. An entry's contents are read only when asked for, up to a size limit.
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';

export type ZipFile = yauzl.ZipFile;
export type ZipEntry = yauzl.Entry;

const OPTIONS = { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true };

export const openZipFile = (path: string): Promise<ZipFile> =>
  new Promise((resolve, reject) => yauzl.open(path, OPTIONS, (err, zip) => (err ? reject(err) : resolve(zip))));

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

const openEntry = (zip: ZipFile, entry: ZipEntry): Promise<Readable> =>
  new Promise((resolve, reject) => zip.openReadStream(entry, (err, stream) => (err ? reject(err) : resolve(stream))));

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

/** The contents of one entry, refused when its declared or actual size is over `limit`. */
export async function readZipEntry(zip: ZipFile, entry: ZipEntry, limit: number): Promise<Buffer> {
  if (entry.uncompressedSize > limit) throw new Error(`${entry.fileName} is larger than ${limit} bytes`);
  return readLimited(await openEntry(zip, entry), limit, entry.fileName);
}
