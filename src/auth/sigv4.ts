// AWS Signature Version 4 verification, for the ECR API (Authorization header) and for presigned URLs (query
// string). Pure apart from the clock passed in: given the request's parts and a way to find a secret by access
// key id, it says who signed, or which AWS error applies.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedRequest {
  method: string;
  /** Path as sent (still percent-encoded). */
  path: string;
  /** Raw query string without "?". */
  query: string;
  /** Lower-cased header names; repeated headers joined with ",". */
  headers: Record<string, string | string[] | undefined>;
  /** sha256 of the body, hex. */
  payloadHash: string;
}

export type SigV4Error =
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'UnrecognizedClientException'
  | 'InvalidSignatureException';

export type SigV4Result =
  | { ok: true; accessKeyId: string; region: string; service: string; presigned: boolean }
  | { ok: false; error: SigV4Error; message: string };

export interface SigV4Options {
  service: string;
  now: number;
  /** Allowed clock skew for signed headers, ms (AWS: 15 minutes). */
  maxSkewMs?: number;
  /**
   * Headers the service needs signed besides `host` and `x-amz-date` (always required), lower-cased: the ECR API
   * names `x-amz-target` and `content-type`. In a presigned query string a header may be signed as a query
   * parameter of its name instead (the SDKs hoist `x-amz-*` headers there).
   */
  requireSigned?: readonly string[];
  secretFor(accessKeyId: string): string | undefined;
}

/** What a request claims, checked without its body: everything but the signature itself. */
export interface SigV4Claim {
  accessKeyId: string;
  secret: string;
  parsed: Parsed;
}

export type SigV4Check = { ok: true; claim: SigV4Claim } | { ok: false; error: SigV4Error; message: string };

const ALGORITHM = 'AWS4-HMAC-SHA256';
const FIFTEEN_MINUTES = 15 * 60 * 1000;

export interface Parsed {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  expiresSeconds?: number;
  presigned: boolean;
}

/** Verifies a signed request: its claim (`checkSigV4Claim`), then its signature over the body's hash. */
export function verifySigV4(req: SignedRequest, opts: SigV4Options): SigV4Result {
  const checked = checkSigV4Claim(req, opts);
  if (!checked.ok) return checked;
  return verifySigV4Signature(req, checked.claim);
}

/**
 * Checks all that can be checked before the body is read: the Authorization header's (or the query string's)
 * form, the credential scope's service, the date (within 15 minutes of now in either direction, or the presigned
 * URL's expiry), the headers that must be signed, and that the access key is known and active. A request that
 * passes still needs `verifySigV4Signature` once its (bounded) body is in.
 */
export function checkSigV4Claim(req: Omit<SignedRequest, 'payloadHash'>, opts: SigV4Options): SigV4Check {
  const parsed = parse(req);
  if ('error' in parsed) return { ok: false, error: parsed.error, message: parsed.message };
  const { accessKeyId, date, service, amzDate } = parsed;
  if (service !== opts.service) {
    return {
      ok: false,
      error: 'InvalidSignatureException',
      message: `Credential should be scoped to correct service: '${opts.service}'. `,
    };
  }
  const time = parseAmzDate(amzDate);
  if (time === undefined)
    return {
      ok: false,
      error: 'IncompleteSignatureException',
      message: `Date must be in ISO-8601 'basic format'. Got '${amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    };
  if (amzDate.slice(0, 8) !== date) {
    return {
      ok: false,
      error: 'InvalidSignatureException',
      message: `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    };
  }
  const skew = opts.maxSkewMs ?? FIFTEEN_MINUTES;
  if (parsed.presigned) {
    const expires = parsed.expiresSeconds ?? 0;
    if (opts.now > time + expires * 1000) {
      return {
        ok: false,
        error: 'InvalidSignatureException',
        message: `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(opts.now - expires * 1000)} (${formatAmzDate(opts.now)} - ${expires} sec.)`,
      };
    }
    if (time > opts.now + skew) {
      return {
        ok: false,
        error: 'InvalidSignatureException',
        message: `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(opts.now + skew)} (${formatAmzDate(opts.now)} + 15 min.)`,
      };
    }
  } else if (time < opts.now - skew) {
    return {
      ok: false,
      error: 'InvalidSignatureException',
      message: `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(opts.now - skew)} (${formatAmzDate(opts.now)} - 15 min.)`,
    };
  } else if (time > opts.now + skew) {
    return {
      ok: false,
      error: 'InvalidSignatureException',
      message: `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(opts.now + skew)} (${formatAmzDate(opts.now)} + 15 min.)`,
    };
  }
  const unsigned = unsignedRequirement(parsed, req.query, opts.requireSigned ?? []);
  if (unsigned)
    return {
      ok: false,
      error: 'IncompleteSignatureException',
      message: `'${unsigned}' must be a 'SignedHeader' in the AWS Authorization.`,
    };
  const secret = opts.secretFor(accessKeyId);
  if (secret === undefined) {
    return { ok: false, error: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  }
  return { ok: true, claim: { accessKeyId, secret, parsed } };
}

