// buildah builds an image from scratch (no container runtime needed: copy and config only) and pushes it to a
// private repository; skopeo copies it back to an OCI layout and umoci unpacks that layout: the files are the bytes
// that were built. buildah keeps its storage under a temporary root. Needs buildah, skopeo, umoci and root: without
// them the suite fails (it never skips).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient } from '../helpers/ecr.ts';
import { makeTempDir, parseJson, randomData, removeDir, requireTool, run, runOk, type RunOptions } from '../helpers/tools.ts';

describe('buildah and umoci against Berth', () => {
  let berth: Berth;
  let work: string;
  let env: Record<string, string>;
  const built = { 'hello.txt': Buffer.from('hello from buildah\n'), 'data/random.bin': randomData(300 * 1024 + 3) };

  const opts = (): RunOptions => ({ env });
  /** buildah with its own storage (vfs) under the test's directory, never the machine's. */
  const buildah = (args: string[]) =>
    runOk('buildah', ['--root', join(work, 'storage'), '--runroot', join(work, 'run'), '--storage-driver', 'vfs', ...args], opts());

  before(async () => {
    for (const tool of ['buildah', 'skopeo', 'umoci']) await requireTool(tool, tool === 'umoci' ? ['--version'] : undefined);
    if (process.getuid?.() !== 0) throw new Error('buildah and umoci unpack as root here (as .ci/run runs them)');
    berth = await startBerth();
    work = makeTempDir('berth-e2e-buildah-');
    // Never read nor write the machine's own credentials: an empty auth file of the test's own.
    env = { REGISTRY_AUTH_FILE: join(work, 'auth.json'), BUILDAH_ISOLATION: 'chroot' };
    writeFileSync(env.REGISTRY_AUTH_FILE, '{"auths":{}}\n');
  });

  after(async () => {
    if (work)
      await run('buildah', ['--root', join(work, 'storage'), '--runroot', join(work, 'run'), '--storage-driver', 'vfs', 'rm', '--all'], {
        env,
      });
    await berth?.cleanup();
    removeDir(work);
  });

  it('builds from scratch, pushes with an ECR login token, and umoci unpacks the same bytes', async () => {
    const context = join(work, 'context');
    for (const [name, data] of Object.entries(built)) {
      await runOk('mkdir', ['-p', join(context, name, '..')]);
      writeFileSync(join(context, name), data);
    }
    const container = (await buildah(['from', 'scratch'])).stdout.trim();
    await buildah(['copy', container, join(context, 'hello.txt'), '/hello.txt']);
    await buildah(['copy', container, join(context, 'data'), '/data']);
    await buildah(['config', '--cmd', '/hello', '--label', 'built.by=buildah', container]);
    await buildah(['commit', '--format', 'oci', container, 'berth-built:1']);

    const client = ecrClient(berth);
    const token = await client.send(new GetAuthorizationTokenCommand({}));
    client.destroy();
    const creds = Buffer.from(token.authorizationData![0].authorizationToken!, 'base64').toString();
    assert.match(creds, /^AWS:/);
    const target = `${berth.host}/built/app:1`;
    await buildah(['push', '--tls-verify=false', '--creds', creds, 'berth-built:1', `docker://${target}`]);

    // Read back through the registry, as a user who never saw buildah's storage.
    const rootCreds = `${berth.accessKeyId}:${berth.secretAccessKey}`;
    const inspected = parseJson<{ Labels: Record<string, string>; Layers: string[] }>(
      (await runOk('skopeo', ['inspect', '--tls-verify=false', '--creds', rootCreds, `docker://${target}`], opts())).stdout,
    );
    assert.equal(inspected.Labels['built.by'], 'buildah');
    assert.ok(inspected.Layers.length >= 1);
    const layout = join(work, 'layout');
    await runOk('skopeo', ['copy', '--src-tls-verify=false', '--src-creds', rootCreds, `docker://${target}`, `oci:${layout}:app`], opts());
    const bundle = join(work, 'bundle');
    await runOk('umoci', ['unpack', '--image', `${layout}:app`, bundle], opts());
    for (const [name, data] of Object.entries(built)) {
      assert.ok(readFileSync(join(bundle, 'rootfs', name)).equals(data), `${name} unpacked with the bytes built`);
    }
    const config = parseJson<{ process: { args: string[] } }>(readFileSync(join(bundle, 'config.json'), 'utf8'));
    assert.deepEqual(config.process.args, ['/hello']);
  });

  it('is refused a push with a wrong secret, and nothing is written', async () => {
    const r = await run(
      'buildah',
      [
        '--root',
        join(work, 'storage'),
        '--runroot',
        join(work, 'run'),
        '--storage-driver',
        'vfs',
        'push',
        '--tls-verify=false',
        '--creds',
        `${berth.accessKeyId}:wrong`,
        'berth-built:1',
        `docker://${berth.host}/built/denied:1`,
      ],
      opts(),
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unauthorized|authentication required|401/i);
    const tags = await fetch(`${berth.url}/v2/built/denied/tags/list`, { headers: { authorization: berth.authHeader } });
    assert.equal(tags.status, 404);
  });
});
