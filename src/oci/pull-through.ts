// Pulls through the cache (src/core/pull-through.ts) on the /v2/ routes that declare it (manifest GET/HEAD, blob
// GET/HEAD, src/oci/routes.ts): a repository of the caller's account that a pull through cache rule covers. The
// route's own actions are decided first, as for any pull; what the registry holds (a digest, a blob, a tag checked
// upstream within the interval) is then served by the route's handler. What it must fetch needs the route's import
// actions too (ecr:BatchImportUpstreamImage, and ecr:CreateRepository when the repository does not exist yet), as
// ECR requires; a caller refused them, or an upstream that cannot be reached, still gets what is cached.
import { fail, RegistryError } from '../core/errors.ts';
import { isDigestReference, isValidRepositoryName, isValidTag, parseDigest } from '../core/grammar.ts';
import type { PullThroughCache } from '../core/pull-through.ts';
import type { RuleMatch } from '../core/pull-through-rules.ts';
import { UpstreamError, type UpstreamManifest } from '../core/upstream-client.ts';
import type { Repository } from '../storage/meta/store.ts';
import type { EcrActions } from '../auth/authorizer.ts';
import { authorizeActions, type OciContext, type RepositoryContext } from './context.ts';
import { acceptable } from './manifests.ts';

/** What a route declares for pulls through the cache: what it serves, and the actions an import needs. */
export interface PullThroughRoute {
  serves: 'manifest' | 'blob';
  actions: EcrActions;
}

type Handler = (ctx: RepositoryContext, name: string, ...params: string[]) => Promise<void>;

interface Pull {
  ctx: OciContext;
  cache: PullThroughCache;
  match: RuleMatch;
  name: string;
  existing?: Repository;
  /** The route's handler on a repository that holds what is asked for. */
  serve: (repository: Repository) => Promise<void>;
  /** Decides the import actions (throws DENIED, or UNAUTHORIZED for an anonymous caller). */
  mayImport: () => Promise<void>;
}

/**
 * Answers a pull of a repository that a rule covers, and true; false when no rule covers it (the route goes on as
 * usual). The route's own actions are decided here, before anything is read.
 */
export async function pullThrough(
  ctx: OciContext,
  route: { actions: EcrActions; pullThrough: PullThroughRoute; handler: Handler },
  name: string,
  params: string[],
): Promise<boolean> {
  const cache = ctx.registry.pullThrough;
  const account = ctx.principal.accountId;
  if (!cache || cache.hasNoRules(account) || !isValidRepositoryName(name)) return false;
  const match = await cache.match(account, name);
  if (!match) return false;
  const existing = await ctx.registry.meta.getRepository(account, name);
  await authorizeActions(ctx, account, name, existing, route.actions);
  const imports = route.pullThrough.actions;
  const pull: Pull = {
    ctx,
    cache,
    match,
    name,
    existing,
    serve: (repository) => route.handler({ ...ctx, repository }, name, ...params),
    mayImport: () => authorizeActions(ctx, account, name, existing, existing ? imports : [...imports, 'ecr:CreateRepository']),
  };
  try {
    await (route.pullThrough.serves === 'manifest' ? pullManifest(pull, params[0]) : pullBlob(pull, params[0]));
  } catch (e) {
    if (e instanceof UpstreamError) fail('UPSTREAM_UNAVAILABLE', `the upstream registry of ${name} cannot give it: ${e.message}`, { name });
    throw e;
  }
  return true;
}

/** A refusal to import (by policy), as opposed to any other failure. */
const refused = (e: unknown) => e instanceof RegistryError && (e.code === 'DENIED' || e.code === 'UNAUTHORIZED');

