// The pull through cache against real upstreams: a second Berth (token authentication: the Bearer challenge, a token
// asked with the secret's credentials) behind a proxy that can hold a blob's second half back, and CNCF distribution
// 2.8.2 with htpasswd Basic authentication. Pulled over HTTP and with skopeo: the manifest and blobs of an image not
// cached come from upstream, a layer reaches the client while the upstream is still sending it, the repository is
// created (with the PULL_THROUGH_CACHE creation template), the image is stored; a tag is checked upstream again only
// after the interval (BERTH_PULL_THROUGH_TAG_TTL_SECONDS, the test clock moved past it), a digest never; pulling
// needs ecr:BatchImportUpstreamImage (and ecr:CreateRepository for a new repository) only to import; with the
// upstream stopped, what is cached is still served.
// References: ECR's user guide (pull through cache, its IAM permissions), the OCI distribution and token specs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreatePullThroughCacheRuleCommand,
  CreateRepositoryCreationTemplateCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ListTagsForResourceCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient, eventually } from '../helpers/ecr.ts';
import { startDistributionWithAuth, type Distribution } from '../helpers/distribution.ts';
import { admin, createUser } from '../helpers/policies.ts';
import { MANIFEST_TYPE, pushImage, req, sha256, type Target } from '../helpers/http.ts';
import { describeResult, requireTool, run } from '../helpers/tools.ts';

const TTL_SECONDS = 3600;
const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';
const ACCEPT = { Accept: `${MANIFEST_TYPE}, ${INDEX_TYPE}` };

/** A proxy in front of the upstream Berth that can hold the second half of one blob back until released. */
interface Proxy {
  url: string;
  hold(digest: string): { reached: Promise<void>; release: () => void };
  close(): Promise<void>;
}

