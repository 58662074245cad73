// End to end with the real skopeo: inspect (parsed and raw), list-tags, copy between repositories (cross-repository
// mount), delete, and a multi-architecture OCI index pushed with `copy --all` from an OCI layout written by hand,
// then copied back. Needs skopeo: without it the suite fails (it never skips).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startBerth, type Berth } from '../helpers/berth.ts';
import {
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
  writeOciImage,
  writeOciIndex,
  writeOciLayoutIndex,
  OCI_INDEX,
  OCI_MANIFEST,
  type BuiltImage,
  type Descriptor,
  type RunOptions,
} from '../helpers/tools.ts';

describe('skopeo against Berth', () => {
  let berth: Berth;
  let work: string;
  let layout: string;
  let creds: string;
  let env: Record<string, string>;
  let single: BuiltImage;
  let other: BuiltImage;
  let amd64: BuiltImage;
  let arm64: BuiltImage;
  let index: { index: Buffer; descriptor: Descriptor };
  const repoA = `e2e/${uniqueName('skopeo-a')}`;
  const repoB = `e2e/${uniqueName('skopeo-b')}`;
  const repoMulti = `e2e/${uniqueName('skopeo-multi')}`;

  const ref = (repoAndTag: string) => `docker://${berth.host}/${repoAndTag}`;
  const opts = (): RunOptions => ({ env });
  /** skopeo with credentials and plain HTTP, for the commands that take --tls-verify/--creds. */
  const skopeo = (cmd: string, args: string[]) => runOk('skopeo', [cmd, '--tls-verify=false', '--creds', creds, ...args], opts());
  const copy = (args: string[]) =>
    runOk(
      'skopeo',
      ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--src-creds', creds, '--dest-creds', creds, ...args],
      opts(),
    );
  const inspect = async (target: string, extra: string[] = []) =>
    parseJson((await skopeo('inspect', [...extra, target])).stdout, `skopeo inspect ${target}`);
  const inspectRaw = async (target: string) => (await skopeo('inspect', ['--raw', target])).stdout;
  const listTags = async (repo: string): Promise<string[]> =>
    parseJson<{ Tags: string[] }>((await skopeo('list-tags', [ref(repo)])).stdout, 'skopeo list-tags')
      .Tags.slice()
      .sort();

  before(async () => {
    await requireTool('skopeo');
    berth = await startBerth();
    work = makeTempDir('berth-e2e-skopeo-');
    // Never read nor write the machine's own credentials: only the --creds given here are used.
    env = { DOCKER_CONFIG: join(work, 'docker-config'), REGISTRY_AUTH_FILE: join(work, 'auth.json') };
    creds = `${berth.accessKeyId}:${berth.secretAccessKey}`;

    layout = join(work, 'layout');
    single = writeOciImage(layout, {
      layers: [
        { 'data/base.bin': randomData(256 * 1024), 'data/base.txt': Buffer.from('base\n') },
        { 'data/app.bin': randomData(10 * 1024 + 7) },
      ],
    });
    other = writeOciImage(layout, { layers: [{ 'data/other.bin': randomData(4096) }] });
    amd64 = writeOciImage(layout, { architecture: 'amd64', layers: [{ 'arch.txt': Buffer.from('amd64\n'), 'x.bin': randomData(3000) }] });
    arm64 = writeOciImage(layout, { architecture: 'arm64', layers: [{ 'arch.txt': Buffer.from('arm64\n'), 'x.bin': randomData(3000) }] });
    index = writeOciIndex(layout, [amd64.descriptor, arm64.descriptor]);
    writeOciLayoutIndex(layout, {
      single: single.descriptor,
      other: other.descriptor,
      multi: index.descriptor,
    });
  });

  after(async () => {
    await berth?.cleanup();
    removeDir(work);
  });

  it('refuses to inspect without credentials', async () => {
    await copy([`oci:${layout}:single`, ref(`${repoA}:v1`)]);
    const r = await runFails('skopeo', ['inspect', '--tls-verify=false', '--no-creds', ref(`${repoA}:v1`)], opts());
    assert.match(r.stderr, /unauthorized|authentication required|401/i);
    const wrong = await runFails(
      'skopeo',
      ['inspect', '--tls-verify=false', '--creds', `${berth.accessKeyId}:wrong-secret`, ref(`${repoA}:v1`)],
      opts(),
    );
    assert.match(wrong.stderr, /unauthorized|authentication required|401/i);
  });

  it('reports an unknown repository and an unknown tag as such', async () => {
    const missing = `e2e/${uniqueName('missing')}`;
    const noRepo = await runFails('skopeo', ['list-tags', '--tls-verify=false', '--creds', creds, ref(missing)], opts());
    // skopeo 1.9 prints only the status of a failed tags list, not the error body, so read that body too.
    assert.match(noRepo.stderr, /404|name unknown|repository name not known/i);
    const res = await fetch(`${berth.url}/v2/${missing}/tags/list`, { headers: { authorization: berth.authHeader } });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { errors: { code: string }[] }).errors[0].code, 'NAME_UNKNOWN');
    const noTag = await runFails('skopeo', ['inspect', '--tls-verify=false', '--creds', creds, ref(`${repoA}:no-such-tag`)], opts());
    assert.match(noTag.stderr, /manifest unknown/i);
  });

  it('pushes an image from an OCI layout without changing its manifest', async () => {
    const raw = await inspectRaw(ref(`${repoA}:v1`));
    assert.equal(raw, single.manifest.toString(), 'the registry returns the manifest bytes that were pushed');
    const info = await inspect(ref(`${repoA}:v1`));
    assert.equal(info.Name, `${berth.host}/${repoA}`);
    assert.equal(info.Digest, single.descriptor.digest);
    assert.equal(info.Architecture, 'amd64');
    assert.equal(info.Os, 'linux');
    assert.deepEqual(
      info.Layers,
      single.layers.map((l) => l.digest),
    );
    assert.deepEqual(info.RepoTags, ['v1']);
    const config = (await skopeo('inspect', ['--config', '--raw', ref(`${repoA}:v1`)])).stdout;
    assert.equal(sha256(config), single.config.digest);
    assert.deepEqual(parseJson(config).rootfs.diff_ids, single.diffIds);
  });

  it('lists tags', async () => {
    await copy([ref(`${repoA}:v1`), ref(`${repoA}:v2`)]);
    await copy([ref(`${repoA}:v1`), ref(`${repoA}:latest`)]);
    await copy([`oci:${layout}:other`, ref(`${repoA}:other`)]);
    assert.deepEqual(await listTags(repoA), ['latest', 'other', 'v1', 'v2']);
    assert.equal((await inspect(ref(`${repoA}:v2`))).Digest, single.descriptor.digest);
    assert.equal((await inspect(ref(`${repoA}:other`))).Digest, other.descriptor.digest);
  });

  it('copies between two repositories by mounting blobs across them', async () => {
    for (const layer of single.layers) {
      const res = await fetch(`${berth.url}/v2/${repoB}/blobs/${layer.digest}`, {
        method: 'HEAD',
        headers: { authorization: berth.authHeader },
      });
      assert.equal(res.status, 404, 'the blob is not in the second repository before the copy');
    }
    const r = await copy(['--debug', ref(`${repoA}:v1`), ref(`${repoB}:v1`)]);
    const log = r.stdout + r.stderr;
    // skopeo knows from its blob info cache that it pushed these layers to the first repository, so it asks
    // Berth to mount them (POST .../blobs/uploads/?from=A&mount=DIGEST) instead of uploading them again.
    for (const layer of single.layers) {
      const digest = layer.digest.replace(':', '(:|%3A)');
      assert.match(
        log,
        new RegExp(`POST [^ "]*/v2/${repoB}/blobs/uploads/\\?[^ "]*mount=${digest}`),
        `skopeo asked to mount ${layer.digest}:\n${log}`,
      );
      assert.doesNotMatch(
        log,
        new RegExp(`PUT [^ "]*/v2/${repoB}/blobs/uploads/[^ "]*digest=${digest}`),
        `${layer.digest} was mounted, not uploaded again:\n${log}`,
      );
    }
    const mounted = log.match(/\.\.\. mount OK/g) ?? [];
    assert.ok(mounted.length >= single.layers.length, `Berth answered each mount with 201 Created:\n${log}`);
    assert.equal(await inspectRaw(ref(`${repoB}:v1`)), single.manifest.toString());
    for (const layer of single.layers) {
      const res = await fetch(`${berth.url}/v2/${repoB}/blobs/${layer.digest}`, { headers: { authorization: berth.authHeader } });
      assert.equal(res.status, 200);
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), layer.digest);
    }
  });

  it('deletes an image by tag: its tags go, other images stay', async () => {
    await runOk('skopeo', ['delete', '--tls-verify=false', '--creds', creds, ref(`${repoA}:v2`)], opts());
    // The manifest is gone, so every tag that pointed at it is gone with it.
    for (const tag of ['v1', 'v2', 'latest']) {
      const r = await runFails('skopeo', ['inspect', '--tls-verify=false', '--creds', creds, ref(`${repoA}:${tag}`)], opts());
      assert.match(r.stderr, /manifest unknown|not found/i, `inspect ${tag} after delete`);
    }
    const byDigest = await run(
      'skopeo',
      ['inspect', '--raw', '--tls-verify=false', '--creds', creds, ref(`${repoA}@${single.descriptor.digest}`)],
      opts(),
    );
    assert.notEqual(byDigest.code, 0, 'the manifest is gone by digest too');
    assert.deepEqual(await listTags(repoA), ['other']);
    assert.equal((await inspect(ref(`${repoA}:other`))).Digest, other.descriptor.digest);
    // The copy in the second repository is untouched.
    assert.equal(await inspectRaw(ref(`${repoB}:v1`)), single.manifest.toString());
  });

  it('pushes a multi-architecture OCI index with copy --all', async () => {
    await copy(['--all', `oci:${layout}:multi`, ref(`${repoMulti}:v1`)]);
    const raw = await inspectRaw(ref(`${repoMulti}:v1`));
    assert.equal(raw, index.index.toString(), 'the index comes back byte for byte');
    const parsed = parseJson(raw, 'index');
    assert.equal(parsed.mediaType, OCI_INDEX);
    assert.deepEqual(
      parsed.manifests.map((m: Descriptor) => m.platform!.architecture),
      ['amd64', 'arm64'],
    );
    for (const child of [amd64, arm64]) {
      const childRaw = await inspectRaw(ref(`${repoMulti}@${child.descriptor.digest}`));
      assert.equal(childRaw, child.manifest.toString(), `child ${child.descriptor.platform!.architecture} by digest`);
      assert.equal(parseJson(childRaw).mediaType, OCI_MANIFEST);
    }
    // skopeo resolves the index to the platform asked for.
    for (const [arch, child] of [
      ['amd64', amd64],
      ['arm64', arm64],
    ] as const) {
      const info = await inspect(ref(`${repoMulti}:v1`), ['--override-arch', arch, '--override-os', 'linux']);
      assert.equal(info.Architecture, arch);
      assert.deepEqual(
        info.Layers,
        child.layers.map((l) => l.digest),
      );
    }
    assert.deepEqual(await listTags(repoMulti), ['v1']);
  });

  it('copies the index back with copy --all and keeps every digest', async () => {
    const out = join(work, 'copied-back');
    await copy(['--all', ref(`${repoMulti}:v1`), `dir:${out}`]);
    assert.equal(sha256(readFileSync(join(out, 'manifest.json'))), index.descriptor.digest);
    const names = readdirSync(out);
    for (const child of [amd64, arm64]) {
      const hex = child.descriptor.digest.slice('sha256:'.length);
      const file = join(out, `${hex}.manifest.json`);
      assert.ok(existsSync(file), `child manifest ${hex} copied (files: ${names.join(', ')})`);
      assert.equal(sha256(readFileSync(file)), child.descriptor.digest);
      for (const blob of [child.config, ...child.layers]) {
        const path = join(out, blob.digest.slice('sha256:'.length));
        assert.ok(existsSync(path), `blob ${blob.digest} copied`);
        assert.equal(sha256(readFileSync(path)), blob.digest);
      }
    }

    // And into an OCI layout: its index.json points at the very same index.
    const outLayout = join(work, 'copied-back-oci');
    await copy(['--all', ref(`${repoMulti}:v1`), `oci:${outLayout}:v1`]);
    const layoutIndex = parseJson(readFileSync(join(outLayout, 'index.json'), 'utf8'), 'index.json');
    assert.equal(layoutIndex.manifests.length, 1);
    assert.equal(layoutIndex.manifests[0].digest, index.descriptor.digest);
  });
});
