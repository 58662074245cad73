// Several Berth nodes as one registry: a real PostgreSQL and a real Ceph RADOS Gateway started here (the test fails
// when either cannot start), and `berth serve` processes A and B (later C) with the same BERTH_DATABASE_URL,
// BERTH_BLOB_STORE and BERTH_S3_*, the same BERTH_SECRET_KEY (B reads it from BERTH_SECRET_KEY_FILE) and the same
// root key, each on its own empty data dir. Nothing a node keeps for itself is needed by another: the secret key,
// the generated root key and the audit records are in the database; ECR layer parts are tracked with the upload.
// Covered: docker push to A and docker pull from B; a chunked upload started on A, continued on B, completed on A;
// ECR layer parts sent to both nodes (the 5 MiB rule holds across them); PutImage over ECR on B described at once
// by A; one immutable tag raced by four pushes on both nodes and both protocols (exactly one wins, the others get
// TAG_INVALID / ImageTagAlreadyExistsException); `berth gc` against A while B takes pushes (nothing lost); two
// `berth lifecycle run` at once, against A and B (one expiry per image in the audit records); tokens issued by A
// accepted by B; `kill -9` of A during a docker push, retried on B; a third node on an empty data dir serving every
// image and blob. The recipes' generic variables are mapped onto Berth's settings explicitly.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  GetAuthorizationTokenCommand,
  InitiateLayerUploadCommand,
  PutImageCommand,
  PutLifecyclePolicyCommand,
  UploadLayerPartCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import pg from 'pg';
import { SHARED_SECRET_KEY, startBerth, type Berth } from '../helpers/berth.ts';
import { dockerSession, type DockerSession } from '../helpers/dockerd.ts';
import { ecrClient, expectEcrError, makeImage, putImageViaUpload, type HandImage } from '../helpers/ecr.ts';
import { getAndHash, pushBlob, pushImage, req, resolveLocation, sha256, show, withDigest, MiB } from '../helpers/http.ts';
import { berthRun } from '../helpers/policies.ts';
import { startPostgres, type Postgres } from '../helpers/postgres.ts';
import { startRgw, type Rgw } from '../helpers/rgw.ts';
import { makeTempDir, removeDir, writeFiles } from '../helpers/tools.ts';

const ROOT = { accessKeyId: 'AKIATWONODES00000001', secretAccessKey: `two-nodes-${randomBytes(8).toString('hex')}` };

/** What a node keeps in its data dir on the embedded default, and must not on PostgreSQL. */
const NODE_FILES = ['secret.key', 'root-credentials.json', 'audit.log', 'meta.db'];

