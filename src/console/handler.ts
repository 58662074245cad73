// The web console at /console/: server-rendered pages on the same core as the ECR API. The dispatcher finds the
// route in the console's table (src/console/routes.ts), refuses a page without a session and a form without its
// CSRF token before any page runs, and gives the page a way to call exactly the ECR operations its route
// declares, as the signed-in principal, through the same validation and authorization as the ECR API.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity, KeyHolder } from '../auth/identity.ts';
import type { Principal } from '../auth/principal.ts';
import type { MetaStore } from '../storage/meta/store.ts';
import { closeUnread, readBody } from '../server/body.ts';
import { EcrError } from '../ecr/errors.ts';
import { invokeOperation, type OperationDeps } from '../ecr/invoke.ts';
import { assetAt } from './assets.ts';
import { html, type Html } from './html.ts';
import { layout, type Viewer } from './layout.ts';
import { consoleRouteFor, STATIC_PATH, type ConsoleRoute } from './routes.ts';
import { cookie, cookiesOf, csrfOf, newSignInNonce, sameToken, SESSION_COOKIE, SIGN_IN_COOKIE } from './session.ts';
import { signInPage } from './sign-in.ts';
import { createRepositoryPage, repositoriesPage } from './repositories.ts';
import { repositoryAction, repositoryPage } from './repository.ts';
import { userAction, usersPage } from './users.ts';
import { registryAction, registryPage } from './registry.ts';
import { auditPage } from './audit.ts';
import { userPoliciesPage, userPolicyAction } from './user-policies.ts';
import { invokeAdminAction, AdminDenied } from '../admin/invoke.ts';
import type { AdminArgs } from '../admin/actions.ts';
import { IdentityError } from '../auth/identity.ts';
import type { Stores } from '../server/stores.ts';

export interface ConsoleDeps extends OperationDeps {
  meta: MetaStore;
  /** For the admin actions of the users page (src/admin/invoke.ts). */
  stores: Stores;
  identity: Identity;
  /** Cookies are Secure when the registry's public URL is https. */
  secureCookies: boolean;
  sessionTtlMs: number;
  /** Milliseconds until sign-ins from an address are heard again (BERTH_MAX_LOGIN_FAILURES_PER_MINUTE); 0 now. */
  loginBlockedFor: (address: string | undefined) => number;
}

