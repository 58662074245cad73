// Replication between real processes: a source Berth (account 111111111111, us-east-1) replicating to a second Berth
// (us-west-2: the same account, and a second account made there), and to CNCF distribution 2.8.2 as a plain OCI
// destination; statuses through @aws-sdk/client-ecr; the destination killed (-9) in the middle of a copy and
// started again on its data directory; a cross-account destination refused until its registry policy allows
// ecr:ReplicateImage; the backfill operations; the validation of every new operation.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateRepositoryCreationTemplateCommand,
  DescribeRepositoriesCommand,
  GetLifecyclePolicyCommand,
  ListTagsForResourceCommand,
  DescribeImageReplicationStatusCommand,
  DescribeRegistryCommand,
  DescribeReplicationBackfillResultsCommand,
  ECRClient,
  ListReplicationBackfillsCommand,
  PutRegistryPolicyCommand,
  PutReplicationConfigurationCommand,
  StartReplicationBackfillCommand,
  StopReplicationBackfillCommand,
  type ImageReplicationStatus,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient, eventually, expectEcrError } from '../helpers/ecr.ts';
import { configBlob, createClient, descriptor, imageManifest, MEDIA, randomBlob, type Content, type Manifest } from '../helpers/oci.ts';

const SOURCE = '111111111111';
const OTHER = '222222222222';
const DIST = '333333333333';
const DISTRIBUTION_BIN = '/usr/bin/docker-registry';

async function admin(berth: Berth, action: string, args: object, auth = berth.authHeader): Promise<any> {
  const res = await fetch(`${berth.url}/_berth/admin/${action}`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify(args),
  });
  const body = await res.json();
  assert.equal(res.status, 200, `${action}: ${JSON.stringify(body)}`);
  return body;
}

/** Pushes an image (config and layers) by tag through /v2/; returns its manifest. */
async function push(berth: Berth, repo: string, tag: string, layers: Content[]): Promise<Manifest> {
  const oci = createClient(berth);
  const config = configBlob();
  for (const blob of [config, ...layers]) assert.equal((await oci.pushBlob(repo, blob.bytes)).status, 201);
  const manifest = imageManifest({
    config: descriptor(MEDIA.ociConfig, config),
    layers: layers.map((l) => descriptor(MEDIA.ociLayerGzip, l)),
  });
  const res = await oci.pushManifest(repo, tag, manifest);
  assert.equal(res.status, 201, res.text());
  return manifest;
}

async function statusOf(client: ECRClient, repositoryName: string, imageDigest: string): Promise<ImageReplicationStatus[]> {
  return (
    (await client.send(new DescribeImageReplicationStatusCommand({ repositoryName, imageId: { imageDigest } }))).replicationStatuses ?? []
  );
}

/** Waits until every destination's status is out of IN_PROGRESS; returns them. */
async function settled(client: ECRClient, repositoryName: string, imageDigest: string, ms = 60_000): Promise<ImageReplicationStatus[]> {
  const s = await eventually(async () => {
    const all = await statusOf(client, repositoryName, imageDigest);
    return all.length > 0 && all.every((x) => x.status !== 'IN_PROGRESS') ? all : undefined;
  }, ms);
  assert.ok(
    s,
    `replication of ${repositoryName}@${imageDigest} settled: ${JSON.stringify(await statusOf(client, repositoryName, imageDigest))}`,
  );
  return s;
}

/** The manifest bytes a registry serves (basic auth, or none). */
async function manifestAt(
  url: string,
  repo: string,
  reference: string,
  auth?: string,
): Promise<{ status: number; digest: string | null; body: Buffer }> {
  const res = await fetch(`${url}/v2/${repo}/manifests/${reference}`, {
    headers: { accept: MEDIA.ociManifest, ...(auth ? { authorization: auth } : {}) },
  });
  return { status: res.status, digest: res.headers.get('docker-content-digest'), body: Buffer.from(await res.arrayBuffer()) };
}

