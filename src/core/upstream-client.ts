// A client of an upstream OCI registry, for the pull through cache: a repository's manifests and blobs, read with
// the authentication docker uses. A request goes out with what worked last for that repository; a 401 is answered as
// its WWW-Authenticate challenge says: Bearer, by a token from the challenge's realm (asked with the rule's
// credentials as Basic, or anonymously), or Basic, with the credentials themselves. Tokens are kept per repository
// until they expire. Waiting for an answer's headers is bounded; bodies stream.
import { createHash } from 'node:crypto';
import { MANIFEST_MEDIA_TYPES, MAX_MANIFEST_BYTES } from './manifest.ts';
import type { UpstreamCredentials } from './secret-store.ts';
import { parseUntrustedJson } from './json-limits.ts';

/** The upstream could not be reached, refused the credentials, or answered something the registry cannot use. */
export class UpstreamError extends Error {
  readonly status?: number;
  constructor(message: string, status?: number) {
    super(message);
    this.name = 'UpstreamError';
    this.status = status;
  }
}

export interface UpstreamManifest {
  digest: string;
  mediaType: string;
  size: number;
  /** The bytes (a GET; a HEAD has none). */
  body?: Buffer;
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** A WWW-Authenticate challenge: its scheme and its auth-params (`realm="..."`, `service=...`). */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const text = header.trim();
  const space = text.indexOf(' ');
  const scheme = (space < 0 ? text : text.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  let i = space < 0 ? text.length : space + 1;
  while (i < text.length) {
    while (i < text.length && (text[i] === ' ' || text[i] === ',')) i++;
    const eq = text.indexOf('=', i);
    if (eq < 0) break;
    const key = text.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    while (text[i] === ' ') i++;
    let value = '';
    if (text[i] === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i];
      }
      i++;
    } else {
      const end = text.indexOf(',', i);
      value = text.slice(i, end < 0 ? text.length : end).trim();
      i = end < 0 ? text.length : end;
    }
    params[key] = value;
  }
  return { scheme, params };
}

const ACCEPT = MANIFEST_MEDIA_TYPES.join(', ');
/** A token whose lifetime the realm does not say lasts this long (the token specification's default). */
const DEFAULT_TOKEN_SECONDS = 60;

export class UpstreamClient {
  /** `https://host[:port]` (or http). */
  readonly base: string;
  private readonly credentials?: UpstreamCredentials;
  private readonly timeoutMs: number;
  /** Per repository (and '' for the registry): the Authorization header that worked, until when. */
  private readonly authorizations = new Map<string, { header: string; until: number }>();

  constructor(base: string, credentials?: UpstreamCredentials, timeoutMs = 30_000) {
    this.base = base;
    this.credentials = credentials;
    this.timeoutMs = timeoutMs;
  }

  /** Whether the upstream answers its API version check with these credentials: undefined, else why not. */
  async check(): Promise<string | undefined> {
    try {
      const res = await this.request('GET', '/v2/', undefined, {});
      await res.body?.cancel();
      return res.status === 200 ? undefined : `${this.base}/v2/ answered ${res.status}`;
    } catch (e) {
      return (e as Error).message;
    }
  }

  /** A manifest by tag or digest (the digest verified), or undefined when the upstream does not have it. */
  async manifest(repo: string, reference: string, method: 'GET' | 'HEAD' = 'GET'): Promise<UpstreamManifest | undefined> {
    const res = await this.request(method, `/v2/${repo}/manifests/${reference}`, repo, { accept: ACCEPT });
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (res.status !== 200) throw await this.failure(res, `manifest ${repo}:${reference}`);
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    if (method === 'HEAD') {
      await res.body?.cancel();
      const digest = res.headers.get('docker-content-digest');
      if (!digest) throw new UpstreamError(`${this.base} answered HEAD manifest ${repo}:${reference} without Docker-Content-Digest`);
      return { digest, mediaType, size: Number(res.headers.get('content-length') ?? 0) };
    }
    const body = await readLimited(res, MAX_MANIFEST_BYTES, `manifest ${repo}:${reference}`);
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (reference.includes(':') && reference !== digest)
      throw new UpstreamError(`${this.base} answered manifest ${reference} with content whose digest is ${digest}`);
    const declared = mediaType || mediaTypeIn(body);
    return { digest, mediaType: declared, size: body.length, body };
  }

