// Fuzzing SigV4 verification (src/auth/sigv4.ts), the first thing the ECR endpoint does with a request: any
// Authorization header or presigned query is verified or refused with one of the AWS errors, never a throw; requests
// the AWS SDK's own signer (@smithy/signature-v4) signs, header or presigned, with any body, query and extra
// headers, verify as their signer; and changing anything signed makes them fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { sha256hex, verifySigV4, type SignedRequest, type SigV4Result } from '../../src/auth/sigv4.ts';
import { FUZZ_TEST_TIMEOUT, RUNS, attempt, attemptAsync, check, checkAsync, fc } from '../helpers/fuzz.ts';

const KEY = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const ERRORS = [
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
];
const opts = { service: 'ecr', now: NOW, secretFor: (id: string) => (id === KEY ? SECRET : undefined) };

const verify = (r: SignedRequest) => attempt(r, () => verifySigV4(r, opts));
function refusedWithAwsError(outcome: ReturnType<typeof verify>): SigV4Result {
  assert.ok(outcome.ok, `verifySigV4 threw ${outcome.ok ? '' : (outcome.error as Error)?.stack}`);
  const r = outcome.value;
  if (!r.ok) assert.ok(ERRORS.includes(r.error), r.error);
  return r;
}

const amzDate = fc.oneof(
  fc.constant('20261122T120000Z'),
  fc.date({ noInvalidDate: true }).map((d) =>
    d
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, ''),
  ),
  fc.string({ maxLength: 20 }),
);
const credential = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(KEY, 'AKIAOTHER', ''),
      fc.constantFrom('20261122', '2026112', ''),
      fc.constantFrom('us-east-1', ''),
      fc.constantFrom('ecr', 's3', ''),
      fc.constantFrom('aws4_request', 'aws4'),
    )
    .map((parts) => parts.join('/')),
  fc.string(),
);
const signedHeaders = fc.oneof(
  fc.constantFrom('host;x-amz-date', 'host;content-type;x-amz-date;x-amz-target', '', ';;', 'HOST'),
  fc.string(),
);
const signature = fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.string());
const authorization = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('AWS4-HMAC-SHA256 ', 'AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1 ', ''),
      credential,
      signedHeaders,
      signature,
      fc.constantFrom(', ', ',', ' ', ''),
    )
    .map(([alg, c, h, s, sep]) => `${alg}Credential=${c}${sep}SignedHeaders=${h}${sep}Signature=${s}`),
  fc.string(),
  fc.string({ unit: 'binary' }),
);
const presignedQuery = fc
  .record(
    {
      'X-Amz-Algorithm': fc.constantFrom('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1', ''),
      'X-Amz-Credential': credential,
      'X-Amz-Date': amzDate,
      'X-Amz-SignedHeaders': signedHeaders,
      'X-Amz-Signature': signature,
      'X-Amz-Expires': fc.oneof(fc.integer({ min: -10, max: 700_000 }).map(String), fc.string({ maxLength: 8 })),
    },
    { requiredKeys: [] },
  )
  .map((q) => new URLSearchParams(q).toString());
const path = fc.oneof(fc.constant('/'), fc.string({ maxLength: 40 }), fc.webPath());

test('any Authorization header or presigned query is verified or refused with an AWS error', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  const request = fc.record({
    method: fc.constantFrom('POST', 'GET', 'post', ''),
    path,
    query: fc.oneof(presignedQuery, fc.string(), fc.constant('')),
    authorization: fc.option(authorization, { nil: undefined }),
    date: fc.option(amzDate, { nil: undefined }),
    extra: fc.dictionary(fc.stringMatching(/^[a-z-]{1,12}$/), fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 })), {
      maxKeys: 3,
    }),
    body: fc.string({ maxLength: 40 }),
  });
  check(
    fc.property(request, (r) => {
      const headers: SignedRequest['headers'] = { host: '127.0.0.1:5000', ...r.extra };
      if (r.authorization !== undefined) headers.authorization = r.authorization;
      if (r.date !== undefined) headers['x-amz-date'] = r.date;
      refusedWithAwsError(verify({ method: r.method, path: r.path, query: r.query, headers, payloadHash: sha256hex(r.body) }));
    }),
  );
});

// --- Requests signed by the AWS SDK -----------------------------------------------------------------------------

const region = fc.constantFrom('us-east-1', 'eu-west-3', 'ap-southeast-2', 'cn-north-1');
const signable = fc.record({
  region,
  body: fc.oneof(fc.string(), fc.json()),
  // Not `__proto__`: a JavaScript object (the SDK's request.query) cannot hold it as a key, so the SDK would sign a
  // query other than the one sent.
  query: fc.dictionary(
    fc.stringMatching(/^[A-Za-z0-9._~-]{1,10}$/).filter((k) => k !== '__proto__'),
    fc.string({ maxLength: 20 }),
    { maxKeys: 3 },
  ),
  meta: fc.dictionary(
    fc.stringMatching(/^[a-z0-9-]{1,10}$/).map((n) => `x-amz-meta-${n}`),
    fc.string({ maxLength: 30 }),
    { maxKeys: 3 },
  ),
  operation: fc.constantFrom('DescribeRepositories', 'PutImage', 'GetAuthorizationToken'),
  presign: fc.boolean(),
  expires: fc.integer({ min: 1, max: 604_800 }),
  offsetSeconds: fc.integer({ min: -14 * 60, max: 14 * 60 }),
});
type Signable = typeof signable extends fc.Arbitrary<infer T> ? T : never;

