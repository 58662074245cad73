// Reading OSV data as osv.dev and advisory repositories publish it: a per-ecosystem `all.zip` (read entry by entry
// from the zip's central directory, never whole in memory), a directory tree of `.json` records, or one `.json`
// file. Records are validated and yielded one at a time.
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseOsv, type OsvRecord } from './osv.ts';
import { openZipFile, readLimited, readZipEntry, zipEntries } from './zip.ts';

export interface SourcedRecord {
  /** Where the record came from: the entry name in the zip, or the path relative to the directory. */
  name: string;
  record: OsvRecord;
}

/** The largest record accepted (the largest osv.dev records, kernel advisories, are a few hundred KiB). */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** The records of a zip file (every `.json` entry), in the zip's order. */
export async function* readOsvZip(path: string): AsyncGenerator<SourcedRecord> {
  const zip = await openZipFile(path);
  for await (const entry of zipEntries(zip)) {
    if (entry.fileName.endsWith('/') || !entry.fileName.toLowerCase().endsWith('.json')) continue;
    const text = (await readZipEntry(zip, entry, MAX_RECORD_BYTES)).toString('utf8');
    yield { name: entry.fileName, record: parseOsv(text, `${path}:${entry.fileName}`) };
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
  const text = (await readLimited(createReadStream(path), MAX_RECORD_BYTES, path)).toString('utf8');
  return { name, record: parseOsv(text, path) };
}

/** The records of a zip, a directory or a single `.json` file. */
export async function* readOsvSource(path: string): AsyncGenerator<SourcedRecord> {
  const info = await stat(path);
  if (info.isDirectory()) yield* readOsvDirectory(path);
  else if (path.toLowerCase().endsWith('.json')) yield await readOsvFile(path);
  else yield* readOsvZip(path);
}
