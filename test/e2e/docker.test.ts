// End to end with the real docker CLI and daemon: login, build, push, pull, layer reuse, cross-repository
// mount, a manifest list made with `docker manifest`, and a `docker save` archive pushed by skopeo. Needs a running Docker daemon and skopeo: without them
// the suite fails (it never skips). The daemon treats 127.0.0.0/8 as an insecure registry, so plain HTTP works.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { dockerSession, type DockerSession } from '../helpers/dockerd.ts';
import {
  makeTempDir,
  parseJson,
  randomData,
  readTar,
  removeDir,
  requireTool,
  runOk,
  sha256,
  uniqueName,
  writeFiles,
} from '../helpers/tools.ts';

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

/** The status docker printed last for each layer of a push ("Pushed", "Layer already exists", "Mounted from x"). */
function layerStatuses(pushOutput: string): Map<string, string> {
  const statuses = new Map<string, string>();
  for (const line of pushOutput.split('\n')) {
    const m = /^([0-9a-f]{12}): (.+)$/.exec(line.trim());
    if (m) statuses.set(m[1], m[2]);
  }
  return statuses;
}

/** The 12-hex-digit id docker shows for a layer during a push: its diff id, shortened. */
const shortId = (diffId: string) => diffId.replace(/^sha256:/, '').slice(0, 12);

interface ImageInfo {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  RootFS: { Layers: string[] };
}

