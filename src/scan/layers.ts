// Walks an image's layers in order (gzip, zstd or uncompressed tar), streamed entry by entry, never a whole layer
// in memory, and keeps only the files a predicate asks for (up to a size cap each). Whiteouts apply as the OCI image
// layer specification says: `.wh.<name>` removes <name> (and everything under it) from lower layers, and
// `.wh..wh..opq` makes its directory opaque (everything under it from lower layers is removed). The result is the
// image's final view of the kept files: the last layer's version wins; symbolic links are kept too and followed
// when a file is read.
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import tar from 'tar-stream';

export interface Layer {
  mediaType: string;
  /** Opens the layer's compressed blob. */
  open: () => Readable | Promise<Readable>;
}

export interface WalkOptions {
  /**
   * Whether a file's contents are needed (the path has no leading slash: `etc/os-release`), given also the tar
   * entry's type, size and mode (executables are recognized by their mode).
   */
  want: (path: string, entry: EntryInfo) => boolean;
  /** Files larger than this are not kept, only noted (default 32 MiB); a function sets the limit per path. */
  maxFileSize?: number | ((path: string) => number);
  /**
   * Replaces a file's contents, as soon as they are read, with what is worth keeping of them (a Java archive by the
   * list of its packages), so that large wanted files are not all held until the end of the walk.
   */
  reduce?: (path: string, data: Buffer) => Buffer | Promise<Buffer>;
}

export interface EntryInfo {
  /** tar-stream's entry type: `file`, `directory`, `symlink`, `link`... */
  type: string;
  size: number;
  mode: number;
}

export interface KeptFile {
  path: string;
  /** The index of the layer the file comes from. */
  layer: number;
  /** The contents of a regular file. */
  data?: Buffer;
  /** The target of a symbolic link. */
  linkTarget?: string;
  /** The size of a wanted file whose contents were not kept because it is larger than the limit. */
  oversized?: number;
}

export class UnsupportedLayerError extends Error {
  constructor(mediaType: string) {
    super(`unsupported layer media type ${JSON.stringify(mediaType)}`);
    this.name = 'UnsupportedLayerError';
  }
}

export const DEFAULT_MAX_FILE_SIZE = 32 * 1024 * 1024;
const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** `./usr/lib/` → `usr/lib`. */
export function normalizePath(path: string): string {
  return path
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}

function decompressor(mediaType: string): NodeJS.ReadWriteStream | undefined {
  const type = mediaType.toLowerCase();
  if (type.endsWith('+gzip') || type.endsWith('.tar.gzip') || type.endsWith('tar.gz')) return createGunzip();
  if (type.endsWith('+zstd') || type.endsWith('.tar.zstd')) return createZstdDecompress();
  if (type.endsWith('.tar') || type.endsWith('/tar') || type === 'application/x-tar') return undefined;
  throw new UnsupportedLayerError(mediaType);
}

interface LayerChanges {
  added: Map<string, KeptFile>;
  /** Kept paths of lower layers that this layer replaces with something not kept (a directory, a device...). */
  replaced: Set<string>;
  whiteouts: string[];
  opaque: string[];
}

async function readEntry(stream: AsyncIterable<Buffer>, size: number): Promise<Buffer> {
  const data = Buffer.allocUnsafe(size);
  let offset = 0;
  for await (const chunk of stream) {
    chunk.copy(data, offset);
    offset += chunk.length;
  }
  return offset === size ? data : data.subarray(0, offset);
}

