// The console's session cookie and CSRF tokens. The cookie holds an opaque session token (its hash is the row in
// the metadata store, src/auth/identity.ts): HttpOnly, SameSite=Strict, Path=/console, and Secure when the
// registry's public URL is https. Every form carries a CSRF token derived from the session token (an HMAC), so it
// needs no storage; the sign-in form, before there is a session, carries one matched with a short-lived cookie.
import { createHmac, randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'berth_console';
export const SIGN_IN_COOKIE = 'berth_console_signin';

export function cookiesOf(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

export function cookie(name: string, value: string, opts: { secure: boolean; maxAgeSeconds: number }): string {
  return `${name}=${value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${opts.maxAgeSeconds}${opts.secure ? '; Secure' : ''}`;
}

/** The CSRF token of a session's forms. */
export function csrfOf(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('berth console csrf').digest('base64url');
}

export function newSignInNonce(): string {
  return randomBytes(24).toString('base64url');
}

/** Constant-time equality of two tokens. */
export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