describe('docker against Berth', () => {
  let berth: Berth;
  let docker: DockerSession;
  let work: string;
  let repo: string; // HOST/e2e/app-...
  let repoPath: string; // e2e/app-...
  const files: Record<string, Buffer> = {
    'base/big.bin': randomData(8 * 1024 * 1024 + 17),
    'base/notes.txt': Buffer.from(`base layer ${randomData(16).toString('hex')}\n`),
    'lib/lib.bin': randomData(300 * 1024),
    'app/app.bin': randomData(20 * 1024 + 3),
    'app/config.json': Buffer.from(JSON.stringify({ id: randomData(8).toString('hex') })),
  };
  const extraFiles: Record<string, Buffer> = { 'extra/extra.bin': randomData(50 * 1024 + 1) };
  let image1: ImageInfo;
  let image2: ImageInfo;
  let pushedDigest: string;
  let image2Digest: string;

  const inspect = async (ref: string): Promise<ImageInfo> =>
    parseJson<ImageInfo[]>((await docker.ok(['image', 'inspect', ref])).stdout, 'docker image inspect')[0];

  before(async () => {
    await requireTool('skopeo');
    docker = await dockerSession();
    berth = await startBerth();
    work = makeTempDir('berth-e2e-docker-');
    repoPath = `e2e/${uniqueName('app')}`;
    repo = `${berth.host}/${repoPath}`;
  });

  after(async () => {
    await docker?.cleanup();
    await berth?.cleanup();
    removeDir(work);
  });

  it('builds a three-layer image FROM scratch', async () => {
    const ctx = join(work, 'ctx1');
    writeFiles(ctx, files);
    writeFileSync(
      join(ctx, 'Dockerfile'),
      ['FROM scratch', 'COPY base/ /data/base/', 'COPY lib/ /data/lib/', 'COPY app/ /data/app/', 'CMD ["/data/app/app.bin"]', ''].join(
        '\n',
      ),
    );
    docker.trackImage(`${repo}:v1`);
    await docker.ok(['build', '--network=none', '-t', `${repo}:v1`, ctx]);
    image1 = await inspect(`${repo}:v1`);
    assert.equal(image1.RootFS.Layers.length, 3, 'one layer per COPY');
    assert.equal(new Set(image1.RootFS.Layers).size, 3, 'the layers are distinct');
  });

  it('refuses a push without credentials', async () => {
    const r = await docker.fails(['push', `${repo}:v1`]);
    assert.match(r.stdout + r.stderr, /no basic auth credentials|unauthorized|authentication required/i);
  });

  it('refuses docker login with a wrong secret', async () => {
    const r = await docker.fails(['login', '--username', berth.accessKeyId, '--password-stdin', berth.host], { input: 'not-the-secret\n' });
    assert.match(r.stdout + r.stderr, /401|unauthorized|incorrect|denied/i);
    const configFile = join(docker.configDir, 'config.json');
    const auths = existsSync(configFile) ? (parseJson(readFileSync(configFile, 'utf8')).auths ?? {}) : {};
    assert.equal(auths[berth.host], undefined, 'no credentials stored after a failed login');
  });

  it('logs in with the root access key (password on stdin), and keeps a refresh token instead of the secret', async () => {
    const r = await docker.ok(['login', '--username', berth.accessKeyId, '--password-stdin', berth.host], {
      input: berth.secretAccessKey + '\n',
    });
    assert.match(r.stdout, /Login Succeeded/);
    const text = readFileSync(join(docker.configDir, 'config.json'), 'utf8');
    const config = parseJson(text, 'docker config.json');
    // docker login asks the token endpoint with offline_token=true; with the refresh token it gets, it keeps that
    // token (and later exchanges it with grant_type=refresh_token: every push and pull below does) and no secret.
    assert.match(config.auths[berth.host].identitytoken, /^berth-rt-/);
    assert.ok(!text.includes(berth.secretAccessKey), 'the secret is not kept in config.json');
  });

  it('pushes the image, and the registry serves the manifest docker pushed', async () => {
    const r = await docker.ok(['push', `${repo}:v1`]);
    const m = /v1: digest: (sha256:[0-9a-f]{64}) size: (\d+)/.exec(r.stdout);
    assert.ok(m, `push output names the digest:\n${r.stdout}`);
    pushedDigest = m[1];
    const statuses = layerStatuses(r.stdout);
    for (const diffId of image1.RootFS.Layers) {
      assert.equal(statuses.get(shortId(diffId)), 'Pushed', `layer ${diffId}:\n${r.stdout}`);
    }
    const res = await fetch(`${berth.url}/v2/${repoPath}/manifests/v1`, {
      headers: { authorization: berth.authHeader, accept: DOCKER_MANIFEST },
    });
    assert.equal(res.status, 200);
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(sha256(body), pushedDigest, 'the manifest bytes hash to the digest docker printed');
    assert.equal(body.length, Number(m[2]));
    assert.equal(res.headers.get('docker-content-digest'), pushedDigest);
    const manifest = parseJson(body.toString(), 'manifest');
    assert.equal(manifest.mediaType, DOCKER_MANIFEST);
    assert.equal(manifest.config.digest, image1.Id, 'the config blob is the image id');
    assert.equal(manifest.layers.length, 3);
  });

  it('removes the image, pulls it back, and gets the same digest, id and files', async () => {
    await docker.ok(['rmi', `${repo}:v1`]);
    const gone = await docker.run(['image', 'inspect', `${repo}:v1`]);
    assert.notEqual(gone.code, 0, 'the image is no longer local');

    const r = await docker.ok(['pull', `${repo}:v1`]);
    assert.match(r.stdout, new RegExp(`Digest: ${pushedDigest}`));
    const pulled = await inspect(`${repo}:v1`);
    assert.equal(pulled.Id, image1.Id);
    assert.deepEqual(pulled.RootFS.Layers, image1.RootFS.Layers);
    assert.ok(pulled.RepoDigests.includes(`${repo}@${pushedDigest}`), `RepoDigests: ${pulled.RepoDigests}`);

    const cid = (await docker.ok(['create', `${repo}:v1`])).stdout.trim();
    docker.trackContainer(cid);
    const out = join(work, 'pulled');
    await docker.ok(['cp', `${cid}:/data`, out]);
    for (const [path, data] of Object.entries(files)) {
      assert.ok(readFileSync(join(out, path)).equals(data), `/data/${path} has the content that was built`);
    }
    await docker.ok(['rm', cid]);
  });

  it('fails to pull a tag that does not exist, with manifest unknown', async () => {
    const r = await docker.fails(['pull', `${repo}:no-such-tag`]);
    assert.match(r.stderr, /manifest unknown/i);
  });

  it('pushes a second image on the same base: the shared layers already exist', async () => {
    const ctx = join(work, 'ctx2');
    writeFiles(ctx, extraFiles);
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${repo}:v1\nCOPY extra/ /data/extra/\n`);
    docker.trackImage(`${repo}:v2`);
    await docker.ok(['build', '--network=none', '-t', `${repo}:v2`, ctx]);
    image2 = await inspect(`${repo}:v2`);
    assert.equal(image2.RootFS.Layers.length, 4);
    assert.deepEqual(image2.RootFS.Layers.slice(0, 3), image1.RootFS.Layers, 'the base layers are shared');

    const r = await docker.ok(['push', `${repo}:v2`]);
    const m = /v2: digest: (sha256:[0-9a-f]{64})/.exec(r.stdout);
    assert.ok(m, `push output names the digest:\n${r.stdout}`);
    assert.notEqual(m[1], pushedDigest);
    image2Digest = m[1];
    const statuses = layerStatuses(r.stdout);
    for (const diffId of image1.RootFS.Layers) {
      assert.equal(statuses.get(shortId(diffId)), 'Layer already exists', `shared layer ${diffId}:\n${r.stdout}`);
    }
    assert.equal(statuses.get(shortId(image2.RootFS.Layers[3])), 'Pushed', `new layer:\n${r.stdout}`);
  });

  it('pushes the same image to a second repository by mounting its layers from the first', async () => {
    const otherPath = `e2e/${uniqueName('app-copy')}`;
    const other = `${berth.host}/${otherPath}`;
    docker.trackImage(`${other}:v2`);
    await docker.ok(['tag', `${repo}:v2`, `${other}:v2`]);
    const r = await docker.ok(['push', `${other}:v2`]);
    const statuses = layerStatuses(r.stdout);
    for (const diffId of image2.RootFS.Layers) {
      assert.equal(statuses.get(shortId(diffId)), `Mounted from ${repoPath}`, `layer ${diffId}:\n${r.stdout}`);
    }
    const res = await fetch(`${berth.url}/v2/${otherPath}/tags/list`, { headers: { authorization: berth.authHeader } });
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { tags: string[] }).tags, ['v2']);
  });

  it('pushes a manifest list with `docker manifest`, and the daemon pulls the child for its platform', async () => {
    const list = `${berth.host}/e2e/${uniqueName('list')}:multi`;
    await docker.ok(['manifest', 'create', '--insecure', list, `${repo}:v1`, `${repo}:v2`]);
    await docker.ok(['manifest', 'annotate', '--os', 'linux', '--arch', 'arm64', list, `${repo}:v2`]);
    const r = await docker.ok(['manifest', 'push', '--insecure', list]);
    const listDigest = r.stdout.trim().split('\n').at(-1)!;
    assert.match(listDigest, /^sha256:[0-9a-f]{64}$/, `docker manifest push printed the list digest last:\n${r.stdout}`);

    const inspected = parseJson((await docker.ok(['manifest', 'inspect', '--insecure', list])).stdout, 'docker manifest inspect');
    assert.equal(inspected.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
    assert.deepEqual(
      inspected.manifests.map((m: { digest: string; platform: { architecture: string } }) => [m.platform.architecture, m.digest]),
      [
        ['amd64', pushedDigest],
        ['arm64', image2Digest],
      ],
    );

    docker.trackImage(list);
    const pull = await docker.ok(['pull', list]);
    assert.match(pull.stdout, new RegExp(`Digest: ${listDigest}`));
    const pulled = await inspect(list);
    assert.equal(pulled.Id, image1.Id, 'the amd64 child is the first image');
    assert.ok(pulled.RepoDigests.includes(`${list.replace(/:multi$/, '')}@${listDigest}`), `RepoDigests: ${pulled.RepoDigests}`);
  });

  it('copies a `docker save` archive into Berth with skopeo', async () => {
    const tar = join(work, 'app-v1.tar');
    await docker.ok(['save', '-o', tar, `${repo}:v1`]);
    const saved = readTar(readFileSync(tar));
    const savedManifest = parseJson(saved.get('manifest.json')!.toString(), 'manifest.json of docker save');
    assert.deepEqual(savedManifest[0].RepoTags, [`${repo}:v1`]);

    const targetPath = `e2e/${uniqueName('from-archive')}`;
    const target = `docker://${berth.host}/${targetPath}:v1`;
    const creds = `${berth.accessKeyId}:${berth.secretAccessKey}`;
    const skopeoEnv = { env: docker.env };
    await runOk('skopeo', ['copy', '--dest-tls-verify=false', '--dest-creds', creds, `docker-archive:${tar}`, target], skopeoEnv);

    const info = parseJson(
      (await runOk('skopeo', ['inspect', '--tls-verify=false', '--creds', creds, target], skopeoEnv)).stdout,
      'skopeo inspect',
    );
    assert.equal(info.Name, `${berth.host}/${targetPath}`);
    assert.equal(info.Layers.length, 3);
    assert.deepEqual(info.RepoTags, ['v1']);
    const raw = (await runOk('skopeo', ['inspect', '--raw', '--tls-verify=false', '--creds', creds, target], skopeoEnv)).stdout;
    assert.equal(sha256(raw), info.Digest, 'the raw manifest hashes to the digest skopeo reports');
    const config = (await runOk('skopeo', ['inspect', '--config', '--raw', '--tls-verify=false', '--creds', creds, target], skopeoEnv))
      .stdout;
    assert.equal(sha256(config), image1.Id, 'the config is the one docker built, byte for byte');
    assert.deepEqual(parseJson(config, 'image config').rootfs.diff_ids, image1.RootFS.Layers);

    // And docker pulls what skopeo pushed as the very same image.
    docker.trackImage(`${berth.host}/${targetPath}:v1`);
    await docker.ok(['pull', `${berth.host}/${targetPath}:v1`]);
    assert.equal((await inspect(`${berth.host}/${targetPath}:v1`)).Id, image1.Id);
  });
});
