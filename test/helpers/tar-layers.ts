// Builds real tar layers for the scanner's tests: entries written with tar-stream, then gzip or zstd compressed.
import { Readable } from 'node:stream';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import tar from 'tar-stream';
import type { Layer } from '../../src/scan/layers.ts';

export interface TarEntry {
  name: string;
  content?: string | Buffer;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  linkname?: string;
  mode?: number;
}

export async function makeTar(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c) => chunks.push(c as Buffer));
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    if (type === 'file')
      pack.entry(
        { name: e.name, type, mode: e.mode ?? 0o644 },
        typeof e.content === 'string' ? Buffer.from(e.content) : (e.content ?? Buffer.alloc(0)),
      );
    else pack.entry({ name: e.name, type, linkname: e.linkname, mode: type === 'directory' ? 0o755 : 0o777 });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export const MEDIA = {
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  tar: 'application/vnd.oci.image.layer.v1.tar',
  dockerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** A layer whose blob is the tar compressed as its media type says, opened as a stream of small chunks. */
export function layerOf(tarball: Buffer, mediaType: string): Layer {
  const blob = mediaType.endsWith('zstd') ? zstdCompressSync(tarball) : mediaType.endsWith('tar') ? tarball : gzipSync(tarball);
  return { mediaType, open: () => Readable.from(chunks(blob, 4096)) };
}

function* chunks(buf: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}
