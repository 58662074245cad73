// Blob uploads and downloads over the OCI API: monolithic (POST, then PUT ?digest= with the body streamed),
// chunked (PATCHes with Content-Range), GET (the client only counts bytes) and many uploads at once.
import type { Blob } from '../lib/data.ts';
import { download, expectStatus, location, newAgent, pool, send, withDigest, type Target } from '../lib/http.ts';
import { MB, median, secondsSince } from '../lib/stats.ts';
import type { Context, Workload } from '../lib/workload.ts';
import { durableWriteMBps, fileServeMBps, loopbackMBps } from './machine.ts';

const OCTETS = 'application/octet-stream';
const MONO_REPO = 'bench/monolithic';

/** POST, then PUT ?digest= with the whole blob as the body. Returns the seconds from the last byte sent to the 201. */
export async function uploadMonolithic(t: Target, repo: string, blob: Blob): Promise<number> {
  const post = expectStatus(await send(t, 'POST', `/v2/${repo}/blobs/uploads/`), 202, `POST upload to ${repo}`);
  const put = await send(
    t,
    'PUT',
    withDigest(location(t, post, 'POST upload'), blob.digest),
    { 'Content-Type': OCTETS, 'Content-Length': blob.size },
    blob.pieces(),
  );
  expectStatus(put, 201, `PUT ${blob.size} bytes to ${repo}`);
  if (put.headers['docker-content-digest'] !== blob.digest) {
    throw new Error(`PUT ${repo}: Docker-Content-Digest ${String(put.headers['docker-content-digest'])}, expected ${blob.digest}`);
  }
  return put.afterBody;
}

/**
 * POST, PATCH chunk by chunk (each with Content-Range, following the Location each answer gives), PUT ?digest=.
 * Returns the seconds spent waiting for answers after each body was sent (the PATCHes' and the PUT's, summed).
 */
export async function uploadChunked(t: Target, repo: string, blob: Blob, chunk: number): Promise<number> {
  let waited = 0;
  const post = expectStatus(await send(t, 'POST', `/v2/${repo}/blobs/uploads/`), 202, `POST upload to ${repo}`);
  let loc = location(t, post, 'POST upload');
  for (let start = 0; start < blob.size; start += chunk) {
    const end = Math.min(start + chunk, blob.size);
    const patch = await send(
      t,
      'PATCH',
      loc,
      {
        'Content-Type': OCTETS,
        'Content-Length': end - start,
        'Content-Range': `${start}-${end - 1}`,
      },
      blob.pieces(start, end),
    );
    expectStatus(patch, 202, `PATCH ${start}-${end - 1} to ${repo}`);
    waited += patch.afterBody;
    loc = location(t, patch, 'PATCH');
  }
  const put = await send(t, 'PUT', withDigest(loc, blob.digest), { 'Content-Length': 0 });
  expectStatus(put, 201, `PUT (complete chunked upload) to ${repo}`);
  return waited + put.afterBody;
}

const mbps = (bytes: number, seconds: number) => bytes / MB / seconds;

export const monolithic: Workload = {
  name: 'monolithic',
  title: 'monolithic upload of one blob (POST, then PUT ?digest= with the body streamed)',
  run: async (ctx: Context) => {
    const blob = ctx.blobs.monolithic;
    const t0 = process.hrtime.bigint();
    const afterBody = await uploadMonolithic(ctx.reg, MONO_REPO, blob);
    const s = secondsSince(t0);
    ctx.state.monolithic = true;
    ctx.log(`monolithic: ${s.toFixed(2)} s, of which ${afterBody.toFixed(2)} s between the last byte sent and the 201`);
    return { monolithic_MBps: mbps(blob.size, s), monolithic_after_body_s: afterBody };
  },
};

export const chunked: Workload = {
  name: 'chunked',
  title: 'chunked upload of one blob in PATCHes with Content-Range',
  run: async (ctx: Context) => {
    const blob = ctx.blobs.chunked;
    const t0 = process.hrtime.bigint();
    const waited = await uploadChunked(ctx.reg, 'bench/chunked', blob, ctx.sizes.chunk);
    const s = secondsSince(t0);
    ctx.log(`chunked: ${s.toFixed(2)} s, of which ${waited.toFixed(2)} s waiting for answers after the bodies were sent`);
    return { chunked_MBps: mbps(blob.size, s), chunked_after_body_s: waited };
  },
};

