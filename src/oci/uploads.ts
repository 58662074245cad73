// Blob uploads: POST (start, monolithic with ?digest=, or cross-repository mount), PATCH (chunks),
// PUT (complete), GET (status, to resume) and DELETE (cancel).
import type { IncomingMessage } from 'node:http';
import { fail, RegistryError } from '../core/errors.ts';
import type { Repository, StoredBlob } from '../storage/meta/store.ts';
import { authorizeRepository, mayPerform, type OciContext, type RepositoryContext } from './context.ts';
import { parseContentRange, uploadRange } from './range.ts';
import { parseDigest } from '../core/grammar.ts';

export async function startUpload(ctx: RepositoryContext, name: string): Promise<void> {
  const repo = ctx.repository;
  const { registry } = ctx;
  const q = ctx.url.searchParams;
  const mount = q.get('mount');
  if (mount) {
    const mounted = await mountFrom(ctx, repo, mount, q.get('from'));
    if (mounted) return blobCreated(ctx, name, mounted.digest);
  }
  const digest = q.get('digest');
  const id = await registry.startUpload(repo, ctx.principal.arn);
  if (digest !== null) {
    // A monolithic upload that fails leaves no session behind.
    const blob = await registry.completeUpload(repo, id, digest, ctx.req, undefined, declaredLength(ctx.req)).catch(async (e: unknown) => {
      await registry.cancelUpload(repo, id).catch(() => {});
      throw e;
    });
    return blobCreated(ctx, name, blob.digest);
  }
  await drain(ctx.req);
  uploadAccepted(ctx, name, id, 0);
}

/**
 * A cross-repository mount, only from a repository that holds the blob and that the caller may pull from
 * (`ecr:GetDownloadUrlForLayer` on it, as ECR requires): the one `from` names (`<account id>/<name>` for another
 * account's), or, with no `from`, any repository of the account that holds it when the account's BLOB_MOUNTING
 * setting is ENABLED. Anything else mounts nothing and says nothing: the client gets the same upload session as for
 * a blob the registry does not have.
 */
async function mountFrom(ctx: OciContext, repo: Repository, digest: string, fromName: string | null): Promise<StoredBlob | undefined> {
  if (!parseDigest(digest)) fail('DIGEST_INVALID', `invalid digest "${digest}"`, { digest });
  if (fromName !== null) {
    // A second resource, decided here because it is optional: a source the caller may not pull from, or that does
    // not exist, is no error, and the client uploads instead.
    const from = await authorizeRepository(ctx, fromName, [PULL_BLOB]).catch((e: unknown) => {
      if (e instanceof RegistryError) return undefined;
      throw e;
    });
    return from && ctx.registry.mountBlob(repo, digest, from);
  }
  for (const candidate of await ctx.registry.mountCandidates(repo.accountId, digest)) {
    if (!(await mayPerform(ctx, candidate, [PULL_BLOB]))) continue;
    const mounted = await ctx.registry.mountBlob(repo, digest, candidate);
    if (mounted) return mounted;
  }
  return undefined;
}

const PULL_BLOB = 'ecr:GetDownloadUrlForLayer';

export async function patchUpload(ctx: RepositoryContext, name: string, id: string): Promise<void> {
  const repo = ctx.repository;
  const start = chunkStart(ctx);
  try {
    const offset = await ctx.registry.appendUpload(repo, id, ctx.req, start, declaredLength(ctx.req));
    uploadAccepted(ctx, name, id, offset);
  } catch (e) {
    if ((e as { code?: string }).code === 'RANGE_INVALID') {
      ctx.res.setHeader('Range', uploadRange((e as { detail: { offset: number } }).detail.offset));
      ctx.res.setHeader('Location', uploadLocation(name, id));
    }
    throw e;
  }
}

export async function putUpload(ctx: RepositoryContext, name: string, id: string): Promise<void> {
  const repo = ctx.repository;
  const start = chunkStart(ctx);
  const hasBody = Number(ctx.req.headers['content-length'] ?? 0) > 0 || ctx.req.headers['transfer-encoding'] !== undefined;
  const blob = await ctx.registry.completeUpload(
    repo,
    id,
    ctx.url.searchParams.get('digest') ?? undefined,
    hasBody ? ctx.req : undefined,
    start,
    declaredLength(ctx.req),
  );
  blobCreated(ctx, name, blob.digest);
}

export async function getUpload(ctx: RepositoryContext, name: string, id: string): Promise<void> {
  const repo = ctx.repository;
  const offset = await ctx.registry.uploadOffset(repo, id);
  ctx.res.statusCode = 204;
  ctx.res.setHeader('Location', uploadLocation(name, id));
  ctx.res.setHeader('Range', uploadRange(offset));
  ctx.res.setHeader('Docker-Upload-UUID', id);
  ctx.res.end();
}

export async function deleteUpload(ctx: RepositoryContext, _name: string, id: string): Promise<void> {
  await ctx.registry.cancelUpload(ctx.repository, id);
  ctx.res.statusCode = 204;
  ctx.res.end();
}

/** The chunk's first byte from Content-Range, checked against Content-Length; undefined for a streamed chunk. */
function chunkStart(ctx: OciContext): number | undefined {
  const header = ctx.req.headers['content-range'];
  if (header === undefined) return undefined;
  const range = parseContentRange(header) ?? fail('BLOB_UPLOAD_INVALID', `invalid Content-Range "${header}"`);
  const length = ctx.req.headers['content-length'];
  if (length !== undefined && Number(length) !== range.end - range.start + 1) {
    fail('SIZE_INVALID', `Content-Length ${length} does not match Content-Range ${header}`);
  }
  return range.start;
}

const uploadLocation = (name: string, id: string) => `/v2/${name}/blobs/uploads/${id}`;

function uploadAccepted(ctx: OciContext, name: string, id: string, offset: number): void {
  const { res } = ctx;
  res.statusCode = 202;
  res.setHeader('Location', uploadLocation(name, id));
  res.setHeader('Range', uploadRange(offset));
  res.setHeader('Docker-Upload-UUID', id);
  res.setHeader('Content-Length', 0);
  res.end();
}

function blobCreated(ctx: OciContext, name: string, digest: string): void {
  const { res } = ctx;
  res.statusCode = 201;
  res.setHeader('Location', `/v2/${name}/blobs/${digest}`);
  res.setHeader('Docker-Content-Digest', digest);
  res.setHeader('Content-Length', 0);
  res.end();
}

/** The body's length from Content-Length (which Node's parser has checked), or undefined for a streamed body. */
function declaredLength(req: IncomingMessage): number | undefined {
  if (req.headers['transfer-encoding'] !== undefined) return undefined;
  const length = Number(req.headers['content-length']);
  return Number.isSafeInteger(length) && length > 0 ? length : undefined;
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req) {
    /* discard */
  }
}