describe('two Berth nodes on one PostgreSQL and one S3 store', () => {
  let postgres: Postgres;
  let rgw: Rgw;
  let databaseUrl: string;
  let a: Berth;
  let b: Berth;
  let c: Berth | undefined;
  let docker: DockerSession;
  let work: string;
  const bucket = `berth-nodes-${randomUUID().slice(0, 8)}`;
  /** Every image pushed: repository, tag and manifest digest (the third node serves them all). */
  const pushed: { repo: string; tag: string; digest: string }[] = [];
  let shared: Record<string, string>;

  const startNode = (env: Record<string, string> = {}) => startBerth({ ...ROOT, env: { ...shared, ...env } });

  before(
    async () => {
      [postgres, rgw] = await Promise.all([startPostgres(), startRgw()]);
      databaseUrl = await postgres.createDatabase('registry');
      await rgw.createBucket(bucket);
      work = makeTempDir('berth-two-nodes-');
      shared = {
        BERTH_DATABASE_URL: databaseUrl,
        ...rgw.berthEnv(bucket, 'registry'),
        BERTH_SECRET_KEY: SHARED_SECRET_KEY,
        // Background work only on demand (the test runs it), a short grace period so that collection has work.
        BERTH_GC_INTERVAL_SECONDS: '0',
        BERTH_LIFECYCLE_INTERVAL_SECONDS: '0',
        BERTH_GC_GRACE_SECONDS: '2',
        BERTH_CREATE_ON_PUSH: 'true',
        BERTH_LOG_LEVEL: 'warn',
      };
      const keyFile = join(work, 'secret.key');
      writeFileSync(keyFile, `${SHARED_SECRET_KEY}\n`, { mode: 0o600 });
      a = await startNode();
      // B has the same key from a file.
      b = await startNode({ BERTH_SECRET_KEY: '', BERTH_SECRET_KEY_FILE: keyFile });
      docker = await dockerSession();
    },
    { timeout: 900_000 },
  );

  after(async () => {
    await docker?.cleanup();
    await c?.cleanup();
    await b?.cleanup();
    await a?.cleanup();
    removeDir(work);
    await rgw?.stop();
    await postgres?.stop();
  });

  async function sql(text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query(text, params)).rows;
    } finally {
      await client.end();
    }
  }

  /** `berth ARGS` next to `node`, with the nodes' shared settings (it opens the same stores). */
  const berth = (node: Berth, args: string[]) => berthRun(node, args, 180_000, shared);

  /** Audit records of lifecycle expiries in `repo`, from every node (berth audit). */
  async function expiries(repo: string): Promise<string[]> {
    const r = await berth(a, ['audit']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return r.stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l))
      .filter((e) => e.event === 'lifecycle-expire' && e.repository === repo)
      .map((e) => e.imageDigest as string);
  }

  async function login(node: Berth): Promise<void> {
    await docker.ok(['login', '--username', node.accessKeyId, '--password-stdin', node.host], { input: `${node.secretAccessKey}\n` });
  }

  /** An image built by docker FROM scratch with `size` random bytes in one layer; returns its image id. */
  async function buildImage(tag: string, size: number): Promise<string> {
    const ctx = join(work, `ctx-${randomUUID().slice(0, 8)}`);
    writeFiles(ctx, { Dockerfile: Buffer.from('FROM scratch\nCOPY data.bin /data.bin\n'), 'data.bin': randomBytes(size) });
    await docker.ok(['build', '--network=none', '-t', tag, ctx]);
    docker.trackImage(tag);
    removeDir(ctx);
    return (await docker.ok(['image', 'inspect', '--format', '{{.Id}}', tag])).stdout.trim();
  }

  it("keeps nothing in a node's data dir: the secret key is in the database, encrypted under the configured one", async () => {
    for (const node of [a, b]) {
      const files = readdirSync(node.dataDir);
      for (const f of NODE_FILES) assert.ok(!files.includes(f), `${f} is not in ${node.dataDir}: ${files.join(', ')}`);
    }
    const [key] = await sql("SELECT value FROM settings WHERE key = 'secret_key'");
    assert.match(String(key.value), /^v1\./, 'the stored key is a ciphertext');
    assert.ok(!String(key.value).includes(SHARED_SECRET_KEY));
  });

  it('docker pushes an image to A and pulls it from B', async () => {
    await login(a);
    await login(b);
    const id = await buildImage(`${a.host}/nodes/app:v1`, 3 * MiB);
    const out = await docker.ok(['push', `${a.host}/nodes/app:v1`]);
    const digest = /v1: digest: (sha256:[0-9a-f]{64})/.exec(out.stdout)?.[1];
    assert.ok(digest, out.stdout);
    pushed.push({ repo: 'nodes/app', tag: 'v1', digest });
    await docker.ok(['pull', `${b.host}/nodes/app:v1`]);
    docker.trackImage(`${b.host}/nodes/app:v1`);
    const pulled = (await docker.ok(['image', 'inspect', '--format', '{{.Id}}', `${b.host}/nodes/app:v1`])).stdout.trim();
    assert.equal(pulled, id, 'B serves the image A took');
  });

  it('a chunked upload started on A is continued on B and completed on A', async () => {
    const data = randomBytes(3 * MiB + 123);
    const digest = sha256(data);
    const start = await req(a, 'POST', '/v2/nodes/chunked/blobs/uploads/');
    assert.equal(start.status, 202, show(start));
    let location = start.headers.get('location')!;
    const chunks = [
      [a, 0, MiB],
      [b, MiB, 2 * MiB + 5],
    ] as const;
    for (const [node, from, to] of chunks) {
      const r = await req(node, 'PATCH', resolveLocation(node, location), {
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${from}-${to - 1}` },
        body: data.subarray(from, to),
      });
      assert.equal(r.status, 202, `${node === a ? 'A' : 'B'}: ${show(r)}`);
      assert.equal(r.headers.get('range'), `0-${to - 1}`);
      location = r.headers.get('location')!;
    }
    const done = await req(a, 'PUT', withDigest(resolveLocation(a, location), digest), {
      headers: { 'Content-Type': 'application/octet-stream' },
      body: data.subarray(2 * MiB + 5),
    });
    assert.equal(done.status, 201, show(done));
    const got = await getAndHash(`${b.url}/v2/nodes/chunked/blobs/${digest}`, b.authHeader);
    assert.equal(got.digest, digest);
    assert.equal(got.size, data.length);
  });

  it('ECR layer parts may go to either node: the 5 MiB rule holds across them, and a good sequence completes', async () => {
    const [ecrA, ecrB] = [ecrClient(a), ecrClient(b)];
    try {
      await ecrB.send(new CreateRepositoryCommand({ repositoryName: 'nodes/parts' }));
      const small = randomBytes(MiB);
      const init = await ecrA.send(new InitiateLayerUploadCommand({ repositoryName: 'nodes/parts' }));
      await ecrA.send(
        new UploadLayerPartCommand({
          repositoryName: 'nodes/parts',
          uploadId: init.uploadId,
          partFirstByte: 0,
          partLastByte: MiB - 1,
          layerPartBlob: small,
        }),
      );
      await ecrB.send(
        new UploadLayerPartCommand({
          repositoryName: 'nodes/parts',
          uploadId: init.uploadId,
          partFirstByte: MiB,
          partLastByte: 2 * MiB - 1,
          layerPartBlob: small,
        }),
      );
      await expectEcrError(
        ecrA.send(
          new CompleteLayerUploadCommand({
            repositoryName: 'nodes/parts',
            uploadId: init.uploadId,
            layerDigests: [sha256(Buffer.concat([small, small]))],
          }),
        ),
        'LayerPartTooSmallException',
        'All layer parts except the last part should be at least 5MB',
      );

      const layer = randomBytes(6 * MiB);
      const good = await ecrB.send(new InitiateLayerUploadCommand({ repositoryName: 'nodes/parts' }));
      const part = 5 * MiB;
      await ecrB.send(
        new UploadLayerPartCommand({
          repositoryName: 'nodes/parts',
          uploadId: good.uploadId,
          partFirstByte: 0,
          partLastByte: part - 1,
          layerPartBlob: layer.subarray(0, part),
        }),
      );
      await ecrA.send(
        new UploadLayerPartCommand({
          repositoryName: 'nodes/parts',
          uploadId: good.uploadId,
          partFirstByte: part,
          partLastByte: layer.length - 1,
          layerPartBlob: layer.subarray(part),
        }),
      );
      const done = await ecrB.send(
        new CompleteLayerUploadCommand({ repositoryName: 'nodes/parts', uploadId: good.uploadId, layerDigests: [sha256(layer)] }),
      );
      assert.equal(done.layerDigest, sha256(layer));
    } finally {
      ecrA.destroy();
      ecrB.destroy();
    }
  });

  it('PutImage over ECR on B is described at once by A', async () => {
    const [ecrA, ecrB] = [ecrClient(a), ecrClient(b)];
    try {
      await ecrA.send(new CreateRepositoryCommand({ repositoryName: 'nodes/ecr' }));
      const image = makeImage();
      await putImageViaUpload(ecrB, 'nodes/ecr', image, 'v1');
      pushed.push({ repo: 'nodes/ecr', tag: 'v1', digest: image.digest });
      const described = await ecrA.send(new DescribeImagesCommand({ repositoryName: 'nodes/ecr' }));
      assert.deepEqual(
        described.imageDetails?.map((d) => [d.imageDigest, d.imageTags]),
        [[image.digest, ['v1']]],
      );
    } finally {
      ecrA.destroy();
      ecrB.destroy();
    }
  });

  it('one immutable tag pushed four times at once, on both nodes and both protocols: exactly one wins', async () => {
    const [ecrA, ecrB] = [ecrClient(a), ecrClient(b)];
    try {
      await ecrA.send(new CreateRepositoryCommand({ repositoryName: 'nodes/immutable', imageTagMutability: 'IMMUTABLE' }));
      const images: HandImage[] = Array.from({ length: 4 }, () => makeImage());
      for (const [i, image] of images.entries()) {
        const node = i % 2 ? b : a;
        for (const blob of [image.config, ...image.layers]) await pushBlob(node, 'nodes/immutable', blob.bytes);
      }
      const put = (ecr: ECRClient, image: HandImage) =>
        ecr
          .send(
            new PutImageCommand({
              repositoryName: 'nodes/immutable',
              imageManifest: image.manifest,
              imageManifestMediaType: image.mediaType,
              imageTag: 'release',
            }),
          )
          .then(
            () => 'won',
            (e: Error) => e.name,
          );
      const putOci = (node: Berth, image: HandImage) =>
        req(node, 'PUT', '/v2/nodes/immutable/manifests/release', {
          headers: { 'Content-Type': image.mediaType },
          body: image.manifest,
        }).then((r) => (r.status === 201 ? 'won' : `${r.status} ${JSON.parse(r.body.toString()).errors?.[0]?.code}`));
      const outcomes = await Promise.all([putOci(a, images[0]), putOci(b, images[1]), put(ecrA, images[2]), put(ecrB, images[3])]);
      assert.equal(outcomes.filter((o) => o === 'won').length, 1, `exactly one wins: ${outcomes.join(', ')}`);
      for (const [i, o] of outcomes.entries()) {
        if (o !== 'won') assert.equal(o, i < 2 ? '400 TAG_INVALID' : 'ImageTagAlreadyExistsException', `push ${i}`);
      }
      const winner = images[outcomes.indexOf('won')];
      pushed.push({ repo: 'nodes/immutable', tag: 'release', digest: winner.digest });
      for (const node of [a, b]) {
        const got = await req(node, 'GET', '/v2/nodes/immutable/manifests/release', { headers: { Accept: winner.mediaType } });
        assert.equal(got.headers.get('docker-content-digest'), winner.digest, 'both nodes serve the winner');
      }
      const described = await ecrB.send(new DescribeImagesCommand({ repositoryName: 'nodes/immutable' }));
      assert.deepEqual(
        described.imageDetails?.map((d) => d.imageDigest),
        [winner.digest],
        'the losers stored nothing',
      );
    } finally {
      ecrA.destroy();
      ecrB.destroy();
    }
  });

  it('berth gc against A while B takes pushes: garbage goes, nothing pushed is lost', async () => {
    // Garbage: blobs no image references, older than the grace period.
    const garbage = [randomBytes(1000), randomBytes(2000)];
    for (const g of garbage) await pushBlob(a, 'nodes/gc', g);
    await sleep(3000);
    let pushing = true;
    const pushes = (async () => {
      const done: { repo: string; tag: string; digest: string }[] = [];
      for (let i = 0; pushing || i < 3; i++) {
        const image = await pushImage(b, 'nodes/gc', `p${i}`, { layer: randomBytes(64 * 1024) });
        done.push({ repo: 'nodes/gc', tag: `p${i}`, digest: image.digest });
      }
      return done;
    })();
    const reports = [];
    for (let i = 0; i < 3; i++) {
      const r = await berth(a, ['gc']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      reports.push(JSON.parse(r.stdout));
    }
    pushing = false;
    const images = await pushes;
    pushed.push(...images);
    const deleted = reports.flatMap((r) => r.deleted as string[]);
    for (const g of garbage) assert.ok(deleted.includes(sha256(g)), `the garbage ${sha256(g)} was collected: ${JSON.stringify(reports)}`);
    assert.ok(images.length >= 3);
    for (const image of images) {
      const m = await req(a, 'GET', `/v2/nodes/gc/manifests/${image.tag}`, {
        headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      assert.equal(m.status, 200, show(m));
      const manifest = JSON.parse(m.body.toString());
      for (const d of [manifest.config, ...manifest.layers]) {
        const got = await getAndHash(`${a.url}/v2/nodes/gc/blobs/${d.digest}`, a.authHeader);
        assert.equal(got.digest, d.digest, `${image.tag}: ${d.digest} is still there`);
      }
    }
    const fsck = await berth(a, ['fsck']);
    assert.equal(fsck.code, 0, fsck.stdout + fsck.stderr);
    assert.deepEqual(JSON.parse(fsck.stdout).problems, []);
  });

  it('two lifecycle runs at once, against A and B: one expiry per image in the audit records', async () => {
    const repo = 'nodes/lifecycle';
    const ecrA = ecrClient(a);
    try {
      await ecrA.send(new CreateRepositoryCommand({ repositoryName: repo }));
      const old: string[] = [];
      for (let i = 0; i < 4; i++) {
        const image = await pushImage(i % 2 ? a : b, repo, `r${i}`, { layer: randomBytes(1024) });
        if (i < 3) old.push(image.digest);
        else pushed.push({ repo, tag: `r${i}`, digest: image.digest });
        await sleep(1100); // distinct push times (the rule keeps the newest)
      }
      await ecrA.send(
        new PutLifecyclePolicyCommand({
          repositoryName: repo,
          lifecyclePolicyText: JSON.stringify({
            rules: [
              {
                rulePriority: 1,
                selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 },
                action: { type: 'expire' },
              },
            ],
          }),
        }),
      );
      const runs = await Promise.all([berth(a, ['lifecycle', 'run', repo]), berth(b, ['lifecycle', 'run', repo])]);
      for (const r of runs) assert.equal(r.code, 0, r.stdout + r.stderr);
      let expired: string[] = [];
      for (let i = 0; i < 50 && expired.length < old.length; i++) {
        expired = await expiries(repo);
        if (expired.length < old.length) await sleep(200);
      }
      assert.deepEqual([...expired].sort(), [...old].sort(), 'each old image expired once, whichever node ran it');
      const described = await ecrA.send(new DescribeImagesCommand({ repositoryName: repo }));
      assert.equal(described.imageDetails?.length, 1);
    } finally {
      ecrA.destroy();
    }
  });

  it('tokens issued by A are accepted by B: a registry bearer token and an ECR authorization token', async () => {
    const t = await req(a, 'GET', `/_berth/token?service=${encodeURIComponent(a.host)}&scope=repository:nodes/app:pull`);
    assert.equal(t.status, 200, show(t));
    const bearer = JSON.parse(t.body.toString()).token as string;
    const onB = await req(b, 'GET', '/v2/nodes/app/manifests/v1', {
      headers: { Authorization: `Bearer ${bearer}`, Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    assert.equal(onB.status, 200, show(onB));
    const ecrA = ecrClient(a);
    try {
      const auth = await ecrA.send(new GetAuthorizationTokenCommand({}));
      const token = auth.authorizationData![0].authorizationToken!;
      const withEcrToken = await req(b, 'GET', '/v2/nodes/ecr/tags/list', { headers: { Authorization: `Basic ${token}` } });
      assert.equal(withEcrToken.status, 200, show(withEcrToken));
      assert.deepEqual(JSON.parse(withEcrToken.body.toString()).tags, ['v1']);
    } finally {
      ecrA.destroy();
    }
  });

  it('kill -9 of A during a docker push: the push retried on B succeeds', async () => {
    const tagA = `${a.host}/nodes/killed:v1`;
    const id = await buildImage(tagA, 96 * MiB);
    const tagB = `${b.host}/nodes/killed:v1`;
    await docker.ok(['tag', tagA, tagB]);
    docker.trackImage(tagB);
    const push = docker.run(['push', tagA], { timeoutMs: 120_000 });
    // Killed once an upload of this push is under way on A.
    for (let i = 0; i < 600; i++) {
      const [open] = await sql(
        "SELECT count(*)::int AS n FROM uploads u JOIN repositories r ON r.id = u.repository_id WHERE r.name = 'nodes/killed'",
      );
      if (Number(open.n) > 0) break;
      await sleep(50);
    }
    await a.kill9();
    const first = await push;
    assert.notEqual(first.code, 0, `the push to A was cut off: ${first.stdout}${first.stderr}`);
    const retried = await docker.ok(['push', tagB]);
    const digest = /v1: digest: (sha256:[0-9a-f]{64})/.exec(retried.stdout)?.[1];
    assert.ok(digest, retried.stdout);
    pushed.push({ repo: 'nodes/killed', tag: 'v1', digest });
    await docker.ok(['rmi', tagA, tagB]);
    await docker.ok(['pull', tagB]);
    assert.equal((await docker.ok(['image', 'inspect', '--format', '{{.Id}}', tagB])).stdout.trim(), id);
    a = await a.restart();
  });

  it('a third node on an empty data dir serves every image and blob', async () => {
    c = await startNode();
    const ecrC = ecrClient(c);
    try {
      const repos = (await ecrC.send(new DescribeRepositoriesCommand({}))).repositories!.map((r) => r.repositoryName);
      for (const p of pushed) assert.ok(repos.includes(p.repo), `C lists ${p.repo}`);
      for (const p of pushed) {
        const m = await req(c, 'GET', `/v2/${p.repo}/manifests/${p.tag}`, {
          headers: { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
        });
        assert.equal(m.status, 200, `${p.repo}:${p.tag}: ${show(m)}`);
        assert.equal(sha256(m.body), p.digest);
        const manifest = JSON.parse(m.body.toString());
        for (const d of [manifest.config, ...manifest.layers]) {
          const got = await getAndHash(`${c.url}/v2/${p.repo}/blobs/${d.digest}`, c.authHeader);
          assert.equal(got.digest, d.digest, `${p.repo}:${p.tag} ${d.digest}`);
        }
      }
      for (const node of [a, b, c]) {
        const files = readdirSync(node.dataDir);
        for (const f of NODE_FILES) assert.ok(!files.includes(f), `${f} is not in ${node.dataDir}`);
      }
    } finally {
      ecrC.destroy();
    }
  });
});

describe('a root key generated on PostgreSQL', () => {
  let postgres: Postgres;
  const nodes: Berth[] = [];

  before(
    async () => {
      postgres = await startPostgres();
    },
    { timeout: 300_000 },
  );
  after(async () => {
    for (const n of nodes) await n.cleanup();
    await postgres?.stop();
  });

  it('is generated once, by the first node, kept encrypted in the database, and used by every node', async () => {
    const url = await postgres.createDatabase('generated');
    // No root key configured (empty values are unset): the nodes start together on an empty database.
    const env = {
      BERTH_DATABASE_URL: url,
      BERTH_SECRET_KEY: SHARED_SECRET_KEY,
      BERTH_ROOT_ACCESS_KEY_ID: '',
      BERTH_ROOT_SECRET_ACCESS_KEY: '',
    };
    const started = await Promise.all([startBerth({ env }), startBerth({ env })]);
    nodes.push(...started);
    const generated = started.filter((n) => /Root credentials were generated/.test(n.output()));
    assert.equal(generated.length, 1, 'one node generated the key and showed its secret');
    const id = /access key id:\s+(\S+)/.exec(generated[0].output())![1];
    const secret = /secret access key:\s+(\S+)/.exec(generated[0].output())![1];
    const other = started.find((n) => n !== generated[0])!;
    assert.match(other.output(), new RegExp(`Root access key id ${id}; its secret was shown once`));
    assert.ok(!other.output().includes(secret), 'the other node never prints the secret');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const stored = String((await client.query("SELECT value FROM settings WHERE key = 'root_credentials'")).rows[0].value);
      assert.ok(!stored.includes(secret), 'the secret is stored encrypted');
    } finally {
      await client.end();
    }
    const basic = `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    for (const node of started) {
      const r = await req(node, 'GET', '/v2/_catalog', { headers: { Authorization: basic } });
      assert.equal(r.status, 200, show(r));
      assert.ok(!existsSync(join(node.dataDir, 'root-credentials.json')));
    }
  });

  it('a node without the secret key, or with another one, refuses to start', async () => {
    const url = await postgres.createDatabase('keys');
    // A node that starts after all is stopped with the others.
    const start = (env: Record<string, string>) =>
      startBerth({ env }).then((n) => {
        nodes.push(n);
        return n;
      });
    await start({ BERTH_DATABASE_URL: url, BERTH_SECRET_KEY: SHARED_SECRET_KEY });
    await assert.rejects(start({ BERTH_DATABASE_URL: url }), /set BERTH_SECRET_KEY or BERTH_SECRET_KEY_FILE/);
    await assert.rejects(
      start({ BERTH_DATABASE_URL: url, BERTH_SECRET_KEY: Buffer.alloc(32, 9).toString('base64') }),
      /does not decrypt the key in the database/,
    );
  });
});
