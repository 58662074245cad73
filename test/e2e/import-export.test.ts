// End to end: `berth import` of archives made by the real tools (docker save with several images and tags, skopeo
// docker-archive: and oci:, podman save; tar, gzip, zstd and directory), into a stopped data directory, a running
// server's data directory and a remote Berth (--url); then pulled with skopeo and docker, digests and image ids
// compared with the archive's. `berth export` in both formats, read back by docker load, podman load and skopeo
// oci-archive:. Needs docker, podman and skopeo: without them the suite fails (it never skips).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { dockerSession, type DockerSession } from '../helpers/dockerd.ts';
import { berthRun, createUser, PULL_ACTIONS } from '../helpers/policies.ts';
import {
  describeResult,
  makeTempDir,
  parseJson,
  randomData,
  removeDir,
  requireTool,
  run,
  runOk,
  sha256,
  uniqueName,
  writeFiles,
  writeOciImage,
  writeOciIndex,
  writeOciLayoutIndex,
  type RunResult,
} from '../helpers/tools.ts';

interface ImportResult {
  images: { repository: string; tags: string[]; digest: string; mediaType: string }[];
}
interface Inspect {
  Digest: string;
  Layers: string[];
}

describe('berth import and berth export', () => {
  let berth: Berth;
  let docker: DockerSession;
  let work: string;
  let env: Record<string, string>;
  const ns = uniqueName('imp');
  // Three tags of two images in two repositories, one of them named with a registry host and port.
  const one = `${ns}/one`;
  const two = `${ns}/two`;
  const twoRef = `localhost:5000/${two}:2`;
  let oneId: string;
  let twoId: string;
  let saved: string;

  const ok = async (r: Promise<RunResult>): Promise<RunResult> => {
    const res = await r;
    if (res.code !== 0) throw new Error(describeResult(res));
    return res;
  };
  const importJson = async (args: string[]): Promise<ImportResult> =>
    parseJson<ImportResult>((await ok(berthRun(berth, ['import', ...args]))).stdout, 'berth import');
  const creds = () => `${berth.accessKeyId}:${berth.secretAccessKey}`;
  const inspect = async (ref: string): Promise<Inspect> =>
    parseJson<Inspect>(
      (await runOk('skopeo', ['inspect', '--tls-verify=false', '--creds', creds(), `docker://${berth.host}/${ref}`], { env })).stdout,
    );
  /** The image id: the digest of the config, as the registry serves it. */
  const configDigest = async (ref: string): Promise<string> =>
    sha256(
      Buffer.from(
        (
          await runOk(
            'skopeo',
            ['inspect', '--raw', '--config', '--tls-verify=false', '--creds', creds(), `docker://${berth.host}/${ref}`],
            { env },
          )
        ).stdout,
      ),
    );
  const imageId = async (ref: string): Promise<string> =>
    parseJson<{ Id: string }[]>((await docker.ok(['image', 'inspect', ref])).stdout)[0].Id;

  before(async () => {
    await requireTool('skopeo');
    await requireTool('podman');
    docker = await dockerSession();
    work = makeTempDir('berth-e2e-import-');
    env = { ...docker.env };
    for (const [name, files] of Object.entries<Record<string, Buffer>>({
      one: { 'a.bin': randomData(200 * 1024), Dockerfile: Buffer.from('FROM scratch\nCOPY a.bin /a.bin\n') },
      two: {
        'b.bin': randomData(70 * 1024),
        'c.bin': randomData(3000),
        Dockerfile: Buffer.from('FROM scratch\nCOPY b.bin /b.bin\nCOPY c.bin /c.bin\n'),
      },
    }))
      writeFiles(join(work, name), files);
    for (const ref of [`${one}:1`, `${one}:latest`, twoRef]) docker.trackImage(ref);
    await docker.ok(['build', '--network=none', '-t', `${one}:1`, join(work, 'one')]);
    await docker.ok(['tag', `${one}:1`, `${one}:latest`]);
    await docker.ok(['build', '--network=none', '-t', twoRef, join(work, 'two')]);
    oneId = await imageId(`${one}:1`);
    twoId = await imageId(twoRef);
    saved = join(work, 'saved.tar');
    await docker.ok(['save', '-o', saved, `${one}:1`, `${one}:latest`, twoRef]);
    berth = await startBerth();
  });

  after(async () => {
    await docker?.cleanup();
    await berth?.cleanup();
    removeDir(work);
  });

  it('imports a multi-image docker save archive into a stopped data directory; skopeo and docker pull the same image ids', async () => {
    await berth.stop();
    const result = await importJson([saved]);
    berth = await berth.restart();
    const byRepo = new Map(result.images.map((i) => [i.repository, i]));
    assert.deepEqual([...byRepo.keys()].sort(), [one, two].sort());
    assert.deepEqual(byRepo.get(one)!.tags.sort(), ['1', 'latest']);
    assert.deepEqual(byRepo.get(two)!.tags, ['2']);
    // The image id (the config's digest) is the archive's, through the registry.
    assert.equal(await configDigest(`${one}:1`), oneId);
    assert.equal(await configDigest(`${one}:latest`), oneId);
    assert.equal(await configDigest(`${two}:2`), twoId);
    assert.equal((await inspect(`${one}:1`)).Digest, byRepo.get(one)!.digest);
    // docker pulls it and has the very image it saved.
    await docker.ok(['login', berth.host, '--username', berth.accessKeyId, '--password-stdin'], { input: berth.secretAccessKey });
    const pulled = `${berth.host}/${two}:2`;
    docker.trackImage(pulled);
    await docker.ok(['pull', pulled]);
    assert.equal(await imageId(pulled), twoId);
  });

  it('a second import is a no-op that names the same manifests (idempotent); a partly imported archive resumes', async () => {
    const again = await ok(berthRun(berth, ['import', saved]));
    assert.doesNotMatch(again.stderr, /^blob /m, 'no blob is sent again');
    const first = parseJson<ImportResult>(again.stdout);
    assert.equal(first.images.find((i) => i.repository === one)!.digest, (await inspect(`${one}:1`)).Digest);
    // An import cut short after its first image, run again: only the second image's blobs are sent.
    const resume = `${ns}/resume`;
    for (const ref of [`${resume}:a`, `${resume}:b`]) docker.trackImage(ref);
    await docker.ok(['tag', `${one}:1`, `${resume}:a`]);
    await docker.ok(['tag', twoRef, `${resume}:b`]);
    const part = join(work, 'part.tar');
    const whole = join(work, 'whole.tar');
    await docker.ok(['save', '-o', part, `${resume}:a`]);
    await docker.ok(['save', '-o', whole, `${resume}:a`, `${resume}:b`]);
    const firstPart = await ok(berthRun(berth, ['import', part]));
    assert.equal(firstPart.stderr.match(/^blob /gm)?.length, 2, firstPart.stderr);
    const rest = await ok(berthRun(berth, ['import', whole]));
    const sent = rest.stderr.match(/^blob sha256:[0-9a-f]{64}/gm)?.map((l) => l.slice(5)) ?? [];
    assert.ok(sent.includes(twoId), rest.stderr);
    assert.ok(!sent.includes(oneId), rest.stderr);
    assert.equal(sent.length, 3, rest.stderr); // image b's config and two layers
    assert.equal(await configDigest(`${resume}:a`), oneId);
    assert.equal(await configDigest(`${resume}:b`), twoId);
  });

  it('shows a progress bar (bytes, rate, ETA) on a terminal', async () => {
    // script(1) gives the command a pseudo-terminal.
    const single = join(work, 'tty.tar');
    await docker.ok(['save', '-o', single, twoRef]);
    const cmd = [process.execPath, join(process.cwd(), 'bin', 'berth.js'), 'import', single, '--compress', '--repository', `${ns}/tty`]
      .map((a) => `'${a}'`)
      .join(' ');
    const r = await run('script', ['-qec', cmd, '/dev/null'], {
      env: {
        BERTH_DATA_DIR: berth.dataDir,
        BERTH_ROOT_ACCESS_KEY_ID: berth.accessKeyId,
        BERTH_ROOT_SECRET_ACCESS_KEY: berth.secretAccessKey,
      },
    });
    assert.equal(r.code, 0, r.stdout);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the progress bar redraws its line with ESC [K
    assert.match(r.stdout, /\r\x1b\[Kimporting \[#+\.*\] 100% [\d.]+ KiB\/[\d.]+ KiB [\d.]+ (B|KiB|MiB)\/s ETA \d+s/);
  });

  it('--repository is refused for an archive of several repositories', async () => {
    const r = await berthRun(berth, ['import', saved, '--repository', 'x/y']);
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stderr, /holds 2 repositories .*--repository renames an archive of one repository only/);
  });

  it('imports an OCI layout from skopeo (directory, tar.gz, tar.zst) byte for byte into a running server', async () => {
    const layout = join(work, 'layout');
    await runOk('skopeo', ['copy', `docker-archive:${saved}:${one}:1`, `oci:${layout}:v1`], { env });
    const layoutDigest = parseJson<Inspect>((await runOk('skopeo', ['inspect', `oci:${layout}:v1`], { env })).stdout).Digest;
    const dir = await importJson([layout, '--repository', `${ns}/oci`]);
    assert.deepEqual(
      dir.images.map((i) => [i.repository, i.tags, i.digest]),
      [[`${ns}/oci`, ['v1'], layoutDigest]],
    );
    assert.equal((await inspect(`${ns}/oci:v1`)).Digest, layoutDigest);
    await runOk('tar', ['-C', layout, '-czf', join(work, 'layout.tar.gz'), '.']);
    const gz = await importJson([join(work, 'layout.tar.gz'), '--repository', `${ns}/oci-gz:gz`]);
    assert.equal(gz.images[0].digest, layoutDigest);
    assert.equal((await inspect(`${ns}/oci-gz:gz`)).Digest, layoutDigest);
    const tarFile = join(work, 'layout.tar');
    await runOk('tar', ['-C', layout, '-cf', tarFile, '.']);
    writeFileSync(join(work, 'layout.tar.zst'), zstdCompressSync(readFileSync(tarFile)));
    const zst = await importJson([join(work, 'layout.tar.zst'), '--repository', `${ns}/oci-zst`]);
    assert.equal(zst.images[0].digest, layoutDigest);
    assert.equal((await inspect(`${ns}/oci-zst:v1`)).Digest, layoutDigest);
    // A layout naming tags only needs a repository.
    const r = await berthRun(berth, ['import', layout]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /by tag only .*--repository NAME/);
  });

  it('imports a skopeo docker-archive: and a podman save archive over HTTP (--url) to a remote Berth', async () => {
    const remoteEnv = {
      BERTH_ACCESS_KEY_ID: berth.accessKeyId,
      BERTH_SECRET_ACCESS_KEY: berth.secretAccessKey,
      BERTH_DATA_DIR: join(work, 'no-data-dir-here'),
    };
    const berthRemote = (args: string[]) => run(process.execPath, [join(process.cwd(), 'bin', 'berth.js'), ...args], { env: remoteEnv });
    const skopeoArchive = join(work, 'skopeo-archive.tar');
    await runOk(
      'skopeo',
      ['copy', `docker-archive:${saved}:${twoRef}`, `docker-archive:${skopeoArchive}:registry.example:5000/${ns}/sk:7`],
      { env },
    );
    const sk = parseJson<ImportResult>((await ok(berthRemote(['import', skopeoArchive, '--url', berth.url]))).stdout);
    assert.deepEqual(
      sk.images.map((i) => [i.repository, i.tags]),
      [[`${ns}/sk`, ['7']]],
    );
    assert.equal(await configDigest(`${ns}/sk:7`), twoId);

    const podmanRef = `localhost/${ns}/pod:3`;
    const podmanId = (await runOk('podman', ['pull', '-q', `docker-archive:${saved}:${one}:1`])).stdout.trim();
    try {
      await runOk('podman', ['tag', podmanId, podmanRef]);
      const podmanArchive = join(work, 'podman.tar');
      await runOk('podman', ['save', '-o', podmanArchive, podmanRef]);
      const pod = parseJson<ImportResult>((await ok(berthRemote(['import', podmanArchive, '--url', berth.url]))).stdout);
      assert.deepEqual(
        pod.images.map((i) => [i.repository, i.tags]),
        [[`${ns}/pod`, ['3']]],
      );
      assert.equal(await configDigest(`${ns}/pod:3`), oneId);
    } finally {
      await run('podman', ['rmi', '-f', podmanId]);
    }
  });

  it('a user allowed to push but not to create repositories imports into one that exists (--url)', async () => {
    const repo = `${ns}/sk`; // made by the test before, as root
    const user = await createUser(berth, uniqueName('pusher'), {
      name: 'push-only',
      document: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage', ...PULL_ACTIONS],
            Resource: '*',
          },
        ],
      },
    });
    const archive = join(work, 'pusher.tar');
    await docker.ok(['save', '-o', archive, `${one}:1`]);
    const r = await run(
      process.execPath,
      [join(process.cwd(), 'bin', 'berth.js'), 'import', archive, '--repository', `${repo}:pushed`, '--url', berth.url],
      {
        env: { BERTH_ACCESS_KEY_ID: user.accessKeyId, BERTH_SECRET_ACCESS_KEY: user.secretAccessKey, BERTH_DATA_DIR: join(work, 'none') },
      },
    );
    assert.equal(r.code, 0, describeResult(r));
    assert.equal(await configDigest(`${repo}:pushed`), oneId);
  });

  it('imports an OCI layout tar of a multi-platform index and another image (two repositories); exports the index for skopeo', async () => {
    const layout = join(work, 'multi-layout');
    const amd64 = writeOciImage(layout, {
      architecture: 'amd64',
      layers: [{ 'arch.txt': Buffer.from('amd64\n'), 'x.bin': randomData(5000) }],
    });
    const arm64 = writeOciImage(layout, {
      architecture: 'arm64',
      layers: [{ 'arch.txt': Buffer.from('arm64\n'), 'x.bin': randomData(5000) }],
    });
    const single = writeOciImage(layout, { layers: [{ 'single.bin': randomData(9000) }] });
    const index = writeOciIndex(layout, [amd64.descriptor, arm64.descriptor]);
    writeOciLayoutIndex(layout, {
      [`registry.example:443/${ns}/multi:1`]: index.descriptor,
      [`docker.io/${ns}/single:s`]: single.descriptor,
    });
    const tarFile = join(work, 'multi-layout.tar');
    await runOk('tar', ['-C', layout, '-cf', tarFile, '.']);
    const result = await importJson([tarFile]);
    assert.deepEqual(
      result.images.map((i) => [i.repository, i.tags, i.digest]).sort(),
      [
        [`${ns}/multi`, ['1'], index.descriptor.digest],
        [`${ns}/single`, ['s'], single.descriptor.digest],
      ].sort(),
    );
    const raw = (
      await runOk('skopeo', ['inspect', '--raw', '--tls-verify=false', '--creds', creds(), `docker://${berth.host}/${ns}/multi:1`], { env })
    ).stdout;
    assert.ok(Buffer.from(raw).equals(index.index), 'the index is served byte for byte');
    assert.equal((await inspect(`${ns}/multi@${arm64.descriptor.digest}`)).Digest, arm64.descriptor.digest);

    const exported = join(work, 'multi-export.tar');
    await ok(berthRun(berth, ['export', `${ns}/multi:1`, '--format', 'oci', '-o', exported]));
    const back = join(work, 'multi-back');
    await runOk('skopeo', ['copy', '--all', `oci-archive:${exported}:1`, `oci:${back}:1`], { env });
    const backIndex = parseJson<{ manifests: { digest: string }[] }>(readFileSync(join(back, 'index.json'), 'utf8'));
    assert.equal(backIndex.manifests[0].digest, index.descriptor.digest);
  });

  it('--compress gzips the uncompressed layers deterministically; the image id stays', async () => {
    const a = await importJson([saved, '--compress']);
    const b = await importJson([saved, '--compress']);
    assert.deepEqual(
      a.images.map((i) => i.digest),
      b.images.map((i) => i.digest),
    );
    const manifest = JSON.parse(
      (await runOk('skopeo', ['inspect', '--raw', '--tls-verify=false', '--creds', creds(), `docker://${berth.host}/${one}:1`], { env }))
        .stdout,
    );
    assert.deepEqual(
      manifest.layers.map((l: { mediaType: string }) => l.mediaType),
      ['application/vnd.oci.image.layer.v1.tar+gzip'],
    );
    assert.equal(await configDigest(`${one}:1`), oneId);
    const pulled = `${berth.host}/${one}:1`;
    docker.trackImage(pulled);
    await docker.ok(['pull', pulled]);
    assert.equal(await imageId(pulled), oneId);
  });

  it('exports for docker load, podman load (format docker) and skopeo oci-archive: (format oci)', async () => {
    const dockerTar = join(work, 'export-docker.tar');
    const out = parseJson<{ images: { reference: string; digest: string }[] }>(
      (await ok(berthRun(berth, ['export', `${one}:1`, `${two}:2`, '-o', dockerTar]))).stdout,
    );
    assert.deepEqual(
      out.images.map((i) => i.reference),
      [`${one}:1`, `${two}:2`],
    );
    for (const ref of [`${one}:1`, `${two}:2`]) docker.trackImage(ref);
    await docker.run(['rmi', `${one}:1`, twoRef]);
    const loaded = await docker.ok(['load', '-i', dockerTar]);
    assert.match(loaded.stdout, new RegExp(`Loaded image: ${one}:1`));
    assert.equal(await imageId(`${one}:1`), oneId);
    assert.equal(await imageId(`${two}:2`), twoId);
    const pod = await runOk('podman', ['load', '-i', dockerTar]);
    try {
      assert.match(pod.stdout, new RegExp(`${two}:2`));
      const podId = parseJson<{ Id: string }[]>((await runOk('podman', ['image', 'inspect', `localhost/${two}:2`])).stdout)[0].Id;
      assert.equal(`sha256:${podId}`, twoId);
    } finally {
      await run('podman', ['rmi', '-f', `localhost/${one}:1`, `localhost/${two}:2`]);
    }

    const ociTar = join(work, 'export-oci.tar');
    await ok(berthRun(berth, ['export', `${ns}/oci:v1`, `${two}:2`, '--format', 'oci', '-o', ociTar]));
    const copied = join(work, 'from-oci-archive');
    await runOk('skopeo', ['copy', `oci-archive:${ociTar}:v1`, `oci:${copied}:v1`], { env });
    const registryDigest = (await inspect(`${ns}/oci:v1`)).Digest;
    assert.equal(parseJson<Inspect>((await runOk('skopeo', ['inspect', `oci:${copied}:v1`], { env })).stdout).Digest, registryDigest);
    assert.equal(
      parseJson<Inspect>((await runOk('skopeo', ['inspect', `oci-archive:${ociTar}:2`], { env })).stdout).Digest,
      (await inspect(`${two}:2`)).Digest,
    );
  });
});
