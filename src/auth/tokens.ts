// Registry authorization tokens (GetAuthorizationToken) and signed layer download URLs
// (GetDownloadUrlForLayer): HMAC-signed, expiring, bound to the principal's access key.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const TOKEN_TTL_MS = 12 * 60 * 60 * 1000;

export interface TokenClaims {
  /** Access key the token was issued to. */
  k: string;
  /** Expiry, ms since epoch. */
  e: number;
}

export class TokenSigner {
  private readonly key: Buffer;
  constructor(key: Buffer) {
    this.key = key;
  }

  sign(claims: object): string {
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** The claims, when the token is intact; expiry is the caller's to check. */
  verify<T>(token: string): T | undefined {
    const dot = token.indexOf('.');
    if (dot < 0) return undefined;
    const payload = token.slice(0, dot);
    const mac = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.mac(payload));
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return undefined;
    try {
      return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as T;
    } catch {
      return undefined;
    }
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}