/** What a page gets: the request, the signed-in viewer, and its ECR calls. */
export interface PageContext {
  url: URL;
  viewer: Viewer;
  holder: KeyHolder;
  deps: ConsoleDeps;
  repositoryName?: string;
  /** The submitted form (POST). */
  form: URLSearchParams;
  /** Calls one of the route's ECR operations as the viewer; throws EcrError as the ECR API would answer. */
  call<T = any>(operation: string, input: object): Promise<T>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Calls one of the route's admin actions as the viewer; throws AdminDenied or IdentityError as the admin API would answer. */
  admin<T = any>(name: string, args: AdminArgs): Promise<T>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** What a page answers: HTML (with a status), or a redirect after a successful form (Post/Redirect/Get). */
export type PageResult = { status?: number; title: string; body: Html; error?: string; notice?: string } | { redirect: string };

const FORM_LIMIT = 256 * 1024;
const SIGN_IN_FORM_LIMIT = 16 * 1024;

type Seen = { principal?: Principal; operation?: string; loginFailed?: boolean };

export function consoleHandler(deps: ConsoleDeps) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL, seen: Seen): Promise<void> => {
    securityHeaders(res);
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    // Who asks, before a byte of a form is read: only the sign-in form and the assets are for anyone.
    const open = url.pathname === '/console/sign-in' || url.pathname.startsWith('/console/static/');
    const token = open ? undefined : cookiesOf(req).get(SESSION_COOKIE);
    const holder = token ? await deps.identity.verifyConsoleSession(token) : undefined;
    if (!open && (!holder || 'error' in holder)) {
      if (method === 'POST') {
        closeUnread(req, res);
        return sendPage(
          res,
          401,
          layout({
            title: 'Signed out',
            error: 'Your session has ended. Sign in again.',
            body: html`<p><a href="/console/sign-in">Sign in</a></p>`,
          }),
        );
      }
      const back = url.pathname + url.search;
      return redirect(res, `/console/sign-in${back.startsWith('/console/repositories') ? `?next=${encodeURIComponent(back)}` : ''}`);
    }
    const form = method === 'POST' ? await readForm(req, open ? SIGN_IN_FORM_LIMIT : FORM_LIMIT) : new URLSearchParams();
    if (!form) {
      closeUnread(req, res);
      return sendPage(res, 413, layout({ title: 'Too large', error: 'The form is too large.', body: html`` }));
    }
    const variant = method === 'POST' ? (form.get('action') ?? '') : (url.searchParams.get('tab') ?? undefined);
    const found = consoleRouteFor(method, url.pathname, variant);
    if (!found)
      return sendPage(
        res,
        404,
        layout({
          title: 'Not found',
          error: `No console page at ${method} ${url.pathname}.`,
          body: html`<p><a href="/console/repositories">Repositories</a></p>`,
        }),
      );
    const { route, repositoryName } = found;

    if (route.access === 'public') {
      if (route.path === STATIC_PATH) return sendAsset(res, url.pathname);
      return signIn(req, res, method, form, seen);
    }
    if (!holder || 'error' in holder)
      throw new Error(`console route ${route.method} ${route.path} is not public, yet no session was checked`);

    seen.principal = holder.principal;
    const viewer: Viewer = { principal: holder.principal, csrf: csrfOf(token!) };
    if (method === 'POST' && !sameToken(form.get('_csrf') ?? undefined, viewer.csrf)) {
      return sendPage(
        res,
        403,
        layout({
          title: 'Refused',
          viewer,
          error: 'The form was refused: its CSRF token is missing or wrong. Reload the page and try again.',
          body: html``,
        }),
      );
    }
    if (route.path === '/console/sign-out') {
      await deps.identity.endConsoleSession(token!);
      res.setHeader('Set-Cookie', cookie(SESSION_COOKIE, '', { secure: deps.secureCookies, maxAgeSeconds: 0 }));
      return redirect(res, '/console/sign-in?signedOut=1');
    }
    if (route.path === '/console/') return redirect(res, '/console/repositories');

    const ctx: PageContext = {
      url,
      viewer,
      holder,
      deps,
      repositoryName,
      form,
      call: (operation, input) => callFor(route, deps, holder, req, seen)(operation, input),
      admin: async (name, args) => {
        if (!route.adminActions?.includes(name))
          throw new Error(`console route ${route.method} ${route.path} ${route.variant ?? ''} does not declare admin action ${name}`);
        seen.operation = name;
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        return invokeAdminAction(deps.stores, deps.authorizer, {
          principal: holder.principal,
          name,
          args,
          sourceIp: req.socket.remoteAddress,
        }) as Promise<any>;
      },
    };
    const result = await run(route, ctx);
    if ('redirect' in result) return redirect(res, result.redirect);
    sendPage(
      res,
      result.status ?? 200,
      layout({ title: result.title, viewer, error: result.error, notice: result.notice, body: result.body }),
    );
  };

  async function run(route: ConsoleRoute, ctx: PageContext): Promise<PageResult> {
    switch (route.path) {
      case '/console/repositories':
        return repositoriesPage(ctx);
      case '/console/create-repository':
        return createRepositoryPage(ctx, route.method === 'POST');
      case '/console/users':
        return route.method === 'GET' ? usersPage(ctx) : userAction(ctx, route.variant!);
      case '/console/registry':
        return route.method === 'GET' ? registryPage(ctx) : registryAction(ctx, route.variant!);
      case '/console/audit':
        return auditPage(ctx);
      case '/console/user-policies':
        return route.method === 'GET' ? userPoliciesPage(ctx) : userPolicyAction(ctx, route.variant!);
      default:
        return route.method === 'GET' ? repositoryPage(ctx, route.variant!) : repositoryAction(ctx, route.variant!);
    }
  }

  async function signIn(req: IncomingMessage, res: ServerResponse, method: string, form: URLSearchParams, seen: Seen): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://berth');
    const next = safeNext(method === 'POST' ? form.get('next') : url.searchParams.get('next'));
    const nonce = newSignInNonce();
    res.setHeader('Set-Cookie', cookie(SIGN_IN_COOKIE, nonce, { secure: deps.secureCookies, maxAgeSeconds: 3600 }));
    if (method === 'GET') {
      const notice = url.searchParams.has('signedOut') ? 'You are signed out.' : undefined;
      return sendPage(res, 200, layout({ title: 'Sign in', notice, body: signInPage(nonce, next, '') }));
    }
    const accessKeyId = (form.get('accessKeyId') ?? '').trim();
    const again = (status: number, error: string) =>
      sendPage(res, status, layout({ title: 'Sign in', error, body: signInPage(nonce, next, accessKeyId) }));
    if (!sameToken(form.get('_csrf') ?? undefined, cookiesOf(req).get(SIGN_IN_COOKIE))) {
      return again(403, 'The sign-in form was refused: its CSRF token is missing or wrong. Try again.');
    }
    const waitMs = deps.loginBlockedFor(req.socket.remoteAddress);
    if (waitMs > 0) {
      res.setHeader('Retry-After', Math.ceil(waitMs / 1000));
      return again(429, `Too many failed sign-ins from ${req.socket.remoteAddress}; try again in ${Math.ceil(waitMs / 1000)} seconds.`);
    }
    const checked = accessKeyId ? await deps.identity.password(accessKeyId, form.get('secretAccessKey') ?? '') : { error: 'no access key' };
    if ('error' in checked || !checked.principal.accessKeyId) {
      seen.loginFailed = true;
      return again(401, 'The access key ID or secret access key is wrong, or the key is not active.');
    }
    const { sessionToken } = await deps.identity.startConsoleSession(checked.principal, deps.sessionTtlMs);
    seen.principal = checked.principal;
    res.setHeader('Set-Cookie', [
      cookie(SESSION_COOKIE, sessionToken, { secure: deps.secureCookies, maxAgeSeconds: Math.floor(deps.sessionTtlMs / 1000) }),
      cookie(SIGN_IN_COOKIE, '', { secure: deps.secureCookies, maxAgeSeconds: 0 }),
    ]);
    redirect(res, next);
  }
}

