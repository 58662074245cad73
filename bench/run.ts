// `npm run bench`: Berth against CNCF distribution 2.8.2 on this machine, side by side (issue 6).
// Each round starts each registry fresh (a new data directory), runs the same workloads against it, and stops it;
// rounds alternate Berth, distribution, Berth, distribution... The medians over rounds of every figure, and the
// ratios, go to the terminal, to bench/results/bench-<time>.json, and (for a complete run) to
// bench/results/RESULTS.md. With --backend pg-s3, Berth runs on PostgreSQL + S3 and distribution on its own s3
// driver, both on one private Ceph RGW (lib/pg-s3.ts), with issue 17's targets; a complete run writes
// bench/results/PG-S3.md. See bench/README.md.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DataPool } from './lib/data.ts';
import { requireWrk } from './lib/load.ts';
import { PgS3 } from './lib/pg-s3.ts';
import { memory, phase, type Phase } from './lib/proc.ts';
import { formatProfile, summarizeProfile, type ProfileSummary } from './lib/profile.ts';
import { buildFigures, evaluateTargets, markdown, textTable } from './lib/report.ts';
import { DISTRIBUTION_BIN, ROOT, cleanUpOnSignals, startBerth, startRegistry, type Kind, type Registry } from './lib/servers.ts';
import { secondsSince } from './lib/stats.ts';
import { Blobs, FULL, S3_FULL, S3_SMOKE, SMOKE, type Context, type Workload } from './lib/workload.ts';
import { chunked, get, monolithic, parallel } from './workloads/blobs.ts';
import { disposeDockerImage, dockerWorkload, prepareDockerImage, type DockerImage } from './workloads/docker.ts';
import { diskWriteMBps, loopbackMBps, sha256MBps } from './workloads/machine.ts';
import { blobHead, manifestGet, manifestPut, tagsList } from './workloads/manifests.ts';
import { consoleFirstPage } from './workloads/console.ts';
import { ecrGet, ecrUpload } from './workloads/ecr.ts';
import { cachesDropped, fleetPull } from './workloads/fleet.ts';

const USAGE = `Usage: node bench/run.ts [options]   (or: npm run bench -- [options])

  --rounds N        rounds of A B (default 5)
  --backend B       fs (default): SQLite and the filesystem, against distribution on its filesystem driver;
                    pg-s3: Berth on PostgreSQL + S3 against distribution on its s3 driver, both on one private
                    Ceph RGW (in memory), each registry its own bucket; smaller blobs, no docker workload
  --smoke           tiny sizes, 1 round, no docker (unless --with-docker): a check that the benchmark works
  --only a,b        only these workloads (names below); machine figures are always measured
  --berth-only      do not start distribution
  --with-docker     include the docker workload in a smoke run
  --no-docker       leave the docker workload out of a full run
  --cpu-prof        profile Berth (node --cpu-prof) per workload instead of comparing: Berth only, 1 round,
                    a fresh server per workload, restarted with the profiler after the untimed setup
  --json PATH       where to write the JSON result (default bench/results/bench-<time>[-smoke].json)
  --md PATH         also write the Markdown table there (a complete full run writes bench/results/RESULTS.md)
  --max-minutes M   stop starting rounds past this budget (default 10, 25 with pg-s3; the figures say how many rounds ran)

Workloads:`;

let workloadImage: DockerImage | undefined;
const dockerLoad = dockerWorkload(() => {
  if (!workloadImage) throw new Error('the docker image was not prepared');
  return workloadImage;
});
const WORKLOADS: Workload[] = [
  monolithic,
  chunked,
  get,
  parallel,
  fleetPull,
  manifestGet,
  blobHead,
  manifestPut,
  tagsList,
  consoleFirstPage,
  ecrUpload,
  ecrGet,
  dockerLoad,
];
const STREAMING = new Set(['monolithic', 'chunked', 'get']);

const started = process.hrtime.bigint();
const log = (message: string) => process.stderr.write(`[${secondsSince(started).toFixed(1).padStart(6)} s] ${message}\n`);

