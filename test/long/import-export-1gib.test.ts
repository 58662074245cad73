// Long (not in `npm test`; `npm run test:long`): `berth import` of a docker save–style archive with a 1 GiB layer
// into a stopped data directory (the command then runs the server in its own process, so one process holds both
// the client and the server), and `berth export` of it: the process's peak memory stays flat (well under the
// layer's size), and the layer reads back with its digest.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack as tarPack } from 'tar-stream';
import { generatedBlob, sampleMemory, getAndHash, type MemoryReport } from '../helpers/http.ts';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { makeTempDir, removeDir, uniqueName } from '../helpers/tools.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const GiB = 1024 * 1024 * 1024;
/** Peak resident memory allowed to the one process that reads the archive and runs the server. */
const LIMIT_MIB = 300;

/** A docker save archive: layer first (hashed as it is written), then its config and manifest.json. */
async function writeArchive(file: string, repoTag: string): Promise<{ diffId: string; configDigest: string }> {
  const blob = generatedBlob(GiB, 'import-1gib');
  // The layer is a real tar holding one 1 GiB file; its digest (the diff id) is taken as it streams out.
  const layer = tarPack();
  const layerHash = createHash('sha256');
  let layerSize = 0;
  const layerBytes = new PassThrough();
  const hashing = new Transform({
    transform(c: Buffer, _e, done) {
      layerHash.update(c);
      layerSize += c.length;
      done(null, c);
    },
  });
  const layerDone = pipeline(layer, hashing, layerBytes);
  const entry = layer.entry({ name: 'big.bin', size: blob.size, mode: 0o644, mtime: new Date(0) });
  const fileDone = pipeline(blob.stream(), entry).then(() => layer.finalize());
  // The tar's size is known in advance: header, data padded to 512, two zero blocks, padded to 10240 (tar-stream: no record padding).
  const expectedLayerSize = 512 + Math.ceil(blob.size / 512) * 512 + 1024;
  const outer = tarPack();
  const out = pipeline(outer, createWriteStream(file));
  await new Promise<void>((resolve, reject) => {
    const e = outer.entry({ name: 'layer/layer.tar', size: expectedLayerSize, mtime: new Date(0) }, (err) =>
      err ? reject(err) : resolve(),
    );
    pipeline(layerBytes, e).catch(reject);
  });
  await Promise.all([layerDone, fileDone]);
  assert.equal(layerSize, expectedLayerSize);
  const diffId = 'sha256:' + layerHash.digest('hex');
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created: '2024-01-01T00:00:00Z', created_by: 'berth long test' }],
    }),
  );
  const configDigest = 'sha256:' + createHash('sha256').update(config).digest('hex');
  outer.entry({ name: `${configDigest.slice(7)}.json`, mtime: new Date(0) }, config);
  outer.entry(
    { name: 'manifest.json', mtime: new Date(0) },
    JSON.stringify([{ Config: `${configDigest.slice(7)}.json`, RepoTags: [repoTag], Layers: ['layer/layer.tar'] }]),
  );
  outer.finalize();
  await out;
  return { diffId, configDigest };
}

/** Runs `berth ARGS` on the data dir, sampling its memory; resolves with its exit code and peak memory. */
function berthMeasured(
  dataDir: string,
  keys: { id: string; secret: string },
  args: string[],
): Promise<{ code: number | null; memory: MemoryReport; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'berth.js'), ...args], {
      cwd: root,
      env: {
        ...process.env,
        BERTH_DATA_DIR: dataDir,
        BERTH_ROOT_ACCESS_KEY_ID: keys.id,
        BERTH_ROOT_SECRET_ACCESS_KEY: keys.secret,
        BERTH_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const sampler = sampleMemory(child.pid!, 50);
    let last: MemoryReport = sampler.peek();
    const peek = setInterval(() => {
      last = sampler.peek();
    }, 200);
    child.once('exit', (code) => {
      clearInterval(peek);
      sampler.stop();
      resolve({ code, memory: last, output });
    });
  });
}

describe('import and export of a 1 GiB layer', () => {
  let work: string;
  let dataDir: string;
  let berth: Berth | undefined;
  const keys = { id: 'AKIATESTROOT00000001', secret: 'long-test-secret' };
  const repo = `long/${uniqueName('big')}`;
  let diffId: string;

  before(async () => {
    work = makeTempDir('berth-long-1gib-');
    dataDir = join(work, 'data');
    mkdirSync(dataDir);
    ({ diffId } = await writeArchive(join(work, 'big.tar'), `registry.example/${repo}:1`));
  });

  after(async () => {
    await berth?.cleanup();
    removeDir(work);
  });

  it('berth import keeps its memory flat', async (t) => {
    const r = await berthMeasured(dataDir, keys, ['import', join(work, 'big.tar')]);
    t.diagnostic(`berth import: peak RSS ${r.memory.hwmMiB.toFixed(1)} MiB`);
    assert.equal(r.code, 0, r.output);
    assert.ok(r.memory.hwmMiB < LIMIT_MIB, `berth import peak RSS ${r.memory.hwmMiB.toFixed(1)} MiB >= ${LIMIT_MIB} MiB`);
    berth = await startBerth({ dataDir, accessKeyId: keys.id, secretAccessKey: keys.secret, removeDataDir: false });
    const back = await getAndHash(`${berth.url}/v2/${repo}/blobs/${diffId}`, berth.authHeader);
    assert.equal(back.status, 200);
    assert.equal(back.digest, diffId);
    await berth.stop();
    berth = undefined;
  });

  it('berth export keeps its memory flat', async (t) => {
    const out = join(work, 'export.tar');
    const r = await berthMeasured(dataDir, keys, ['export', `${repo}:1`, '-o', out]);
    t.diagnostic(`berth export: peak RSS ${r.memory.hwmMiB.toFixed(1)} MiB`);
    assert.equal(r.code, 0, r.output);
    assert.ok(r.memory.hwmMiB < LIMIT_MIB, `berth export peak RSS ${r.memory.hwmMiB.toFixed(1)} MiB >= ${LIMIT_MIB} MiB`);
    assert.ok(statSync(out).size > GiB);
  });
});