async function startProxy(upstream: string): Promise<Proxy> {
  const target = new URL(upstream);
  let held: { digest: string; reached: () => void; released: Promise<void> } | undefined;
  const server: Server = createServer((req, res) => {
    const out = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (up) => {
        res.writeHead(up.statusCode!, up.headers);
        const hold = held && req.method === 'GET' && req.url!.endsWith(`/blobs/${held.digest}`) ? held : undefined;
        if (!hold) {
          up.pipe(res);
          return;
        }
        const half = Number(up.headers['content-length']) / 2;
        let sent = 0;
        up.on('data', (chunk: Buffer) => {
          if (sent < half && sent + chunk.length >= half) {
            res.write(chunk.subarray(0, half - sent));
            const rest = chunk.subarray(half - sent);
            sent += chunk.length;
            up.pause();
            hold.reached();
            void hold.released.then(() => {
              res.write(rest);
              up.resume();
            });
            return;
          }
          sent += chunk.length;
          res.write(chunk);
        });
        up.on('end', () => void hold.released.then(() => res.end()));
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    hold(digest) {
      let reached!: () => void;
      let release!: () => void;
      const reachedP = new Promise<void>((r) => {
        reached = r;
      });
      const released = new Promise<void>((r) => {
        release = r;
      });
      held = { digest, reached, released };
      return { reached: reachedP, release };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function advanceClock(berth: Berth, seconds: number): Promise<void> {
  const r = await req(berth, 'POST', '/_berth/admin/advance-clock', {
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ seconds }),
  });
  assert.equal(r.status, 200, r.body.toString());
}

const digestOf = (r: { headers: Headers }) => r.headers.get('docker-content-digest');

describe('pull through cache from a second Berth and from distribution 2.8.2', () => {
  let upstream: Berth;
  let proxy: Proxy;
  let downstream: Berth;
  let ecr: ECRClient;
  let account: string;
  let distribution: Distribution;
  let first: Awaited<ReturnType<typeof pushImage>>;
  let moved: Awaited<ReturnType<typeof pushImage>>;
  const scratch = mkdtempSync(join(tmpdir(), 'ptc-test-'));

  before(async () => {
    [upstream, downstream, distribution] = await Promise.all([
      startBerth(),
      startBerth({
        env: { BERTH_TEST_CLOCK: '1', BERTH_CREATE_ON_PUSH: 'false', BERTH_PULL_THROUGH_TAG_TTL_SECONDS: String(TTL_SECONDS) },
      }),
      startDistributionWithAuth(),
    ]);
    proxy = await startProxy(upstream.url);
    ecr = ecrClient(downstream);
    const secret = await admin(
      downstream,
      'put-secret',
      '--name',
      'ecr-pullthroughcache/upstream-berth',
      '--secret-string',
      JSON.stringify({ username: upstream.accessKeyId, accessToken: upstream.secretAccessKey }),
    );
    assert.equal(secret.created, true);
    account = /:(\d{12}):secret:/.exec(secret.arn)![1];
    assert.equal(secret.arn, `arn:aws:secretsmanager:us-east-1:${account}:secret:ecr-pullthroughcache/upstream-berth`);
    await ecr.send(
      new CreateRepositoryCreationTemplateCommand({
        prefix: 'berth-up',
        appliedFor: ['PULL_THROUGH_CACHE'],
        resourceTags: [{ Key: 'cache', Value: 'upstream-berth' }],
        imageTagMutability: 'MUTABLE',
      }),
    );
    await ecr.send(
      new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'berth-up', upstreamRegistryUrl: proxy.url, credentialArn: secret.arn }),
    );
    // Rules are written before the test clock moves (the SDK signs with the wall clock).
    const distSecret = await admin(
      downstream,
      'put-secret',
      '--name',
      'ecr-pullthroughcache/distribution',
      '--secret-string',
      JSON.stringify({ username: distribution.username, accessToken: distribution.password }),
    );
    await ecr.send(
      new CreatePullThroughCacheRuleCommand({
        ecrRepositoryPrefix: 'dist',
        upstreamRegistryUrl: distribution.url,
        credentialArn: distSecret.arn,
      }),
    );
  });

  after(async () => {
    ecr?.destroy();
    await proxy?.close();
    await Promise.all([upstream?.cleanup(), downstream?.cleanup(), distribution?.cleanup()]);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('pulls an image not cached from upstream: manifest by tag, blobs; creates the repository with the template; stores the image', async () => {
    first = await pushImage(upstream, 'library/app', 'v1', { layer: randomBytes(300_000) });
    const m = await req(downstream, 'GET', '/v2/berth-up/library/app/manifests/v1', { headers: ACCEPT });
    assert.equal(m.status, 200, m.body.toString());
    assert.equal(digestOf(m), first.digest);
    assert.deepEqual(m.body, first.manifest);
    for (const d of [first.config, first.layer]) {
      const b = await req(downstream, 'GET', `/v2/berth-up/library/app/blobs/${d.digest}`);
      assert.equal(b.status, 200, b.body.toString());
      assert.equal(sha256(b.body), d.digest);
    }
    const repo = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['berth-up/library/app'] }))).repositories![0];
    const tags = await ecr.send(new ListTagsForResourceCommand({ resourceArn: repo.repositoryArn }));
    assert.deepEqual(tags.tags, [{ Key: 'cache', Value: 'upstream-berth' }], 'the PULL_THROUGH_CACHE template applied');
    const stored = await eventually(async () =>
      (await ecr.send(new DescribeImagesCommand({ repositoryName: 'berth-up/library/app' }))).imageDetails?.find((i) =>
        i.imageTags?.includes('v1'),
      ),
    );
    assert.equal(stored?.imageDigest, first.digest);
    // A HEAD and a digest pull are answered from the cache now.
    const head = await req(downstream, 'HEAD', `/v2/berth-up/library/app/manifests/${first.digest}`, { headers: ACCEPT });
    assert.equal(head.status, 200);
  });

  it('streams a layer to the first client while the upstream is still sending it, and stores it', async () => {
    const big = await pushImage(upstream, 'library/big', 'v1', { layer: randomBytes(6 * 1024 * 1024) });
    const m = await req(downstream, 'GET', '/v2/berth-up/library/big/manifests/v1', { headers: ACCEPT });
    assert.equal(m.status, 200, m.body.toString());
    const hold = proxy.hold(big.layer.digest);
    const res = await fetch(`${downstream.url}/v2/berth-up/library/big/blobs/${big.layer.digest}`, {
      headers: { Authorization: downstream.authHeader },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(big.layer.size));
    const reader = res.body!.getReader();
    const hash = createHash('sha256');
    let received = 0;
    await hold.reached;
    // The upstream has sent half and waits: the client has its first bytes already.
    while (received < 1024 * 1024) {
      const { value, done } = await reader.read();
      assert.ok(!done, 'the body does not end while the upstream holds its second half');
      hash.update(value);
      received += value.length;
    }
    hold.release();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      hash.update(value);
      received += value.length;
    }
    assert.equal(received, big.layer.size);
    assert.equal(`sha256:${hash.digest('hex')}`, big.layer.digest);
    const again = await req(downstream, 'GET', `/v2/berth-up/library/big/blobs/${big.layer.digest}`);
    assert.equal(sha256(again.body), big.layer.digest, 'served from the cache');
  });

  it('pulls a multi-platform index through: the index and each platform image are stored by the caching job', async () => {
    const amd = await pushImage(upstream, 'library/multi', 'amd64', { layer: randomBytes(5000) });
    const arm = await pushImage(upstream, 'library/multi', 'arm64', { layer: randomBytes(5000) });
    const child = (m: typeof amd, architecture: string) => ({
      mediaType: MANIFEST_TYPE,
      digest: m.digest,
      size: m.manifest.length,
      platform: { os: 'linux', architecture },
    });
    const index = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: INDEX_TYPE, manifests: [child(amd, 'amd64'), child(arm, 'arm64')] }),
    );
    const put = await req(upstream, 'PUT', '/v2/library/multi/manifests/latest', { headers: { 'Content-Type': INDEX_TYPE }, body: index });
    assert.equal(put.status, 201, put.body.toString());
    const got = await req(downstream, 'GET', '/v2/berth-up/library/multi/manifests/latest', { headers: ACCEPT });
    assert.equal(got.status, 200, got.body.toString());
    assert.deepEqual(got.body, index);
    assert.equal(got.headers.get('content-type'), INDEX_TYPE);
    const images = await eventually(async () => {
      const details = (await ecr.send(new DescribeImagesCommand({ repositoryName: 'berth-up/library/multi' }))).imageDetails ?? [];
      return details.length === 3 && details;
    });
    assert.ok(images, 'the index and both platform images are stored');
    assert.deepEqual(images.find((i) => i.imageDigest === sha256(index))?.imageTags, ['latest']);
    const blob = await req(downstream, 'HEAD', `/v2/berth-up/library/multi/blobs/${arm.layer.digest}`);
    assert.equal(blob.status, 200);
  });

  it('imports only with ecr:BatchImportUpstreamImage (and ecr:CreateRepository for a new repository); what is cached needs the pull actions only', async () => {
    const pull = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'];
    const policy = (actions: string[]) => ({
      name: 'p',
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] },
    });
    const puller = await createUser(downstream, 'puller', policy(pull));
    const importer = await createUser(downstream, 'importer', policy([...pull, 'ecr:BatchImportUpstreamImage']));
    const creator = await createUser(downstream, 'creator', policy([...pull, 'ecr:BatchImportUpstreamImage', 'ecr:CreateRepository']));
    const as = (k: { accessKeyId: string; secretAccessKey: string }): Target => ({
      url: downstream.url,
      authHeader: 'Basic ' + Buffer.from(`${k.accessKeyId}:${k.secretAccessKey}`).toString('base64'),
    });
    assert.equal(
      (await req(as(puller), 'GET', `/v2/berth-up/library/app/manifests/${first.digest}`, { headers: ACCEPT })).status,
      200,
      'cached: the pull actions suffice',
    );
    const other = await pushImage(upstream, 'library/other', 'v1');
    const denied = await req(as(puller), 'GET', '/v2/berth-up/library/other/manifests/v1', { headers: ACCEPT });
    assert.equal(denied.status, 403);
    assert.match(denied.body.toString(), /ecr:BatchImportUpstreamImage/);
    const noCreate = await req(as(importer), 'GET', '/v2/berth-up/library/other/manifests/v1', { headers: ACCEPT });
    assert.equal(noCreate.status, 403);
    assert.match(noCreate.body.toString(), /ecr:CreateRepository/);
    const created = await req(as(creator), 'GET', '/v2/berth-up/library/other/manifests/v1', { headers: ACCEPT });
    assert.equal(created.status, 200, created.body.toString());
    assert.equal(digestOf(created), other.digest);
    // The repository exists now: importing a blob needs no ecr:CreateRepository.
    const blob = await req(as(importer), 'GET', `/v2/berth-up/library/other/blobs/${other.layer.digest}`);
    assert.equal(blob.status, 200, blob.body.toString());
  });

  it('checks a tag upstream again only after the interval; a digest pull never does', async () => {
    moved = await pushImage(upstream, 'library/app', 'v1', { layer: randomBytes(1000) });
    const cached = await req(downstream, 'GET', '/v2/berth-up/library/app/manifests/v1', { headers: ACCEPT });
    assert.equal(digestOf(cached), first.digest, 'within the interval the cached tag is served');
    await advanceClock(downstream, TTL_SECONDS + 1);
    const fresh = await req(downstream, 'GET', '/v2/berth-up/library/app/manifests/v1', { headers: ACCEPT });
    assert.equal(fresh.status, 200, fresh.body.toString());
    assert.equal(digestOf(fresh), moved.digest, 'past the interval the tag is checked, and has moved');
    const byDigest = await req(downstream, 'GET', `/v2/berth-up/library/app/manifests/${first.digest}`, { headers: ACCEPT });
    assert.equal(digestOf(byDigest), first.digest);
    // The moved tag is stored once its new blobs are (the caching job).
    const tags = await eventually(async () => {
      const r = await req(downstream, 'HEAD', '/v2/berth-up/library/app/manifests/v1', { headers: ACCEPT });
      return digestOf(r) === moved.digest && (await req(downstream, 'GET', '/v2/berth-up/library/app/tags/list')).body.toString();
    });
    assert.ok(tags && JSON.parse(tags).tags.includes('v1'));
    await eventually(async () => (await req(downstream, 'HEAD', `/v2/berth-up/library/app/blobs/${moved.layer.digest}`)).status === 200);
  });

  it('pulls through from distribution 2.8.2 with Basic authentication, with skopeo', async () => {
    await requireTool('skopeo');
    const image = await pushImage(distribution, 'team/tool', 'v2', { layer: randomBytes(200_000) });
    const creds = `${downstream.accessKeyId}:${downstream.secretAccessKey}`;
    const dir = join(scratch, 'tool');
    const copy = await run(
      'skopeo',
      [
        'copy',
        '--preserve-digests',
        '--src-tls-verify=false',
        '--src-creds',
        creds,
        `docker://${downstream.host}/dist/team/tool:v2`,
        `oci:${dir}:v2`,
      ],
      { timeoutMs: 120_000 },
    );
    assert.equal(copy.code, 0, describeResult(copy));
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    assert.equal(index.manifests[0].digest, image.digest);
    assert.equal(sha256(readFileSync(join(dir, 'blobs', 'sha256', image.layer.digest.slice(7)))), image.layer.digest);
    await eventually(
      async () =>
        (await req(downstream, 'HEAD', `/v2/dist/team/tool/manifests/${image.digest}`, { headers: ACCEPT })).status === 200 &&
        (await req(downstream, 'GET', '/v2/dist/team/tool/tags/list')).body.toString().includes('v2'),
    );
    // Distribution stopped: skopeo still pulls what is cached.
    await distribution.stop();
    const again = await run('skopeo', [
      'inspect',
      '--raw',
      '--tls-verify=false',
      '--creds',
      creds,
      `docker://${downstream.host}/dist/team/tool:v2`,
    ]);
    assert.equal(again.code, 0, describeResult(again));
    assert.equal(sha256(Buffer.from(again.stdout)), image.digest);
  });

  it('with the upstream stopped, serves what is cached by tag (even past the interval) and by digest; what is not cached is unavailable', async () => {
    await proxy.close();
    await upstream.stop();
    await advanceClock(downstream, TTL_SECONDS + 1);
    const tag = await req(downstream, 'GET', '/v2/berth-up/library/app/manifests/v1', { headers: ACCEPT });
    assert.equal(tag.status, 200, tag.body.toString());
    assert.equal(digestOf(tag), moved.digest);
    const digest = await req(downstream, 'GET', `/v2/berth-up/library/app/manifests/${first.digest}`, { headers: ACCEPT });
    assert.equal(digest.status, 200);
    const blob = await req(downstream, 'GET', `/v2/berth-up/library/app/blobs/${first.layer.digest}`);
    assert.equal(sha256(blob.body), first.layer.digest);
    const missing = await req(downstream, 'GET', '/v2/berth-up/library/app/manifests/v9', { headers: ACCEPT });
    assert.equal(missing.status, 503, missing.body.toString());
    assert.equal(JSON.parse(missing.body.toString()).errors[0].code, 'UNAVAILABLE');
    const outside = await req(downstream, 'GET', '/v2/not-cached/app/manifests/v1', { headers: ACCEPT });
    assert.equal(outside.status, 404, 'a repository no rule covers is unknown, as before');
  });
});