function parse() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string' },
      backend: { type: 'string', default: 'fs' },
      smoke: { type: 'boolean', default: false },
      only: { type: 'string' },
      'berth-only': { type: 'boolean', default: false },
      'with-docker': { type: 'boolean', default: false },
      'no-docker': { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      json: { type: 'string' },
      md: { type: 'string' },
      'max-minutes': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE + '\n' + WORKLOADS.map((w) => `  ${w.name.padEnd(14)} ${w.title}`).join('\n'));
    process.exit(0);
  }
  const smoke = values.smoke;
  const profile = values['cpu-prof'];
  const backend = values.backend;
  if (backend !== 'fs' && backend !== 'pg-s3') throw new Error(`--backend: fs or pg-s3, not ${backend}`);
  if (backend === 'pg-s3' && profile) throw new Error('--cpu-prof runs on the filesystem backend only');
  const rounds = profile ? 1 : values.rounds !== undefined ? Number(values.rounds) : smoke ? 1 : 5;
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: a positive whole number, not ${values.rounds}`);
  let selected = WORKLOADS;
  if (values.only !== undefined) {
    const names = values.only
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const n of names)
      if (!WORKLOADS.some((w) => w.name === n)) throw new Error(`--only: no workload "${n}" (${WORKLOADS.map((w) => w.name).join(', ')})`);
    selected = WORKLOADS.filter((w) => names.includes(w.name));
  } else if (smoke && !values['with-docker']) {
    selected = WORKLOADS.filter((w) => !w.needsDocker);
  }
  if (values['no-docker'] || backend === 'pg-s3') selected = selected.filter((w) => !w.needsDocker);
  if (backend === 'pg-s3') selected = selected.filter((w) => !w.fsOnly);
  if (selected.length === 0) throw new Error('no workload to run (--backend pg-s3 has no docker and no ECR workloads)');
  const maxMinutes = values['max-minutes'] !== undefined ? Number(values['max-minutes']) : backend === 'pg-s3' ? 25 : 10;
  return {
    smoke,
    profile,
    backend: backend as 'fs' | 'pg-s3',
    rounds,
    selected,
    berthOnly: values['berth-only'] || profile,
    only: values.only,
    json: values.json,
    md: values.md,
    maxMinutes,
    complete: !smoke && !profile && values.only === undefined && !values['berth-only'] && (backend === 'pg-s3' || !values['no-docker']),
  };
}

type Options = ReturnType<typeof parse>;

/** A measured workload: its figures, and (Phase) its time, the server's usage and the cores the whole machine kept
 * busy meanwhile (of os.availableParallelism()). */
interface WorkloadRecord extends Phase {
  figures: Record<string, number>;
}

interface RoundRecord {
  round: number;
  registry: Kind;
  url: string;
  loadavgBefore: number[];
  loadavgAfter: number[];
  seconds: number;
  workloads: Record<string, WorkloadRecord>;
  figures: Record<string, number>;
}

async function measured(ctx: Context, w: Workload): Promise<WorkloadRecord> {
  const { value: figures, seconds, usage, machineBusyCores } = await phase(ctx.reg.pid, () => w.run(ctx));
  figures[`${w.name}.cpu_s`] = usage.cpuSeconds;
  figures[`${w.name}.rss_max_MiB`] = usage.rssMaxMiB;
  return { seconds, figures, usage, machineBusyCores };
}

/** A workload's own figures (those without a dot: not its server CPU and RSS), for the log. */
function summary(figures: Record<string, number>): string {
  return Object.entries(figures)
    .filter(([k]) => !k.includes('.'))
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ');
}

async function runRound(kind: Kind, round: number, opts: Options, blobs: Blobs, backend?: PgS3): Promise<RoundRecord> {
  const t0 = process.hrtime.bigint();
  const loadavgBefore = os.loadavg();
  const reg = await startRegistry(kind, backend ? await backend.startOptions(kind) : {});
  log(`round ${round}: ${kind} on ${reg.url} (pid ${reg.pid}, data ${reg.dataDir}${reg.s3 ? `, bucket ${reg.s3.bucket}` : ''})`);
  const ctx: Context = { reg, round, sizes: blobs.sizes, blobs, state: {}, log: (m) => log(`  ${kind}: ${m}`) };
  if (backend) ctx.presign = (bucket, key) => backend.presign(bucket, key);
  const record: RoundRecord = {
    round,
    registry: kind,
    url: reg.url,
    loadavgBefore,
    loadavgAfter: [],
    seconds: 0,
    workloads: {},
    figures: {},
  };
  const streaming = opts.selected.filter((w) => STREAMING.has(w.name));
  let streamRss = 0;
  try {
    record.figures.rss_start_MiB = memory(reg.pid).rssMiB;
    for (const w of opts.selected) {
      if (w.berthOnly && kind !== 'berth') continue;
      if (w.setup) await w.setup(ctx);
      const r = await measured(ctx, w);
      if (w.teardown) await w.teardown(ctx);
      record.workloads[w.name] = r;
      Object.assign(record.figures, r.figures);
      log(
        `  ${kind} ${w.name}: ${summary(r.figures)}; server CPU ${r.usage.cpuSeconds.toFixed(2)} s (main thread ${r.usage.mainThreadCpuSeconds.toFixed(2)} s), RSS max ${r.usage.rssMaxMiB.toFixed(0)} MiB, ` +
          `machine busy ${r.machineBusyCores.toFixed(2)} cores, ${r.seconds.toFixed(1)} s`,
      );
      if (STREAMING.has(w.name)) {
        streamRss = Math.max(streamRss, r.usage.rssMaxMiB);
        if (w === streaming[streaming.length - 1]) {
          record.figures.stream_rss_max_MiB = streamRss;
          record.figures.hwm_after_streams_MiB = r.usage.hwmMiB;
        }
      }
    }
    record.figures.peak_rss_MiB = memory(reg.pid).hwmMiB;
  } catch (e) {
    const tail = reg.output().split('\n').slice(-30).join('\n');
    throw new Error(`${kind}, round ${round}: ${(e as Error).stack ?? e}\n--- last lines of ${kind}'s output ---\n${tail}`);
  } finally {
    await reg.cleanup();
    if (backend && reg.s3) {
      const emptied = await backend.empty(reg.s3.bucket);
      log(
        `  ${kind}: bucket ${reg.s3.bucket} emptied (${emptied.objects} objects, ${emptied.multipart} unfinished multipart uploads), the gateway's garbage collected`,
      );
    }
  }
  record.loadavgAfter = os.loadavg();
  record.seconds = secondsSince(t0);
  return record;
}

