// SigV4 verification against requests signed by the AWS SDK's own signer (@smithy/signature-v4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { sha256hex, verifySigV4, type SignedRequest } from '../../src/auth/sigv4.ts';

const KEY = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const body = JSON.stringify({ repositoryName: 'app' });

function signer(secret = SECRET, region = 'us-east-1', service = 'ecr') {
  return new SignatureV4({ credentials: { accessKeyId: KEY, secretAccessKey: secret }, region, service, sha256: Sha256 });
}

function httpRequest() {
  return {
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 5000,
    path: '/',
    query: {} as Record<string, string>,
    headers: {
      host: '127.0.0.1:5000',
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories',
    } as Record<string, string>,
    body,
  };
}

function asSigned(
  r: { method: string; path: string; query?: Record<string, string | string[] | null>; headers: Record<string, string> },
  payload = body,
): SignedRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) headers[k.toLowerCase()] = v;
  const query = new URLSearchParams(Object.entries(r.query ?? {}).map(([k, v]): [string, string] => [k, String(v)])).toString();
  return { method: r.method, path: r.path, query, headers, payloadHash: sha256hex(payload) };
}

const opts = (now = NOW) => ({ service: 'ecr', now, secretFor: (id: string) => (id === KEY ? SECRET : undefined) });

test('a request signed by the AWS SDK verifies', async () => {
  const signed = await signer().sign(httpRequest(), { signingDate: new Date(NOW) });
  const result = verifySigV4(asSigned(signed), opts());
  assert.deepEqual(result, { ok: true, accessKeyId: KEY, region: 'us-east-1', service: 'ecr', presigned: false });
});

test('any region verifies; the region signed is reported', async () => {
  const signed = await signer(SECRET, 'eu-west-3').sign(httpRequest(), { signingDate: new Date(NOW) });
  const result = verifySigV4(asSigned(signed), opts());
  assert.equal(result.ok && result.region, 'eu-west-3');
});

test('a wrong secret, a changed body or header gives InvalidSignatureException', async () => {
  const bad = await signer('not-the-secret').sign(httpRequest(), { signingDate: new Date(NOW) });
  assert.equal((verifySigV4(asSigned(bad), opts()) as { error: string }).error, 'InvalidSignatureException');
  const good = await signer().sign(httpRequest(), { signingDate: new Date(NOW) });
  assert.equal((verifySigV4(asSigned(good, '{"repositoryName":"other"}'), opts()) as { error: string }).error, 'InvalidSignatureException');
  const tampered = asSigned(good);
  tampered.headers['x-amz-target'] = 'AmazonEC2ContainerRegistry_V20150921.DeleteRepository';
  assert.equal((verifySigV4(tampered, opts()) as { error: string }).error, 'InvalidSignatureException');
});

test('an unknown access key gives UnrecognizedClientException', async () => {
  const signed = await signer().sign(httpRequest(), { signingDate: new Date(NOW) });
  const result = verifySigV4(asSigned(signed), { ...opts(), secretFor: () => undefined });
  assert.deepEqual(result, {
    ok: false,
    error: 'UnrecognizedClientException',
    message: 'The security token included in the request is invalid.',
  });
});

test('clock skew beyond 15 minutes is refused, within it accepted', async () => {
  const signed = await signer().sign(httpRequest(), { signingDate: new Date(NOW) });
  assert.equal(verifySigV4(asSigned(signed), opts(NOW + 14 * 60_000)).ok, true);
  const late = verifySigV4(asSigned(signed), opts(NOW + 16 * 60_000));
  assert.equal(late.ok, false);
  assert.match((late as { message: string }).message, /^Signature expired: 20261122T120000Z is now earlier than/);
  const early = verifySigV4(asSigned(signed), opts(NOW - 16 * 60_000));
  assert.match((early as { message: string }).message, /^Signature not yet current/);
});

test('a missing or incomplete Authorization header', () => {
  const none = verifySigV4({ method: 'POST', path: '/', query: '', headers: {}, payloadHash: sha256hex('') }, opts());
  assert.equal((none as { error: string }).error, 'MissingAuthenticationTokenException');
  const partial = verifySigV4(
    {
      method: 'POST',
      path: '/',
      query: '',
      headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIA/20261122/us-east-1/ecr/aws4_request', 'x-amz-date': '20261122T120000Z' },
      payloadHash: sha256hex(''),
    },
    opts(),
  );
  assert.equal((partial as { error: string }).error, 'IncompleteSignatureException');
  assert.match((partial as { message: string }).message, /'SignedHeaders', 'Signature'/);
  const wrongService = verifySigV4(
    {
      method: 'POST',
      path: '/',
      query: '',
      headers: {
        authorization: 'AWS4-HMAC-SHA256 Credential=AKIA/20261122/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00',
        'x-amz-date': '20261122T120000Z',
      },
      payloadHash: sha256hex(''),
    },
    opts(),
  );
  assert.equal((wrongService as { error: string }).error, 'InvalidSignatureException');
});

