// Blobs: GET/HEAD (with Range) and DELETE. Bodies are streamed from storage with backpressure.
import { RegistryError } from '../core/errors.ts';
import type { RepositoryContext } from './context.ts';
import { parseRange } from './range.ts';

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
  await ctx.registry.blobs.copyTo(blob.digest, range ?? { start: 0, end: blob.size - 1 }, res);
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