/** The ECR calls a route may make: only those it declares, each through the ECR API's own path. */
function callFor(route: ConsoleRoute, deps: ConsoleDeps, holder: KeyHolder, req: IncomingMessage, seen: Seen) {
  return async (operation: string, input: object) => {
    if (!route.operations.includes(operation))
      throw new Error(`console route ${route.method} ${route.path} ${route.variant ?? ''} does not declare ${operation}`);
    seen.operation = operation;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return invokeOperation(deps, { holder, operation, input, sourceIp: req.socket.remoteAddress, toShow: true }) as Promise<any>;
  };
}

/** An ECR error as the console shows it: the exception's name and ECR's message (for a denial, the decision). */
export function describeError(e: unknown): { status: number; message: string } {
  if (e instanceof AdminDenied) return { status: 403, message: `AccessDenied: ${e.message}` };
  if (e instanceof IdentityError) return { status: 400, message: e.message };
  if (!(e instanceof EcrError)) throw e;
  return { status: e.type === 'AccessDeniedException' ? 403 : e.status, message: `${e.type}: ${e.message}` };
}

async function readForm(req: IncomingMessage, limit: number): Promise<URLSearchParams | undefined> {
  const { bytes } = await readBody(req, limit);
  return bytes && new URLSearchParams(bytes.toString('utf8'));
}

/** Only a console path of this server is a place to go back to after signing in. */
function safeNext(next: string | null): string {
  return next && next.startsWith('/console/') && !next.startsWith('//') && !next.includes('\\') ? next : '/console/repositories';
}

function securityHeaders(res: ServerResponse): void {
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'same-origin');
}

function sendPage(res: ServerResponse, status: number, page: Html): void {
  const body = Buffer.from(page.text);
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', body.length);
  res.end(body);
}

function sendAsset(res: ServerResponse, path: string): void {
  const asset = assetAt(path);
  if (!asset) {
    sendPage(res, 404, layout({ title: 'Not found', error: 'No such asset.', body: html`` }));
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', asset.type);
  res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
  res.setHeader('Content-Length', asset.body.length);
  res.end(asset.body);
}

function redirect(res: ServerResponse, location: string): void {
  res.statusCode = 303;
  res.setHeader('Location', location);
  res.setHeader('Content-Length', 0);
  res.end();
}
