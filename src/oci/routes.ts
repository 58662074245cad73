// The data plane's route table: every path and method with the authorization it needs. The dispatcher
// (router.ts) decides before any handler runs: a repository route's actions on the repository its path names
// (the handler receives it authorized), a listing route's actions on each repository it lists (the listing
// filters with them; anonymous callers are refused), and nothing for a route marked public (DESIGN.md).
import type { EcrActions } from '../auth/authorizer.ts';
import { RegistryError } from '../core/errors.ts';
import { deleteBlob, getBlob } from './blobs.ts';
import type { ListingContext, OciContext, RepositoryContext } from './context.ts';
import { listCatalog, listReferrers, listTags } from './listing.ts';
import { deleteManifest, getManifest, putManifest } from './manifests.ts';
import { deleteUpload, getUpload, patchUpload, putUpload, startUpload } from './uploads.ts';
import type { PullThroughRoute } from './pull-through.ts';

export type OciMethod =
  | { access: 'public'; handler: (ctx: OciContext) => Promise<void> }
  | {
      access: 'repository';
      actions: EcrActions;
      createOnPush?: boolean;
      handler: (ctx: RepositoryContext, name: string, ...params: string[]) => Promise<void>;
      /** Pulls through the cache when a pull through cache rule covers the repository (src/oci/pull-through.ts). */
      pullThrough?: PullThroughRoute;
    }
  | { access: 'listing'; actions: EcrActions; handler: (ctx: ListingContext) => Promise<void> };

export interface OciRoute {
  /** The path, `<name>` standing for a repository name (slashes allowed), any other `<param>` for one segment. */
  path: string;
  methods: Record<string, OciMethod>;
}

const PUSH: EcrActions = ['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload'];
const repository = (
  actions: EcrActions,
  handler: Extract<OciMethod, { access: 'repository' }>['handler'],
  createOnPush = false,
): OciMethod => ({ access: 'repository', actions, handler, ...(createOnPush ? { createOnPush } : {}) });
/** A pull that may go through the cache: what an import from upstream needs besides the pull's own actions. */
const IMPORT: EcrActions = ['ecr:BatchImportUpstreamImage'];
const pullingThrough = (method: OciMethod, serves: PullThroughRoute['serves']): OciMethod =>
  ({ ...method, pullThrough: { serves, actions: IMPORT } }) as OciMethod;

export const OCI_ROUTES: OciRoute[] = [
  { path: '/v2/', methods: { GET: { access: 'public', handler: base }, HEAD: { access: 'public', handler: base } } },
  { path: '/v2/_catalog', methods: { GET: { access: 'listing', actions: ['ecr:DescribeRepositories'], handler: listCatalog } } },
  { path: '/v2/<name>/tags/list', methods: { GET: repository(['ecr:ListImages'], listTags) } },
  {
    path: '/v2/<name>/manifests/<reference>',
    methods: {
      GET: pullingThrough(repository(['ecr:BatchGetImage'], getManifest), 'manifest'),
      HEAD: pullingThrough(repository(['ecr:BatchGetImage'], getManifest), 'manifest'),
      PUT: repository(['ecr:PutImage'], putManifest, true),
      DELETE: repository(['ecr:BatchDeleteImage'], deleteManifest),
    },
  },
  { path: '/v2/<name>/blobs/uploads/', methods: { POST: repository(PUSH, startUpload, true) } },
  {
    path: '/v2/<name>/blobs/uploads/<uuid>',
    methods: {
      GET: repository(['ecr:UploadLayerPart'], getUpload),
      PATCH: repository(['ecr:UploadLayerPart'], patchUpload),
      PUT: repository(['ecr:UploadLayerPart', 'ecr:CompleteLayerUpload'], putUpload),
      DELETE: repository(['ecr:UploadLayerPart'], deleteUpload),
    },
  },
  {
    path: '/v2/<name>/blobs/<digest>',
    methods: {
      GET: pullingThrough(repository(['ecr:GetDownloadUrlForLayer'], getBlob), 'blob'),
      HEAD: pullingThrough(repository(['ecr:BatchCheckLayerAvailability'], getBlob), 'blob'),
      DELETE: repository(['ecr:BatchDeleteImage'], deleteBlob),
    },
  },
  { path: '/v2/<name>/referrers/<digest>', methods: { GET: repository(['ecr:BatchGetImage'], listReferrers) } },
];

/** A route's path as a pattern: the name matches lazily (it contains slashes), a parameter one segment. */
export function routePattern(path: string): RegExp {
  const source = path
    .split(/(<[a-z]+>)/)
    .map((part) => {
      if (part === '<name>') return '(.+?)';
      if (/^<[a-z]+>$/.test(part)) return '([^/]+)';
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  // A trailing slash is optional (`/v2` and `/v2/`, `.../uploads` and `.../uploads/`).
  return new RegExp(`^${source.endsWith('/') ? `${source}?` : source}$`);
}

/** The API version check: it answers 401 to a request with no credentials at all, so that clients log in
 * (or fetch an anonymous token). */
async function base(ctx: OciContext): Promise<void> {
  if (!ctx.req.headers.authorization) throw new RegistryError('UNAUTHORIZED', 'authentication required');
  ctx.res.statusCode = 200;
  ctx.res.setHeader('Content-Type', 'application/json');
  ctx.res.setHeader('Content-Length', 2);
  ctx.res.end(ctx.head ? undefined : '{}');
}