/** The signature check proper, over the request with its body's hash, for a claim `checkSigV4Claim` accepted. */
export function verifySigV4Signature(req: SignedRequest, claim: SigV4Claim): SigV4Result {
  const { accessKeyId, secret, parsed } = claim;
  const { date, region, service, signedHeaders, signature, amzDate } = parsed;
  const scope = `${date}/${region}/${service}/aws4_request`;
  const key = signingKey(secret, date, region, service);
  // The payload hash is always computed from the body received (an X-Amz-Content-Sha256 header is not trusted).
  const hashes = parsed.presigned ? [req.payloadHash, 'UNSIGNED-PAYLOAD'] : [req.payloadHash];
  for (const payloadHash of hashes) {
    const canonical = canonicalRequest(req, signedHeaders, payloadHash, parsed.presigned);
    const stringToSign = [ALGORITHM, amzDate, scope, sha256hex(canonical)].join('\n');
    const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
    if (expected.length === signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
      return { ok: true, accessKeyId, region, service, presigned: parsed.presigned };
    }
  }
  return {
    ok: false,
    error: 'InvalidSignatureException',
    message:
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  };
}

/** Display names of the headers every signature must cover. */
const ALWAYS_SIGNED: Record<string, string> = { host: 'Host', 'x-amz-date': 'X-Amz-Date' };

/**
 * The first header that must be signed and is not, by its display name; undefined when all are. `host` must be
 * in SignedHeaders; `x-amz-date` too in the header form (the query form carries X-Amz-Date in the signed query);
 * a service's own headers may, in the query form, be signed as query parameters of the same name.
 */
function unsignedRequirement(parsed: Parsed, query: string, serviceHeaders: readonly string[]): string | undefined {
  const signed = new Set(parsed.signedHeaders);
  if (!signed.has('host')) return ALWAYS_SIGNED.host;
  if (!parsed.presigned && !signed.has('x-amz-date')) return ALWAYS_SIGNED['x-amz-date'];
  const queryNames = parsed.presigned ? new Set([...new URLSearchParams(query).keys()].map((k) => k.toLowerCase())) : new Set<string>();
  for (const name of serviceHeaders) {
    if (!signed.has(name) && !queryNames.has(name)) return displayName(name);
  }
  return undefined;
}

/** `x-amz-target` → `X-Amz-Target`, as AWS names headers in its messages. */
function displayName(header: string): string {
  return header
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('-');
}