  /** A blob's answer (its body streams), or undefined when the upstream does not have it. */
  async blob(repo: string, digest: string, method: 'GET' | 'HEAD' = 'GET'): Promise<Response | undefined> {
    const res = await this.request(method, `/v2/${repo}/blobs/${digest}`, repo, {});
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (res.status !== 200) throw await this.failure(res, `blob ${digest} of ${repo}`);
    return res;
  }

  private async request(method: string, path: string, repo: string | undefined, headers: Record<string, string>): Promise<Response> {
    const key = repo ?? '';
    const known = this.authorizations.get(key);
    const header = known && known.until > Date.now() ? known.header : undefined;
    const res = await this.send(method, this.base + path, { ...headers, ...(header ? { authorization: header } : {}) });
    if (res.status !== 401) return res;
    const challenge = parseChallenge(res.headers.get('www-authenticate'));
    await res.body?.cancel();
    const authorization = await this.answer(challenge, repo);
    if (!authorization)
      throw new UpstreamError(
        `${this.base} asks for credentials${this.credentials ? ' it did not accept' : ', and the rule has none'}`,
        401,
      );
    const again = await this.send(method, this.base + path, { ...headers, authorization: authorization.header });
    if (again.status === 401) {
      await again.body?.cancel();
      throw new UpstreamError(`${this.base} refused the ${this.credentials ? "rule's credentials" : 'anonymous token'}`, 401);
    }
    this.authorizations.set(key, authorization);
    return again;
  }

  /** The Authorization header a challenge asks for, if the client can make one. */
  private async answer(challenge: Challenge | undefined, repo: string | undefined): Promise<{ header: string; until: number } | undefined> {
    const basic = this.credentials
      ? `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.accessToken}`).toString('base64')}`
      : undefined;
    if (!challenge || challenge.scheme === 'basic') return basic ? { header: basic, until: Infinity } : undefined;
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) return undefined;
    const realm = URL.parse(challenge.params.realm);
    if (!realm || (realm.protocol !== 'https:' && realm.protocol !== 'http:'))
      throw new UpstreamError(`${this.base} names a token realm that is no URL`);
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    if (repo) realm.searchParams.set('scope', `repository:${repo}:pull`);
    const res = await this.send('GET', realm.href, basic ? { authorization: basic } : {});
    if (res.status !== 200) throw await this.failure(res, 'a token');
    const answer = parseUntrustedJson(await readLimited(res, 1 << 20, 'a token')) as {
      token?: unknown;
      access_token?: unknown;
      expires_in?: unknown;
    };
    const token =
      typeof answer.token === 'string' ? answer.token : typeof answer.access_token === 'string' ? answer.access_token : undefined;
    if (!token) throw new UpstreamError(`the token realm of ${this.base} answered without a token`);
    const seconds = typeof answer.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in : DEFAULT_TOKEN_SECONDS;
    return { header: `Bearer ${token}`, until: Date.now() + Math.max(1, seconds - 5) * 1000 };
  }

  /** A request whose answer's headers must come within the timeout (its body then streams without one). */
  private async send(method: string, url: string, headers: Record<string, string>): Promise<Response> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.timeoutMs);
    try {
      return await fetch(url, { method, headers, redirect: 'follow', signal: abort.signal });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new UpstreamError(
        `${this.base} could not be reached: ${abort.signal.aborted ? `no answer in ${this.timeoutMs / 1000} s` : (cause?.code ?? cause?.message ?? (e as Error).message)}`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private async failure(res: Response, what: string): Promise<UpstreamError> {
    await res.body?.cancel();
    return new UpstreamError(`${this.base} answered ${res.status} for ${what}`, res.status);
  }
}

/** The manifest's own mediaType field, when the upstream's Content-Type says nothing. */
function mediaTypeIn(body: Buffer): string {
  try {
    const t = (JSON.parse(body.toString('utf8')) as { mediaType?: unknown }).mediaType;
    return typeof t === 'string' ? t : MANIFEST_MEDIA_TYPES[0];
  } catch {
    return MANIFEST_MEDIA_TYPES[0];
  }
}

async function readLimited(res: Response, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.byteLength;
    if (size > limit) {
      await res.body?.cancel().catch(() => {});
      throw new UpstreamError(`${what} is larger than ${limit} bytes`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
