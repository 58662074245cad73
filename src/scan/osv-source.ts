// Reading OSV data as osv.dev and advisory repositories publish it: a per-ecosystem `all.zip` (read entry by entry
// from the zip's central directory, never whole in memory), a directory tree of `.json` records, or one `.json`
// file. Records are validated and yielded one at a time.
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { parseOsv, type OsvRecord } from './osv.ts';

export interface SourcedRecord {
  /** Where the record came from: the entry name in the zip, or the path relative to the directory. */
  name: string;
  record: OsvRecord;
}

/** The largest record accepted (the largest osv.dev records, kernel advisories, are a few hundred KiB). */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

async function readText(stream: Readable, limit: number, name: string): Promise<string> {
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
  return Buffer.concat(chunks).toString('utf8');
}

const openZip = (path: string): Promise<yauzl.ZipFile> =>
  new Promise((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true }, (err, zip) =>
      err ? reject(err) : resolve(zip),
    ),
  );

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | undefined> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (entry: yauzl.Entry): void => {
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
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

const openEntry = (zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> =>
  new Promise((resolve, reject) => zip.openReadStream(entry, (err, stream) => (err ? reject(err) : resolve(stream))));

/** The records of a zip file (every `.json` entry), in the zip's order. */
export async function* readOsvZip(path: string): AsyncGenerator<SourcedRecord> {
  const zip = await openZip(path);
  try {
    for (let entry = await nextEntry(zip); entry; entry = await nextEntry(zip)) {
      if (entry.fileName.endsWith('/') || !entry.fileName.toLowerCase().endsWith('.json')) continue;
      if (entry.uncompressedSize > MAX_RECORD_BYTES) throw new Error(`${path}:${entry.fileName} is larger than ${MAX_RECORD_BYTES} bytes`);
      const text = await readText(await openEntry(zip, entry), MAX_RECORD_BYTES, entry.fileName);
      yield { name: entry.fileName, record: parseOsv(text, `${path}:${entry.fileName}`) };
    }
  } finally {
    zip.close();
  }
}

/** The records of a directory tree (every `.json` file, in path order). */
export async function* readOsvDirectory(dir: string): AsyncGenerator<SourcedRecord> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && e.name.toLowerCase().endsWith('.json'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
  for (const file of files) yield await readOsvFile(file, relative(dir, file));
}

export async function readOsvFile(path: string, name = path): Promise<SourcedRecord> {
  const text = await readText(createReadStream(path), MAX_RECORD_BYTES, path);
  return { name, record: parseOsv(text, path) };
}

/** The records of a zip, a directory or a single `.json` file. */
export async function* readOsvSource(path: string): AsyncGenerator<SourcedRecord> {
  const info = await stat(path);
  if (info.isDirectory()) yield* readOsvDirectory(path);
  else if (path.toLowerCase().endsWith('.json')) yield await readOsvFile(path);
  else yield* readOsvZip(path);
}
