// End to end with the real podman (rootful, vfs storage in a temporary root, so it touches no shared state):
// login, build FROM scratch, push in OCI and Docker formats, pull back, and a multi-architecture manifest list
// pushed with `podman manifest push --all`. Needs podman: without it the suite fails (it never skips).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBerth, type Berth } from '../helpers/berth.ts';
import {
  describeResult,
  makeTempDir,
  parseJson,
  randomData,
  removeDir,
  requireTool,
  run,
  runFails,
  runOk,
  sha256,
  uniqueName,
  writeFiles,
  OCI_INDEX,
  OCI_MANIFEST,
  type RunOptions,
} from '../helpers/tools.ts';

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const ACCEPT_ALL = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST].join(', ');

interface PodmanImage {
  Id: string;
  Digest: string;
  RepoDigests: string[];
  Architecture: string;
  RootFS: { Layers: string[] };
}

describe('podman against Berth', () => {
  let berth: Berth;
  let work: string;
  let globalArgs: string[];
  let env: Record<string, string>;
  let authFile: string;
  let repo: string;
  let repoPath: string;
  const files: Record<string, Buffer> = {
    'base/base.bin': randomData(512 * 1024 + 5),
    'app/app.bin': randomData(30 * 1024),
    'app/name.txt': Buffer.from(`podman ${randomData(8).toString('hex')}\n`),
  };
  const armFiles: Record<string, Buffer> = { 'arch.txt': Buffer.from('arm64\n'), 'arm.bin': randomData(10 * 1024) };
  let built: PodmanImage;
  let ociDigest: string;

  const opts = (extra: RunOptions = {}): RunOptions => ({ ...extra, env: { ...env, ...extra.env } });
  const podman = (args: string[], extra?: RunOptions) => runOk('podman', [...globalArgs, ...args], opts(extra));
  const podmanFails = (args: string[], extra?: RunOptions) => runFails('podman', [...globalArgs, ...args], opts(extra));
  const inspect = async (ref: string): Promise<PodmanImage> =>
    parseJson<PodmanImage[]>((await podman(['image', 'inspect', ref])).stdout, 'podman image inspect')[0];
  const getManifest = async (reference: string) => {
    const res = await fetch(`${berth.url}/v2/${repoPath}/manifests/${reference}`, {
      headers: { authorization: berth.authHeader, accept: ACCEPT_ALL },
    });
    assert.equal(res.status, 200, `GET manifest ${reference}`);
    const body = Buffer.from(await res.arrayBuffer());
    return {
      body,
      json: parseJson(body.toString(), 'manifest'),
      contentType: res.headers.get('content-type'),
      digest: res.headers.get('docker-content-digest'),
    };
  };

  before(async () => {
    await requireTool('podman');
    work = makeTempDir('berth-e2e-podman-');
    authFile = join(work, 'auth.json');
    // Rootful podman with its own storage and state under the temporary directory; no systemd, no journald.
    globalArgs = [
      '--root',
      join(work, 'storage'),
      '--runroot',
      join(work, 'run'),
      '--tmpdir',
      join(work, 'libpod-tmp'),
      '--storage-driver',
      'vfs',
      '--cgroup-manager',
      'cgroupfs',
      '--events-backend',
      'file',
    ];
    env = { REGISTRY_AUTH_FILE: authFile, DOCKER_CONFIG: join(work, 'docker-config'), TMPDIR: join(work, 'tmp') };
    mkdirSync(join(work, 'tmp'));
    const info = await run('podman', [...globalArgs, 'info', '--format', '{{.Store.GraphDriverName}}'], opts());
    if (info.code !== 0) throw new Error(`podman cannot run on this machine:\n${describeResult(info)}`);
    berth = await startBerth();
    repoPath = `e2e/${uniqueName('podman')}`;
    repo = `${berth.host}/${repoPath}`;
  });

  after(async () => {
    if (work && globalArgs) {
      await run('podman', [...globalArgs, 'rm', '--all', '--force'], opts());
      await run('podman', [...globalArgs, 'rmi', '--all', '--force'], opts());
    }
    await berth?.cleanup();
    removeDir(work);
  });

  it('builds a two-layer image FROM scratch', async () => {
    const ctx = join(work, 'ctx');
    writeFiles(ctx, files);
    writeFileSync(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY base/ /data/base/\nCOPY app/ /data/app/\nCMD ["/data/app/app.bin"]\n');
    await podman(['build', '--network=none', '--format', 'oci', '--platform', 'linux/amd64', '-t', `${repo}:v1`, ctx]);
    built = await inspect(`${repo}:v1`);
    assert.equal(built.RootFS.Layers.length, 2);
    assert.equal(built.Architecture, 'amd64');
  });

  it('refuses podman login with a wrong secret', async () => {
    const r = await podmanFails(['login', '--tls-verify=false', '--username', berth.accessKeyId, '--password-stdin', berth.host], {
      input: 'not-the-secret\n',
    });
    assert.match(r.stdout + r.stderr, /401|unauthorized|invalid username\/password|denied/i);
    const auths = existsSync(authFile) ? (parseJson(readFileSync(authFile, 'utf8')).auths ?? {}) : {};
    assert.equal(auths[berth.host], undefined, 'no credentials stored after a failed login');
  });

  it('logs in with the root access key', async () => {
    const r = await podman(['login', '--tls-verify=false', '--username', berth.accessKeyId, '--password-stdin', berth.host], {
      input: berth.secretAccessKey + '\n',
    });
    assert.match(r.stdout, /Login Succeeded/);
    const stored = Buffer.from(parseJson(readFileSync(authFile, 'utf8')).auths[berth.host].auth, 'base64').toString();
    assert.equal(stored, `${berth.accessKeyId}:${berth.secretAccessKey}`);
  });

  it('pushes the image as an OCI manifest', async () => {
    const digestFile = join(work, 'v1.digest');
    await podman(['push', '--tls-verify=false', '--digestfile', digestFile, `${repo}:v1`]);
    ociDigest = readFileSync(digestFile, 'utf8').trim();
    assert.match(ociDigest, /^sha256:[0-9a-f]{64}$/);
    const m = await getManifest('v1');
    assert.equal(sha256(m.body), ociDigest);
    assert.equal(m.digest, ociDigest);
    assert.equal(m.json.mediaType ?? m.contentType, OCI_MANIFEST);
    assert.equal(m.contentType, OCI_MANIFEST);
    assert.equal(m.json.layers.length, 2);
    assert.equal(m.json.config.digest, `sha256:${built.Id}`, 'the config blob is the image id');
  });

  it('removes the image, pulls it back, and gets the same digest, id and files', async () => {
    await podman(['rmi', `${repo}:v1`]);
    assert.notEqual((await run('podman', [...globalArgs, 'image', 'exists', `${repo}:v1`], opts())).code, 0);
    await podman(['pull', '--tls-verify=false', `${repo}:v1`]);
    const pulled = await inspect(`${repo}:v1`);
    assert.equal(pulled.Id, built.Id);
    assert.equal(pulled.Digest, ociDigest);
    assert.ok(pulled.RepoDigests.includes(`${repo}@${ociDigest}`), `RepoDigests: ${pulled.RepoDigests}`);
    assert.deepEqual(pulled.RootFS.Layers, built.RootFS.Layers);

    const cid = (await podman(['create', `${repo}:v1`])).stdout.trim();
    const out = join(work, 'pulled');
    await podman(['cp', `${cid}:/data`, out]);
    for (const [path, data] of Object.entries(files)) {
      assert.ok(readFileSync(join(out, path)).equals(data), `/data/${path} has the content that was built`);
    }
    await podman(['rm', cid]);
  });

  it('pushes the same image as a Docker schema 2 manifest', async () => {
    const digestFile = join(work, 'v1-docker.digest');
    await podman([
      'push',
      '--tls-verify=false',
      '--format',
      'v2s2',
      '--digestfile',
      digestFile,
      `${repo}:v1`,
      `docker://${repo}:v1-docker`,
    ]);
    const digest = readFileSync(digestFile, 'utf8').trim();
    assert.notEqual(digest, ociDigest);
    const m = await getManifest('v1-docker');
    assert.equal(sha256(m.body), digest);
    assert.equal(m.json.mediaType, DOCKER_MANIFEST);
    assert.equal(m.contentType, DOCKER_MANIFEST);
    assert.equal(m.json.config.digest, `sha256:${built.Id}`);
    const byDigest = await getManifest(digest);
    assert.ok(byDigest.body.equals(m.body), 'the manifest is served by digest too');
  });

  it('pushes a two-architecture manifest list with podman manifest push --all, and pulls one architecture', async () => {
    const ctx = join(work, 'ctx-arm64');
    writeFiles(ctx, armFiles);
    writeFileSync(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY . /data/\n');
    await podman(['build', '--network=none', '--format', 'oci', '--platform', 'linux/arm64', '-t', 'localhost/e2e-arm64:v1', ctx]);
    const arm = await inspect('localhost/e2e-arm64:v1');
    assert.equal(arm.Architecture, 'arm64');

    const list = `localhost/${uniqueName('e2e-list')}`;
    await podman(['manifest', 'create', list]);
    await podman(['manifest', 'add', list, `containers-storage:${repo}:v1`]);
    await podman(['manifest', 'add', list, 'containers-storage:localhost/e2e-arm64:v1']);
    await podman(['manifest', 'push', '--all', '--tls-verify=false', list, `docker://${repo}:multi`]);

    const m = await getManifest('multi');
    assert.ok([OCI_INDEX, DOCKER_LIST].includes(m.contentType!), `content type ${m.contentType}`);
    assert.equal(m.digest, sha256(m.body));
    const platforms = m.json.manifests.map((d: { platform: { architecture: string } }) => d.platform.architecture).sort();
    assert.deepEqual(platforms, ['amd64', 'arm64']);
    for (const child of m.json.manifests) {
      const c = await getManifest(child.digest);
      assert.equal(sha256(c.body), child.digest, `child ${child.platform.architecture} is served by digest`);
      assert.equal(c.body.length, child.size);
    }

    await podman(['pull', '--tls-verify=false', '--arch', 'arm64', `${repo}:multi`]);
    const pulledArm = await inspect(`${repo}:multi`);
    assert.equal(pulledArm.Architecture, 'arm64');
    const armChild = m.json.manifests.find((d: { platform: { architecture: string } }) => d.platform.architecture === 'arm64');
    assert.ok(
      pulledArm.RepoDigests.some((d) => d === `${repo}@${armChild.digest}` || d === `${repo}@${m.digest}`),
      `RepoDigests ${pulledArm.RepoDigests} name the list or its arm64 child`,
    );
    const cid = (await podman(['create', `${repo}:multi`, '/nothing'])).stdout.trim();
    const out = join(work, 'pulled-arm64');
    await podman(['cp', `${cid}:/data`, out]);
    for (const [path, data] of Object.entries(armFiles)) {
      assert.ok(readFileSync(join(out, path)).equals(data), `/data/${path} of the arm64 image`);
    }
    await podman(['rm', cid]);
  });
});