function parse(req: Omit<SignedRequest, 'payloadHash'>): Parsed | { error: SigV4Error; message: string } {
  const auth = headerValue(req.headers.authorization);
  const q = new URLSearchParams(req.query);
  if (auth) {
    if (!auth.startsWith(`${ALGORITHM} `)) {
      return { error: 'IncompleteSignatureException', message: `Authorization header requires '${ALGORITHM}' algorithm.` };
    }
    const fields = new Map<string, string>();
    for (const part of auth.slice(ALGORITHM.length + 1).split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((f) => !fields.has(f));
    if (missing.length > 0) {
      return {
        error: 'IncompleteSignatureException',
        message: `Authorization header requires ${missing.map((m) => `'${m}'`).join(', ')} parameter${missing.length > 1 ? 's' : ''}. Authorization=${ALGORITHM}`,
      };
    }
    const amzDate = headerValue(req.headers['x-amz-date']);
    if (!amzDate)
      return {
        error: 'IncompleteSignatureException',
        message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
      };
    return withCredential(fields.get('Credential')!, fields.get('SignedHeaders')!, fields.get('Signature')!, amzDate, false, undefined);
  }
  if (q.get('X-Amz-Algorithm') !== null || q.get('X-Amz-Signature') !== null) {
    if (q.get('X-Amz-Algorithm') !== ALGORITHM)
      return { error: 'IncompleteSignatureException', message: `X-Amz-Algorithm only supports '${ALGORITHM}'` };
    const need = ['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Expires'];
    const missing = need.filter((n) => !q.get(n));
    if (missing.length > 0)
      return { error: 'IncompleteSignatureException', message: `AWS query-string parameters missing: ${missing.join(', ')}` };
    const expires = Number(q.get('X-Amz-Expires'));
    if (!Number.isInteger(expires) || expires < 1 || expires > 604800) {
      return { error: 'IncompleteSignatureException', message: 'X-Amz-Expires must be an integer between 1 and 604800 seconds' };
    }
    return withCredential(
      q.get('X-Amz-Credential')!,
      q.get('X-Amz-SignedHeaders')!,
      q.get('X-Amz-Signature')!,
      q.get('X-Amz-Date')!,
      true,
      expires,
    );
  }
  return { error: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
}

function withCredential(
  credential: string,
  signedHeaders: string,
  signature: string,
  amzDate: string,
  presigned: boolean,
  expiresSeconds: number | undefined,
): Parsed | { error: SigV4Error; message: string } {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || !parts[0]) {
    return { error: 'IncompleteSignatureException', message: `Credential should be scoped to a valid region. ` };
  }
  const [accessKeyId, date, region, service] = parts;
  return {
    accessKeyId,
    date,
    region,
    service,
    amzDate,
    presigned,
    expiresSeconds,
    signature,
    signedHeaders: signedHeaders
      .split(';')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  };
}

function canonicalRequest(req: SignedRequest, signedHeaders: string[], payloadHash: string, presigned: boolean): string {
  const headers = signedHeaders.map((h) => `${h}:${canonicalHeaderValue(req.headers[h])}\n`).join('');
  return [
    req.method.toUpperCase(),
    canonicalPath(req.path),
    canonicalQuery(req.query, presigned),
    headers,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}

/** Each path segment URI-encoded as the SDK signers encode the path they send (its raw form). */
function canonicalPath(path: string): string {
  if (path === '' || path === '/') return '/';
  return path
    .split('/')
    .map((s) => uriEncode(safeDecode(s)))
    .join('/');
}

/** A `+` in a query string (a space). */
export const PLUS = /\+/g;
/** Characters encodeURIComponent leaves alone and SigV4 encodes. */
export const NOT_ENCODED_BY_JS = /[!'()*]/g;

function canonicalQuery(query: string, presigned: boolean): string {
  if (!query) return '';
  const pairs: [string, string][] = [];
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = safeDecode((eq < 0 ? part : part.slice(0, eq)).replace(PLUS, ' '));
    const v = eq < 0 ? '' : safeDecode(part.slice(eq + 1).replace(PLUS, ' '));
    if (presigned && k === 'X-Amz-Signature') continue;
    pairs.push([uriEncode(k), uriEncode(v)]);
  }
  pairs.sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Runs of whitespace in a header value, folded to one space. */
export const WHITESPACE_RUNS = /\s+/g;

function canonicalHeaderValue(v: string | string[] | undefined): string {
  const s = Array.isArray(v) ? v.join(',') : (v ?? '');
  return s.trim().replace(WHITESPACE_RUNS, ' ');
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(NOT_ENCODED_BY_JS, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = createHmac('sha256', `AWS4${secret}`).update(date).digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  return createHmac('sha256', kService).update('aws4_request').digest();
}

export function sha256hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** An X-Amz-Date (ISO 8601 basic format). */
export const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

function parseAmzDate(s: string): number | undefined {
  const m = AMZ_DATE.exec(s);
  if (!m) return undefined;
  const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  return Number.isNaN(t) ? undefined : t;
}

export function formatAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}