/** --cpu-prof: per workload, a fresh Berth, the untimed setup, a restart under the profiler, the measured run. */
async function profileRun(
  opts: Options,
  blobs: Blobs,
): Promise<{ profiles: Record<string, ProfileSummary>; record: RoundRecord; dir: string }> {
  const dir = mkdtempSync(join(os.tmpdir(), 'berth-bench-cpuprof-'));
  const profiles: Record<string, ProfileSummary> = {};
  const record: RoundRecord = {
    round: 1,
    registry: 'berth',
    url: '',
    loadavgBefore: os.loadavg(),
    loadavgAfter: [],
    seconds: 0,
    workloads: {},
    figures: {},
  };
  const t0 = process.hrtime.bigint();
  for (const w of opts.selected) {
    let reg: Registry = await startBerth();
    const ctx: Context = { reg, round: 1, sizes: blobs.sizes, blobs, state: {}, log: (m) => log(`  berth: ${m}`) };
    try {
      if (w.setup && !w.setupAfterRestart) await w.setup(ctx);
      await reg.stop();
      const profDir = join(dir, w.name);
      mkdirSync(profDir);
      reg = await startBerth({
        dataDir: reg.dataDir,
        accessKeyId: reg.accessKeyId,
        secretAccessKey: reg.secretAccessKey,
        nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir],
      });
      ctx.reg = reg;
      if (w.setup && w.setupAfterRestart) await w.setup(ctx);
      const fromUs = Number(process.hrtime.bigint() / 1000n);
      const r = await measured(ctx, w);
      const toUs = Number(process.hrtime.bigint() / 1000n);
      if (w.teardown) await w.teardown(ctx);
      record.workloads[w.name] = r;
      Object.assign(record.figures, r.figures);
      await reg.stop();
      // One profile per thread, named CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile: the main thread is 0,
      // and the upload hashing thread writes one when it ran.
      const files = readdirSync(profDir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .sort();
      const main = files.find((f) => f.split('.')[4] === '0');
      if (!main) throw new Error(`no main-thread .cpuprofile in ${profDir}: did Berth exit cleanly?\n${reg.output()}`);
      profiles[w.name] = summarizeProfile(join(profDir, main), ROOT, 20, { fromUs, toUs });
      for (const other of files.filter((f) => f !== main)) {
        profiles[`${w.name}, thread ${other.split('.')[4]}`] = summarizeProfile(join(profDir, other), ROOT, 10, { fromUs, toUs });
      }
      log(`profiled ${w.name} (${summary(r.figures)}): ${files.map((f) => join(profDir, f)).join(', ')}`);
    } finally {
      await reg.cleanup();
      rmSync(reg.dataDir, { recursive: true, force: true });
    }
  }
  record.loadavgAfter = os.loadavg();
  record.seconds = secondsSince(t0);
  return { profiles, record, dir };
}

