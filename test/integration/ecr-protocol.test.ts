// The ECR control plane's protocol with the AWS SDK for JavaScript and raw requests: JSON 1.1 over POST /, SigV4
// (unknown key, wrong secret, clock skew, tampered body, incomplete or missing signature, presigned query
// strings, any region), the AWS JSON error format, unknown operations, the operations of later issues (a clear
// error, never a silent success), DescribeRegistry and GetAuthorizationToken (whose token docker login uses).
// Reference: the ECR API reference and the botocore model (data/ecr/2015-09-21/service-2.json); the AWS
// "Common Errors" page for the SigV4 errors.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  CreateRepositoryCommand,
  DescribeRegistryCommand,
  DescribeRepositoriesCommand,
  GetAuthorizationTokenCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { JSON_11, REGION, ecrClient, ecrRaw, errorMessage, errorType, expectEcrError, literal, type EcrError } from '../helpers/ecr.ts';
import { uniqueName } from '../helpers/tools.ts';

const require = createRequire(import.meta.url);

describe('ECR protocol, SigV4 and registry operations', () => {
  let berth: Berth;
  let ecr: ECRClient;
  let account: string;

  before(async () => {
    berth = await startBerth();
    ecr = ecrClient(berth);
  });

  after(async () => {
    ecr?.destroy();
    await berth?.cleanup();
  });

  it('DescribeRegistry answers the 12-digit registry id and an empty replication configuration', async () => {
    const r = await ecr.send(new DescribeRegistryCommand({}));
    assert.match(r.registryId ?? '', /^\d{12}$/);
    account = r.registryId!;
    assert.deepEqual(r.replicationConfiguration, { rules: [] });
    assert.ok(r.$metadata.requestId, 'x-amzn-RequestId is sent (the SDK reads $metadata.requestId from it)');
  });

  it('answers JSON 1.1 with a request id, to a raw signed request', async () => {
    const r = await ecrRaw(berth, 'DescribeRegistry', {});
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('content-type')?.split(';')[0], JSON_11);
    assert.ok(r.headers.get('x-amzn-requestid'), 'x-amzn-RequestId header');
    assert.equal(r.json().registryId, account);
  });

  it('answers an error as an AWS JSON error: __type, message, HTTP 400, JSON 1.1, request id', async () => {
    const name = uniqueName('proto-missing');
    const r = await ecrRaw(berth, 'DescribeRepositories', { repositoryNames: [name] });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.headers.get('content-type')?.split(';')[0], JSON_11);
    assert.ok(r.headers.get('x-amzn-requestid'), 'x-amzn-RequestId header on an error too');
    assert.equal(errorType(r), 'RepositoryNotFoundException');
    assert.equal(errorMessage(r), `The repository with name '${name}' does not exist in the registry with id '${account}'`);
  });

  it('accepts requests signed for any region', async () => {
    for (const region of ['eu-west-1', 'ap-southeast-2']) {
      const other = ecrClient(berth, { region });
      try {
        const r = await other.send(new DescribeRegistryCommand({}));
        assert.equal(r.registryId, account, region);
      } finally {
        other.destroy();
      }
    }
  });

  it('refuses an unknown access key with UnrecognizedClientException', async () => {
    const bad = ecrClient(berth, { accessKeyId: 'AKIANOSUCHKEY0000000' });
    try {
      await expectEcrError(
        bad.send(new DescribeRepositoriesCommand({})),
        'UnrecognizedClientException',
        /security token included in the request is invalid/i,
      );
    } finally {
      bad.destroy();
    }
  });

  it('refuses a wrong secret with InvalidSignatureException', async () => {
    const bad = ecrClient(berth, { secretAccessKey: berth.secretAccessKey + 'x' });
    try {
      await expectEcrError(
        bad.send(new DescribeRepositoriesCommand({})),
        'InvalidSignatureException',
        /signature we calculated does not match the signature you provided/i,
      );
    } finally {
      bad.destroy();
    }
  });

  it('refuses a request signed more than 15 minutes in the past or the future', async () => {
    for (const offset of [-20 * 60_000, 20 * 60_000]) {
      const skewed = ecrClient(berth, { systemClockOffset: offset });
      try {
        await expectEcrError(
          skewed.send(new DescribeRegistryCommand({})),
          'InvalidSignatureException',
          /Signature (expired|not yet current)/,
        );
      } finally {
        skewed.destroy();
      }
    }
  });

  it('accepts a request signed 10 minutes off (within the 15 minutes allowed)', async () => {
    for (const offset of [-10 * 60_000, 10 * 60_000]) {
      const skewed = ecrClient(berth, { systemClockOffset: offset });
      try {
        assert.equal((await skewed.send(new DescribeRegistryCommand({}))).registryId, account);
      } finally {
        skewed.destroy();
      }
    }
  });

  it('refuses a body that is not the one signed with InvalidSignatureException', async () => {
    const r = await ecrRaw(berth, 'DescribeRepositories', { maxResults: 5 }, { sendBody: JSON.stringify({ maxResults: 6 }) });
    assert.equal(r.status, 400, r.text);
    assert.equal(errorType(r), 'InvalidSignatureException');
  });

  it('refuses an unsigned request with MissingAuthenticationTokenException', async () => {
    const r = await ecrRaw(berth, 'DescribeRepositories', {}, { sign: false });
    assert.ok(r.status === 400 || r.status === 403, `HTTP 400 or 403, got ${r.status}: ${r.text}`);
    assert.equal(errorType(r), 'MissingAuthenticationTokenException', r.text);
  });

  it('refuses an Authorization header without SignedHeaders and Signature with IncompleteSignatureException', async () => {
    const date = new Date().toISOString().slice(0, 10).replace(/-/g, '');
    const r = await ecrRaw(
      berth,
      'DescribeRepositories',
      {},
      {
        authorization: `AWS4-HMAC-SHA256 Credential=${berth.accessKeyId}/${date}/${REGION}/ecr/aws4_request`,
      },
    );
    assert.equal(r.status, 400, r.text);
    assert.equal(errorType(r), 'IncompleteSignatureException', r.text);
  });

  it('accepts a request presigned in its query string', async () => {
    const r = await ecrRaw(berth, 'DescribeRegistry', {}, { presign: true });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json().registryId, account);
  });

  it('refuses a presigned request with a wrong secret', async () => {
    const r = await ecrRaw(berth, 'DescribeRegistry', {}, { presign: true, secretAccessKey: 'wrong' });
    assert.equal(r.status, 400, r.text);
    assert.equal(errorType(r), 'InvalidSignatureException', r.text);
  });

  it('answers an unknown operation with UnknownOperationException', async () => {
    const r = await ecrRaw(berth, 'NoSuchOperation', {});
    assert.equal(r.status, 400, r.text);
    assert.equal(errorType(r), 'UnknownOperationException', r.text);
  });

  it('answers a body that is not JSON with a 400 AWS JSON error, not a 500', async () => {
    const r = await ecrRaw(berth, 'DescribeRepositories', '{"maxResults": ');
    assert.equal(r.status, 400, r.text);
    assert.ok(errorType(r), `an __type names the error: ${r.text}`);
  });

  // Every operation of the newest SDK is implemented (issue 22): none answers UnsupportedOperationException or
  // UnknownOperationException. An empty input gets a validation error or an answer, never "not implemented".
  it('answers every operation the newest @aws-sdk/client-ecr knows, none as unsupported', async () => {
    const commands = readdirSync(join(dirname(require.resolve('@aws-sdk/client-ecr')), '..', 'dist-types', 'commands'))
      .filter((f) => f.endsWith('Command.d.ts'))
      .map((f) => f.slice(0, -'Command.d.ts'.length));
    assert.ok(commands.length >= 62, `the SDK lists ${commands.length} operations`);
    const unsupported: string[] = [];
    for (const operation of commands) {
      const r = await ecrRaw(berth, operation, {});
      const type = r.status === 200 ? '' : errorType(r);
      if (/Unsupported|UnknownOperation/.test(type)) unsupported.push(`${operation}: ${type}`);
      assert.ok(r.status < 500, `${operation}: ${r.status} ${r.text}`);
    }
    assert.deepEqual(unsupported, []);
  });

  describe('GetAuthorizationToken', () => {
    it('answers base64("AWS:" + token), expiry 12 hours ahead and the proxy endpoint', async () => {
      const before = Date.now();
      const r = await ecr.send(new GetAuthorizationTokenCommand({}));
      assert.equal(r.authorizationData?.length, 1);
      const data = r.authorizationData![0];
      const decoded = Buffer.from(data.authorizationToken ?? '', 'base64').toString('utf8');
      assert.match(decoded, /^AWS:\S+$/, 'decodes to AWS:<password>');
      const expires = data.expiresAt!.getTime();
      const twelveHours = 12 * 3600_000;
      assert.ok(Math.abs(expires - (before + twelveHours)) < 5 * 60_000, `expiresAt ${data.expiresAt?.toISOString()} is 12 h ahead`);
      assert.equal(new URL(data.proxyEndpoint!).host, berth.host, `proxyEndpoint ${data.proxyEndpoint} is this registry`);
    });

    it('answers for its own registry id when asked by id', async () => {
      const r = await ecr.send(new GetAuthorizationTokenCommand({ registryIds: [account] }));
      assert.equal(r.authorizationData?.length, 1);
    });

    it('gives a token the data plane accepts as Basic AWS:<token>, and a forged one is refused', async () => {
      const r = await ecr.send(new GetAuthorizationTokenCommand({}));
      const token = r.authorizationData![0].authorizationToken!;
      const ok = await fetch(`${berth.url}/v2/`, { headers: { authorization: `Basic ${token}` } });
      assert.equal(ok.status, 200, 'GET /v2/ with the token');
      const password = Buffer.from(token, 'base64').toString().slice('AWS:'.length);
      const forged = Buffer.from(`AWS:${password.slice(0, -4)}AAAA`).toString('base64');
      const bad = await fetch(`${berth.url}/v2/`, { headers: { authorization: `Basic ${forged}` } });
      assert.equal(bad.status, 401, 'a token altered by a few characters is refused');
    });

    it('refuses a registry id with a bad shape with InvalidParameterException', async () => {
      await expectEcrError(ecr.send(new GetAuthorizationTokenCommand({ registryIds: ['12345'] })), 'InvalidParameterException');
    });
  });
});
