// The blob store: content-addressed blobs and the upload sessions that become them. A narrow asynchronous
// interface in the spirit of CNCF distribution's storage drivers; the filesystem implementation is fs.ts,
// S3 is s3.ts. The store never decides whether a digest is right: the core hashes bytes as they pass and
// commits an upload only under a verified digest.
import type { Readable, Writable } from 'node:stream';

/** Bytes arriving: a request stream, or chunks already in memory (an ECR layer part). */
export type Chunks = AsyncIterable<Buffer> | Iterable<Buffer>;

/** Sees the bytes of an append (see `BlobStore.append`). */
export type Observer = (piece: Buffer) => Promise<void> | undefined;

export interface BlobStore {
  /** Size of a stored blob, or undefined. */
  stat(digest: string): Promise<number | undefined>;
  /** A stream of the blob's bytes (fsck hashes it; serving a blob uses `copyTo`). */
  read(digest: string): Promise<Readable>;
  /** Writes the blob's bytes (`start` and `end` inclusive) to `out`, with backpressure, resolving when all are
   * handed to it. The fast path for serving a blob. `size`, the blob's size when the caller knows it, spares a stat. */
  copyTo(digest: string, range: { start: number; end: number }, out: Writable, size?: number): Promise<void>;
  delete(digest: string): Promise<void>;
  /** A URL that reads the blob straight from the store for `ttlSeconds`, for stores that have them (S3). */
  presignedUrl?(digest: string, ttlSeconds: number): Promise<string>;
  /** Resolves when the store answers a cheap request (the readiness check asks it); rejects with why it does not. */
  probe(): Promise<void>;

  createUpload(id: string): Promise<void>;
  /** Bytes an upload holds, or undefined when there is no such upload. */
  uploadSize(id: string): Promise<number | undefined>;
  /**
   * Appends the body at the end of the upload and has written it (it survives the process dying, not yet a power
   * loss: commit fsyncs) before resolving; returns the new size.
   * `observe` sees every byte appended, once and in order, in pieces of any size, as they are stored (the core
   * hashes there). It may use a piece until it returns or, when it returns a promise, until that settles; no
   * more is taken meanwhile.
   * `offset`, when given, is the upload's size as the caller just read it (`uploadSize`): a store that must ask
   * its storage for the size (S3) need not ask again.
   * `length`, when given, is the body's length as its sender declared it (a request's Content-Length): a store may
   * then stream it in one write of that length (S3: one PutObject rather than a multipart upload). A body that ends
   * short of it fails the append, which then keeps nothing of it.
   */
  append(id: string, body: Chunks, observe?: Observer, offset?: number, length?: number): Promise<number>;
  /** A stream of an upload's bytes (to hash it again when its hash state was lost, e.g. after a restart). */
  readUpload(id: string): Promise<Readable>;
  /** Makes the upload the blob `digest`, durably (a no-op copy when the blob is already stored). */
  commit(id: string, digest: string): Promise<void>;
  deleteUpload(id: string): Promise<void>;
}