const basic = (id: string, secret: string) => 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('replication between Berth processes and to CNCF distribution', () => {
  let a: Berth;
  let b: Berth;
  let bPort: number;
  let ecrA: ECRClient;
  let other: { accountId: string; accessKeyId: string; secretAccessKey: string };
  let distribution: ChildProcess | undefined;
  let distributionUrl: string;
  let distributionDir: string;

  before(async () => {
    assert.ok(existsSync(DISTRIBUTION_BIN), `CNCF distribution is not installed (${DISTRIBUTION_BIN}): apt-get install -y docker-registry`);
    bPort = await freePort();
    const bEnv = { BERTH_ACCOUNT_ID: SOURCE, BERTH_REGION: 'us-west-2', BERTH_LISTEN: `127.0.0.1:${bPort}` };
    [a, b] = await Promise.all([startBerth({ env: { BERTH_ACCOUNT_ID: SOURCE } }), startBerth({ env: bEnv, removeDataDir: true })]);
    ecrA = ecrClient(a);
    other = await admin(b, 'create-account', { account: OTHER });
    distributionDir = mkdtempSync(join(tmpdir(), 'berth-replication-distribution-'));
    const port = await freePort();
    const config = join(distributionDir, 'config.yml');
    writeFileSync(
      config,
      [
        'version: 0.1',
        'log:',
        '  level: error',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${join(distributionDir, 'storage')}`,
        'http:',
        `  addr: 127.0.0.1:${port}`,
        '',
      ].join('\n'),
    );
    distribution = spawn(DISTRIBUTION_BIN, ['serve', config], { stdio: 'ignore' });
    distributionUrl = `http://127.0.0.1:${port}`;
    assert.ok(
      await eventually(async () => (await fetch(`${distributionUrl}/v2/`).catch(() => undefined))?.status === 200),
      'distribution started',
    );

    await admin(a, 'put-replication-destination', {
      region: 'us-west-2',
      registryId: SOURCE,
      url: b.url,
      username: b.accessKeyId,
      password: b.secretAccessKey,
    });
    await admin(a, 'put-replication-destination', {
      region: 'us-west-2',
      registryId: OTHER,
      url: b.url,
      username: other.accessKeyId,
      password: other.secretAccessKey,
    });
    await admin(a, 'put-replication-destination', { region: 'eu-west-1', registryId: DIST, url: distributionUrl, destinationType: 'oci' });
    await ecrA.send(
      new PutReplicationConfigurationCommand({
        replicationConfiguration: {
          rules: [
            {
              destinations: [{ region: 'us-west-2', registryId: SOURCE }],
              repositoryFilters: [{ filter: 'app', filterType: 'PREFIX_MATCH' }],
            },
            {
              destinations: [{ region: 'us-west-2', registryId: OTHER }],
              repositoryFilters: [{ filter: 'team', filterType: 'PREFIX_MATCH' }],
            },
            {
              destinations: [{ region: 'eu-west-1', registryId: DIST }],
              repositoryFilters: [{ filter: 'dist', filterType: 'PREFIX_MATCH' }],
            },
          ],
        },
      }),
    );
  });

  after(async () => {
    if (distribution && distribution.exitCode === null) {
      const exited = new Promise((r) => distribution!.once('exit', r));
      distribution.kill('SIGTERM');
      await exited;
    }
    if (distributionDir) rmSync(distributionDir, { recursive: true, force: true });
    await a?.cleanup();
    await b?.cleanup();
  });

  it('lists the destinations without their secrets, and DescribeRegistry shows the configuration', async () => {
    const { destinations } = await admin(a, 'list-replication-destinations', {});
    assert.deepEqual(
      destinations.map((d: any) => `${d.region}/${d.registryId}/${d.destinationType}/${d.hasPassword}`),
      ['eu-west-1/333333333333/oci/false', 'us-west-2/111111111111/berth/true', 'us-west-2/222222222222/berth/true'],
    );
    assert.ok(!JSON.stringify(destinations).includes(b.secretAccessKey), 'no secret is listed');
    const registry = await ecrA.send(new DescribeRegistryCommand({}));
    assert.equal(registry.registryId, SOURCE);
    assert.equal(registry.replicationConfiguration?.rules?.length, 3);
    assert.deepEqual(registry.replicationConfiguration?.rules?.[0].repositoryFilters, [{ filter: 'app', filterType: 'PREFIX_MATCH' }]);
  });

  it('replicates a push to the second Berth with identical digests and tags, and not a deletion', async () => {
    const shared = randomBlob(300_000);
    const manifest = await push(a, 'app/web', 'v1', [shared, randomBlob(200_000)]);
    const statuses = await settled(ecrA, 'app/web', manifest.digest);
    assert.deepEqual(
      statuses.map((s) => [s.region, s.registryId, s.status]),
      [['us-west-2', SOURCE, 'COMPLETE']],
    );
    const there = await manifestAt(b.url, 'app/web', 'v1', b.authHeader);
    assert.equal(there.status, 200);
    assert.equal(there.digest, manifest.digest);
    assert.deepEqual(there.body, manifest.bytes, 'the manifest is copied byte for byte');
    // A second repository sharing a layer: the layer is mounted at the destination, not sent again.
    const second = await push(a, 'app/api', 'v1', [shared]);
    assert.equal((await settled(ecrA, 'app/api', second.digest))[0].status, 'COMPLETE');
    assert.equal((await manifestAt(b.url, 'app/api', 'v1', b.authHeader)).digest, second.digest);
    // Not replicated: a repository no rule names, and deletions.
    const unmatched = await push(a, 'misc/x', 'v1', [randomBlob(1000)]);
    assert.deepEqual(await statusOf(ecrA, 'misc/x', unmatched.digest), []);
    assert.equal((await createClient(a).delete(`/v2/app/web/manifests/${manifest.digest}`)).status, 202);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await manifestAt(b.url, 'app/web', 'v1', b.authHeader)).digest, manifest.digest, 'the deletion is not replicated');
  });

  it("creates a missing repository at the destination with the destination's REPLICATION creation template", async () => {
    const ecrB = ecrClient(b);
    try {
      const lifecyclePolicy = JSON.stringify({
        rules: [
          { rulePriority: 1, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 5 }, action: { type: 'expire' } },
        ],
      });
      await ecrB.send(
        new CreateRepositoryCreationTemplateCommand({
          prefix: 'app/tmpl',
          appliedFor: ['REPLICATION'],
          imageTagMutability: 'IMMUTABLE',
          resourceTags: [{ Key: 'origin', Value: 'replication' }],
          lifecyclePolicy,
        }),
      );
      // A CREATE_ON_PUSH template of a longer prefix does not apply to replication.
      await ecrB.send(
        new CreateRepositoryCreationTemplateCommand({
          prefix: 'app/tmpl/svc',
          appliedFor: ['CREATE_ON_PUSH'],
          imageTagMutability: 'MUTABLE',
        }),
      );
      const manifest = await push(a, 'app/tmpl/svc', 'v1', [randomBlob(2000)]);
      assert.equal((await settled(ecrA, 'app/tmpl/svc', manifest.digest))[0].status, 'COMPLETE');
      const repo = (await ecrB.send(new DescribeRepositoriesCommand({ repositoryNames: ['app/tmpl/svc'] }))).repositories![0];
      assert.equal(repo.imageTagMutability, 'IMMUTABLE');
      assert.deepEqual((await ecrB.send(new ListTagsForResourceCommand({ resourceArn: repo.repositoryArn }))).tags, [
        { Key: 'origin', Value: 'replication' },
      ]);
      assert.deepEqual(
        JSON.parse((await ecrB.send(new GetLifecyclePolicyCommand({ repositoryName: 'app/tmpl/svc' }))).lifecyclePolicyText!),
        JSON.parse(lifecyclePolicy),
      );
    } finally {
      ecrB.destroy();
    }
  });

  it('replicates to CNCF distribution as a plain OCI registry', async () => {
    const manifest = await push(a, 'dist/tool', 'latest', [randomBlob(100_000)]);
    const statuses = await settled(ecrA, 'dist/tool', manifest.digest);
    assert.deepEqual(
      statuses.map((s) => [s.region, s.registryId, s.status]),
      [['eu-west-1', DIST, 'COMPLETE']],
    );
    const there = await manifestAt(distributionUrl, 'dist/tool', 'latest');
    assert.equal(there.digest, manifest.digest);
    assert.deepEqual(there.body, manifest.bytes);
  });

  it('refuses a cross-account destination until its registry policy allows ecr:ReplicateImage', async () => {
    const refused = await push(a, 'team/svc', 'v1', [randomBlob(50_000)]);
    const [status] = await settled(ecrA, 'team/svc', refused.digest);
    assert.equal(status.status, 'FAILED');
    assert.match(
      status.failureCode ?? '',
      /not authorized to perform: ecr:ReplicateImage on resource: arn:aws:ecr:us-west-2:222222222222:repository\/team\/svc/,
    );
    assert.equal((await manifestAt(b.url, 'team/svc', 'v1', basic(other.accessKeyId, other.secretAccessKey))).status, 404);
    // The destination's account allows the source account to replicate.
    const ecrOther = ecrClient(b, { accessKeyId: other.accessKeyId, secretAccessKey: other.secretAccessKey, region: 'us-west-2' });
    await ecrOther.send(
      new PutRegistryPolicyCommand({
        policyText: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'ReplicationAccessCrossAccount',
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${SOURCE}:root` },
              Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'],
              Resource: `arn:aws:ecr:us-west-2:${OTHER}:repository/*`,
            },
          ],
        }),
      }),
    );
    const allowed = await push(a, 'team/svc', 'v2', [randomBlob(50_000)]);
    const [ok] = await settled(ecrA, 'team/svc', allowed.digest);
    assert.equal(ok.status, 'COMPLETE', ok.failureCode);
    assert.equal((await manifestAt(b.url, 'team/svc', 'v2', basic(other.accessKeyId, other.secretAccessKey))).digest, allowed.digest);
  });

  it('completes a copy the destination was killed (-9) in the middle of, once it is started again on its data directory', async () => {
    const layer = randomBlob(48 * 1024 * 1024);
    const manifest = await push(a, 'app/big', 'v1', [layer]);
    // Killed as soon as the destination holds part of the layer in an upload.
    const uploads = join(b.dataDir, 'uploads');
    const partial = () =>
      existsSync(uploads) &&
      readdirSync(uploads).some((id) => {
        const data = join(uploads, id, 'data');
        const size = existsSync(data) ? statSync(data).size : 0;
        return size > 0 && size < layer.size;
      });
    let midCopy = false;
    for (const until = Date.now() + 30_000; !midCopy && Date.now() < until; ) {
      midCopy = partial();
      if (!midCopy) await new Promise((r) => setTimeout(r, 2));
    }
    assert.ok(midCopy, 'the destination received part of the layer');
    await b.kill9();
    assert.equal((await statusOf(ecrA, 'app/big', manifest.digest))[0].status, 'IN_PROGRESS');
    b = await startBerth({
      dataDir: b.dataDir,
      accessKeyId: b.accessKeyId,
      secretAccessKey: b.secretAccessKey,
      removeDataDir: true,
      env: { BERTH_ACCOUNT_ID: SOURCE, BERTH_REGION: 'us-west-2', BERTH_LISTEN: `127.0.0.1:${bPort}` },
    });
    const [status] = await settled(ecrA, 'app/big', manifest.digest, 90_000);
    assert.equal(status.status, 'COMPLETE', status.failureCode);
    assert.equal((await manifestAt(b.url, 'app/big', 'v1', b.authHeader)).digest, manifest.digest);
    const blob = await fetch(`${b.url}/v2/app/big/blobs/${layer.digest}`, { method: 'HEAD', headers: { authorization: b.authHeader } });
    assert.equal(blob.status, 200);
    assert.equal(Number(blob.headers.get('content-length')), layer.size);
    const jobs = (await admin(a, 'list-jobs', { kind: 'replication' })).jobs.filter((j: any) => j.payload.repositoryName === 'app/big');
    assert.ok(
      jobs.some((j: any) => j.attempts >= 2 && j.status === 'succeeded'),
      `the job was retried: ${JSON.stringify(jobs)}`,
    );
  });

  it('backfills existing images, reports the results, and refuses what ECR refuses', async () => {
    const before = await push(a, 'app/old', 'v0', [randomBlob(10_000)]);
    await settled(ecrA, 'app/old', before.digest);
    const started = await ecrA.send(new StartReplicationBackfillCommand({ destination: { region: 'us-west-2', registryId: SOURCE } }));
    assert.equal(started.status, 'PREPARING');
    assert.match(started.replicationBackfillId ?? '', /^[0-9a-f-]{36}$/);
    await expectEcrError(
      ecrA.send(new StartReplicationBackfillCommand({ destination: { region: 'us-west-2', registryId: SOURCE } })),
      'ReplicationBackfillInProgressException',
    );
    const id = started.replicationBackfillId!;
    const done = await eventually(async () => {
      const r = await ecrA.send(new DescribeReplicationBackfillResultsCommand({ replicationBackfillId: id }));
      return r.status === 'COMPLETE' || r.status === 'FAILED' ? r : undefined;
    }, 60_000);
    assert.ok(done, 'the backfill ended');
    assert.equal(done.status, 'COMPLETE');
    assert.ok((done.progress?.totalReplicationCount ?? 0) >= 3, JSON.stringify(done.progress));
    assert.equal(done.progress?.failedReplicationCount, 0);
    assert.ok(
      done.results?.some((r) => r.repositoryName === 'app/old' && r.imageId?.imageTag === 'v0' && r.status === 'COMPLETE'),
      JSON.stringify(done.results),
    );
    assert.ok(
      !done.results?.some((r) => r.repositoryName?.startsWith('misc/') || r.repositoryName?.startsWith('team/')),
      'only what the rules send to that destination',
    );
    const page = await ecrA.send(
      new DescribeReplicationBackfillResultsCommand({ replicationBackfillId: id, maxResults: 1, resultStatusFilter: 'COMPLETE' }),
    );
    assert.equal(page.results?.length, 1);
    assert.ok(page.nextToken);
    const list = await ecrA.send(new ListReplicationBackfillsCommand({}));
    assert.equal(list.backfills?.[0].replicationBackfillId, id);
    assert.equal(list.backfills?.[0].status, 'COMPLETE');
    await expectEcrError(
      ecrA.send(new StopReplicationBackfillCommand({ replicationBackfillId: id })),
      'ReplicationBackfillInvalidStatusException',
    );
    await expectEcrError(
      ecrA.send(new StopReplicationBackfillCommand({ replicationBackfillId: '00000000-0000-0000-0000-000000000000' })),
      'ReplicationBackfillNotFoundException',
    );
    await expectEcrError(
      ecrA.send(new DescribeReplicationBackfillResultsCommand({ replicationBackfillId: '00000000-0000-0000-0000-000000000000' })),
      'ReplicationBackfillNotFoundException',
    );
    // Validation, from the hand-written shapes.
    await expectEcrError(
      ecrA.send(new StopReplicationBackfillCommand({ replicationBackfillId: 'not-an-id' })),
      'InvalidParameterException',
      /replicationBackfillId/,
    );
    await expectEcrError(ecrA.send(new ListReplicationBackfillsCommand({ maxResults: 51 })), 'InvalidParameterException', /maxResults/);
    await expectEcrError(
      ecrA.send(new DescribeReplicationBackfillResultsCommand({ replicationBackfillId: id, maxResults: 1001 })),
      'InvalidParameterException',
      /maxResults/,
    );
    await expectEcrError(
      ecrA.send(new DescribeReplicationBackfillResultsCommand({ replicationBackfillId: id, resultStatusFilter: 'DONE' as never })),
      'InvalidParameterException',
      /resultStatusFilter/,
    );
    await expectEcrError(
      ecrA.send(new StartReplicationBackfillCommand({ destination: { region: 'ap-south-1', registryId: SOURCE } })),
      'ValidationException',
      /not in the replication configuration/,
    );
    await expectEcrError(
      ecrA.send(new StartReplicationBackfillCommand({ destination: { region: 'x', registryId: SOURCE } })),
      'InvalidParameterException',
      /destination.region/,
    );
    // A backfill stopped while it prepares or runs.
    const second = await ecrA.send(new StartReplicationBackfillCommand({ destination: { region: 'eu-west-1', registryId: DIST } }));
    const stopped = await ecrA.send(new StopReplicationBackfillCommand({ replicationBackfillId: second.replicationBackfillId }));
    assert.ok(['STOPPING', 'STOPPED'].includes(stopped.status ?? ''), stopped.status);
    const end = await eventually(
      async () =>
        (await ecrA.send(new DescribeReplicationBackfillResultsCommand({ replicationBackfillId: second.replicationBackfillId }))).status ===
        'STOPPED',
      30_000,
    );
    assert.ok(end, 'the stopped backfill ends STOPPED');
  });

  it('validates PutReplicationConfiguration and DescribeImageReplicationStatus as ECR does', async () => {
    const rule = (region: string, registryId = OTHER) => ({ destinations: [{ region, registryId }] });
    await expectEcrError(
      ecrA.send(
        new PutReplicationConfigurationCommand({
          replicationConfiguration: { rules: Array.from({ length: 11 }, (_, i) => rule(`r-${i}`)) },
        }),
      ),
      'InvalidParameterException',
      /rules.*less than or equal to 10/,
    );
    await expectEcrError(
      ecrA.send(
        new PutReplicationConfigurationCommand({
          replicationConfiguration: {
            rules: [{ destinations: Array.from({ length: 26 }, (_, i) => ({ region: `r-${i}`, registryId: OTHER })) }],
          },
        }),
      ),
      'InvalidParameterException',
      /at most 25 unique destinations/,
    );
    await expectEcrError(
      ecrA.send(
        new PutReplicationConfigurationCommand({
          replicationConfiguration: {
            rules: [{ ...rule('us-west-2'), repositoryFilters: [{ filter: 'app', filterType: 'WILDCARD' as never }] }],
          },
        }),
      ),
      'InvalidParameterException',
      /filterType/,
    );
    await expectEcrError(
      ecrA.send(
        new PutReplicationConfigurationCommand({
          replicationConfiguration: { rules: [{ ...rule('us-west-2'), repositoryFilters: [{ filter: 'A', filterType: 'PREFIX_MATCH' }] }] },
        }),
      ),
      'InvalidParameterException',
      /filter/,
    );
    await expectEcrError(
      ecrA.send(new PutReplicationConfigurationCommand({ replicationConfiguration: { rules: [rule('us-east-1', SOURCE)] } })),
      'InvalidParameterException',
      /same as the source/,
    );
    await expectEcrError(
      ecrA.send(new DescribeImageReplicationStatusCommand({ repositoryName: 'app/api', imageId: { imageTag: 'nope' } })),
      'ImageNotFoundException',
    );
    await expectEcrError(
      ecrA.send(new DescribeImageReplicationStatusCommand({ repositoryName: 'no/such', imageId: { imageTag: 'v1' } })),
      'RepositoryNotFoundException',
    );
    // Nothing changed.
    assert.equal((await ecrA.send(new DescribeRegistryCommand({}))).replicationConfiguration?.rules?.length, 3);
  });
});
