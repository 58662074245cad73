// The distribution token endpoint (GET /_berth/token): the realm of the data plane's Bearer challenge. Docker,
// podman and skopeo fetch a token here with the user's Basic credentials (an access key and its secret, or AWS
// and a registry token), or with none for anonymous pulls; the token names the caller, and every request made
// with it is authorized by policy like any other.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity } from '../auth/identity.ts';
import type { Principal } from '../auth/principal.ts';
import { sendJson } from './json.ts';

export const TOKEN_PATH = '/_berth/token';
const TOKEN_TTL_MS = 15 * 60 * 1000;

export function tokenHandler(identity: Identity, realm: string) {
  return async (req: IncomingMessage, res: ServerResponse, _url: URL, seen: { principal?: Principal; loginFailed?: boolean }): Promise<void> => {
    res.setHeader('Cache-Control', 'no-store');
    const send = (status: number, body: object) => sendJson(res, status, body);
    if (req.method !== 'GET' && req.method !== 'POST') return send(405, { errors: [{ code: 'UNSUPPORTED', message: 'GET or POST' }] });
    const caller = await identity.basic(req.headers.authorization);
    if (caller && 'error' in caller) {
      seen.loginFailed = true;
      res.setHeader('WWW-Authenticate', `Basic realm="${realm}"`);
      return send(401, { errors: [{ code: 'UNAUTHORIZED', message: `authentication failed: ${caller.error}`, detail: null }] });
    }
    seen.principal = caller?.principal;
    const { token, expiresIn } = identity.issueBearer(caller?.principal, TOKEN_TTL_MS);
    send(200, { token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString() });
  };
}
