// containerd's own resolver (what every Kubernetes node on containerd, BuildKit and nerdctl use) against Berth:
// Debian's containerd with its own root and socket, driven by `ctr`. With credentials it asks the token realm with
// an OAuth2 POST; these tests fail if Berth answers that POST anonymously or refuses the grant. Needs containerd,
// ctr and skopeo, and root: without them the suite fails (it never skips).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateRepositoryCommand, GetAuthorizationTokenCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { startContainerd, type Containerd } from '../helpers/containerd.ts';
import { ecrClient, makeImage, putImageViaUpload, type HandImage } from '../helpers/ecr.ts';
import { createUser, type Keys } from '../helpers/policies.ts';
import { makeTempDir, parseJson, removeDir, requireTool, runOk, sha256 } from '../helpers/tools.ts';

describe('containerd (ctr) against Berth', () => {
  let berth: Berth;
  let containerd: Containerd;
  let root: ECRClient;
  let puller: Keys;
  let work: string;
  const images = new Map<string, HandImage>();

  const ref = (repo: string, tag = 'v1') => `${berth.host}/${repo}:${tag}`;
  /** ctr images pull of a private image, unpacked with the native snapshotter (no mounts needed). */
  const pull = (repo: string, auth: string[]) =>
    containerd.ctr(['images', 'pull', '--plain-http', '--snapshotter', 'native', ...auth, ref(repo)]);

  /** Every blob of the image is in containerd's content store, with the bytes Berth was given. */
  async function assertContent(image: HandImage): Promise<void> {
    for (const blob of [image.config, ...image.layers]) {
      const file = join(work, 'blob');
      await runOk('sh', ['-c', 'ctr --address "$1" content get "$2" > "$3"', 'sh', containerd.address, blob.digest, file]);
      assert.equal(sha256(readFileSync(file)), blob.digest);
    }
  }

  before(async () => {
    await requireTool('skopeo');
    containerd = await startContainerd();
    berth = await startBerth({ env: { BERTH_CREATE_ON_PUSH: 'false' } });
    work = makeTempDir('berth-e2e-ctr-');
    root = ecrClient(berth);
    for (const repo of ['k8s/with-key', 'k8s/with-login-token', 'k8s/with-refresh-token', 'k8s/refused', 'k8s/pushed']) {
      await root.send(new CreateRepositoryCommand({ repositoryName: repo }));
      if (repo === 'k8s/pushed') continue;
      const image = makeImage({
        layers: [{ [`app/${repo}.txt`]: Buffer.from(`${repo}\n`) }, { 'app/data.bin': Buffer.alloc(64 * 1024, repo) }],
      });
      await putImageViaUpload(root, repo, image, 'v1');
      images.set(repo, image);
    }
    // A pull-only user, as a Kubernetes imagePullSecret would carry.
    puller = await createUser(berth, 'kubelet', {
      name: 'pull-only',
      document: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['ecr:GetAuthorizationToken', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
            Resource: '*',
          },
        ],
      },
    });
  });

  after(async () => {
    root?.destroy();
    await containerd?.stop();
    await berth?.cleanup();
    removeDir(work);
  });

  it('pulls a private image with an access key and its secret', async () => {
    const r = await pull('k8s/with-key', ['--user', `${puller.accessKeyId}:${puller.secretAccessKey}`]);
    assert.equal(r.code, 0, r.stderr);
    await assertContent(images.get('k8s/with-key')!);
  });

  it('pulls with an ECR login token (AWS:<get-login-password>), as an imagePullSecret does', async () => {
    const client = ecrClient(berth, puller);
    const out = await client.send(new GetAuthorizationTokenCommand({}));
    client.destroy();
    const [user, password] = Buffer.from(out.authorizationData![0].authorizationToken!, 'base64').toString().split(':');
    assert.equal(user, 'AWS');
    const r = await pull('k8s/with-login-token', ['--user', `AWS:${password}`]);
    assert.equal(r.code, 0, r.stderr);
    await assertContent(images.get('k8s/with-login-token')!);
  });

  it('pulls through a refresh token (ctr --refresh), which containerd exchanges with grant_type=refresh_token', async () => {
    const res = await fetch(`${berth.url}/_berth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        username: puller.accessKeyId,
        password: puller.secretAccessKey,
        access_type: 'offline',
        client_id: 'test',
        service: berth.host,
      }).toString(),
    });
    assert.equal(res.status, 200);
    const { refresh_token: refresh } = (await res.json()) as { refresh_token: string };
    const r = await pull('k8s/with-refresh-token', ['--refresh', refresh]);
    assert.equal(r.code, 0, r.stderr);
    await assertContent(images.get('k8s/with-refresh-token')!);
  });

  it('is refused with a wrong password, and without credentials', async () => {
    const wrong = await pull('k8s/refused', ['--user', `${puller.accessKeyId}:not-the-secret`]);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /401 Unauthorized/);
    const anonymous = await pull('k8s/refused', []);
    assert.notEqual(anonymous.code, 0);
    assert.match(anonymous.stderr, /401 Unauthorized|authorization failed|not found/i);
    const listed = await containerd.ctrOk(['images', 'ls', '-q']);
    assert.ok(!listed.stdout.includes('k8s/refused'), 'nothing was pulled');
  });

  it('pushes a tag that skopeo then reads with the same digest', async () => {
    const source = ref('k8s/with-key');
    const target = ref('k8s/pushed', 'from-ctr');
    await containerd.ctrOk(['images', 'tag', source, target]);
    const creds = `${berth.accessKeyId}:${berth.secretAccessKey}`;
    const push = await containerd.ctr(['images', 'push', '--plain-http', '--user', creds, target]);
    assert.equal(push.code, 0, push.stderr);
    const env = { REGISTRY_AUTH_FILE: `${work}/auth.json` };
    const raw = await runOk('skopeo', ['inspect', '--raw', '--tls-verify=false', '--creds', creds, `docker://${target}`], { env });
    assert.equal(sha256(raw.stdout), images.get('k8s/with-key')!.digest);
    const inspected = parseJson<{ Layers: string[] }>(
      (await runOk('skopeo', ['inspect', '--tls-verify=false', '--creds', creds, `docker://${target}`], { env })).stdout,
    );
    assert.deepEqual(
      inspected.Layers,
      images.get('k8s/with-key')!.layers.map((l) => l.digest),
    );
  });

  it('may not push with the pull-only key', async () => {
    const target = ref('k8s/pushed', 'denied');
    await containerd.ctrOk(['images', 'tag', ref('k8s/with-key'), target]);
    const push = await containerd.ctr([
      'images',
      'push',
      '--plain-http',
      '--user',
      `${puller.accessKeyId}:${puller.secretAccessKey}`,
      target,
    ]);
    assert.notEqual(push.code, 0);
    assert.match(push.stderr, /403 Forbidden|denied|not authorized/i);
  });
});