async function pullManifest(pull: Pull, reference: string): Promise<void> {
  const { ctx, cache, match, existing } = pull;
  const tag = isDigestReference(reference) ? undefined : reference;
  if (tag === undefined ? !parseDigest(reference) : !isValidTag(tag))
    fail('MANIFEST_UNKNOWN', `manifest unknown: "${reference}" is no valid tag or digest`, { reference });
  // What is cached: a digest is served as it is; a tag once checked upstream within the interval.
  let cached: string | undefined;
  if (existing) {
    if (tag === undefined && (await ctx.registry.meta.getManifest(existing.id, reference))) return pull.serve(existing);
    if (tag !== undefined) {
      cached = await ctx.registry.meta.getTag(existing.id, tag);
      if (cached && (await cache.tagIsFresh(existing, tag))) return pull.serve(existing);
    }
  }
  let fetched: UpstreamManifest | undefined;
  try {
    if (cached) {
      // The tag's check is due: a HEAD tells whether it moved (a tag gone upstream keeps what is cached, as in ECR).
      const upstream = await cache.upstreamDigest(match, tag!);
      if (upstream === undefined || upstream === cached) {
        await cache.recordTagCheck(existing!, tag!);
        return pull.serve(existing!);
      }
    }
    await pull.mayImport();
    fetched = await cache.fetchManifest(match, reference);
  } catch (e) {
    if (cached && (e instanceof UpstreamError || refused(e))) return pull.serve(existing!);
    throw e;
  }
  if (!fetched) {
    if (cached) return pull.serve(existing!);
    return fail(
      'MANIFEST_UNKNOWN',
      `manifest ${reference} is not known to repository ${pull.name} nor to its upstream repository ${match.upstreamName}`,
      { reference },
    );
  }
  const repo = existing ?? (await cache.createRepository(ctx.principal.accountId, pull.name));
  try {
    if (await cache.adopt(repo, reference, fetched)) return pull.serve(repo);
  } catch (e) {
    // A tag the repository keeps immutable (its PULL_THROUGH_CACHE template) keeps the image it names.
    if (cached && e instanceof RegistryError && e.code === 'IMAGE_TAG_IMMUTABLE') {
      await cache.recordTagCheck(repo, tag!);
      return pull.serve(repo);
    }
    throw e;
  }
  // Its blobs are on their way (a job): served as fetched meanwhile.
  sendManifest(ctx, reference, fetched);
}

function sendManifest(ctx: OciContext, reference: string, m: UpstreamManifest): void {
  if (!acceptable(ctx.req.headers.accept, m.mediaType)) {
    fail('MANIFEST_UNKNOWN', `manifest ${reference} is stored as ${m.mediaType}, which the Accept header does not allow`, {
      reference,
      mediaType: m.mediaType,
    });
  }
  const { res } = ctx;
  res.statusCode = 200;
  res.setHeader('Docker-Content-Digest', m.digest);
  res.setHeader('ETag', `"${m.digest}"`);
  res.setHeader('Content-Type', m.mediaType);
  res.setHeader('Content-Length', m.size);
  res.end(ctx.head ? undefined : m.body);
}

async function pullBlob(pull: Pull, digest: string): Promise<void> {
  const { ctx, cache, match, existing } = pull;
  if (!parseDigest(digest)) fail('DIGEST_INVALID', `invalid digest "${digest}"`, { digest });
  if (existing && (await ctx.registry.meta.getRepositoryBlob(existing.id, digest))) return pull.serve(existing);
  await pull.mayImport();
  const create = () => existing ?? cache.createRepository(ctx.principal.accountId, pull.name);
  // Stored already (for another repository): linked once the upstream repository shows it has it.
  if ((await ctx.registry.blobs.stat(digest)) !== undefined && (await cache.upstreamBlobSize(match, digest)) !== undefined) {
    const repo = await create();
    if (await cache.link(repo, digest)) return pull.serve(repo);
  }
  if (ctx.head) {
    const size = await cache.upstreamBlobSize(match, digest);
    if (size === undefined)
      fail('BLOB_UNKNOWN', `blob ${digest} is not known to repository ${pull.name} nor to its upstream repository`, { digest });
    ctx.res.statusCode = 200;
    ctx.res.setHeader('Docker-Content-Digest', digest);
    ctx.res.setHeader('Content-Type', 'application/octet-stream');
    ctx.res.setHeader('Content-Length', size!);
    ctx.res.end();
    return;
  }
  const blob = await cache.openBlob(match, digest);
  if (!blob)
    return fail('BLOB_UNKNOWN', `blob ${digest} is not known to repository ${pull.name} nor to its upstream repository`, { digest });
  const repo = await create();
  const { res } = ctx;
  res.statusCode = 200;
  res.setHeader('Docker-Content-Digest', digest);
  res.setHeader('Content-Type', 'application/octet-stream');
  if (Number.isFinite(blob.size)) res.setHeader('Content-Length', blob.size);
  // A client that goes away does not stop the import: the rest is stored for the next pull.
  const out = async (piece: Buffer): Promise<void> => {
    if (res.destroyed || res.writableEnded) return;
    if (res.write(piece)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  };
  try {
    await blob.pipe(repo, ctx.principal.arn, out);
  } catch (e) {
    if (!res.headersSent) {
      for (const h of ['Docker-Content-Digest', 'Content-Type', 'Content-Length']) res.removeHeader(h);
      throw e;
    }
    // The client has part of it: cut short, it is not taken for the whole blob.
    res.destroy(e as Error);
    return;
  }
  res.end();
}