test('presigned query strings verify until they expire', async () => {
  const req = { ...httpRequest(), method: 'GET', path: '/v2/app/blobs/sha256:abc', body: undefined, query: { x: 'y z' } };
  const presigned = await signer().presign(req, { signingDate: new Date(NOW), expiresIn: 600 });
  const signed = asSigned(presigned as never, '');
  assert.equal(verifySigV4(signed, opts(NOW + 599_000)).ok, true);
  const expired = verifySigV4(signed, opts(NOW + 601_000));
  assert.equal((expired as { error: string }).error, 'InvalidSignatureException');
  assert.match((expired as { message: string }).message, /Signature expired/);
});

// Issue 16: what must be signed. The AWS SDK's own signer is told not to sign a header (`unsignableHeaders`), so each
// request below is validly signed: before the fix each verified, and a request signed without x-amz-target could be
// replayed as any other operation.
const ECR_SIGNED = ['x-amz-target', 'content-type'];
const ecrOpts = (now = NOW) => ({ ...opts(now), requireSigned: ECR_SIGNED });

test('host, x-amz-date, and for the ECR API x-amz-target and content-type, must be signed', async () => {
  const cases: [string[], string][] = [
    [['host'], 'Host'],
    [['x-amz-date'], 'X-Amz-Date'],
    [['x-amz-target'], 'X-Amz-Target'],
    [['content-type'], 'Content-Type'],
    [['host', 'x-amz-date', 'x-amz-target', 'content-type', 'x-amz-content-sha256'], 'Host'],
  ];
  for (const [unsigned, named] of cases) {
    const signed = await signer().sign(httpRequest(), { signingDate: new Date(NOW), unsignableHeaders: new Set(unsigned) });
    const result = verifySigV4(asSigned(signed), ecrOpts());
    assert.deepEqual(
      result,
      { ok: false, error: 'IncompleteSignatureException', message: `'${named}' must be a 'SignedHeader' in the AWS Authorization.` },
      unsigned.join(','),
    );
  }
});

test('a request signed without x-amz-target cannot be replayed as another operation', async () => {
  const signed = await signer().sign(httpRequest(), { signingDate: new Date(NOW), unsignableHeaders: new Set(['x-amz-target']) });
  const replayed = asSigned(signed);
  replayed.headers['x-amz-target'] = 'AmazonEC2ContainerRegistry_V20150921.DeleteRepository';
  assert.equal(verifySigV4(replayed, ecrOpts()).ok, false);
});

test('content-type need not be signed where the service does not ask for it; host and x-amz-date always', async () => {
  const noType = await signer().sign(httpRequest(), { signingDate: new Date(NOW), unsignableHeaders: new Set(['content-type']) });
  assert.equal(verifySigV4(asSigned(noType), opts()).ok, true);
  const noHost = await signer().sign(httpRequest(), { signingDate: new Date(NOW), unsignableHeaders: new Set(['host']) });
  assert.equal((verifySigV4(asSigned(noHost), opts()) as { error: string }).error, 'IncompleteSignatureException');
});

test('an empty SignedHeaders is refused', () => {
  const headers = {
    authorization: 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-east-1/ecr/aws4_request, SignedHeaders=, Signature=00',
    'x-amz-date': '20261122T120000Z',
  };
  const result = verifySigV4({ method: 'POST', path: '/', query: '', headers, payloadHash: sha256hex('') }, ecrOpts());
  assert.deepEqual(result, {
    ok: false,
    error: 'IncompleteSignatureException',
    message: "'Host' must be a 'SignedHeader' in the AWS Authorization.",
  });
});

test('a presigned ECR request may sign x-amz-target as a query parameter (the SDK hoists it there)', async () => {
  const presigned = await signer().presign(httpRequest(), { signingDate: new Date(NOW), expiresIn: 300 });
  assert.ok(
    Object.keys(presigned.query ?? {}).some((k) => k.toLowerCase() === 'x-amz-target'),
    'hoisted to the query',
  );
  assert.equal(verifySigV4(asSigned(presigned as never), ecrOpts(NOW + 1000)).ok, true);
});

test("a header date more than 15 minutes away either way is refused with ECR's names; presigned URLs last at most 7 days", async () => {
  const signed = await signer().sign(httpRequest(), { signingDate: new Date(NOW) });
  for (const now of [NOW + 15 * 60_000 + 1000, NOW - 15 * 60_000 - 1000]) {
    const result = verifySigV4(asSigned(signed), ecrOpts(now));
    assert.equal((result as { error: string }).error, 'InvalidSignatureException');
    assert.match(
      (result as { message: string }).message,
      now > NOW ? /^Signature expired: 20261122T120000Z is now earlier than/ : /^Signature not yet current/,
    );
  }
  const presigned = await signer().presign(httpRequest(), { signingDate: new Date(NOW), expiresIn: 300 });
  const longer = asSigned({ ...presigned, query: { ...presigned.query, 'X-Amz-Expires': '604801' } } as never);
  assert.equal((verifySigV4(longer, ecrOpts()) as { error: string }).error, 'IncompleteSignatureException');
});
