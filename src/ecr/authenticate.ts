// Authenticating an ECR API request in two steps around its body. Before the body is read: the signature's
// claim (form, credential scope, date within 15 minutes, the headers that must be signed, a known and active
// access key), so that an unauthenticated client cannot make Berth read, hold or parse anything large. After the
// body (bounded by its operation's limit) is in: the signature itself, over the body's hash.
import type { IncomingMessage } from 'node:http';
import type { Identity, KeyHolder } from '../auth/identity.ts';
import { checkSigV4Claim, sha256hex, verifySigV4Signature, type SigV4Claim, type SigV4Error } from '../auth/sigv4.ts';
import { EcrError } from './errors.ts';

/** What the ECR API needs signed besides `host` and `x-amz-date`: the operation and the body's format, so that a
 * signed request cannot be replayed as another operation. The AWS SDKs, the AWS CLI and boto3 sign both. */
export const ECR_SIGNED_HEADERS = ['x-amz-target', 'content-type'] as const;

export interface EcrCaller {
  holder: KeyHolder;
  claim: SigV4Claim;
}

/** Step one, before the body: throws the AWS error for a request whose credential does not hold. */
export async function checkCaller(identity: Identity, req: IncomingMessage, url: URL, now: number): Promise<EcrCaller> {
  const accessKeyId = accessKeyOf(req, url);
  const holder = accessKeyId ? await identity.lookup(accessKeyId) : undefined;
  const checked = checkSigV4Claim(signedParts(req, url), {
    service: 'ecr',
    now,
    requireSigned: ECR_SIGNED_HEADERS,
    secretFor: (id) => (holder && id === holder.accessKeyId ? holder.secretAccessKey : undefined),
  });
  if (!checked.ok) throw sigV4Error(checked.error, checked.message);
  return { holder: holder!, claim: checked.claim };
}

/** Step two, once the body is in: throws InvalidSignatureException unless the signature covers this body. */
export function verifyBody(caller: EcrCaller, req: IncomingMessage, url: URL, body: Buffer): void {
  const result = verifySigV4Signature({ ...signedParts(req, url), payloadHash: sha256hex(body) }, caller.claim);
  if (!result.ok) throw sigV4Error(result.error, result.message);
}

/**
 * The X-Amz-Target the request names. A presigned request may carry it as a query parameter (the SDKs hoist
 * `x-amz-*` headers into the signed query string); a header that says otherwise is refused.
 */
export function ecrTarget(req: IncomingMessage, url: URL): string {
  const header = headerValue(req, 'x-amz-target');
  const presigned = !req.headers.authorization && url.searchParams.has('X-Amz-Signature');
  let hoisted: string | undefined;
  if (presigned) {
    for (const [k, v] of url.searchParams) if (k.toLowerCase() === 'x-amz-target') hoisted = v;
  }
  if (hoisted !== undefined && header !== undefined && header !== hoisted) {
    throw new EcrError('IncompleteSignatureException', 'The X-Amz-Target header differs from the x-amz-target signed in the query string.');
  }
  return hoisted ?? header ?? '';
}

function sigV4Error(error: SigV4Error, message: string): EcrError {
  return new EcrError(error, message, error === 'MissingAuthenticationTokenException' ? 403 : 400);
}

function signedParts(req: IncomingMessage, url: URL) {
  return { method: req.method ?? 'POST', path: url.pathname, query: url.search.slice(1), headers: req.headers };
}

/** The access key id a request claims (header or presigned query), to look its secret up before verifying. */
function accessKeyOf(req: IncomingMessage, url: URL): string | undefined {
  const auth = headerValue(req, 'authorization');
  const credential = auth ? credentialOf(auth) : url.searchParams.get('X-Amz-Credential')?.split('/')[0];
  return credential || undefined;
}

/** What ends an access key id in a Credential. */
export const CREDENTIAL_STOP = /[,\s]/;

/** The access key id of `Credential=<id>/...` in an Authorization header, found without a regular expression. */
function credentialOf(auth: string): string | undefined {
  const at = auth.indexOf('Credential=');
  if (at < 0) return undefined;
  const start = at + 'Credential='.length;
  const slash = auth.indexOf('/', start);
  if (slash <= start) return undefined;
  const id = auth.slice(start, slash);
  return CREDENTIAL_STOP.test(id) ? undefined : id;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
