// The /v2/ data plane: authenticates, routes by path and method (src/oci/routes.ts), authorizes what the route
// declares before its handler runs, and turns core errors into OCI error JSON. Repository names contain slashes,
// so routes are matched on what follows the name.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity, BasicResult } from '../auth/identity.ts';
import { anonymous, type Principal } from '../auth/principal.ts';
import type { Authorizer } from '../auth/authorizer.ts';
import { RegistryError } from '../core/errors.ts';
import type { Registry } from '../core/registry.ts';
import { authorizeRepository, mayPerform, type OciContext } from './context.ts';
import { sendOciError } from './errors.ts';
import { decodePathParams } from './path.ts';
import type { PrincipalRequests } from '../server/request-limits.ts';
import { OCI_ROUTES, routePattern, type OciMethod } from './routes.ts';
import { closeUnread } from '../server/body.ts';
import { pullThrough } from './pull-through.ts';

export const ROUTES = OCI_ROUTES.map((route) => ({ pattern: routePattern(route.path), path: route.path, methods: route.methods }));

/** A blob's path, for a layer download URL's signature. */
export const BLOB_PATH = /^\/v2\/(.+?)\/blobs\/([^/]+)$/;
/** A Bearer Authorization header. */
export const BEARER = /^bearer /i;

/** Basic credentials, or the signature of a layer download URL (GetDownloadUrlForLayer) on a blob GET. */
async function authenticate(identity: Identity, req: IncomingMessage, url: URL): Promise<BasicResult> {
  const signature = url.searchParams.get(DOWNLOAD_SIGNATURE);
  if (signature !== null && !req.headers.authorization && (req.method === 'GET' || req.method === 'HEAD')) {
    const m = BLOB_PATH.exec(url.pathname);
    if (!m) return { error: 'a download signature is only valid on a blob' };
    const [name, digest] = decodePathParams(url.pathname, [m[1], m[2]]);
    return identity.verifyDownload(signature, name, digest);
  }
  const authorization = req.headers.authorization;
  if (authorization && BEARER.test(authorization)) return identity.verifyBearer(authorization.slice(7).trim());
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
  requests: PrincipalRequests;
}

/** The route's decision, then its handler: nothing reaches a handler that the table does not let through. */
async function dispatch(ctx: OciContext, route: OciMethod, params: string[]): Promise<void> {
  switch (route.access) {
    case 'public':
      return route.handler(ctx);
    case 'listing':
      if (ctx.principal.kind === 'anonymous') throw new RegistryError('UNAUTHORIZED', 'authentication required to list repositories');
      return route.handler({ ...ctx, visible: (repository) => mayPerform(ctx, repository, route.actions) });
    case 'repository': {
      const [name, ...rest] = params;
      if (route.pullThrough && (await pullThrough(ctx, { ...route, pullThrough: route.pullThrough }, name, rest))) return;
      const repository = await authorizeRepository(ctx, name, route.actions, route.createOnPush);
      return route.handler({ ...ctx, repository }, name, ...rest);
    }
  }
}

export function ociHandler(deps: OciDeps) {
  /** Answers one request; `seen.principal` tells the access log who asked. */
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    seen: { principal?: Principal; loginFailed?: boolean; route?: string },
  ): Promise<void> => {
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    const head = req.method === 'HEAD';
    try {
      const auth = await authenticate(deps.identity, req, url);
      if (auth && 'error' in auth) {
        seen.loginFailed = true;
        throw new RegistryError('UNAUTHORIZED', `authentication failed: ${auth.error}`);
      }
      // No credentials: an anonymous caller of the default account, let in only where a policy grants "*".
      const principal = auth ? auth.principal : anonymous(deps.defaultAccountId);
      seen.principal = principal;
      deps.requests.admit(principal, res);
      const ctx: OciContext = {
        req,
        res,
        url,
        head,
        principal,
        registry: deps.registry,
        authorizer: deps.authorizer,
        authzScope: deps.authorizer.scope(),
        region: deps.region,
      };
      for (const route of ROUTES) {
        const m = route.pattern.exec(url.pathname);
        if (!m) continue;
        seen.route = route.path;
        const handler = route.methods[req.method ?? ''];
        if (!handler) {
          res.setHeader('Allow', Object.keys(route.methods).join(', '));
          throw new RegistryError('UNSUPPORTED', `method ${req.method} is not supported on ${url.pathname}`);
        }
        await dispatch(ctx, handler, decodePathParams(url.pathname, m.slice(1)));
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
      // A request body left unread (a refusal before it was read) is not read in full: see closeUnread.
      closeUnread(req, res);
      sendOciError(res, e, head);
    }
  };
}
