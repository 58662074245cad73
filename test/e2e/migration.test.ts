// docs/migration.md's loop, run for real between two Berth servers (no registry:2 image can be pulled here, and
// Berth serves the same /v2/ API and catalog): list the source's repositories with the catalog, `skopeo sync --all
// --preserve-digests` each one into the destination under its parent path. Every tag of every repository arrives
// under the same name with the same manifest digest, a multi-platform index with its children, nested names
// (team/app) included; a second run copies nothing new and changes nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { startBerth, type Berth } from '../helpers/berth.ts';
import {
  makeTempDir,
  randomData,
  removeDir,
  requireTool,
  runOk,
  writeOciImage,
  writeOciIndex,
  writeOciLayoutIndex,
  type RunOptions,
} from '../helpers/tools.ts';

let source: Berth;
let dest: Berth;
let work: string;
let env: Record<string, string>;
const creds = (b: Berth) => `${b.accessKeyId}:${b.secretAccessKey}`;
const opts = (): RunOptions => ({ env, timeoutMs: 300_000 });

before(async () => {
  await requireTool('skopeo');
  [source, dest] = await Promise.all([startBerth(), startBerth()]);
  work = makeTempDir('berth-e2e-migration-');
  env = { DOCKER_CONFIG: join(work, 'docker-config'), REGISTRY_AUTH_FILE: join(work, 'auth.json') };
  const layout = join(work, 'layout');
  const a = writeOciImage(layout, { layers: [{ 'a.bin': randomData(200 * 1024) }] });
  const b = writeOciImage(layout, { layers: [{ 'b.bin': randomData(50 * 1024) }, { 'c.txt': Buffer.from('c\n') }] });
  const amd64 = writeOciImage(layout, { architecture: 'amd64', layers: [{ 'arch.txt': Buffer.from('amd64\n') }] });
  const arm64 = writeOciImage(layout, { architecture: 'arm64', layers: [{ 'arch.txt': Buffer.from('arm64\n') }] });
  const index = writeOciIndex(layout, [amd64.descriptor, arm64.descriptor]);
  writeOciLayoutIndex(layout, { a: a.descriptor, b: b.descriptor, multi: index.descriptor });
  const push = (from: string, to: string) =>
    runOk(
      'skopeo',
      ['copy', '--all', '--dest-tls-verify=false', '--dest-creds', creds(source), `oci:${layout}:${from}`, `docker://${source.host}/${to}`],
      opts(),
    );
  for (const [from, to] of [
    ['a', 'team/app:1.0'],
    ['b', 'team/app:1.1'],
    ['a', 'team/app:latest'],
    ['b', 'base:bookworm'],
    ['multi', 'tools/cli/multi:7'],
  ])
    await push(from, to);
});

after(async () => {
  await Promise.all([source?.cleanup(), dest?.cleanup()]);
  removeDir(work);
});

async function catalog(b: Berth): Promise<string[]> {
  const res = await fetch(`${b.url}/v2/_catalog?n=10000`, { headers: { authorization: b.authHeader } });
  assert.equal(res.status, 200);
  return ((await res.json()) as { repositories: string[] }).repositories;
}

/** name:tag → the manifest digest the registry serves for it, over every repository of its catalog. */
async function contents(b: Berth): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const repo of await catalog(b)) {
    const tags = (
      (await (await fetch(`${b.url}/v2/${repo}/tags/list`, { headers: { authorization: b.authHeader } })).json()) as { tags: string[] }
    ).tags;
    for (const tag of tags) {
      const res = await fetch(`${b.url}/v2/${repo}/manifests/${tag}`, {
        headers: {
          authorization: b.authHeader,
          accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json',
        },
      });
      assert.equal(res.status, 200, `${repo}:${tag}`);
      out[`${repo}:${tag}`] = `sha256:${createHash('sha256')
        .update(Buffer.from(await res.arrayBuffer()))
        .digest('hex')}`;
    }
  }
  return out;
}

/** The loop of docs/migration.md ("From distribution"), with the source's catalog. */
async function migrate(): Promise<void> {
  for (const repo of await catalog(source)) {
    const parent = dirname(repo);
    const target = parent === '.' ? dest.host : `${dest.host}/${parent}`;
    await runOk(
      'skopeo',
      [
        'sync',
        '--all',
        '--preserve-digests',
        '--src',
        'docker',
        '--dest',
        'docker',
        '--src-tls-verify=false',
        '--src-creds',
        creds(source),
        '--dest-tls-verify=false',
        '--dest-creds',
        creds(dest),
        `${source.host}/${repo}`,
        target,
      ],
      opts(),
    );
  }
}

test('the catalog and skopeo sync loop copies every tag of every repository, digests unchanged', async () => {
  const before = await contents(source);
  assert.deepEqual(Object.keys(before).sort(), ['base:bookworm', 'team/app:1.0', 'team/app:1.1', 'team/app:latest', 'tools/cli/multi:7']);
  await migrate();
  assert.deepEqual(await contents(dest), before);
  // The index's children came along: each platform's manifest is served by digest.
  const index = (await (
    await fetch(`${dest.url}/v2/tools/cli/multi/manifests/7`, {
      headers: { authorization: dest.authHeader, accept: 'application/vnd.oci.image.index.v1+json' },
    })
  ).json()) as { manifests: { digest: string }[] };
  assert.equal(index.manifests.length, 2);
  for (const m of index.manifests)
    assert.equal(
      (await fetch(`${dest.url}/v2/tools/cli/multi/manifests/${m.digest}`, { method: 'HEAD', headers: { authorization: dest.authHeader } }))
        .status,
      200,
    );
});

test('run again, it changes nothing', async () => {
  const first = await contents(dest);
  await migrate();
  assert.deepEqual(await contents(dest), first);
});
