// Manifests: a small image whose manifest (by tag) and layer (HEAD) are asked for under load, many manifest PUTs
// (each unique by an annotation, each under its own tag), and tags/list over those tags.
import { smallBlob, type Blob } from '../lib/data.ts';
import { expectStatus, headersFor, nextLink, pool, send, type Target } from '../lib/http.ts';
import { load, type LoadResult } from '../lib/load.ts';
import { median, secondsSince } from '../lib/stats.ts';
import type { Context, Workload } from '../lib/workload.ts';
import { uploadMonolithic } from './blobs.ts';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

const SMALL_REPO = 'bench/small';
const TAGS_REPO = 'bench/tags';

const configBlob = (label: string) =>
  smallBlob(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Labels: { bench: label } },
        rootfs: { type: 'layers', diff_ids: [] },
      }),
    ),
  );

export function manifestOf(config: Blob, layers: Blob[], annotations?: Record<string, string>): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: OCI_LAYER, digest: l.digest, size: l.size })),
      ...(annotations ? { annotations } : {}),
    }),
  );
}

export async function putManifest(t: Target, repo: string, ref: string, body: Buffer): Promise<void> {
  expectStatus(
    await send(t, 'PUT', `/v2/${repo}/manifests/${ref}`, { 'Content-Type': OCI_MANIFEST }, body),
    201,
    `PUT manifest ${repo}:${ref}`,
  );
}

/** The small image: a config, a 1 MiB layer, a manifest tagged "latest". */
async function ensureSmallImage(ctx: Context): Promise<{ layer: Blob }> {
  const layer = ctx.blobs.smallLayer;
  if (!ctx.state.smallImage) {
    const config = configBlob('small');
    await uploadMonolithic(ctx.reg, SMALL_REPO, config);
    await uploadMonolithic(ctx.reg, SMALL_REPO, layer);
    await putManifest(ctx.reg, SMALL_REPO, 'latest', manifestOf(config, [layer]));
    ctx.state.smallImage = true;
  }
  return { layer };
}

function checkLoad(what: string, r: LoadResult): LoadResult {
  if (r.requests === 0) throw new Error(`${what}: no request completed`);
  if (r.badStatus > 0) throw new Error(`${what}: ${r.badStatus} of ${r.requests} answers were not 2xx/3xx`);
  if (r.socketErrors > r.requests * 0.01) throw new Error(`${what}: ${r.socketErrors} socket errors for ${r.requests} requests`);
  return r;
}

export const manifestGet: Workload = {
  name: 'manifest-get',
  title: 'manifest GET by tag under load (wrk): requests/s and p99',
  setup: async (ctx) => {
    await ensureSmallImage(ctx);
    const r = await send(ctx.reg, 'GET', `/v2/${SMALL_REPO}/manifests/latest`, { Accept: OCI_MANIFEST });
    expectStatus(r, 200, 'GET manifest before the load');
  },
  run: async (ctx) => {
    const r = checkLoad(
      'manifest GET',
      await load({
        url: `${ctx.reg.url}/v2/${SMALL_REPO}/manifests/latest`,
        method: 'GET',
        headers: headersFor(ctx.reg, { Accept: OCI_MANIFEST }),
        connections: ctx.sizes.connections,
        seconds: ctx.sizes.loadSeconds,
      }),
    );
    ctx.log(
      `manifest GET: ${r.requests} requests in ${r.seconds.toFixed(1)} s (${r.tool}), p50 ${r.p50Ms.toFixed(2)} ms, max ${r.maxMs.toFixed(1)} ms`,
    );
    return { manifest_get_rps: r.rps, manifest_get_p99_ms: r.p99Ms };
  },
};

