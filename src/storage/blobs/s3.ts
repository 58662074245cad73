// S3 blob store, for any S3-compatible endpoint (AWS S3, Ceph RGW, MinIO). Layout under the bucket's prefix:
//   blobs/<algorithm>/<hex>            verified blobs, immutable
//   uploads/<id>/start                 an upload session (empty; its existence is the session's)
//   uploads/<id>/<offset, 16 digits>   each chunk appended, as its own object
// Chunks are staged as readable objects, not as parts of an S3 multipart upload (whose parts cannot be read back),
// so that any node can continue an upload another started, and can hash it again when its own hash state is
// missing. Commit assembles the chunks into the blob's key with one multipart upload: a chunk of 5 MiB or more
// (S3's smallest part but the last) is copied server-side (UploadPartCopy); smaller chunks are streamed through
// this process into parts of 5 MiB. Nothing holds a layer in memory: a chunk of unknown length is sent as a
// multipart upload of PART_SIZE parts (lib-storage), a few of them in memory at a time.
import { Readable, type Writable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { parseDigest } from '../../core/grammar.ts';
import { bytesReceived } from '../../core/memory.ts';
import type { CollectableBlobStore } from '../../gc/collector.ts';
import type { Chunks, Observer } from './store.ts';

/** S3's smallest part of a multipart upload, but the last. */
export const MIN_PART = 5 * 1024 * 1024;
/** Largest object written with one PutObject (S3 allows 5 GiB). */
const MAX_PUT = 5 * 1024 * 1024 * 1024;
/** Largest part copied server-side in one request (S3 allows 5 GiB). */
const MAX_COPY = 4 * 1024 * 1024 * 1024;
/** Parts of a chunk of unknown length, and how many are sent at once (the memory an append holds at most). */
const PART_SIZE = 8 * 1024 * 1024;
const PARTS_AT_ONCE = 2;
/** Requests in flight for one commit or delete. */
const CONCURRENCY = 4;

export interface S3Options {
  bucket: string;
  /** Key prefix, without leading or trailing slashes ('' for the bucket's root). */
  prefix: string;
  /** A non-AWS endpoint (Ceph RGW, MinIO): addressed path-style. */
  endpoint?: string;
  region?: string;
  /** Static credentials; without them the standard AWS chain (environment, profile, instance role) applies. */
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** `s3://bucket/prefix` into its bucket and prefix, or undefined when it is not an s3:// URL. */
export function parseS3Url(url: string): { bucket: string; prefix: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) return undefined;
  return { bucket: m[1], prefix: m[2].replace(/^\/+|\/+$/g, '') };
}

interface Part {
  key: string;
  offset: number;
  size: number;
}
/** A byte range (inclusive) of a staged chunk. */
interface Segment {
  key: string;
  start: number;
  end: number;
}
interface UploadState {
  parts: Part[];
  size: number;
  modifiedAt: number;
}

export class S3BlobStore implements CollectableBlobStore {
  readonly client: S3Client;
  readonly bucket: string;
  private readonly base: string;

  constructor(options: S3Options) {
    this.bucket = options.bucket;
    this.base = options.prefix ? `${options.prefix}/` : '';
    this.client = new S3Client({
      endpoint: options.endpoint,
      forcePathStyle: options.endpoint !== undefined,
      region: options.region ?? (options.endpoint !== undefined ? 'us-east-1' : undefined),
      credentials:
        options.accessKeyId && options.secretAccessKey
          ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
          : undefined,
      // Checksums only where the API requires them: S3-compatible stores do not all take the newer trailing
      // checksums, and the core verifies every blob's digest itself.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** Checks that the bucket is reachable with these credentials (fails at start, not at the first push). */
  async init(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (e) {
      throw new Error(`S3 bucket ${this.bucket} is not reachable: ${describe(e)}`, { cause: e });
    }
  }

  /** The bucket answers (HeadBucket, as at start). */
  async probe(): Promise<void> {
    await this.init();
  }

  close(): void {
    this.client.destroy();
  }

  blobKey(digest: string): string {
    const d = parseDigest(digest);
    if (!d) throw new Error(`invalid digest ${digest}`);
    return `${this.base}blobs/${d.algorithm}/${d.hex}`;
  }

  private uploadPrefix(id: string): string {
    if (!/^[a-zA-Z0-9-]+$/.test(id)) throw new Error(`invalid upload id ${id}`);
    return `${this.base}uploads/${id}/`;
  }

  async stat(digest: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.blobKey(digest) }));
      return head.ContentLength ?? 0;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async read(digest: string): Promise<Readable> {
    const got = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.blobKey(digest) }));
    return got.Body as Readable;
  }

  async copyTo(digest: string, range: { start: number; end: number }, out: Writable): Promise<void> {
    const got = await this.client.send(
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: this.blobKey(digest),
        Range: `bytes=${range.start}-${range.end}`,
      }),
    );
    const body = got.Body as Readable;
    const want = range.end - range.start + 1;
    let sent = 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (out.destroyed) throw new Error('the destination closed');
        sent += chunk.length;
        if (sent > want) throw new Error(`blob ${digest} is longer than expected`);
        if (!out.write(chunk)) await drained(out);
      }
    } finally {
      body.destroy();
    }
    if (sent !== want) throw new Error(`blob ${digest} is shorter than expected (${sent} of ${want} bytes)`);
  }

  async delete(digest: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.blobKey(digest) }));
  }

  /** A URL that reads the blob straight from the store for `ttlSeconds`. */
  async presignedUrl(digest: string, ttlSeconds: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.blobKey(digest) }), { expiresIn: ttlSeconds });
  }

  async createUpload(id: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: `${this.uploadPrefix(id)}start`, Body: Buffer.alloc(0) }));
  }

  async uploadSize(id: string): Promise<number | undefined> {
    return (await this.uploadState(id))?.size;
  }

  async append(id: string, body: Chunks, observe?: Observer, offset?: number, length?: number): Promise<number> {
    const state = offset === undefined ? await this.uploadState(id) : { size: offset };
    if (!state) throw new Error(`upload ${id} is not known`);
    // Written only if no chunk is there yet (If-None-Match): of two processes appending at the same offset at once
    // (which only a misbehaving client makes happen) one fails, rather than one's bytes replacing the other's
    // under a hash state that saw the first. (A chunk sent as a multipart upload carries the condition on its
    // completion: AWS S3 honours it there, Ceph RGW 16 does not.)
    const key = `${this.uploadPrefix(id)}${String(state.size).padStart(16, '0')}`;
    let appended = 0;
    async function* observed(): AsyncGenerator<Buffer> {
      for await (const chunk of body) {
        bytesReceived(chunk.length);
        const wait = observe?.(chunk);
        if (wait) await wait;
        appended += chunk.length;
        yield chunk;
      }
    }
    const known = isBufferList(body) ? body.reduce((n, b) => n + b.length, 0) : length;
    if (known !== undefined && known <= MAX_PUT) {
      // Bytes already in memory (an ECR layer part), or a request body of declared length: one object of that
      // length, streamed (nothing held in memory). A body that ends short fails the write, which stores nothing.
      if (known === 0) return state.size;
      // The SDK pipes the body into its request, and a pipe does not pass a failing body on: the request is aborted
      // here instead (the store keeps nothing of it), and the body's own error is the append's.
      const stream = Readable.from(observed());
      const abort = new AbortController();
      let failed: unknown;
      stream.once('error', (e) => {
        failed = e;
        abort.abort();
      });
      await this.client
        .send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: stream,
            ContentLength: known,
            IfNoneMatch: '*',
          }),
          { abortSignal: abort.signal },
        )
        .catch((e: unknown) => raced(id, state.size)(failed ?? e));
      if (appended !== known) throw new Error(`upload ${id}: the body had ${appended} bytes, not the ${known} declared`);
    } else {
      // A request body of unknown length: one PutObject when it fits in a part, else a multipart upload of
      // PART_SIZE parts, PARTS_AT_ONCE in flight. When the body fails half way nothing of it is kept (the
      // multipart upload is aborted): the upload resumes from the size it had.
      const chunks = observed();
      const first = await chunks.next();
      if (first.done) return state.size;
      const stream = Readable.from(
        (async function* () {
          yield first.value;
          yield* chunks;
        })(),
        { objectMode: false },
      );
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: key, Body: stream, IfNoneMatch: '*' },
        partSize: PART_SIZE,
        queueSize: PARTS_AT_ONCE,
      });
      await upload.done().catch(raced(id, state.size));
    }
    return state.size + appended;
  }

  async readUpload(id: string): Promise<Readable> {
    const state = await this.uploadState(id);
    if (!state) throw new Error(`upload ${id} is not known`);
    return Readable.from(this.readSegments(state.parts.map((p) => ({ key: p.key, start: 0, end: p.size - 1 }))), { objectMode: false });
  }

  async commit(id: string, digest: string): Promise<void> {
    const target = this.blobKey(digest);
    if ((await this.stat(digest)) === undefined) {
      const state = await this.uploadState(id);
      if (!state) throw new Error(`upload ${id} is not known`);
      await this.assemble(state.parts, target);
    }
    await this.deleteUpload(id);
  }

  async deleteUpload(id: string): Promise<void> {
    const keys: string[] = [];
    for await (const o of this.list(this.uploadPrefix(id))) keys.push(o.key);
    // Chunks first, the session's marker last: an upload half deleted still lists as an upload.
    keys.sort((a, b) => Number(a.endsWith('/start')) - Number(b.endsWith('/start')));
    const marker = keys.at(-1)?.endsWith('/start') ? keys.pop() : undefined;
    await eachAtMost(CONCURRENCY, keys, (key) => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
    if (marker) await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: marker }));
  }

  async uploadInfo(id: string): Promise<{ size: number; modifiedAt: number } | undefined> {
    const state = await this.uploadState(id);
    return state && { size: state.size, modifiedAt: state.modifiedAt };
  }

  async listUploadIds(): Promise<string[]> {
    const ids: string[] = [];
    const prefix = `${this.base}uploads/`;
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }),
      );
      for (const p of page.CommonPrefixes ?? []) {
        const id = p.Prefix!.slice(prefix.length, -1);
        if (/^[a-zA-Z0-9-]+$/.test(id)) ids.push(id);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return ids;
  }

  async *walkDigests(): AsyncIterable<string[]> {
    let batch: string[] = [];
    for await (const f of this.walk()) {
      batch.push(f.digest);
      if (batch.length === 1000) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  async blobInfo(digest: string): Promise<{ size: number; modifiedAt: number } | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.blobKey(digest) }));
      return { size: head.ContentLength ?? 0, modifiedAt: head.LastModified?.getTime() ?? 0 };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async *walk(): AsyncIterable<{ digest: string; size: number; modifiedAt: number }> {
    const prefix = `${this.base}blobs/`;
    for await (const o of this.list(prefix)) {
      const digest = o.key.slice(prefix.length).replace('/', ':');
      if (parseDigest(digest)) yield { digest, size: o.size, modifiedAt: o.modifiedAt };
    }
  }

  /** Aborts the store's own multipart uploads (of chunks or commits) started before `before` (ms) and never
   * finished: a process that died mid-way leaves them, invisible but stored. Returns how many. */
  async abortIncomplete(before: number): Promise<number> {
    let aborted = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: this.base,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
      for (const u of page.Uploads ?? []) {
        if (!u.Initiated || u.Initiated.getTime() >= before) continue;
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId }));
        aborted++;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
    return aborted;
  }

  // --- inside ---

  /** An upload's chunks, in order and contiguous from 0, or undefined when there is no such upload. */
  private async uploadState(id: string): Promise<UploadState | undefined> {
    const prefix = this.uploadPrefix(id);
    const found: Part[] = [];
    let exists = false;
    let modifiedAt = 0;
    for await (const o of this.list(prefix)) {
      exists = true;
      modifiedAt = Math.max(modifiedAt, o.modifiedAt);
      const name = o.key.slice(prefix.length);
      if (/^\d{16}$/.test(name)) found.push({ key: o.key, offset: Number(name), size: o.size });
    }
    if (!exists) return undefined;
    found.sort((a, b) => a.offset - b.offset);
    // Only the chunks that follow one another from offset 0 count (a chunk written elsewhere at a wrong offset,
    // which the core's checks make impossible, would be ignored rather than spliced in).
    const parts: Part[] = [];
    let size = 0;
    for (const p of found) {
      if (p.offset !== size || p.size === 0) continue;
      parts.push(p);
      size += p.size;
    }
    return { parts, size, modifiedAt };
  }

  /** Makes `target` the concatenation of `parts`. */
  private async assemble(parts: Part[], target: string): Promise<void> {
    const size = parts.reduce((n, p) => n + p.size, 0);
    if (parts.length === 0) {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: target, Body: Buffer.alloc(0) }));
      return;
    }
    if (parts.length === 1 && size <= MAX_COPY) {
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: target, CopySource: this.copySource(parts[0].key) }));
      return;
    }
    const plan = planParts(parts);
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: target }));
    try {
      const done: CompletedPart[] = [];
      await eachAtMost(
        CONCURRENCY,
        plan.map((p, i) => ({ ...p, number: i + 1 })),
        async (p) => {
          if (p.copy) {
            const { key, start, end } = p.segments[0];
            const r = await this.client.send(
              new UploadPartCopyCommand({
                Bucket: this.bucket,
                Key: target,
                UploadId,
                PartNumber: p.number,
                CopySource: this.copySource(key),
                CopySourceRange: `bytes=${start}-${end}`,
              }),
            );
            done.push({ PartNumber: p.number, ETag: r.CopyPartResult!.ETag });
          } else {
            const length = p.segments.reduce((n, s) => n + s.end - s.start + 1, 0);
            const r = await this.client.send(
              new UploadPartCommand({
                Bucket: this.bucket,
                Key: target,
                UploadId,
                PartNumber: p.number,
                Body: Readable.from(this.readSegments(p.segments), { objectMode: false }),
                ContentLength: length,
              }),
            );
            done.push({ PartNumber: p.number, ETag: r.ETag });
          }
        },
      );
      done.sort((a, b) => a.PartNumber! - b.PartNumber!);
      await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: target, UploadId, MultipartUpload: { Parts: done } }),
      );
    } catch (e) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: target, UploadId })).catch(() => {});
      throw e;
    }
  }

  private copySource(key: string): string {
    return `${this.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** The bytes of each segment in turn, streamed from the store. */
  private async *readSegments(segments: Segment[]): AsyncGenerator<Buffer> {
    for (const s of segments) {
      const got = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: s.key, Range: `bytes=${s.start}-${s.end}` }));
      const body = got.Body as Readable;
      let n = 0;
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          n += chunk.length;
          yield chunk;
        }
      } finally {
        body.destroy();
      }
      if (n !== s.end - s.start + 1) throw new Error(`${s.key}: read ${n} bytes of ${s.end - s.start + 1}`);
    }
  }

  private async *list(prefix: string): AsyncGenerator<{ key: string; size: number; modifiedAt: number }> {
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) yield { key: o.Key!, size: o.Size ?? 0, modifiedAt: o.LastModified?.getTime() ?? 0 };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}

/**
 * The parts of a multipart upload that concatenates `chunks`: a chunk (or the rest of one) of MIN_PART bytes or
 * more is copied server-side, in pieces of MAX_COPY at most; smaller ones are gathered, streamed, into parts of
 * exactly MIN_PART bytes (taking the head of the next chunk when needed), and the last part may be smaller.
 */
export function planParts(chunks: { key: string; size: number }[]): { copy: boolean; segments: Segment[] }[] {
  const plan: { copy: boolean; segments: Segment[] }[] = [];
  let run: Segment[] = [];
  let runSize = 0;
  for (const c of chunks) {
    let at = 0;
    if (runSize > 0) {
      const take = Math.min(c.size, MIN_PART - runSize);
      run.push({ key: c.key, start: 0, end: take - 1 });
      runSize += take;
      at = take;
      if (runSize === MIN_PART) {
        plan.push({ copy: false, segments: run });
        run = [];
        runSize = 0;
      }
    }
    const rest = c.size - at;
    if (rest === 0) continue;
    if (rest >= MIN_PART) {
      const pieces = Math.ceil(rest / MAX_COPY);
      const each = Math.ceil(rest / pieces);
      for (let start = at; start < c.size; start += each) {
        plan.push({ copy: true, segments: [{ key: c.key, start, end: Math.min(start + each, c.size) - 1 }] });
      }
    } else {
      run.push({ key: c.key, start: at, end: c.size - 1 });
      runSize += rest;
    }
  }
  if (run.length > 0) plan.push({ copy: false, segments: run });
  return plan;
}

/** Turns the refusal of a conditional write into the error it means: another append got there first. */
function raced(id: string, offset: number): (e: unknown) => never {
  return (e) => {
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 412 || (e as Error).name === 'PreconditionFailed') {
      throw new Error(`upload ${id}: another append at offset ${offset} got there first`, { cause: e });
    }
    throw e;
  };
}

function isBufferList(body: Chunks): body is Buffer[] {
  return Array.isArray(body);
}

/** Runs `fn` on every item, `limit` at a time; the first failure fails the whole (after those running settle). */
async function eachAtMost<T>(limit: number, items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failed) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw failed.error;
}

function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      reject(new Error('the destination closed'));
    };
    const cleanup = () => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      out.off('error', onClose);
    };
    out.on('drain', onDrain);
    out.on('close', onClose);
    out.on('error', onClose);
  });
}

function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.$metadata?.httpStatusCode === 404 || err.name === 'NotFound' || err.name === 'NoSuchKey';
}

function describe(e: unknown): string {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  return `${err.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}${err.message && err.message !== err.name ? `: ${err.message}` : ''}`;
}
