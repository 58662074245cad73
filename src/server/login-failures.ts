// Failed logins per source address: wrong Basic passwords, bad bearer or registry tokens, bad download
// signatures, SigV4 signatures that do not verify, failures at the token endpoint. Past the limit within a minute,
// requests from that address that carry credentials are refused, without checking them, until the minute that
// began with its first failure is over: 429 TOOMANYREQUESTS on /v2/ and the token endpoint, ThrottlingException on
// the ECR API. Requests without credentials (anonymous pulls) go on. Counted per node, in memory.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RegistryError } from '../core/errors.ts';
import { sendOciError } from '../oci/errors.ts';
import { sendJson } from './json.ts';

const WINDOW_MS = 60_000;
/** Addresses remembered before expired windows are swept; past MAX_ADDRESSES, the oldest windows are forgotten
 * (memory stays bounded when very many addresses fail at once). */
const SWEEP_AT = 10_000;
const MAX_ADDRESSES = 100_000;

export class LoginFailures {
  private readonly max: number;
  private readonly now: () => number;
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(maxPerMinute: number, now: () => number = Date.now) {
    this.max = maxPerMinute;
    this.now = now;
  }

  /** Records a failed login from `address`. */
  failed(address: string | undefined): void {
    if (!address) return;
    const now = this.now();
    let window = this.windows.get(address);
    if (!window || now - window.start >= WINDOW_MS) {
      if (this.windows.size >= SWEEP_AT) this.sweep(now);
      window = { start: now, failures: 0 };
      this.windows.set(address, window);
    }
    window.failures++;
  }

  /** Milliseconds until attempts from `address` are heard again; 0 when they are now. */
  blockedFor(address: string | undefined): number {
    const window = address ? this.windows.get(address) : undefined;
    if (!window || window.failures < this.max) return 0;
    return Math.max(0, window.start + WINDOW_MS - this.now());
  }

  private sweep(now: number): void {
    for (const [address, window] of this.windows) if (now - window.start >= WINDOW_MS) this.windows.delete(address);
    for (const address of this.windows.keys()) {
      if (this.windows.size < MAX_ADDRESSES) break;
      this.windows.delete(address);
    }
  }
}

/** Whether a request carries credentials of any kind (an Authorization header, or a signed URL's query). */
function carriesCredentials(req: IncomingMessage, url: URL): boolean {
  return (
    req.headers.authorization !== undefined ||
    url.searchParams.has('X-Amz-Credential') ||
    url.searchParams.has('X-Amz-Signature') ||
    url.searchParams.has('X-Berth-Signature')
  );
}

/**
 * Refuses a request with credentials from an address over the limit, in its protocol's format; returns whether it
 * did. The ECR API is `POST /`; everything else here speaks the OCI error format.
 */
export function refuseBlockedLogin(logins: LoginFailures, req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  const waitMs = logins.blockedFor(req.socket.remoteAddress);
  if (waitMs === 0 || !carriesCredentials(req, url)) return false;
  const message = `too many failed logins from ${req.socket.remoteAddress}; try again in ${Math.ceil(waitMs / 1000)} seconds`;
  res.setHeader('Retry-After', Math.ceil(waitMs / 1000));
  if (url.pathname === '/' && req.method === 'POST') {
    res.setHeader('x-amzn-ErrorType', 'ThrottlingException');
    sendJson(res, 400, { __type: 'ThrottlingException', message }, 'application/x-amz-json-1.1');
  } else {
    if (url.pathname === '/v2' || url.pathname.startsWith('/v2/')) res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    sendOciError(res, new RegistryError('TOO_MANY_REQUESTS', message), req.method === 'HEAD');
  }
  return true;
}