export const blobHead: Workload = {
  name: 'blob-head',
  title: 'blob HEAD under load (a minimal Node load generator, as wrk cannot do HEAD): requests/s and p99',
  setup: async (ctx) => {
    const { layer } = await ensureSmallImage(ctx);
    const r = await send(ctx.reg, 'HEAD', `/v2/${SMALL_REPO}/blobs/${layer.digest}`);
    // Distribution on S3 redirects a HEAD to the store as it does a GET (the load counts 3xx as answers).
    expectStatus(r, ctx.reg.kind === 'distribution' && ctx.reg.s3 ? 307 : 200, 'HEAD blob before the load');
  },
  run: async (ctx) => {
    const r = checkLoad(
      'blob HEAD',
      await load({
        url: `${ctx.reg.url}/v2/${SMALL_REPO}/blobs/${ctx.blobs.smallLayer.digest}`,
        method: 'HEAD',
        headers: headersFor(ctx.reg, {}),
        connections: ctx.sizes.connections,
        seconds: ctx.sizes.loadSeconds,
      }),
    );
    ctx.log(
      `blob HEAD: ${r.requests} requests in ${r.seconds.toFixed(1)} s (${r.tool}), p50 ${r.p50Ms.toFixed(2)} ms, max ${r.maxMs.toFixed(1)} ms`,
    );
    return { blob_head_rps: r.rps, blob_head_p99_ms: r.p99Ms };
  },
};

const tagOf = (i: number) => `t${String(i).padStart(5, '0')}`;

/** The config and layer every tagged manifest references. */
async function ensureTagBlobs(ctx: Context): Promise<{ config: Blob; layer: Blob }> {
  const config = configBlob('tags');
  const layer = smallBlob(Buffer.from('a tiny layer for the manifest PUT benchmark\n'));
  if (!ctx.state.tagBlobs) {
    await uploadMonolithic(ctx.reg, TAGS_REPO, config);
    await uploadMonolithic(ctx.reg, TAGS_REPO, layer);
    ctx.state.tagBlobs = true;
  }
  return { config, layer };
}

async function putTaggedManifests(ctx: Context, config: Blob, layer: Blob): Promise<void> {
  const nonce = `${Date.now()}-${process.pid}`;
  await pool(ctx.sizes.manifestPuts, ctx.sizes.putConcurrency, (i) =>
    putManifest(
      ctx.reg,
      TAGS_REPO,
      tagOf(i),
      manifestOf(config, [layer], { 'org.example.bench.index': String(i), 'org.example.bench.run': nonce }),
    ),
  );
  ctx.state.tagged = true;
}

export const manifestPut: Workload = {
  name: 'manifest-put',
  title: 'manifest PUTs, each unique and under its own tag, several in flight',
  setup: async (ctx) => {
    await ensureTagBlobs(ctx);
  },
  run: async (ctx) => {
    if (ctx.state.tagged) throw new Error('manifest-put runs once per registry instance');
    const { config, layer } = await ensureTagBlobs(ctx);
    const t0 = process.hrtime.bigint();
    await putTaggedManifests(ctx, config, layer);
    return { manifest_put_per_s: ctx.sizes.manifestPuts / secondsSince(t0) };
  },
};

/** Every tag of the repository, following the Link header page after page. */
async function walkTags(t: Target, repo: string): Promise<number> {
  let path: string | undefined = `/v2/${repo}/tags/list`;
  let count = 0;
  while (path) {
    const r = expectStatus(await send(t, 'GET', path), 200, `GET ${path}`);
    count += (JSON.parse(r.body.toString('utf8')) as { tags?: string[] }).tags?.length ?? 0;
    path = nextLink(r);
  }
  return count;
}

export const tagsList: Workload = {
  name: 'tags-list',
  title: 'tags/list over the tags the manifest PUTs made, walked again and again by one client',
  setup: async (ctx) => {
    if (!ctx.state.tagged) {
      const { config, layer } = await ensureTagBlobs(ctx);
      await putTaggedManifests(ctx, config, layer);
    }
    const count = await walkTags(ctx.reg, TAGS_REPO);
    if (count !== ctx.sizes.manifestPuts) throw new Error(`tags/list: ${count} tags, expected ${ctx.sizes.manifestPuts}`);
  },
  run: async (ctx) => {
    const latencies: number[] = [];
    const t0 = process.hrtime.bigint();
    while (secondsSince(t0) < ctx.sizes.tagsListSeconds || latencies.length < 5) {
      const t1 = process.hrtime.bigint();
      await walkTags(ctx.reg, TAGS_REPO);
      latencies.push(secondsSince(t1) * 1000);
    }
    return { tags_list_per_s: latencies.length / secondsSince(t0), tags_list_p50_ms: median(latencies) };
  },
};
