// A fleet of nodes pulling the same image just pushed: many pullers at once, each reading the manifest by tag, then
// the config, then the layers a few at a time, as containerd does (its default max_concurrent_downloads is 3).
// Twice: with every puller of the fleet on a warm page cache right after the push, then fewer pullers after the
// kernel's page cache was dropped (only when the benchmark runs as root; otherwise the run says so and the "cold"
// figures are warm ones). The warm pull is also run, in the same round, against the floor (lib/floor.ts: a registry
// that only holds the image in memory) in a process of its own: what the load generator and loopback allow on this
// machine, a bound no registry can pass.
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { smallBlob, type Blob } from '../lib/data.ts';
import { download, expectStatus, newAgent, pool, send, type Target } from '../lib/http.ts';
import { ROOT } from '../lib/servers.ts';
import { MB, percentile, secondsSince } from '../lib/stats.ts';
import type { Context, Workload } from '../lib/workload.ts';
import { uploadMonolithic } from './blobs.ts';
import { manifestOf, OCI_MANIFEST, putManifest } from './manifests.ts';

const REPO = 'bench/fleet';
/** Layers one puller downloads at once (containerd's and docker's default). */
const LAYERS_AT_ONCE = 3;

interface FleetImage {
  config: Blob;
  layers: Blob[];
}

/** Whether the last cold run could drop the page cache (undefined: no cold run yet). */
export let cachesDropped: boolean | undefined;

/** Drops the kernel's page cache (dirty pages written first). False when not allowed (not root, or a container). */
function dropCaches(): boolean {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

function fleetImage(ctx: Context): FleetImage {
  const s = ctx.sizes;
  const layers = Array.from({ length: s.fleetLayers }, (_, i) => ctx.blobs.fleetLayer(i));
  const config = smallBlob(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Labels: { bench: `fleet-${ctx.round}` } },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      }),
    ),
  );
  return { config, layers };
}

/** One puller: the manifest by tag, the config, then the layers LAYERS_AT_ONCE at a time. Returns the bytes read. */
async function pull(t: Target, image: FleetImage): Promise<number> {
  const m = expectStatus(await send(t, 'GET', `/v2/${REPO}/manifests/latest`, { Accept: OCI_MANIFEST }), 200, 'GET fleet manifest');
  let bytes = m.body.length;
  const config = await download(t, `/v2/${REPO}/blobs/${image.config.digest}`);
  bytes += config.bytes;
  await pool(image.layers.length, LAYERS_AT_ONCE, async (i) => {
    const r = await download(t, `/v2/${REPO}/blobs/${image.layers[i].digest}`);
    if (r.bytes !== image.layers[i].size) throw new Error(`fleet pull: ${r.bytes} bytes of a ${image.layers[i].size}-byte layer`);
    bytes += r.bytes;
  });
  return bytes;
}

/** `pullers` pullers at once: aggregate MB/s (every byte read ÷ the time until the last puller is done) and p99 seconds per puller. */
async function fleet(t: Target, image: FleetImage, pullers: number): Promise<{ MBps: number; p99: number }> {
  const times: number[] = [];
  let bytes = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: pullers }, async () => {
      const t0 = process.hrtime.bigint();
      const read = await pull(t, image);
      bytes += read;
      times.push(secondsSince(t0));
    }),
  );
  const seconds = secondsSince(start);
  return { MBps: bytes / MB / seconds, p99: percentile(times, 99) };
}

/** The floor in its own process, the image pushed to it; `stop` kills that process. */
async function floorWithImage(image: FleetImage): Promise<{ target: Target; stop: () => void }> {
  const child = spawn(process.execPath, [join(ROOT, 'bench', 'lib', 'floor-main.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = () => child.kill('SIGTERM');
  try {
    const host = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /floor listening on (\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`the floor exited (${code}) before listening`)));
    });
    const target: Target = { url: `http://${host}`, agent: newAgent() };
    for (const blob of [image.config, ...image.layers]) await uploadMonolithic(target, REPO, blob);
    await putManifest(target, REPO, 'latest', manifestOf(image.config, image.layers));
    return { target, stop };
  } catch (e) {
    stop();
    throw e;
  }
}

export const fleetPull: Workload = {
  name: 'fleet',
  // Blob GETs on S3 are redirects to the store: a fleet pull there measures the store (see --backend pg-s3's get).
  fsOnly: true,
  title:
    'a fleet pulling one just-pushed image of 5 layers at once (manifest, config, then layers 3 at a time): aggregate MB/s and p99 seconds per puller; then fewer pullers on a dropped (cold) page cache',
  setup: async (ctx) => {
    // Pushed in the round (untimed), just before the pulls: the layers are as fresh as a CI push makes them.
    const image = fleetImage(ctx);
    for (const blob of [image.config, ...image.layers]) await uploadMonolithic(ctx.reg, REPO, blob);
    await putManifest(ctx.reg, REPO, 'latest', manifestOf(image.config, image.layers));
    ctx.state.fleetImage = image;
  },
  run: async (ctx) => {
    const image = ctx.state.fleetImage as FleetImage | undefined;
    if (!image) throw new Error('fleet: the image was not pushed');
    const warm = await fleet(ctx.reg, image, ctx.sizes.fleetPullers);
    ctx.log(`fleet: ${ctx.sizes.fleetPullers} pullers, ${warm.MBps.toFixed(0)} MB/s, p99 ${warm.p99.toFixed(2)} s per puller`);
    const floor = await floorWithImage(image);
    let bound: { MBps: number; p99: number };
    try {
      bound = await fleet(floor.target, image, ctx.sizes.fleetPullers);
    } finally {
      floor.stop();
    }
    ctx.log(`fleet: the same against the floor (in memory, its own process): ${bound.MBps.toFixed(0)} MB/s`);
    // A smoke run (as in CI) leaves the machine's page cache alone.
    cachesDropped = ctx.sizes.fleetDropCaches && dropCaches();
    if (!cachesDropped) ctx.log('fleet: the page cache was not dropped (a smoke run, or not root): the cold figures are warm ones');
    const cold = await fleet(ctx.reg, image, ctx.sizes.fleetColdPullers);
    ctx.log(
      `fleet: ${ctx.sizes.fleetColdPullers} pullers on a ${cachesDropped ? 'dropped' : 'NOT dropped'} page cache, ${cold.MBps.toFixed(0)} MB/s, p99 ${cold.p99.toFixed(2)} s per puller`,
    );
    return {
      fleet_MBps: warm.MBps,
      fleet_p99_s: warm.p99,
      fleet_floor_MBps: bound.MBps,
      fleet_cold_MBps: cold.MBps,
      fleet_cold_p99_s: cold.p99,
    };
  },
};
