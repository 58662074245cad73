// The /v2/ data plane: authenticates, routes by path and method, and turns core errors into OCI error JSON.
// Repository names contain slashes, so routes are matched on what follows the name.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity, BasicResult } from '../auth/identity.ts';
import { anonymous, type Principal } from '../auth/principal.ts';
import type { Authorizer } from '../auth/authorizer.ts';
import { RegistryError } from '../core/errors.ts';
import type { Registry } from '../core/registry.ts';
import { deleteBlob, getBlob } from './blobs.ts';
import type { OciContext } from './context.ts';
import { sendOciError } from './errors.ts';
import { listCatalog, listReferrers, listTags } from './listing.ts';
import { deleteManifest, getManifest, putManifest } from './manifests.ts';
import { deleteUpload, getUpload, patchUpload, putUpload, startUpload } from './uploads.ts';

type Handler = (ctx: OciContext, ...params: string[]) => Promise<void>;
interface Route { pattern: RegExp; methods: Record<string, Handler> }

const NAME = '(.+?)';
const ROUTES: Route[] = [
  { pattern: /^\/v2\/?$/, methods: { GET: base, HEAD: base } },
  { pattern: /^\/v2\/_catalog$/, methods: { GET: listCatalog } },
  { pattern: new RegExp(`^/v2/${NAME}/tags/list$`), methods: { GET: listTags } },
  { pattern: new RegExp(`^/v2/${NAME}/manifests/([^/]+)$`), methods: { GET: getManifest, HEAD: getManifest, PUT: putManifest, DELETE: deleteManifest } },
  { pattern: new RegExp(`^/v2/${NAME}/blobs/uploads/?$`), methods: { POST: startUpload } },
  { pattern: new RegExp(`^/v2/${NAME}/blobs/uploads/([^/]+)$`), methods: { GET: getUpload, PATCH: patchUpload, PUT: putUpload, DELETE: deleteUpload } },
  { pattern: new RegExp(`^/v2/${NAME}/blobs/([^/]+)$`), methods: { GET: getBlob, HEAD: getBlob, DELETE: deleteBlob } },
  { pattern: new RegExp(`^/v2/${NAME}/referrers/([^/]+)$`), methods: { GET: listReferrers } },
];

/** The API version check: it answers 401 to a request with no credentials at all, so that clients log in
 * (or fetch an anonymous token). */
async function base(ctx: OciContext): Promise<void> {
  if (!ctx.req.headers.authorization) throw new RegistryError('UNAUTHORIZED', 'authentication required');
  ctx.res.statusCode = 200;
  ctx.res.setHeader('Content-Type', 'application/json');
  ctx.res.setHeader('Content-Length', 2);
  ctx.res.end(ctx.head ? undefined : '{}');
}

/** Basic credentials, or the signature of a layer download URL (GetDownloadUrlForLayer) on a blob GET. */
async function authenticate(identity: Identity, req: IncomingMessage, url: URL): Promise<BasicResult> {
  const signature = url.searchParams.get(DOWNLOAD_SIGNATURE);
  if (signature !== null && !req.headers.authorization && (req.method === 'GET' || req.method === 'HEAD')) {
    const m = /^\/v2\/(.+?)\/blobs\/([^/]+)$/.exec(url.pathname);
    return m ? identity.verifyDownload(signature, decodeURIComponent(m[1]), decodeURIComponent(m[2])) : { error: 'a download signature is only valid on a blob' };
  }
  const authorization = req.headers.authorization;
  if (authorization && /^bearer /i.test(authorization)) return identity.verifyBearer(authorization.slice(7).trim());
  return identity.basic(authorization);
}

/** The query parameter that carries a layer download URL's signature. */
export const DOWNLOAD_SIGNATURE = 'X-Berth-Signature';

export interface OciDeps {
  registry: Registry;
  identity: Identity;
  region: string;
  /** The default account, for requests that carry no credentials. */
  defaultAccountId: string;
  realm: string;
  /** URL of the token endpoint (the Bearer challenge's realm). */
  tokenRealm: string;
  authorizer: Authorizer;
}

export function ociHandler(deps: OciDeps) {
  /** Answers one request; `seen.principal` tells the access log who asked. */
  return async (req: IncomingMessage, res: ServerResponse, url: URL, seen: { principal?: Principal }): Promise<void> => {
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    const head = req.method === 'HEAD';
    try {
      const auth = await authenticate(deps.identity, req, url);
      if (auth && 'error' in auth) throw new RegistryError('UNAUTHORIZED', `authentication failed: ${auth.error}`);
      // No credentials: an anonymous caller of the default account, let in only where a policy grants "*".
      const principal = auth ? auth.principal : anonymous(deps.defaultAccountId);
      seen.principal = principal;
      const ctx: OciContext = {
        req, res, url, head, principal, registry: deps.registry, authorizer: deps.authorizer, authzScope: deps.authorizer.scope(), region: deps.region,
      };
      for (const route of ROUTES) {
        const m = route.pattern.exec(url.pathname);
        if (!m) continue;
        const handler = route.methods[req.method ?? ''];
        if (!handler) {
          res.setHeader('Allow', Object.keys(route.methods).join(', '));
          throw new RegistryError('UNSUPPORTED', `method ${req.method} is not supported on ${url.pathname}`);
        }
        await handler(ctx, ...m.slice(1).map(decodeURIComponent));
        return;
      }
      throw new RegistryError('NAME_UNKNOWN', `no route for ${url.pathname}`);
    } catch (e) {
      if (!(e instanceof RegistryError)) throw e;
      if (res.headersSent) {
        res.destroy(e);
        return;
      }
      // The token protocol's challenge: clients fetch a token from the realm with their Basic credentials (or
      // none, for anonymous pulls). Basic credentials sent directly are accepted too. Only one challenge: docker
      // applies every challenge it knows, and a Basic one would stop its anonymous pulls.
      if (e.code === 'UNAUTHORIZED') res.setHeader('WWW-Authenticate', `Bearer realm="${deps.tokenRealm}",service="${deps.realm}"`);
      // A request body left unread is discarded by Node after the answer; the connection stays usable.
      sendOciError(res, e, head);
    }
  };
}
