// Content discovery: tags list, catalog and referrers, with the spec's `n`/`last` pagination and Link header.
import { fail } from '../core/errors.ts';
import { MediaType } from '../core/manifest.ts';
import type { Page } from '../storage/meta/store.ts';
import type { ListingContext, OciContext, RepositoryContext } from './context.ts';
import { listVisible } from '../core/repositories.ts';

/** The `n` of a paginated list. */
export const PAGE_SIZE = /^\d+$/;

/** Upper bound on one page, whatever `n` asks for. */
const MAX_PAGE = 10_000;

export async function listTags(ctx: RepositoryContext, name: string): Promise<void> {
  const repo = ctx.repository;
  const page = pageOf(ctx);
  const tags = page.limit === 0 ? [] : await ctx.registry.listTags(repo, { ...page, limit: page.limit + 1 });
  sendPage(ctx, `/v2/${name}/tags/list`, page, tags, (items) => ({ name, tags: items }));
}

export async function listCatalog(ctx: ListingContext): Promise<void> {
  const page = pageOf(ctx);
  // Only the repositories the caller may describe (the route's action): read on until a page (and one more) is visible.
  const account = ctx.principal.accountId;
  const visible = await listVisible(ctx.registry.meta, account, page.last, page.limit, ctx.visible);
  sendPage(
    ctx,
    '/v2/_catalog',
    page,
    visible.map((r) => r.name),
    (items) => ({ repositories: items }),
  );
}

export async function listReferrers(ctx: RepositoryContext, _name: string, digest: string): Promise<void> {
  const repo = ctx.repository;
  const artifactType = ctx.url.searchParams.get('artifactType') ?? undefined;
  const referrers = await ctx.registry.listReferrers(repo, digest, artifactType);
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: referrers.map((r) => ({
      mediaType: r.mediaType,
      digest: r.digest,
      size: r.size,
      ...(r.artifactType ? { artifactType: r.artifactType } : {}),
      ...(r.annotations ? { annotations: r.annotations } : {}),
    })),
  };
  const body = JSON.stringify(index);
  const { res } = ctx;
  res.statusCode = 200;
  res.setHeader('Content-Type', MediaType.ociIndex);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  if (artifactType !== undefined) res.setHeader('OCI-Filters-Applied', 'artifactType');
  res.end(ctx.head ? undefined : body);
}

function pageOf(ctx: OciContext): Page {
  const q = ctx.url.searchParams;
  const n = q.get('n');
  let limit = MAX_PAGE;
  if (n !== null) {
    if (!PAGE_SIZE.test(n)) fail('PAGINATION_NUMBER_INVALID', `invalid number of results requested: n=${n}`);
    limit = Math.min(Number(n), MAX_PAGE);
  }
  return { last: q.get('last') ?? undefined, limit };
}

/** Sends one page; `items` holds up to limit + 1 entries, the extra one telling that there is a next page. */
function sendPage(ctx: OciContext, path: string, page: Page, items: string[], shape: (items: string[]) => object): void {
  const { res } = ctx;
  const more = items.length > page.limit;
  const shown = more ? items.slice(0, page.limit) : items;
  if (more) {
    const next = new URLSearchParams({ n: String(page.limit), last: shown[shown.length - 1] });
    res.setHeader('Link', `<${path}?${next}>; rel="next"`);
  }
  const body = JSON.stringify(shape(shown));
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(ctx.head ? undefined : body);
}
