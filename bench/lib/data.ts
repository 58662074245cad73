// Random, incompressible request bodies without holding a blob in memory. A pool of 1 MiB buffers is filled once
// from crypto.randomBytes; blob <seed> of <size> bytes is, for each 1 MiB chunk i, a 16-byte header (seed, i)
// followed by the rest of pool chunk (i * 7 + seed) mod N. Every chunk of every blob is therefore distinct, each
// byte that is not a header is random, and a blob is regenerated at will (to hash it up front, so that a
// monolithic PUT can name its digest, and again to send it) from shared, read-only buffers: the body goes out as
// subarrays of the pool, never copied, so any number of concurrent uploads may share the pool.
import { createHash, randomBytes } from 'node:crypto';
import { MiB } from './stats.ts';

export const CHUNK = MiB;
const HEADER = 16;

export class DataPool {
  readonly chunks: Buffer[];
  constructor(sizeMiB = 32) {
    this.chunks = [];
    for (let i = 0; i < sizeMiB; i++) this.chunks.push(randomBytes(CHUNK));
  }

  /** The bytes [start, end) of blob `seed` (of `size` bytes) as buffers to write in order; nothing is copied. */
  *pieces(seed: number, size: number, start = 0, end = size): Generator<Buffer> {
    const n = this.chunks.length;
    for (let i = Math.floor(start / CHUNK); i * CHUNK < end; i++) {
      const chunkStart = i * CHUNK;
      const chunkEnd = Math.min(chunkStart + CHUNK, size);
      const header = Buffer.allocUnsafe(HEADER);
      header.writeBigUInt64BE(BigInt(seed), 0);
      header.writeBigUInt64BE(BigInt(i), 8);
      const from = Math.max(start, chunkStart) - chunkStart;
      const to = Math.min(end, chunkEnd) - chunkStart;
      if (from < HEADER) yield header.subarray(from, Math.min(HEADER, to));
      if (to > HEADER) yield this.chunks[(i * 7 + seed) % n].subarray(Math.max(from, HEADER), to);
    }
  }

  /** A blob: its seed, size and sha256 digest (computed by generating it once, about 0.5 s per GiB). */
  blob(seed: number, size: number): Blob {
    const h = createHash('sha256');
    for (const p of this.pieces(seed, size)) h.update(p);
    return { seed, size, digest: 'sha256:' + h.digest('hex'), pieces: (start, end) => this.pieces(seed, size, start, end) };
  }
}

export interface Blob {
  seed: number;
  size: number;
  digest: string;
  pieces: (start?: number, end?: number) => Iterable<Buffer>;
}

/** A small blob held in memory (configs, tiny layers). */
/** The sha256 digest (`sha256:<hex>`) of bytes in memory. */
export function sha256Digest(data: Buffer): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export function smallBlob(data: Buffer): Blob {
  return { seed: -1, size: data.length, digest: sha256Digest(data), pieces: (start = 0, end = data.length) => [data.subarray(start, end)] };
}
