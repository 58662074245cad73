// Blobs: GET/HEAD (with Range) and DELETE. Bodies are streamed from storage with backpressure, or, when the
// blob store has presigned URLs (S3) and redirects are on, a GET answers 307 to one and the client reads the
// bytes from the store itself (as distribution does).
import { RegistryError } from '../core/errors.ts';
import type { RepositoryContext } from './context.ts';
import { parseRange } from './range.ts';

/** How long a redirect's presigned URL is valid (distribution's default). */
const REDIRECT_TTL_SECONDS = 20 * 60;

export async function getBlob(ctx: RepositoryContext, _name: string, digest: string): Promise<void> {
  const repo = ctx.repository;
  const blob = await ctx.registry.statBlob(repo, digest, ctx.head ? 'check' : 'pull');
  const { res } = ctx;
  const etag = `"${blob.digest}"`;
  res.setHeader('Docker-Content-Digest', blob.digest);
  res.setHeader('ETag', etag);
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Cache-Control', 'max-age=31536000, immutable');
  if (ctx.req.headers['if-none-match'] === etag) {
    res.statusCode = 304;
    res.end();
    return;
  }
  // The filesystem store has no presigned URLs: its GETs skip the call (and its microtask) altogether.
  const redirect =
    ctx.head || blob.size === 0 || !ctx.registry.redirects
      ? undefined
      : await ctx.registry.blobDownloadUrl(blob.digest, REDIRECT_TTL_SECONDS);
  if (redirect) {
    // The URL expires: the redirect itself must not be cached longer than that.
    res.statusCode = 307;
    res.removeHeader('Accept-Ranges');
    res.removeHeader('Content-Type');
    res.setHeader('Location', redirect);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Length', 0);
    res.end();
    return;
  }
  const range = parseRange(ctx.req.headers.range, blob.size);
  if (range === 'unsatisfiable') {
    res.statusCode = 416;
    res.setHeader('Content-Range', `bytes */${blob.size}`);
    res.setHeader('Content-Length', 0);
    res.end();
    return;
  }
  if (range) {
    res.statusCode = 206;
    res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${blob.size}`);
    res.setHeader('Content-Length', range.end - range.start + 1);
  } else {
    res.statusCode = 200;
    res.setHeader('Content-Length', blob.size);
  }
  if (ctx.head || blob.size === 0) {
    res.end();
    return;
  }
  await ctx.registry.blobs.copyTo(blob.digest, range ?? { start: 0, end: blob.size - 1 }, res, blob.size);
  res.end();
}

export async function deleteBlob(ctx: RepositoryContext, _name: string, digest: string): Promise<void> {
  try {
    await ctx.registry.deleteBlob(ctx.repository, digest);
  } catch (e) {
    // A 405 names what the blob still allows.
    if (e instanceof RegistryError && e.code === 'BLOB_REFERENCED') ctx.res.setHeader('Allow', 'GET, HEAD');
    throw e;
  }
  ctx.res.statusCode = 202;
  ctx.res.setHeader('Content-Length', 0);
  ctx.res.end();
}
