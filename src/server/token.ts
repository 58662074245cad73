// The token endpoint (/_berth/token): the realm of the data plane's Bearer challenge. It speaks both forms of
// CNCF distribution's token protocol:
// - GET with HTTP Basic credentials (docker, podman, skopeo), or none for an anonymous token; `offline_token=true`
//   (what `docker login` sends) also returns a refresh token, which docker then keeps instead of the secret;
// - POST, OAuth2 (containerd, BuildKit, nerdctl, and docker with a kept refresh token): a form with
//   `grant_type=password` (`username`/`password`) or `grant_type=refresh_token`; `access_type=offline` asks for a
//   refresh token.
// Credentials are an access key id and its secret, or `AWS` and a registry token (GetAuthorizationToken). A request
// that carried credentials that are wrong is refused (401): an anonymous token goes only to a request with none.
// The access token names the caller, never what it may do: every request made with it is authorized by policy.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BasicResult, Identity } from '../auth/identity.ts';
import type { Principal } from '../auth/principal.ts';
import { readBody } from './body.ts';
import { sendJson } from './json.ts';
import type { Logger } from './log.ts';

export const TOKEN_PATH = '/_berth/token';
const ACCESS_TOKEN_TTL_MS = 15 * 60 * 1000;
/** A token request's form is a handful of short fields. */
const MAX_FORM_BYTES = 64 * 1024;
const FORM_TYPE = 'application/x-www-form-urlencoded';

export interface TokenDeps {
  identity: Identity;
  /** The registry's host, the Basic challenge's realm. */
  realm: string;
  audit: Logger;
  /** How long a refresh token lives (BERTH_REFRESH_TOKEN_TTL_SECONDS). */
  refreshTokenTtlMs: number;
  now: () => number;
}

/** Who a grant is for (undefined: anonymous), how it was asked for, and whether a refresh token goes with it. */
interface Grant {
  grant: 'basic' | 'anonymous' | 'password' | 'refresh_token';
  principal?: Principal;
  /** When the credential the caller presented expires by itself (a registry token, a refresh token). */
  expiresAt?: number;
  /** Asked for a refresh token (offline_token=true, access_type=offline). */
  offline: boolean;
  /** A refresh token the caller presented: given back, not replaced, when it asks for one. */
  presentedRefreshToken?: string;
  scope: string;
  clientId?: string;
}

/** An answer in the OAuth2 error form (RFC 6749 5.2), with distribution's `errors` beside it for docker's messages. */
class TokenError extends Error {
  readonly status: number;
  readonly oauth: string;
  /** The grant refused, for the audit log. */
  readonly grant?: Grant['grant'];
  constructor(status: number, oauth: string, message: string, grant?: Grant['grant']) {
    super(message);
    this.status = status;
    this.oauth = oauth;
    this.grant = grant;
  }
}

export function tokenHandler(deps: TokenDeps) {
  const { identity, audit } = deps;
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    seen: { principal?: Principal; loginFailed?: boolean },
  ): Promise<void> => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    // An audit event beside the authorization decisions (as lifecycle expiries are), never with a secret.
    const log = (grant: Partial<Grant>, outcome: 'granted' | 'refused', extra: object) =>
      audit.info({
        event: 'token-grant',
        grant: grant.grant,
        outcome,
        principal: grant.principal?.arn ?? (outcome === 'granted' ? '*' : undefined),
        accessKeyId: grant.principal?.accessKeyId,
        scope: grant.scope || undefined,
        clientId: grant.clientId,
        sourceIp: req.socket.remoteAddress,
        ...extra,
      });
    let grant: Grant | undefined;
    try {
      if (req.method === 'GET') grant = await fromQuery(identity, req, url);
      else if (req.method === 'POST') grant = await fromForm(identity, req);
      else {
        res.setHeader('Allow', 'GET, POST');
        throw new TokenError(405, 'invalid_request', 'the token endpoint takes GET or POST');
      }
    } catch (e) {
      if (!(e instanceof TokenError)) throw e;
      if (e.status === 401) {
        seen.loginFailed = true;
        res.setHeader('WWW-Authenticate', `Basic realm="${deps.realm}"`);
        log({ grant: e.grant }, 'refused', { reason: e.message });
      }
      const code = e.status === 401 ? 'UNAUTHORIZED' : e.status === 405 ? 'UNSUPPORTED' : 'DENIED';
      return sendJson(res, e.status, {
        error: e.oauth,
        error_description: e.message,
        errors: [{ code, message: e.message, detail: null }],
      });
    }
    seen.principal = grant.principal;
    const issuedAt = new Date(deps.now()).toISOString();
    const { token, expiresIn } = identity.issueBearer(grant.principal, ACCESS_TOKEN_TTL_MS);
    let refreshToken: string | undefined;
    if (grant.offline && grant.principal) {
      refreshToken =
        grant.presentedRefreshToken ??
        (await identity.issueRefreshToken(grant.principal, deps.refreshTokenTtlMs, grant.expiresAt)).refreshToken;
    }
    log(grant, 'granted', { refreshTokenIssued: refreshToken !== undefined && !grant.presentedRefreshToken });
    sendJson(res, 200, {
      // `token` is what the GET form's clients read, `access_token` what OAuth2 clients read: the same token.
      ...(req.method === 'GET' ? { token } : { token_type: 'Bearer' }),
      access_token: token,
      expires_in: expiresIn,
      issued_at: issuedAt,
      ...(grant.scope ? { scope: grant.scope } : {}),
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
    });
  };
}

