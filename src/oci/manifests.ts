// Manifests: GET/HEAD by tag or digest with content negotiation, PUT by tag or digest, DELETE.
import { fail } from '../core/errors.ts';
import { isDigestReference } from '../core/grammar.ts';
import { MAX_MANIFEST_BYTES, normalizeContentType } from '../core/manifest.ts';
import type { RepositoryContext } from './context.ts';
import { readBody } from '../server/body.ts';

export async function getManifest(ctx: RepositoryContext, _name: string, reference: string): Promise<void> {
  const repo = ctx.repository;
  const manifest = await ctx.registry.pullManifest(repo, reference);
  if (!acceptable(ctx.req.headers.accept, manifest.mediaType)) {
    fail('MANIFEST_UNKNOWN', `manifest ${reference} is stored as ${manifest.mediaType}, which the Accept header does not allow`, {
      reference,
      mediaType: manifest.mediaType,
    });
  }
  const { res } = ctx;
  const etag = `"${manifest.digest}"`;
  res.setHeader('Docker-Content-Digest', manifest.digest);
  res.setHeader('ETag', etag);
  res.setHeader('Content-Type', manifest.mediaType);
  if (ctx.req.headers['if-none-match'] === etag) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.setHeader('Content-Length', manifest.size);
  res.statusCode = 200;
  res.end(ctx.head ? undefined : manifest.content);
  if (!ctx.head) ctx.registry.recordPull(repo, manifest, ctx.principal.arn);
}

/** Content negotiation: no Accept (or a wildcard) takes anything; otherwise the stored type must be listed. */
export function acceptable(accept: string | undefined, mediaType: string): boolean {
  if (!accept) return true;
  for (const part of accept.split(',')) {
    const type = part.split(';')[0].trim().toLowerCase();
    if (type === '*/*' || type === 'application/*' || type === mediaType || type === '') return true;
  }
  return false;
}

export async function putManifest(ctx: RepositoryContext, name: string, reference: string): Promise<void> {
  const repo = ctx.repository;
  const { bytes: body, size } = await readBody(ctx.req, MAX_MANIFEST_BYTES);
  if (!body) return fail('MANIFEST_TOO_LARGE', `manifest is ${size} bytes or more; the limit is ${MAX_MANIFEST_BYTES} bytes (4 MiB)`);
  const ref = isDigestReference(reference) ? { digest: reference } : { tag: reference };
  const put = await ctx.registry.putManifest(repo, ref, body, normalizeContentType(ctx.req.headers['content-type']));
  const { res } = ctx;
  res.statusCode = 201;
  res.setHeader('Location', `/v2/${name}/manifests/${put.digest}`);
  res.setHeader('Docker-Content-Digest', put.digest);
  if (put.subject) res.setHeader('OCI-Subject', put.subject);
  res.setHeader('Content-Length', 0);
  res.end();
}

export async function deleteManifest(ctx: RepositoryContext, _name: string, reference: string): Promise<void> {
  await ctx.registry.deleteManifest(ctx.repository, reference);
  ctx.res.statusCode = 202;
  ctx.res.setHeader('Content-Length', 0);
  ctx.res.end();
}