async function walkLayer(layer: Layer, index: number, options: WalkOptions, lower: Map<string, KeptFile>): Promise<LayerChanges> {
  const changes: LayerChanges = { added: new Map(), replaced: new Set(), whiteouts: [], opaque: [] };
  const limit = options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  const maxSize = typeof limit === 'number' ? () => limit : limit;
  const unzip = decompressor(layer.mediaType);
  const extract = tar.extract();
  const source = await layer.open();
  const piping = unzip ? pipeline(source, unzip, extract) : pipeline(source, extract);
  // The pipeline's promise settles only once the entries have been consumed: its error is seen by the loop.
  piping.catch(() => undefined);
  try {
    for await (const entry of extract) {
      const header = entry.header;
      const path = normalizePath(header.name);
      const slash = path.lastIndexOf('/');
      const dir = slash < 0 ? '' : path.slice(0, slash);
      const base = path.slice(slash + 1);
      if (base === OPAQUE) changes.opaque.push(dir);
      else if (base.startsWith(WHITEOUT))
        changes.whiteouts.push(dir === '' ? base.slice(WHITEOUT.length) : `${dir}/${base.slice(WHITEOUT.length)}`);
      else if (path !== '' && options.want(path, { type: header.type ?? 'file', size: header.size ?? 0, mode: header.mode ?? 0 })) {
        if (header.type === 'file' || header.type === 'contiguous-file') {
          const size = header.size ?? 0;
          if (size <= maxSize(path)) {
            const data = await readEntry(entry as AsyncIterable<Buffer>, size);
            changes.added.set(path, { path, layer: index, data: options.reduce ? await options.reduce(path, data) : data });
          } else changes.added.set(path, { path, layer: index, oversized: size });
        } else if (header.type === 'symlink' && header.linkname) {
          changes.added.set(path, { path, layer: index, linkTarget: header.linkname });
        } else if (header.type === 'link' && header.linkname) {
          const target = normalizePath(header.linkname);
          const same = changes.added.get(target) ?? lower.get(target);
          if (same) changes.added.set(path, { ...same, path, layer: index });
          else changes.replaced.add(path);
        } else changes.replaced.add(path);
      } else if (path !== '' && lower.has(path)) changes.replaced.add(path);
      entry.resume();
    }
    await piping;
  } catch (err) {
    source.destroy();
    throw err;
  }
  return changes;
}

/** The kept files of an image, after every layer and whiteout. */
export class ImageFiles {
  readonly files: Map<string, KeptFile>;
  constructor(files: Map<string, KeptFile>) {
    this.files = files;
  }

  /** The sorted paths of the kept entries (files, links, and wanted files over the size limit). */
  paths(): string[] {
    return [...this.files.keys()].sort();
  }

  /** The entry at a path, symbolic links followed (relative and absolute, at most 16 hops). */
  resolve(path: string): KeptFile | undefined {
    let current = normalizePath(path);
    for (let hops = 0; hops < 16; hops++) {
      const entry = this.files.get(current);
      if (!entry || entry.linkTarget === undefined) return entry;
      const target = entry.linkTarget;
      const parent = current.includes('/') ? current.slice(0, current.lastIndexOf('/')) : '';
      current = resolveRelative(target.startsWith('/') ? '' : parent, target);
    }
    return undefined;
  }

  /** The contents of a regular file (links followed), or undefined. */
  read(path: string): Buffer | undefined {
    return this.resolve(path)?.data;
  }

  readText(path: string): string | undefined {
    return this.read(path)?.toString('utf8');
  }
}

function resolveRelative(base: string, target: string): string {
  const parts = base === '' ? [] : base.split('/');
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}

/**
 * Removes from the lower layers' files what a layer hides: whited-out paths and their trees, everything under an
 * opaque directory, what a file of this layer replaces (a directory's tree), and kept paths replaced by something
 * not kept. One pass over the kept files, whatever the number of changes.
 */
function applyToLower(files: Map<string, KeptFile>, changes: LayerChanges): void {
  const exact = new Set<string>([...changes.whiteouts, ...changes.replaced]);
  const trees = new Set<string>([...changes.whiteouts, ...changes.opaque, ...changes.added.keys()]);
  if (exact.size === 0 && trees.size === 0) return;
  for (const path of files.keys()) {
    if (exact.has(path) || trees.has('')) {
      files.delete(path);
      continue;
    }
    for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
      if (trees.has(path.slice(0, slash))) {
        files.delete(path);
        break;
      }
    }
  }
}

/** Walks the layers in order and returns the kept files of the resulting filesystem. */
export async function walkLayers(layers: Layer[], options: WalkOptions): Promise<ImageFiles> {
  const files = new Map<string, KeptFile>();
  for (let i = 0; i < layers.length; i++) {
    const changes = await walkLayer(layers[i], i, options, files);
    applyToLower(files, changes);
    for (const [path, file] of changes.added) files.set(path, file);
  }
  return new ImageFiles(files);
}
