// `berth backup --to DIR` over a running embedded registry, pushes going on while it copies: the backup is a data
// directory on which a new server starts and serves every image pushed before the backup began, byte for byte, with
// the same root key and account; `berth fsck` finds nothing wrong in it. A second backup into the same DIR copies only
// the new blobs. Refused for a registry on PostgreSQL or S3, and into the data directory itself.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeRegistryCommand } from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient } from '../helpers/ecr.ts';
import { getAndHash, MANIFEST_TYPE, pushImage, req, sha256, show } from '../helpers/http.ts';
import { berthRun } from '../helpers/policies.ts';
import { describeResult, parseJson } from '../helpers/tools.ts';

let source: Berth;
let restored: Berth | undefined;
let dir: string;
const images: { repo: string; tag: string; digest: string; layer: Buffer }[] = [];

before(async () => {
  source = await startBerth();
  dir = mkdtempSync(join(tmpdir(), 'berth-backup-'));
});
after(async () => {
  await restored?.cleanup();
  await source?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function push(b: Berth, repo: string, tag: string): Promise<void> {
  const layer = Buffer.from(`${repo}:${tag} `.repeat(20_000));
  const image = await pushImage(b, repo, tag, { layer });
  images.push({ repo, tag, digest: image.digest, layer });
}

async function backupTo(to: string): Promise<any> {
  const r = await berthRun(source, ['backup', '--to', to], 120_000);
  assert.equal(r.code, 0, describeResult(r));
  return parseJson(r.stdout, 'berth backup');
}

test('a backup of a running registry, taken while pushes go on, is a data dir a new server serves', async () => {
  for (let i = 0; i < 4; i++) await push(source, `team/app${i % 2}`, `v${i}`);
  const before = images.length;
  const target = join(dir, 'b1');
  // Pushes while the backup runs: the server is not stopped.
  let pushing = true;
  const during = (async () => {
    for (let i = 0; pushing && i < 20; i++) await push(source, 'team/during', `d${i}`);
  })();
  const report = await backupTo(target);
  pushing = false;
  await during;
  assert.equal(report.to, target);
  // A layer per image pushed before (each its own bytes) and their config(s), and what the pushes meanwhile added.
  assert.ok(report.blobs.total >= before + 1, `blobs recorded: ${JSON.stringify(report.blobs)}`);
  assert.equal(report.blobs.alreadyThere, 0);
  assert.deepEqual(report.keys, ['secret.key'], 'the root key comes from the configuration here; the secret key is copied');
  assert.ok(existsSync(join(target, 'meta.db')) && !existsSync(join(target, 'meta.db.partial')));
  assert.equal(statSync(target).mode & 0o777, 0o700);

  restored = await startBerth({
    dataDir: join(dir, 'b1'),
    accessKeyId: source.accessKeyId,
    secretAccessKey: source.secretAccessKey,
    removeDataDir: false,
  });
  for (const image of images.slice(0, before)) {
    const got = await req(restored, 'GET', `/v2/${image.repo}/manifests/${image.tag}`, { headers: { Accept: MANIFEST_TYPE } });
    assert.equal(got.status, 200, show(got));
    assert.equal(sha256(got.body), image.digest, `${image.repo}:${image.tag}`);
    const layer = await getAndHash(`${restored.url}/v2/${image.repo}/blobs/${sha256(image.layer)}`, restored.authHeader);
    assert.equal(layer.status, 200);
    assert.equal(layer.digest, sha256(image.layer));
  }
  const account = async (b: Berth) => (await ecrClient(b).send(new DescribeRegistryCommand({}))).registryId;
  assert.equal(await account(restored), await account(source), 'the same account, reached with the same root key');
  const fsck = await fetch(`${restored.url}/_berth/admin/fsck`, {
    method: 'POST',
    headers: { authorization: restored.authHeader, 'content-type': 'application/json' },
    body: '{}',
  });
  const fsckReport = (await fsck.json()) as Record<string, unknown>;
  assert.equal(fsck.status, 200, JSON.stringify(fsckReport));
  assert.deepEqual(fsckReport.problems, [], 'fsck finds no damage');
  assert.deepEqual(fsckReport.unrecorded, [], 'nor a blob file no record names');
  await restored.stop();
  restored = undefined;
});

test('a second backup into the same directory copies only the new blobs', async () => {
  const target = join(dir, 'b2');
  const first = await backupTo(target);
  await push(source, 'team/later', 'v1');
  const second = await backupTo(target);
  assert.equal(second.blobs.alreadyThere, first.blobs.total);
  // The new layer (and the config, unless an earlier image had the same one).
  assert.ok(second.blobs.copied >= 1 && second.blobs.copied <= 2, JSON.stringify(second.blobs));
  assert.ok(second.blobs.bytesCopied >= images[images.length - 1].layer.length, JSON.stringify(second.blobs));
});

test('refused into the data directory, and for a registry whose metadata is not embedded', async () => {
  const inside = await berthRun(source, ['backup', '--to', join(source.dataDir, 'backup')]);
  assert.equal(inside.code, 2, describeResult(inside));
  assert.match(inside.stderr, /must be outside the data directory/);
  const pg = await berthRun(source, ['backup', '--to', join(dir, 'b3')], 60_000, {
    BERTH_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
  });
  assert.equal(pg.code, 2, describeResult(pg));
  assert.match(pg.stderr, /pg_dump/);
  const none = await berthRun(source, ['backup']);
  assert.equal(none.code, 2);
});