/** GET of the monolithic blob 5 times; on S3, through the registry's redirect, beside the store's own GET. */
export const get: Workload = {
  name: 'get',
  title:
    'GET of the monolithic blob 5 times in a row (the client counts and discards the bytes): the first and second reads after the push, and the median of the next 3; the loopback HTTP limit is measured just before. ' +
    "On S3 (--backend pg-s3): 5 GETs through the registry's redirect, each beside a presigned GET of the same object straight to the store",
  setup: async (ctx: Context) => {
    if (!ctx.state.monolithic) {
      await uploadMonolithic(ctx.reg, MONO_REPO, ctx.blobs.monolithic);
      ctx.state.monolithic = true;
    }
    // The limit the GET is held to, measured just before it rather than only at the start of the run (this
    // machine's loopback figure moves by a third from minute to minute), and here, outside the measured run.
    if (!ctx.reg.s3) {
      ctx.state.loopbackBeforeGet = await loopbackMBps(ctx.sizes.loopbackBytes);
      // And the file-serving floor: a trivial Node server serving a blob of the same size from the page cache.
      ctx.state.fileFloorBeforeGet = await fileServeMBps(ctx.blobs.monolithic.size);
    }
  },
  run: async (ctx: Context) => {
    if (ctx.reg.s3) return getThroughRedirect(ctx);
    const loopback = ctx.state.loopbackBeforeGet as Awaited<ReturnType<typeof loopbackMBps>> | undefined;
    const fileFloor = ctx.state.fileFloorBeforeGet as Awaited<ReturnType<typeof fileServeMBps>> | undefined;
    if (!loopback || !fileFloor) throw new Error('get: its setup did not measure the loopback limit and the file-serving floor');
    const blob = ctx.blobs.monolithic;
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      const r = await download(ctx.reg, `/v2/${MONO_REPO}/blobs/${blob.digest}`);
      const s = secondsSince(t0);
      if (r.status !== 200 || r.bytes !== blob.size) throw new Error(`GET blob: status ${r.status}, ${r.bytes} bytes of ${blob.size}`);
      samples.push(mbps(blob.size, s));
    }
    ctx.log(
      `blob GET: ${samples.map((v) => v.toFixed(0)).join(', ')} MB/s (loopback just before: ${loopback.samples.map((v) => v.toFixed(0)).join(', ')} MB/s; ` +
        `the file-serving floor: ${fileFloor.samples.map((v) => v.toFixed(0)).join(', ')} MB/s)`,
    );
    return {
      get_first_MBps: samples[0],
      get_second_MBps: samples[1],
      get_MBps: median(samples.slice(2)),
      get_loopback_MBps: loopback.median,
      get_file_floor_MBps: fileFloor.median,
    };
  },
};

/** The store, read by presigned URLs: no Authorization header (download() opens its own connections). */
const anonymous = newAgent();

/** Reads a presigned URL, counting and discarding the bytes; its MB/s since t0. */
async function readStore(url: string, size: number, t0: bigint): Promise<number> {
  const r = await download({ url: new URL(url).origin, agent: anonymous }, url);
  if (r.bytes !== size) throw new Error(`GET from the store: ${r.bytes} bytes of ${size}`);
  return mbps(size, secondsSince(t0));
}

/**
 * On S3: 5 rounds of (a GET through the registry, which answers 307 to a presigned URL that the client follows,
 * timed from the registry's GET to the last byte) and (a presigned GET of the same object made by the benchmark,
 * straight to the store), alternating which goes first. Their medians, the spread of the store's own reads (the
 * noise the redirect is judged against) and the time to the 307.
 */
async function getThroughRedirect(ctx: Context): Promise<Record<string, number>> {
  const s3 = ctx.reg.s3!;
  if (!ctx.presign) throw new Error('get: no presigner for the S3 store');
  const blob = ctx.blobs.monolithic;
  const direct = await ctx.presign(s3.bucket, s3.key(blob.digest));
  const redirected: number[] = [];
  const store: number[] = [];
  const answer: number[] = [];
  const viaRegistry = async () => {
    const t0 = process.hrtime.bigint();
    const r = await send(ctx.reg, 'GET', `/v2/${MONO_REPO}/blobs/${blob.digest}`);
    answer.push(secondsSince(t0) * 1000);
    if (r.status !== 307 || typeof r.headers.location !== 'string')
      throw new Error(`GET blob: status ${r.status}, not a redirect (${r.body.toString('utf8').slice(0, 200)})`);
    redirected.push(await readStore(new URL(r.headers.location, ctx.reg.url).toString(), blob.size, t0));
  };
  const fromStore = async () => {
    store.push(await readStore(direct, blob.size, process.hrtime.bigint()));
  };
  for (let i = 0; i < 5; i++) {
    if (i % 2 === 0) {
      await viaRegistry();
      await fromStore();
    } else {
      await fromStore();
      await viaRegistry();
    }
  }
  ctx.log(
    `blob GET through the redirect: ${redirected.map((v) => v.toFixed(0)).join(', ')} MB/s; the store's own GET: ${store.map((v) => v.toFixed(0)).join(', ')} MB/s; ` +
      `307 answered in ${answer.map((v) => v.toFixed(1)).join(', ')} ms`,
  );
  return {
    get_redirect_MBps: median(redirected),
    get_store_MBps: median(store),
    get_store_min_MBps: Math.min(...store),
    get_store_max_MBps: Math.max(...store),
    get_redirect_answer_ms: median(answer),
  };
}

export const parallel: Workload = {
  name: 'parallel',
  title: 'distinct blobs uploaded at once (monolithic each), aggregate throughput',
  // bench/run.ts hashes the blobs (Blobs caches them) before the first round, outside any clock. The setup measures
  // what the disk takes when the same number of files of the same size are written at once and fsynced, just before.
  setup: async (ctx: Context) => {
    if (ctx.reg.s3) return;
    const write = (direct: boolean) => durableWriteMBps(ctx.blobs.pool, ctx.sizes.parallelCount, ctx.sizes.parallelSize, direct);
    ctx.state.disksBeforeParallel = { pageCache: await write(false), direct: await write(true) };
  },
  run: async (ctx: Context) => {
    const n = ctx.sizes.parallelCount;
    const t0 = process.hrtime.bigint();
    await pool(n, n, async (i) => {
      await uploadMonolithic(ctx.reg, 'bench/parallel', ctx.blobs.parallel(i));
    });
    const s = secondsSince(t0);
    const disk = ctx.state.disksBeforeParallel as { pageCache: number; direct: number } | undefined;
    if (disk)
      ctx.log(
        `parallel: the disk just before, ${n} files at once, fsynced: ${disk.pageCache.toFixed(0)} MB/s through the page cache, ${disk.direct.toFixed(0)} MB/s with O_DIRECT`,
      );
    return {
      parallel_MBps: mbps(n * ctx.sizes.parallelSize, s),
      ...(disk ? { parallel_disk_MBps: Math.max(disk.pageCache, disk.direct) } : {}),
    };
  },
};