/** GET: HTTP Basic credentials (or none), the scopes and `offline_token` in the query. */
async function fromQuery(identity: Identity, req: IncomingMessage, url: URL): Promise<Grant> {
  const q = url.searchParams;
  const base = { offline: q.get('offline_token') === 'true', scope: scopes(q), clientId: q.get('client_id') ?? undefined };
  const authorization = req.headers.authorization;
  if (authorization && !/^basic /i.test(authorization)) {
    throw new TokenError(401, 'invalid_client', 'the token endpoint takes HTTP Basic credentials', 'basic');
  }
  const caller = await identity.basic(authorization);
  if (!caller) return { grant: 'anonymous', ...base };
  return { grant: 'basic', ...authenticated(caller, 'basic'), ...base };
}

/** POST: the OAuth2 form. */
async function fromForm(identity: Identity, req: IncomingMessage): Promise<Grant> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== FORM_TYPE) throw new TokenError(400, 'invalid_request', `the body must be ${FORM_TYPE}`);
  const { bytes } = await readBody(req, MAX_FORM_BYTES);
  if (!bytes) throw new TokenError(400, 'invalid_request', `the form is larger than ${MAX_FORM_BYTES} bytes`);
  const form = new URLSearchParams(bytes.toString('utf8'));
  const base = { offline: form.get('access_type') === 'offline', scope: scopes(form), clientId: form.get('client_id') ?? undefined };
  const required = (name: string): string => {
    const v = form.get(name);
    if (!v) throw new TokenError(400, 'invalid_request', `grant_type=${form.get('grant_type')} needs ${name}`);
    return v;
  };
  switch (form.get('grant_type')) {
    case 'password': {
      const caller = await identity.password(required('username'), required('password'));
      return { grant: 'password', ...authenticated(caller, 'password'), ...base };
    }
    case 'refresh_token': {
      const presented = required('refresh_token');
      const caller = await identity.verifyRefreshToken(presented);
      return { grant: 'refresh_token', ...authenticated(caller, 'refresh_token'), ...base, presentedRefreshToken: presented };
    }
    case null:
    case '':
      throw new TokenError(400, 'unsupported_grant_type', 'grant_type is required: password or refresh_token');
    default:
      throw new TokenError(400, 'unsupported_grant_type', `grant_type must be password or refresh_token, not "${form.get('grant_type')}"`);
  }
}

function authenticated(caller: Exclude<BasicResult, undefined>, grant: Grant['grant']): { principal: Principal; expiresAt?: number } {
  if ('error' in caller) throw new TokenError(401, 'invalid_grant', `authentication failed: ${caller.error}`, grant);
  return caller;
}

/** The scopes asked for: `scope` repeated, each possibly several separated by spaces (RFC 6749 3.3); each named once. */
function scopes(params: URLSearchParams): string {
  return [
    ...new Set(
      params
        .getAll('scope')
        .flatMap((s) => s.split(' '))
        .filter((s) => s !== ''),
    ),
  ].join(' ');
}
