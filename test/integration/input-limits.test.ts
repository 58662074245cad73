// Issue 16, items 2, 5 and 7, over real HTTP against a real server: adversarial patterns do not stall the server
// (ReDoS), bodies are bounded by what their operation needs and refused as they stream, JSON nesting is bounded,
// the ECR credential is checked before the body is read, and SigV4 must cover host, x-amz-date, x-amz-target and
// content-type. ECR's answers follow the AWS JSON protocol (SerializationException for a body it will not read,
// InvalidParameterException for a constraint, the SigV4 exceptions); OCI's follow the distribution spec.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { CreateRepositoryCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient, ecrRaw, errorMessage, errorType, JSON_11, signedEcrHeaders, TARGET_PREFIX, type RawResponse } from '../helpers/ecr.ts';
import { sendAnsweredEarly, MiB } from '../helpers/http.ts';
import { configBlob, createClient, descriptor, MEDIA, type OciClient } from '../helpers/oci.ts';
import { uniqueName } from '../helpers/tools.ts';

/**
 * Sends a request head announcing a body it never sends, and reports the answer's status line and whether the
 * server then closed the connection within `ms` (instead of holding it to read the announced body).
 */
function headThenWait(berthUrl: string, head: string, ms: number): Promise<{ statusLine: string; closed: boolean }> {
  const url = new URL(berthUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ statusLine: received.split('\r\n')[0], closed: false });
    }, ms);
    socket.on('data', (d) => {
      received += d.toString('latin1');
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ statusLine: received.split('\r\n')[0], closed: true });
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.write(head);
  });
}

const hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('input limits: patterns, bodies, JSON depth, SigV4', () => {
  let berth: Berth;
  let ecr: ECRClient;
  let oci: OciClient;

  before(async () => {
    berth = await startBerth();
    ecr = ecrClient(berth);
    oci = createClient(berth);
  });

  after(async () => {
    ecr?.destroy();
    await berth?.cleanup();
  });

  describe('ReDoS (item 2)', () => {
    const adversarial = {
      scanType: 'BASIC',
      rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'a'.repeat(40) + '!', filterType: 'WILDCARD' }] }],
    };

    it('answers normal requests while adversarial PutRegistryScanningConfiguration requests arrive, and refuses those', async () => {
      let attacking = true;
      const refusals: RawResponse[] = [];
      const attackers = Array.from({ length: 4 }, async () => {
        while (attacking) refusals.push(await ecrRaw(berth, 'PutRegistryScanningConfiguration', adversarial));
      });
      try {
        await new Promise((r) => setTimeout(r, 200));
        for (let i = 0; i < 5; i++) {
          // Before the fix the first adversarial request held the event loop for good: nothing was answered again.
          const health = await fetch(`${berth.url}/healthz`, { signal: AbortSignal.timeout(5000) });
          assert.equal(health.status, 200);
          const described = await Promise.race([
            ecrRaw(berth, 'DescribeRepositories', {}),
            new Promise<never>((_, reject) => setTimeout(() => reject(new Error('DescribeRepositories was not answered in 5 s')), 5000)),
          ]);
          assert.equal(described.status, 200, described.text);
        }
      } finally {
        attacking = false;
      }
      await Promise.all(attackers);
      assert.ok(refusals.length >= 4, `${refusals.length} adversarial requests answered`);
      for (const r of refusals) {
        assert.equal(r.status, 400, r.text);
        assert.equal(errorType(r), 'InvalidParameterException', r.text);
        assert.match(
          errorMessage(r),
          /^Invalid parameter at 'rules\.1\.member\.repositoryFilters\.1\.member\.filter' failed to satisfy constraint: 'must satisfy regular expression/,
        );
      }
    });

    it('checks a length limit before the pattern: a 10,000-character filter is refused for its length', async () => {
      const long = {
        ...adversarial,
        rules: [{ ...adversarial.rules[0], repositoryFilters: [{ filter: 'a'.repeat(10_000) + '!', filterType: 'WILDCARD' }] }],
      };
      const r = await ecrRaw(berth, 'PutRegistryScanningConfiguration', long);
      assert.equal(r.status, 400, r.text);
      assert.equal(errorType(r), 'InvalidParameterException');
      assert.match(errorMessage(r), /Member must have length less than or equal to 255/);
    });

    it('runs every model pattern: the credentialArn pattern (which V8 could not compile) answers a constraint error, not a 500', async () => {
      const input = { ecrRepositoryPrefix: 'hub', upstreamRegistryUrl: 'registry-1.docker.io', upstreamRegistry: 'docker-hub' };
      const bad = await ecrRaw(berth, 'CreatePullThroughCacheRule', {
        ...input,
        credentialArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:other-x',
      });
      assert.equal(bad.status, 400, bad.text);
      assert.equal(errorType(bad), 'InvalidParameterException');
      assert.match(errorMessage(bad), /credentialArn' failed to satisfy constraint: 'must satisfy regular expression/);
      const good = await ecrRaw(berth, 'CreatePullThroughCacheRule', {
        ...input,
        credentialArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/hub-x',
      });
      // The pattern passes: the secret is looked up next (another account's: not found).
      assert.equal(errorType(good), 'SecretNotFoundException', good.text);
    });

    it('validates nothing before authenticating: an unsigned adversarial request gets MissingAuthenticationTokenException', async () => {
      const r = await ecrRaw(berth, 'PutRegistryScanningConfiguration', adversarial, { sign: false });
      assert.equal(errorType(r), 'MissingAuthenticationTokenException', r.text);
    });
  });

  describe('ECR bodies (item 5)', () => {
    it('refuses an unknown access key with a 20 MiB body before reading it (the body is never sent)', async () => {
      const headers = await signedEcrHeaders(berth, 'UploadLayerPart', hex('x'), {
        accessKeyId: 'AKIANOSUCHKEY0000000',
        secretAccessKey: 'nope',
      });
      const r = await sendAnsweredEarly(`${berth.url}/`, 'POST', { ...headers, 'content-length': 20 * MiB }, 'none', { timeoutMs: 10_000 });
      // ECR (AWS JSON 1.1) answers an unknown key with HTTP 400 and UnrecognizedClientException, as boto3 reports it.
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json().__type, 'UnrecognizedClientException');
      assert.equal(r.json().message, 'The security token included in the request is invalid.');
      assert.equal(r.bytesSent, 0);
    });

    it('refuses a request dated 20 minutes ago before reading its body', async () => {
      const url = new URL(berth.url);
      const { SignatureV4 } = await import('@smithy/signature-v4');
      const { Sha256 } = await import('@aws-crypto/sha256-js');
      const signer = new SignatureV4({
        credentials: { accessKeyId: berth.accessKeyId, secretAccessKey: berth.secretAccessKey },
        region: 'us-east-1',
        service: 'ecr',
        sha256: Sha256,
      });
      const signed = await signer.sign(
        {
          method: 'POST',
          protocol: 'http:',
          hostname: url.hostname,
          port: Number(url.port),
          path: '/',
          query: {},
          headers: {
            host: url.host,
            'content-type': JSON_11,
            'x-amz-target': `${TARGET_PREFIX}.UploadLayerPart`,
            'x-amz-content-sha256': hex('x'),
          },
        },
        { signingDate: new Date(Date.now() - 20 * 60_000) },
      );
      const headers = { ...(signed.headers as Record<string, string>) };
      delete headers.host;
      const r = await sendAnsweredEarly(`${berth.url}/`, 'POST', { ...headers, 'content-length': 20 * MiB }, 'none', { timeoutMs: 10_000 });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json().__type, 'InvalidSignatureException');
      assert.match(r.json().message, /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z/);
    });

    it("refuses a body announced over its operation's limit with 413 SerializationException, before reading it", async () => {
      const headers = await signedEcrHeaders(berth, 'DescribeRepositories', hex('x'));
      const r = await sendAnsweredEarly(`${berth.url}/`, 'POST', { ...headers, 'content-length': 2 * MiB }, 'none', { timeoutMs: 10_000 });
      assert.equal(r.status, 413, r.text);
      assert.equal(r.json().__type, 'SerializationException');
      assert.match(r.json().message, /larger than 1048576 bytes/);
    });

    it('refuses a chunked body as it grows past the limit, without waiting for its end', async () => {
      const headers = await signedEcrHeaders(berth, 'DescribeRepositories', hex('x'));
      const r = await sendAnsweredEarly(`${berth.url}/`, 'POST', { ...headers, 'transfer-encoding': 'chunked' }, 64 * MiB, {
        fill: '[',
        timeoutMs: 30_000,
      });
      assert.equal(r.status, 413, r.text);
      assert.equal(r.json().__type, 'SerializationException');
      assert.ok(r.bytesSent < 64 * MiB, `answered after ${r.bytesSent} bytes`);
    });

    it('refuses a 28 MiB nested UploadLayerPart body quickly with SerializationException', async () => {
      const body = Buffer.from(nested(14 * 1000 * 1000));
      const headers = await signedEcrHeaders(berth, 'UploadLayerPart', hex(body));
      const started = Date.now();
      const r = await sendAnsweredEarly(`${berth.url}/`, 'POST', { ...headers, 'content-length': body.length }, body, {
        timeoutMs: 60_000,
      });
      const ms = Date.now() - started;
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json().__type, 'SerializationException');
      assert.match(r.json().message, /deeper than 64 levels/);
      // Before the fix: 17.8 s (read in full, parsed, walked). Sending 28 MiB over loopback takes well under that.
      assert.ok(ms < 8000, `refused after ${ms} ms`);
      const health = await fetch(`${berth.url}/healthz`);
      assert.equal(health.status, 200);
    });

    it('refuses a small body nested deeper than 64 levels with SerializationException', async () => {
      const r = await ecrRaw(berth, 'DescribeRepositories', `{"extra":${nested(1000)}}`);
      assert.equal(r.status, 400, r.text);
      assert.equal(errorType(r), 'SerializationException');
    });

    it('limits a repository policy to 10,240 characters and its body to 64 KiB', async () => {
      const repositoryName = uniqueName('limits-policy');
      await ecr.send(new CreateRepositoryCommand({ repositoryName }));
      const over = await ecrRaw(berth, 'SetRepositoryPolicy', { repositoryName, policyText: ' '.repeat(10_241) });
      assert.equal(over.status, 400, over.text);
      assert.equal(errorType(over), 'InvalidParameterException');
      assert.match(errorMessage(over), /policyText' failed to satisfy constraint: 'Member must have length less than or equal to 10240'/);
      const huge = await ecrRaw(berth, 'SetRepositoryPolicy', { repositoryName, policyText: ' '.repeat(100_000) });
      assert.equal(huge.status, 413, huge.text);
      assert.equal(errorType(huge), 'SerializationException');
    });

    it('limits a lifecycle policy to 30,720 characters and its body to 192 KiB', async () => {
      const repositoryName = uniqueName('limits-lifecycle');
      await ecr.send(new CreateRepositoryCommand({ repositoryName }));
      const over = await ecrRaw(berth, 'PutLifecyclePolicy', { repositoryName, lifecyclePolicyText: ' '.repeat(30_721) });
      assert.equal(over.status, 400, over.text);
      assert.equal(errorType(over), 'InvalidParameterException');
      assert.match(
        errorMessage(over),
        /lifecyclePolicyText' failed to satisfy constraint: 'Member must have length less than or equal to 30720'/,
      );
      const huge = await ecrRaw(berth, 'PutLifecyclePolicy', { repositoryName, lifecyclePolicyText: ' '.repeat(250_000) });
      assert.equal(huge.status, 413, huge.text);
      assert.equal(errorType(huge), 'SerializationException');
    });
  });

  describe('OCI manifests (item 5)', () => {
    it('refuses a manifest nested 2,000,000 levels deep with 400 MANIFEST_INVALID', async () => {
      const repo = uniqueName('limits-deep');
      const config = configBlob();
      const pushed = await oci.pushBlob(repo, config.bytes);
      assert.equal(pushed.status, 201, pushed.text());
      const manifest = `{"schemaVersion":2,"mediaType":"${MEDIA.ociManifest}","config":${JSON.stringify(descriptor(MEDIA.ociConfig, config))},"layers":[],"x":${nested(2_000_000)}}`;
      assert.ok(manifest.length < 4 * MiB, 'within the size limit: only its depth is wrong');
      const r = await oci.put(`/v2/${repo}/manifests/deep`, { headers: { 'Content-Type': MEDIA.ociManifest }, body: manifest });
      assert.equal(r.status, 400, r.text().slice(0, 300));
      assert.equal(r.json().errors[0].code, 'MANIFEST_INVALID');
      assert.match(r.json().errors[0].message, /deeper than 64 levels/);
      const missing = await oci.get(`/v2/${repo}/manifests/deep`);
      assert.equal(missing.status, 404);
    });

    it('refuses a streamed manifest as it grows past 4 MiB with 413 MANIFEST_INVALID, without waiting for its end', async () => {
      const repo = uniqueName('limits-big');
      const r = await sendAnsweredEarly(
        `${berth.url}/v2/${repo}/manifests/big`,
        'PUT',
        { authorization: berth.authHeader, 'content-type': MEDIA.ociManifest, 'transfer-encoding': 'chunked' },
        64 * MiB,
        { timeoutMs: 30_000 },
      );
      assert.equal(r.status, 413, r.text);
      assert.equal(r.json().errors[0].code, 'MANIFEST_INVALID');
      assert.ok(r.bytesSent < 64 * MiB, `answered after ${r.bytesSent} bytes`);
    });
  });

  describe('unread bodies (item 5)', () => {
    it('answers a refusal, then closes the connection instead of waiting for an announced body it will not use', async () => {
      const url = new URL(berth.url);
      const ecrHeaders = await signedEcrHeaders(berth, 'UploadLayerPart', hex('x'), {
        accessKeyId: 'AKIANOSUCHKEY0000000',
        secretAccessKey: 'nope',
      });
      const ecrHead =
        `POST / HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: ${32 * MiB}\r\n` +
        Object.entries(ecrHeaders)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('') +
        '\r\n';
      const ecrAnswer = await headThenWait(berth.url, ecrHead, 5000);
      assert.match(ecrAnswer.statusLine, /^HTTP\/1\.1 400 /);
      assert.ok(ecrAnswer.closed, 'the ECR endpoint closed the connection');
      // The data plane: an anonymous manifest PUT announcing 1 GiB is refused (401) without reading it.
      const ociHead =
        `PUT /v2/${uniqueName('limits-anon')}/manifests/x HTTP/1.1\r\nHost: ${url.host}\r\n` +
        `Content-Type: ${MEDIA.ociManifest}\r\nContent-Length: ${1024 * MiB}\r\n\r\n`;
      const ociAnswer = await headThenWait(berth.url, ociHead, 5000);
      assert.match(ociAnswer.statusLine, /^HTTP\/1\.1 401 /);
      assert.ok(ociAnswer.closed, 'the data plane closed the connection');
    });
  });

  describe('SigV4 signed headers (item 7)', () => {
    for (const [header, named] of [
      ['x-amz-target', 'X-Amz-Target'],
      ['content-type', 'Content-Type'],
      ['host', 'Host'],
    ]) {
      it(`refuses a request whose signature does not cover ${header} with IncompleteSignatureException`, async () => {
        const r = await ecrRaw(berth, 'DescribeRegistry', {}, { unsigned: [header] });
        assert.equal(r.status, 400, r.text);
        assert.equal(errorType(r), 'IncompleteSignatureException');
        assert.equal(errorMessage(r), `'${named}' must be a 'SignedHeader' in the AWS Authorization.`);
      });
    }

    it('refuses a signed DescribeRegistry replayed as DeleteRepository', async () => {
      const repositoryName = uniqueName('limits-replay');
      await ecr.send(new CreateRepositoryCommand({ repositoryName }));
      const r = await ecrRaw(
        berth,
        'DescribeRegistry',
        { repositoryName },
        {
          unsigned: ['x-amz-target'],
          headers: { 'x-amz-target': `${TARGET_PREFIX}.DeleteRepository` },
        },
      );
      assert.equal(r.status, 400, r.text);
      assert.equal(errorType(r), 'IncompleteSignatureException');
      const still = await ecrRaw(berth, 'DescribeRepositories', { repositoryNames: [repositoryName] });
      assert.equal(still.status, 200, still.text);
    });

    it('refuses a presigned DescribeRepositories sent with another X-Amz-Target header', async () => {
      const repositoryName = uniqueName('limits-presigned');
      await ecr.send(new CreateRepositoryCommand({ repositoryName }));
      // The SDK hoists x-amz-target into the signed query string; the header beside it is not signed.
      const r = await ecrRaw(
        berth,
        'DescribeRepositories',
        { repositoryName },
        {
          presign: true,
          headers: { 'x-amz-target': `${TARGET_PREFIX}.DeleteRepository` },
        },
      );
      assert.equal(r.status, 400, r.text);
      assert.equal(errorType(r), 'IncompleteSignatureException');
      const still = await ecrRaw(berth, 'DescribeRepositories', { repositoryNames: [repositoryName] });
      assert.equal(still.status, 200, still.text);
    });

    it('still accepts what the SDK signs, in the header and presigned in the query string', async () => {
      assert.equal((await ecrRaw(berth, 'DescribeRegistry', {})).status, 200);
      assert.equal((await ecrRaw(berth, 'DescribeRegistry', {}, { presign: true })).status, 200);
    });
  });
});
