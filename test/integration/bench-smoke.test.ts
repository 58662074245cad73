// CI keeps the benchmark working (issue 6): a smoke run of `npm run bench` (tiny sizes, Berth only, one round)
// and of the scale benchmark must exit 0 and write a JSON result whose every figure is a finite positive number
// (the smoke sizes keep every workload of `npm run bench` above a few clock ticks of server CPU).
// These are not timed tests: the figures of a smoke run mean nothing, only that each was measured.
// The benchmark needs wrk (Debian `wrk`) for its manifest GET load: without it, this fails and says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeResult, makeTempDir, removeDir, run, type RunResult } from '../helpers/tools.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Runs `node ARGS` in the checkout. Past `timeoutMs` the benchmark gets SIGTERM, on which it stops the servers it
 * started and removes their data directories (bench/lib/servers.ts); SIGKILL follows 4 s later if it is still there
 * (85 s + 4 s: within the test's own 90 s). */
function runNode(args: string[], timeoutMs: number): Promise<RunResult> {
  return run(process.execPath, args, { cwd: root, timeoutMs, termGraceMs: 4_000 });
}

/** Every number under `value`, by its path, for the assertion message. */
function numbers(value: unknown, path: string, out: [string, unknown][]): [string, unknown][] {
  if (Array.isArray(value)) value.forEach((v, i) => numbers(v, `${path}[${i}]`, out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) numbers(v, `${path}.${k}`, out);
  else out.push([path, value]);
  return out;
}

const positive = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;

test('npm run bench -- --smoke --berth-only measures every figure', { timeout: 90_000 }, async (t) => {
  const dir = makeTempDir('berth-bench-smoke-');
  t.after(() => removeDir(dir));
  const json = join(dir, 'result.json');
  const md = join(dir, 'result.md');
  const started = Date.now();
  const r = await runNode(['bench/run.ts', '--smoke', '--berth-only', '--json', json, '--md', md], 85_000);
  t.diagnostic(`smoke run took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.equal(r.code, 0, `the smoke run failed:\n${describeResult(r)}`);
  assert.ok(existsSync(json), `no JSON result at ${json}:\n${describeResult(r)}`);
  const result = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(result.kind, 'smoke');
  const table = readFileSync(md, 'utf8');
  assert.match(table, /load average before/, 'the Markdown records the machine load');
  assert.match(table, /\| blob GET, cached \(the 3rd to 5th read\) \| MB\/s \|/, 'the Markdown has the table of figures');

  const expected = [
    'monolithic_MBps',
    'monolithic_after_body_s',
    'chunked_MBps',
    'chunked_after_body_s',
    'get_MBps',
    'get_first_MBps',
    'get_second_MBps',
    'get_loopback_MBps',
    'get_file_floor_MBps',
    'parallel_MBps',
    'parallel_disk_MBps',
    'fleet_MBps',
    'fleet_p99_s',
    'fleet_floor_MBps',
    'fleet_cold_MBps',
    'fleet_cold_p99_s',
    'manifest_get_rps',
    'manifest_get_p99_ms',
    'blob_head_rps',
    'blob_head_p99_ms',
    'manifest_put_per_s',
    'tags_list_per_s',
    'tags_list_p50_ms',
    'console_first_page_p99_ms',
    'console_first_page_per_s',
    'console_images_tab_p99_ms',
    'ecr_upload_MBps',
    'ecr_upload_sdk_floor_MBps',
    'ecr_upload_client_cpu_s',
    'ecr_get_first_MBps',
    'ecr_get_second_MBps',
    'ecr_get_MBps',
    'ecr_get_url_ms',
    'ecr_get_loopback_MBps',
    'ecr_get_file_floor_MBps',
    'rss_start_MiB',
    'stream_rss_max_MiB',
    'hwm_after_streams_MiB',
    'peak_rss_MiB',
  ];
  for (const w of [
    'monolithic',
    'chunked',
    'get',
    'parallel',
    'fleet',
    'manifest-get',
    'blob-head',
    'manifest-put',
    'tags-list',
    'console',
    'ecr-upload',
    'ecr-get',
  ]) {
    expected.push(`${w}.cpu_s`, `${w}.rss_max_MiB`);
  }
  const keys = result.figures.map((f: { key: string }) => f.key);
  assert.deepEqual(
    keys.filter((k: string) => !expected.includes(k)),
    [],
    'no unexpected figure',
  );
  assert.deepEqual(
    expected.filter((k) => !keys.includes(k)),
    [],
    'every expected figure',
  );

  const bad = numbers(
    result.figures.map((f: { key: string; berth: unknown }) => ({ [f.key]: f.berth })),
    'figures',
    [],
  ).filter(([, v]) => !positive(v));
  assert.deepEqual(bad, [], 'every figure (median and samples) is a finite positive number');
  for (const k of ['sha256_MBps', 'loopback_MBps', 'disk_write_MBps', 'nproc']) {
    assert.ok(positive(result.machine[k]), `machine.${k} = ${result.machine[k]}`);
  }
  assert.equal(result.machine.loadavgBefore.length, 3);
  assert.equal(result.rounds.length, 1);
  // Issue 21's ECR data path targets are listed (not judged without distribution).
  for (const what of [
    'ECR layer upload',
    'ECR layer download (GetDownloadUrlForLayer + GET), first read',
    'ECR layer download (GetDownloadUrlForLayer + GET), cached',
  ]) {
    const t = result.targets.find((x: { target: string }) => x.target.startsWith(what));
    assert.ok(t, `a target for ${what}`);
    assert.equal(t.met, null, `${what}: not judged in a Berth-only run`);
  }
});

// The docker workload needs the Docker daemon that the e2e tests use (.ci/run starts it). It pushes to and pulls
// from Berth and from the floor (bench/lib/floor.ts), and each pull must download every layer, so a floor that
// docker could not push to or pull from fails here.
test('npm run bench -- --smoke --only docker measures docker push and pull, and their floor', { timeout: 90_000 }, async (t) => {
  const dir = makeTempDir('berth-bench-docker-smoke-');
  t.after(() => removeDir(dir));
  const json = join(dir, 'result.json');
  const md = join(dir, 'result.md');
  const r = await runNode(['bench/run.ts', '--smoke', '--berth-only', '--only', 'docker', '--json', json, '--md', md], 85_000);
  assert.equal(r.code, 0, `the docker smoke run failed:\n${describeResult(r)}`);
  const result = JSON.parse(readFileSync(json, 'utf8'));
  const figures = new Map(result.figures.map((f: { key: string; berth: { median: number } }) => [f.key, f.berth?.median]));
  for (const k of ['docker_push_s', 'docker_pull_s', 'docker_push_floor_s', 'docker_pull_floor_s', 'docker.cpu_s']) {
    assert.ok(positive(figures.get(k)), `${k} = ${figures.get(k)}`);
  }
  const table = readFileSync(md, 'utf8');
  assert.match(
    table,
    /docker pull time: Berth lower than distribution \| Berth [\d.]+ s \(no distribution figure\); the floor in the same rounds: [\d.]+ s beside Berth/,
    'the target line puts the floor beside the pull',
  );
});

test('node bench/scale.ts --smoke measures every figure', { timeout: 90_000 }, async (t) => {
  const dir = makeTempDir('berth-bench-scale-smoke-');
  t.after(() => removeDir(dir));
  const json = join(dir, 'scale.json');
  const r = await runNode(['bench/scale.ts', '--smoke', '--json', json], 85_000);
  assert.equal(r.code, 0, `the scale smoke run failed:\n${describeResult(r)}`);
  const result = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(result.kind, 'smoke');
  // A walk of a few pages may take the server less than one 10 ms clock tick: its CPU figure may be 0.
  const bad = numbers(result.figures, 'figures', []).filter(
    ([path, v]) => !(path.endsWith('_cpu_s') ? typeof v === 'number' && Number.isFinite(v) && v >= 0 : positive(v)),
  );
  assert.deepEqual(bad, [], 'every figure is a finite positive number (CPU seconds: not negative)');
  for (const k of [
    'describe_images_page_p99_ms',
    'list_images_page_p99_ms',
    'catalog_n100_walk_s',
    'describe_repositories_walk_s',
    'hwm_end_MiB',
  ]) {
    assert.ok(positive(result.figures[k]), `figures.${k}`);
  }
  assert.equal(result.figures.seed_images, result.options.images, 'every image was seeded');
});

test('node bench/scale.ts --bulk --smoke seeds through the store and measures every figure of the big registry', {
  timeout: 90_000,
}, async (t) => {
  const dir = makeTempDir('berth-bench-scale-bulk-smoke-');
  t.after(() => removeDir(dir));
  const json = join(dir, 'scale.json');
  const data = join(dir, 'data');
  const first = await runNode(['bench/scale.ts', '--bulk', '--smoke', '--data-dir', data, '--json', json], 85_000);
  assert.equal(first.code, 0, `the bulk scale smoke run failed:\n${describeResult(first)}`);
  const result = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(result.kind, 'smoke');
  const bad = numbers(result.figures, 'figures', []).filter(
    ([path, v]) => !(path.endsWith('_cpu_s') ? typeof v === 'number' && Number.isFinite(v) && v >= 0 : positive(v)),
  );
  assert.deepEqual(bad, [], 'every figure is a finite positive number (CPU seconds: not negative)');
  for (const k of [
    'seed_s',
    'start_s',
    'describe_images_page_p99_ms',
    'catalog_n100_walk_s',
    'catalog_n1000_walk_s',
    'gc_idle_s',
    'push_alone_per_s',
    'push_during_gc_per_s',
    'push_during_gc_ratio',
    'lifecycle_run_s',
    'rss_after_lifecycle_MiB',
    'hwm_end_MiB',
  ]) {
    assert.ok(positive(result.figures[k]), `figures.${k} = ${result.figures[k]}`);
  }
  assert.equal(result.figures.seed_images, result.options.images, 'every image was seeded');
  assert.equal(result.figures.seed_blobs, result.options.images + result.options.repos, 'a config per image, a layer per repository');
  assert.equal(result.figures.lifecycle_expired, result.options.expire);
  assert.equal(result.walks.describe_images.items, result.options.bigRepo);
  // A second run reuses the kept seed: the database is restored, so the lifecycle run expires as many again.
  const again = await runNode(['bench/scale.ts', '--bulk', '--smoke', '--data-dir', data, '--json', json], 85_000);
  assert.equal(again.code, 0, `the second bulk scale smoke run failed:\n${describeResult(again)}`);
  assert.match(again.stderr, /reusing the seed/);
  const second = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(second.figures.lifecycle_expired, result.options.expire);
  assert.equal(second.walks.describe_images.items, result.options.bigRepo);
});

test('node bench/scale.ts --bulk --backend pg --smoke seeds PostgreSQL in bulk and measures the listings', {
  timeout: 150_000,
}, async (t) => {
  const dir = makeTempDir('berth-bench-scale-bulk-pg-smoke-');
  t.after(() => removeDir(dir));
  const json = join(dir, 'scale.json');
  const r = await runNode(['bench/scale.ts', '--bulk', '--backend', 'pg', '--smoke', '--json', json], 140_000);
  assert.equal(r.code, 0, `the bulk pg scale smoke run failed:\n${describeResult(r)}`);
  const result = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(result.kind, 'smoke');
  const bad = numbers(result.figures, 'figures', []).filter(([, v]) => !positive(v));
  assert.deepEqual(bad, [], 'every figure is a finite positive number');
  for (const k of ['seed_s', 'start_s', 'describe_images_page_p99_ms', 'describe_images_walk_s', 'catalog_n100_walk_s', 'hwm_end_MiB']) {
    assert.ok(positive(result.figures[k]), `figures.${k} = ${result.figures[k]}`);
  }
  assert.equal(result.figures.seed_images, result.options.images, 'every image was seeded');
  assert.equal(result.walks.describe_images.items, result.options.bigRepo);
  assert.equal(result.walks.catalog_n100.items, result.options.repos);
});

// Issue 17's modes: the same harness on PostgreSQL and Ceph RGW (started by the recipes, as the tests on those
// stores do). Longer: most of it is starting the stores.
test('npm run bench -- --backend pg-s3 --smoke compares Berth on PostgreSQL + S3 with distribution on S3', {
  timeout: 240_000,
}, async (t) => {
  const dir = makeTempDir('berth-bench-pg-s3-smoke-');
  t.after(() => removeDir(dir));
  const json = join(dir, 'result.json');
  const md = join(dir, 'result.md');
  const r = await runNode(['bench/run.ts', '--backend', 'pg-s3', '--smoke', '--json', json, '--md', md], 230_000);
  assert.equal(r.code, 0, `the pg-s3 smoke run failed:\n${describeResult(r)}`);
  const result = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(result.options.backend, 'pg-s3');
  const figures = new Map(
    result.figures.map((f: { key: string; berth?: { median: number }; distribution?: { median: number } }) => [f.key, f]),
  );
  for (const k of [
    'monolithic_MBps',
    'chunked_MBps',
    'parallel_MBps',
    'manifest_get_rps',
    'get_redirect_MBps',
    'get_store_MBps',
    'get_redirect_answer_ms',
  ]) {
    const f = figures.get(k) as { berth?: { median: number }; distribution?: { median: number } } | undefined;
    assert.ok(positive(f?.berth?.median) && positive(f?.distribution?.median), `${k}: ${JSON.stringify(f)}`);
  }
  assert.deepEqual(
    result.targets.map((x: { target: string }) => x.target),
    [
      'monolithic upload ≥ 1.5× distribution',
      'chunked upload ≥ 1.5× distribution',
      'parallel uploads ≥ 1.5× distribution',
      'manifest GET requests/s ≥ 3× distribution',
      "blob GET through the redirect within noise of the store's own GET",
    ],
  );
  assert.match(readFileSync(md, 'utf8'), /\| target \(issue 17\) \| measured \| met \|/);
});

test('node bench/scale.ts --backend pg --smoke seeds through the store and measures the image listings', {
  timeout: 150_000,
}, async (t) => {
  const dir = makeTempDir('berth-bench-scale-pg-smoke-');
  t.after(() => removeDir(dir));
  const json = join(dir, 'scale.json');
  const r = await runNode(['bench/scale.ts', '--backend', 'pg', '--smoke', '--json', json], 140_000);
  assert.equal(r.code, 0, `the scale pg smoke run failed:\n${describeResult(r)}`);
  const result = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(result.figures.seed_images, result.options.images, 'every image was seeded');
  for (const k of ['describe_images_page_p99_ms', 'list_images_page_p99_ms', 'describe_images_walk_s', 'list_images_walk_s']) {
    assert.ok(positive(result.figures[k]), `figures.${k} = ${result.figures[k]}`);
  }
  assert.equal(result.walks.describe_images.items, result.options.images);
  assert.equal(result.walks.list_images.items, result.options.images);
});

// Issue 21's start-time and memory benchmarks (bench/start.ts, bench/memory.ts), smoke forms: every figure measured.
test('node bench/start.ts --smoke measures the start of Berth (seeded and empty) and of Node itself', { timeout: 90_000 }, async (t) => {
  const dir = makeTempDir('berth-bench-start-smoke-');
  t.after(() => removeDir(dir));
  const json = join(dir, 'start.json');
  const r = await runNode(['bench/start.ts', '--smoke', '--berth-only', '--json', json], 85_000);
  assert.equal(r.code, 0, `the start smoke run failed:\n${describeResult(r)}`);
  const result = JSON.parse(readFileSync(json, 'utf8'));
  assert.deepEqual(Object.keys(result.figures).sort(), ['berth', 'berth_empty', 'node_floor']);
  const bad = numbers(result.figures, 'figures', []).filter(([, v]) => !positive(v));
  assert.deepEqual(bad, [], 'every start time (samples, median, p90, range) is a finite positive number');
  for (const name of ['berth', 'berth_empty', 'node_floor']) assert.equal(result.figures[name].samples.length, result.options.runs, name);
  assert.equal(result.statuses.berth, 401, 'Berth answers /v2/ without credentials with 401');
  assert.ok(positive(result.seed.berthSeconds), 'the store was seeded');
});

test('node bench/memory.ts --smoke breaks the resident memory of Berth and of a node:http server down by part', {
  timeout: 90_000,
}, async (t) => {
  const dir = makeTempDir('berth-bench-memory-smoke-');
  t.after(() => removeDir(dir));
  const json = join(dir, 'memory.json');
  const r = await runNode(['bench/memory.ts', '--smoke', '--json', json], 85_000);
  assert.equal(r.code, 0, `the memory smoke run failed:\n${describeResult(r)}`);
  const result = JSON.parse(readFileSync(json, 'utf8'));
  for (const stage of ['floor', 'floorEsmImport', 'afterStart', 'afterUse', 'underLoad']) {
    const m = result[stage];
    for (const k of ['vmRssMiB', 'vmHwmMiB', 'rssMiB', 'binaryMiB', 'anonMiB', 'otherFilesMiB'])
      assert.ok(positive(m[k]), `${stage}.${k} is a finite positive number (${m[k]})`);
    // The parts are read from /proc while the process runs: they add up to its VmRSS within a few MiB.
    assert.ok(Math.abs(m.rssMiB - m.vmRssMiB) < 8, `${stage}: the parts (${m.rssMiB} MiB) add up to VmRSS (${m.vmRssMiB} MiB)`);
    assert.ok(positive(m.binary['V8 runtime (other)']), `${stage}: the node binary's pages are attributed to its symbols`);
  }
  for (const stage of ['afterStart', 'afterUse', 'underLoad']) {
    assert.ok(positive(result[stage].v8.committedMiB), `${stage}: the V8 heap from the diagnostic report`);
    assert.ok(positive(result[stage].v8.spaces.old_space), `${stage}: old space`);
  }
  assert.ok(positive(result.loadRps), 'the manifest GET load ran');
});
