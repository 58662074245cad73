// Reading an image archive without holding its layers in memory: a tar file (gzip- or zstd-compressed or not) or
// a directory (an OCI image layout). `scan()` lists the entries and keeps the small JSON ones (manifest.json,
// index.json, configs, manifests); `stream()` then hands each wanted entry over as a stream, in the archive's order
// (a tar is read a second time for that, a directory file by file).
import { createReadStream, openSync, readSync, closeSync, readdirSync, statSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { Readable, PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { extract } from 'tar-stream';

/** JSON documents at most this big are kept from the scan; anything else is streamed when wanted. */
const MAX_JSON = 4 * 1024 * 1024;

export interface Entry {
  size: number;
  /** The first bytes (compression magic numbers). */
  head: Buffer;
  /** The bytes, for a small entry that looks like JSON. */
  json?: Buffer;
}

export interface ArchiveSource {
  describe: string;
  entries: Map<string, Entry>;
  /** The file a name stands for: a symbolic link in a tar (docker save links repeated layers) is followed. */
  resolve(name: string): string;
  /** Calls `each` with a stream of every entry named in `wanted`, one after the other. */
  stream(wanted: Set<string>, each: (name: string, data: Readable) => Promise<void>): Promise<void>;
}

/** Entry names as paths relative to the archive's root: no leading "./" or "/". */
export function normalize(name: string): string {
  return name.replace(/^(\.\/|\/)+/, '');
}

export function compressionOf(head: Buffer): 'gzip' | 'zstd' | undefined {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return undefined;
}

export async function openArchive(path: string): Promise<ArchiveSource> {
  return statSync(path).isDirectory() ? openDirectory(path) : openTar(path);
}

function openDirectory(root: string): ArchiveSource {
  const entries = new Map<string, Entry>();
  const walk = (dir: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, d.name);
      if (d.isDirectory()) walk(full);
      else if (d.isFile()) entries.set(relative(root, full), entryOfFile(full));
    }
  };
  walk(root);
  return {
    describe: `directory ${root}`,
    entries,
    resolve: (name) => normalize(name),
    async stream(wanted, each) {
      for (const name of wanted) await each(name, createReadStream(join(root, name)));
    },
  };
}

function entryOfFile(file: string): Entry {
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(Math.min(8, size));
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const json = size <= MAX_JSON && looksLikeJson(head) ? readFileSync(file) : undefined;
  return { size, head, json };
}

function looksLikeJson(head: Buffer): boolean {
  const c = head.toString('latin1').trimStart()[0];
  return c === '{' || c === '[';
}

/** The archive's bytes, decompressed when the file is gzip or zstd. */
function tarStream(path: string): Readable {
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(4);
  readSync(fd, head, 0, 4, 0);
  closeSync(fd);
  const file = createReadStream(path);
  const kind = compressionOf(head);
  if (!kind) return file;
  const out = new PassThrough();
  pipeline(file, kind === 'gzip' ? createGunzip() : createZstdDecompress(), out).catch((e: unknown) => out.destroy(e as Error));
  return out;
}

async function readTar(
  path: string,
  onEntry: (name: string, size: number, data: Readable) => Promise<void>,
  onLink?: (name: string, target: string) => void,
): Promise<void> {
  const ex = extract();
  const done = pipeline(tarStream(path), ex);
  for await (const entry of ex) {
    const { name, size, type, linkname } = entry.header;
    if (type === 'file' || type === 'contiguous-file') await onEntry(normalize(name), size ?? 0, entry as unknown as Readable);
    else if ((type === 'symlink' || type === 'link') && linkname) {
      // A symbolic link is relative to its directory; a hard link names the file from the root.
      const target = type === 'symlink' ? posix.normalize(posix.join(posix.dirname(normalize(name)), linkname)) : normalize(linkname);
      onLink?.(normalize(name), target);
    }
    entry.resume();
  }
  await done;
}

async function openTar(path: string): Promise<ArchiveSource> {
  const entries = new Map<string, Entry>();
  const links = new Map<string, string>();
  const resolve = (name: string): string => {
    let n = normalize(name);
    for (let i = 0; i < 16 && links.has(n); i++) n = links.get(n)!;
    return n;
  };
  await readTar(
    path,
    async (name, size, data) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      let json: boolean | undefined;
      for await (const chunk of data as AsyncIterable<Buffer>) {
        if (json === undefined) json = size <= MAX_JSON && looksLikeJson(chunk);
        if (json || kept < 8) {
          chunks.push(json ? chunk : chunk.subarray(0, 8 - kept));
          kept += json ? chunk.length : Math.min(chunk.length, 8 - kept);
        }
      }
      const all = Buffer.concat(chunks);
      entries.set(name, { size, head: all.subarray(0, 8), json: json ? all : undefined });
    },
    (name, target) => links.set(name, target),
  );
  for (const name of links.keys()) {
    const entry = entries.get(resolve(name));
    if (entry) entries.set(name, entry);
  }
  return {
    describe: `archive ${path}`,
    entries,
    resolve,
    async stream(wanted, each) {
      await readTar(path, async (name, _size, data) => {
        if (wanted.has(name)) await each(name, data);
      });
    },
  };
}