/** The commit Berth runs from, and whether its sources differ from it (others may be editing the tree). */
export function gitState(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bin'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .split('\n')
      .filter(Boolean).length;
    return dirty ? `${head} with ${dirty} changed file(s) under src/ and bin/` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function version(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .trim()
      .split('\n')[0];
  } catch {
    return 'not available';
  }
}

async function main(): Promise<void> {
  const opts = parse();
  const sizes = opts.backend === 'pg-s3' ? (opts.smoke ? S3_SMOKE : S3_FULL) : opts.smoke ? SMOKE : FULL;
  const cores = os.availableParallelism();
  const kinds: Kind[] = opts.berthOnly ? ['berth'] : ['berth', 'distribution'];
  const startedAt = new Date();
  const loadavgBefore = os.loadavg();
  log(
    `berth benchmark${opts.backend === 'pg-s3' ? ' on PostgreSQL + S3' : ''}${opts.smoke ? ' (smoke)' : ''}${opts.profile ? ' (CPU profile)' : ''}: ${opts.selected.map((w) => w.name).join(', ')}; ` +
      `${opts.rounds} round(s) of ${kinds.join(', ')}; ${cores} cores, load average ${loadavgBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );
  if (loadavgBefore[0] > cores * 0.5)
    log(`note: the machine is already busy (1-minute load ${loadavgBefore[0].toFixed(2)} on ${cores} cores): figures will be noisy`);

  const wrkVersion = opts.selected.some((w) => w.name === 'manifest-get') ? await requireWrk() : 'wrk not used';
  const distributionVersion = opts.berthOnly ? 'not run' : version(DISTRIBUTION_BIN, ['--version']);
  if (!opts.berthOnly && distributionVersion === 'not available') {
    throw new Error(`CNCF distribution (${DISTRIBUTION_BIN}) does not run: apt-get install -y docker-registry, or use --berth-only`);
  }

  const pool = new DataPool(32);
  const blobs = new Blobs(pool, sizes);
  // Every blob the selected workloads upload is generated and hashed now (Blobs keeps them), outside any clock.
  const tHash = process.hrtime.bigint();
  const names = new Set(opts.selected.map((w) => w.name));
  if (names.has('monolithic') || names.has('get')) void blobs.monolithic;
  if (names.has('chunked')) void blobs.chunked;
  if (names.has('ecr-upload') || names.has('ecr-get')) void blobs.ecrLayer;
  if (names.has('parallel')) for (let i = 0; i < sizes.parallelCount; i++) void blobs.parallel(i);
  if (names.has('fleet')) for (let i = 0; i < sizes.fleetLayers; i++) void blobs.fleetLayer(i);
  log(`test data generated and hashed in ${secondsSince(tHash).toFixed(1)} s`);

  const sha = sha256MBps(pool, sizes.shaBytes);
  const loopback = await loopbackMBps(sizes.loopbackBytes);
  const disk = await diskWriteMBps(pool, sizes.diskBytes);
  log(
    `machine: SHA-256 ${sha.median.toFixed(0)} MB/s on one core, loopback HTTP ${loopback.median.toFixed(0)} MB/s, disk writes ${disk.toFixed(0)} MB/s`,
  );

  if (opts.selected.some((w) => w.needsDocker)) workloadImage = await prepareDockerImage(sizes, log);

  const rounds: RoundRecord[] = [];
  const notes: string[] = [];
  let profiles: Record<string, ProfileSummary> | undefined;
  let profileDir: string | undefined;
  let backend: PgS3 | undefined;
  let storeVersions = '';
  try {
    if (opts.backend === 'pg-s3') {
      const t = process.hrtime.bigint();
      backend = await PgS3.start();
      storeVersions = `${version('postgres', ['--version'])}; ${version('radosgw', ['--version'])}`;
      log(
        `PostgreSQL (${backend.postgres.url}) and Ceph RGW (${backend.rgw.endpoint}) started in ${secondsSince(t).toFixed(1)} s: ${storeVersions}`,
      );
    }
    if (opts.profile) {
      const p = await profileRun(opts, blobs);
      rounds.push(p.record);
      profiles = p.profiles;
      profileDir = p.dir;
    } else {
      for (let round = 1; round <= opts.rounds; round++) {
        const t0 = process.hrtime.bigint();
        for (const kind of kinds) rounds.push(await runRound(kind, round, opts, blobs, backend));
        const roundSeconds = secondsSince(t0);
        const elapsed = secondsSince(started);
        if (round < opts.rounds && elapsed + roundSeconds > opts.maxMinutes * 60) {
          notes.push(
            `Stopped after ${round} of ${opts.rounds} rounds: another round (${roundSeconds.toFixed(0)} s) would pass the ${opts.maxMinutes}-minute budget.`,
          );
          log(notes[notes.length - 1]);
          break;
        }
      }
    }
  } finally {
    await disposeDockerImage(workloadImage);
    await backend?.stop();
  }

  const samples = { berth: new Map<string, number[]>(), distribution: new Map<string, number[]>() };
  for (const r of rounds) {
    for (const [k, v] of Object.entries(r.figures)) {
      const m = samples[r.registry];
      if (!m.has(k)) m.set(k, []);
      m.get(k)!.push(v);
    }
  }
  const figures = buildFigures(samples);
  const machine = {
    berthCommit: gitState(),
    nproc: cores,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memTotalMiB: Math.round(os.totalmem() / 1024 / 1024),
    kernel: os.release(),
    node: process.version,
    distribution: distributionVersion,
    wrk: wrkVersion,
    docker: workloadImage?.version ?? 'not run',
    backend: opts.backend,
    ...(storeVersions ? { stores: storeVersions } : {}),
    loadavgBefore,
    loadavgAfter: os.loadavg(),
    sha256_MBps: sha.median,
    sha256_samples: sha.samples,
    loopback_MBps: loopback.median,
    loopback_samples: loopback.samples,
    disk_write_MBps: disk,
  };
  const targets = evaluateTargets(figures, opts.backend);
  if (opts.backend === 'pg-s3') {
    notes.push(
      'Backend pg-s3: Berth on PostgreSQL (a fresh database per round) and S3 (BERTH_BLOB_STORE=s3://bench-berth/berth, redirects on, its default on S3); ' +
        'distribution 2.8.2 on its own s3 driver (regionendpoint, which makes 2.8.2 address buckets by path; secure: false, v4auth: true; its blob GETs redirect to the store). ' +
        "Both on one private Ceph RGW (in memory, RGW_MEMSTORE_GB) and one PostgreSQL on this machine, each registry its own bucket, emptied and the gateway's garbage collected after each of its rounds.",
    );
    notes.push(
      `Sizes fit the in-memory store: ${blobs.sizes.monolithic / 2 ** 20} MiB monolithic and chunked blobs (chunks of ${blobs.sizes.chunk / 2 ** 20} MiB), ${blobs.sizes.parallelCount} × ${blobs.sizes.parallelSize / 2 ** 20} MiB in parallel. No docker workload.`,
    );
  }
  notes.push(
    'MB = 10^6 bytes. Medians over rounds; ratio = Berth median / distribution median. Each round starts each registry on a fresh data directory.',
  );
  notes.push(
    'Manifest GET load: wrk, 1 thread. Blob HEAD load: a minimal Node load generator (wrk 4.1 cannot parse HEAD answers that carry a Content-Length).',
  );
  notes.push(
    "Server CPU: utime + stime of /proc/<pid>/stat (10 ms ticks). RSS max: VmRSS sampled every 50 ms; VmHWM is the kernel's peak since start.",
  );
  notes.push(
    `The machine was shared: load average ${loadavgBefore.map((l) => l.toFixed(2)).join(' ')} before, ${machine.loadavgAfter.map((l) => l.toFixed(2)).join(' ')} after (${cores} cores); per workload, the JSON records how many cores the whole machine kept busy.`,
  );
  if (cachesDropped !== undefined) {
    notes.push(
      cachesDropped
        ? 'Fleet pull on a cold page cache: the kernel page cache was dropped (sync; echo 3 > /proc/sys/vm/drop_caches) before each cold run.'
        : 'Fleet pull "on a dropped page cache": the page cache could NOT be dropped (a smoke run, or not root), so those figures are warm ones.',
    );
  }
  if (opts.profile) notes.push("Profiled run (node --cpu-prof): the figures include the profiler's overhead and are not comparable.");
  const result = {
    schema: 'berth-bench/1',
    kind: opts.profile ? 'cpu-profile' : opts.smoke ? 'smoke' : 'full',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    seconds: secondsSince(started),
    options: {
      rounds: opts.rounds,
      backend: opts.backend,
      smoke: opts.smoke,
      only: opts.only ?? null,
      berthOnly: opts.berthOnly,
      workloads: opts.selected.map((w) => w.name),
    },
    sizes,
    machine,
    figures,
    targets,
    rounds,
    ...(profiles ? { profiles, profileDir } : {}),
    notes,
  };

  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const jsonPath =
    opts.json ??
    join(
      resultsDir,
      `bench-${opts.backend === 'pg-s3' ? 'pg-s3-' : ''}${stamp}${opts.smoke ? '-smoke' : opts.profile ? '-cpuprof' : ''}.json`,
    );
  writeFileSync(jsonPath, JSON.stringify(result, null, 2) + '\n');

  const md =
    markdown({
      title: opts.profile
        ? 'Berth CPU profile run'
        : opts.backend === 'pg-s3'
          ? `Berth on PostgreSQL + S3 vs CNCF distribution on S3${opts.smoke ? ' (smoke run)' : ''}`
          : `Berth vs CNCF distribution${opts.smoke ? ' (smoke run)' : ''}`,
      issue: opts.backend === 'pg-s3' ? '17' : '6 and 21',
      when: `${startedAt.toISOString()}: ${rounds.length / kinds.length} round(s), ${secondsSince(started).toFixed(0)} s in all (\`node bench/run.ts${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}\`).`,
      machineLines: [
        `Berth ${machine.berthCommit}`,
        `${cores} cores (${machine.cpuModel}), ${machine.memTotalMiB} MiB, Linux ${machine.kernel}, Node ${machine.node}; ${distributionVersion}; ${wrkVersion}; docker ${machine.docker}${storeVersions ? `; ${storeVersions}` : ''}`,
        `load average before ${loadavgBefore.map((l) => l.toFixed(2)).join(' ')}, after ${machine.loadavgAfter.map((l) => l.toFixed(2)).join(' ')}`,
        `machine limits in this run: SHA-256 ${sha.median.toFixed(0)} MB/s on one core, loopback HTTP ${loopback.median.toFixed(0)} MB/s, disk writes ${disk.toFixed(0)} MB/s`,
      ],
      figures,
      targets,
      notes,
    }) +
    (profiles
      ? '\n' +
        Object.entries(profiles)
          .map(([w, p]) => formatProfile(w, p))
          .join('\n\n') +
        '\n'
      : '');
  const mdPath = opts.md ?? (opts.complete ? join(resultsDir, opts.backend === 'pg-s3' ? 'PG-S3.md' : 'RESULTS.md') : undefined);
  if (mdPath) writeFileSync(mdPath, md);

  console.log('\n' + textTable(figures) + '\n');
  for (const t of targets)
    console.log(`${t.met === null ? '  ?' : t.met ? ' ok' : 'MISS'}  ${t.target}: ${t.measured}${t.shortfall ? ` (${t.shortfall})` : ''}`);
  if (profiles) for (const [w, p] of Object.entries(profiles)) console.log('\n' + formatProfile(w, p));
  console.log(`\nJSON: ${jsonPath}${mdPath ? `\nMarkdown: ${mdPath}` : ''}${profileDir ? `\nprofiles: ${profileDir}` : ''}`);
}

cleanUpOnSignals();
main().catch((e: Error) => {
  console.error(`bench failed: ${e.stack ?? e}`);
  process.exit(1);
});
