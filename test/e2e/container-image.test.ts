// The container image (Dockerfile at the repository's root), built and run with the real docker CLI and daemon.
// No base image can be pulled here: the base is a Debian bookworm minbase made with debootstrap from the apt
// sources' mirror and `docker import`ed (test/helpers/debootstrap.ts; the day's tarball is reused). The build runs
// with --network host (the daemon has no bridge). The container runs with --network host too, listening on a free
// loopback port, and passes the smoke test: it starts, answers /readyz, takes a docker push and serves the pull,
// keeps its data in the volume across a restart, and runs as the unprivileged user the image names.
// Fails (never skips) without docker, debootstrap (on a cache miss) or a real node_modules/ directory.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { debianBookwormRootfs, type DebianRootfs } from '../helpers/debootstrap.ts';
import { dockerSession, type DockerSession } from '../helpers/dockerd.ts';
import { describeResult, makeTempDir, parseJson, randomData, removeDir, uniqueName, writeFiles } from '../helpers/tools.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MiB = 1024 * 1024;

/** A loopback port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface ImageConfig {
  Size: number;
  Config: { User: string; Volumes: Record<string, object> | null; Env: string[]; Entrypoint: string[] };
}

describe('the container image', () => {
  let docker: DockerSession;
  let rootfs: DebianRootfs | undefined;
  let work: string;
  let base: string;
  let image: string;
  let volume: string;
  let container: string | undefined;
  let host: string;
  const accessKeyId = 'AKIACONTAINERTEST001';
  const secretAccessKey = `secret-${uniqueName('k')}`;

  before(async () => {
    if (lstatSync(join(root, 'node_modules')).isSymbolicLink()) {
      throw new Error(
        'node_modules is a symbolic link: docker build sends it as a link, not the Node.js binary and dependencies the image copies from it; make it a directory (npm ci)',
      );
    }
    docker = await dockerSession();
    work = makeTempDir('berth-e2e-image-');
    const tag = uniqueName('t');
    base = `berth-test-base:${tag}`;
    image = `berth-test-image:${tag}`;
    volume = `berth-test-data-${tag}`;
    rootfs = await debianBookwormRootfs({ reuseInCi: true });
  });

  after(async () => {
    if (container) {
      const logs = await docker.run(['logs', container]);
      if (logs.stdout || logs.stderr) console.log(`# container output:\n${logs.stdout}${logs.stderr}`);
    }
    await docker?.cleanup();
    if (volume) await docker?.run(['volume', 'rm', '-f', volume]);
    rootfs?.cleanup();
    removeDir(work);
  });

  it('builds FROM a local base (debootstrap + docker import), with --network host', async () => {
    docker.trackImage(base);
    await docker.ok(['import', rootfs!.tarPath, base], { timeoutMs: 10 * 60_000 });
    // The build stage is tagged too (then reused from the cache by the full build), so that cleanup removes it.
    for (const [target, tag] of [
      ['build', `${image}-build`],
      [undefined, image],
    ]) {
      docker.trackImage(tag!);
      const build = await docker.run(
        ['build', '--network', 'host', '--build-arg', `BASE=${base}`, ...(target ? ['--target', target] : []), '-t', tag!, root],
        { timeoutMs: 20 * 60_000 },
      );
      assert.equal(build.code, 0, describeResult(build));
    }
    const [config] = parseJson<ImageConfig[]>((await docker.ok(['image', 'inspect', image])).stdout, 'docker image inspect');
    const [baseConfig] = parseJson<ImageConfig[]>((await docker.ok(['image', 'inspect', base])).stdout, 'docker image inspect');
    console.log(
      `# image size ${(config.Size / MiB).toFixed(1)} MiB (base ${(baseConfig.Size / MiB).toFixed(1)} MiB, Berth's layers ${((config.Size - baseConfig.Size) / MiB).toFixed(1)} MiB)`,
    );
    assert.equal(config.Config.User, 'berth:berth', 'runs as the unprivileged berth user');
    assert.ok(config.Config.Volumes && '/var/lib/berth' in config.Config.Volumes, 'the data directory is a volume');
    assert.ok(config.Config.Env.includes('BERTH_DATA_DIR=/var/lib/berth'));
    // Berth's own layers: Node.js (~120 MiB, once) and the runtime dependencies, no development packages.
    assert.ok(config.Size - baseConfig.Size < 220 * MiB, `Berth's layers are ${((config.Size - baseConfig.Size) / MiB).toFixed(1)} MiB`);
    const listing = await docker.ok(
      [
        'run',
        '--rm',
        '--network',
        'none',
        '--entrypoint',
        '/bin/sh',
        image,
        '-c',
        'ls /opt/berth/node_modules; test -e /opt/berth/dist/src/cli/main.js && echo dist-ok; id -u; id -g',
      ],
      { timeoutMs: 120_000 },
    );
    const lines = listing.stdout.trim().split('\n');
    for (const dev of ['typescript', '@biomejs', 'playwright-core', 'fast-check'])
      assert.ok(!lines.includes(dev), `${dev} (development only) is not in the image`);
    assert.ok(lines.includes('pg') && lines.includes('prom-client'), 'the runtime dependencies are');
    assert.ok(lines.includes('dist-ok'), 'the compiled dist/ is in the image');
    assert.deepEqual(lines.slice(-2), ['10001', '10001'], 'uid and gid of the berth user');
  });

  it('starts, answers /readyz and /healthz, on the host network', async () => {
    const port = await freePort();
    host = `127.0.0.1:${port}`;
    const r = await docker.ok([
      'run',
      '-d',
      '--network',
      'host',
      '-v',
      `${volume}:/var/lib/berth`,
      '-e',
      `BERTH_LISTEN=${host}`,
      '-e',
      `BERTH_ROOT_ACCESS_KEY_ID=${accessKeyId}`,
      '-e',
      `BERTH_ROOT_SECRET_ACCESS_KEY=${secretAccessKey}`,
      '-e',
      'BERTH_CREATE_ON_PUSH=true',
      image,
    ]);
    container = r.stdout.trim();
    docker.trackContainer(container);
    await waitReady(host);
    assert.equal((await fetch(`http://${host}/healthz`)).status, 200);
    const top = await docker.ok(['top', container, '-eo', 'pid,uid,args']);
    assert.match(
      top.stdout,
      /^\s*\d+\s+10001\s+\/usr\/local\/bin\/node \/opt\/berth\/bin\/berth\.js serve/m,
      `the server runs as uid 10001:\n${top.stdout}`,
    );
  });

  it('takes a docker push and serves the pull; the data stays in the volume across a restart', async () => {
    await docker.ok(['login', '--username', accessKeyId, '--password-stdin', host], { input: secretAccessKey });
    const ctx = join(work, 'ctx');
    writeFiles(ctx, { 'data/a.bin': randomData(3 * MiB + 5), 'data/b.txt': Buffer.from(`smoke ${uniqueName('x')}\n`) });
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY data/ /data/\nCMD ["/data/a.bin"]\n');
    const ref = `${host}/smoke/app:v1`;
    docker.trackImage(ref);
    await docker.ok(['build', '--network=none', '-t', ref, ctx]);
    const id = (await docker.ok(['image', 'inspect', '-f', '{{.Id}}', ref])).stdout.trim();
    await docker.ok(['push', ref]);
    await docker.ok(['rmi', ref]);
    await docker.ok(['pull', ref]);
    assert.equal((await docker.ok(['image', 'inspect', '-f', '{{.Id}}', ref])).stdout.trim(), id, 'the pulled image is the one pushed');

    await docker.ok(['restart', '--time', '20', container!], { timeoutMs: 120_000 });
    await waitReady(host);
    await docker.ok(['rmi', ref]);
    await docker.ok(['pull', ref]);
    assert.equal((await docker.ok(['image', 'inspect', '-f', '{{.Id}}', ref])).stdout.trim(), id, 'pulled again after a restart');
  });

  async function waitReady(target: string): Promise<void> {
    const until = Date.now() + 90_000;
    let last = '';
    while (Date.now() < until) {
      try {
        const res = await fetch(`http://${target}/readyz`, { signal: AbortSignal.timeout(5000) });
        if (res.status === 200) return;
        last = `${res.status} ${await res.text()}`;
      } catch (e) {
        last = (e as Error).message;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const logs = container ? await docker.run(['logs', container]) : undefined;
    throw new Error(`the container did not become ready in 90 s (last: ${last})\n${logs?.stdout ?? ''}${logs?.stderr ?? ''}`);
  }
});