/** Signs a request with the SDK and returns it as the server sees it (lower-cased headers, the raw query). */
async function sdkSigned(s: Signable, secret = SECRET): Promise<SignedRequest & { body: string }> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: KEY, secretAccessKey: secret },
    region: s.region,
    service: 'ecr',
    sha256: Sha256,
  });
  const request = {
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 5000,
    path: '/',
    query: { ...s.query },
    headers: {
      host: '127.0.0.1:5000',
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AmazonEC2ContainerRegistry_V20150921.${s.operation}`,
      ...s.meta,
    } as Record<string, string>,
    body: s.body,
  };
  // Within the clock skew AWS allows; a presigned URL not yet expired.
  const offset = s.presign ? Math.max(s.offsetSeconds, -(s.expires - 1)) : s.offsetSeconds;
  const signingDate = new Date(NOW + offset * 1000);
  // The SDK would hoist x-amz-target into a presigned query; kept a signed header, as the header form has it.
  const signed = s.presign
    ? await signer.presign(request, { signingDate, expiresIn: s.expires, unhoistableHeaders: new Set(['x-amz-target']) })
    : await signer.sign(request, { signingDate });
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = String(v);
  const query = new URLSearchParams(Object.entries(signed.query ?? {}).map(([k, v]): [string, string] => [k, String(v)])).toString();
  return { method: 'POST', path: '/', query, headers, payloadHash: sha256hex(s.body), body: s.body };
}

const SIGNED_RUNS = Math.max(1, Math.floor(RUNS / 4)); // each case signs with the SDK's pure-JS sha256

test('requests signed by the AWS SDK, with headers or presigned, verify as their signer', { timeout: FUZZ_TEST_TIMEOUT }, async () => {
  await checkAsync(
    fc.asyncProperty(signable, async (s) => {
      const req = await sdkSigned(s);
      const outcome = await attemptAsync(req, async () => verifySigV4(req, opts));
      assert.ok(outcome.ok);
      assert.deepEqual(
        outcome.value,
        { ok: true, accessKeyId: KEY, region: s.region, service: 'ecr', presigned: s.presign },
        JSON.stringify(req),
      );
    }),
    SIGNED_RUNS,
  );
});

test('changing anything signed makes a signed request fail', { timeout: FUZZ_TEST_TIMEOUT }, async () => {
  const tamper = fc.oneof(
    fc.record({ what: fc.constant('body' as const), text: fc.string({ minLength: 1, maxLength: 20 }) }),
    fc.record({ what: fc.constant('signature' as const), at: fc.nat(), text: fc.constant('') }),
    fc.record({ what: fc.constant('target' as const), text: fc.constantFrom('DeleteRepository', 'SetRepositoryPolicy') }),
    fc.record({ what: fc.constant('secret' as const), text: fc.string({ minLength: 1, maxLength: 10 }) }),
    fc.record({ what: fc.constant('method' as const), text: fc.constantFrom('GET', 'PUT', 'DELETE') }),
  );
  await checkAsync(
    fc.asyncProperty(signable, tamper, async (s, t) => {
      const req = await sdkSigned(s, t.what === 'secret' ? SECRET + t.text : SECRET);
      if (t.what === 'body') req.payloadHash = sha256hex(req.body + t.text);
      if (t.what === 'target')
        req.headers['x-amz-target'] = `AmazonEC2ContainerRegistry_V20150921.${t.text}${(s.operation as string) === t.text ? 'X' : ''}`;
      if (t.what === 'method') req.method = t.text;
      if (t.what === 'signature') {
        const flip = (sig: string) => {
          const i = t.at % sig.length;
          return sig.slice(0, i) + (sig[i] === '0' ? '1' : '0') + sig.slice(i + 1);
        };
        if (s.presign) {
          const q = new URLSearchParams(req.query);
          q.set('X-Amz-Signature', flip(q.get('X-Amz-Signature')!));
          req.query = q.toString();
        } else {
          req.headers.authorization = String(req.headers.authorization).replace(
            /Signature=([0-9a-f]+)/,
            (_m: string, sig: string) => `Signature=${flip(sig)}`,
          );
        }
      }
      // A presigned URL may leave its payload unsigned: changing its body is allowed by design.
      if (t.what === 'body' && s.presign) return;
      const result = refusedWithAwsError(verify(req));
      assert.equal(result.ok, false, `a request with a changed ${t.what} verified`);
    }),
    SIGNED_RUNS,
  );
});
