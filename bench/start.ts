// `node bench/start.ts`: start time (issue 21, item 4). Seeds a Berth data directory with 100,000 images in one
// repository (written through the SQLite metadata store in bulk, as a push writes them: not pushed, and not timed),
// and distribution's storage with the same number of images (files written as distribution lays them out), then
// measures, over several runs, the time from the spawn of the server to its first HTTP answer on /v2/ (any status:
// Berth's 401 counts). Beside them, in the same runs: Node itself (a trivial node:http server, started the same way)
// and Berth on an empty data directory. See bench/README.md.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteMetaStore } from '../src/storage/meta/sqlite.ts';
import { manifestRow } from './lib/seed.ts';
import { sha256Digest, smallBlob, type Blob } from './lib/data.ts';
import { summarizeProfile, formatProfile } from './lib/profile.ts';
import { DISTRIBUTION_BIN, ROOT, cleanUpOnSignals, distributionConfig, freePort, startBerth, withoutAwsVariables } from './lib/servers.ts';
import { median, percentile, secondsSince } from './lib/stats.ts';
import { uploadMonolithic } from './workloads/blobs.ts';
import { manifestOf } from './workloads/manifests.ts';

const USAGE = `Usage: node bench/start.ts [options]

  --smoke          2,000 images and 3 runs: a check that the benchmark works (about 15 s)
  --images N       images in the one repository of each store (default 100000)
  --runs N         starts of each server (default 9)
  --berth-only     leave distribution out
  --baseline DIR   also start the Berth of another checkout (built) on the same seeded store: before and after
  --cpu-prof       also start Berth once more under --cpu-prof on the seeded store, and print where its start goes
  --json PATH      where to write the JSON result (default bench/results/start-<time>[-smoke].json)
  --md PATH        also write the Markdown table there (a full default run writes bench/results/START.md)`;

const started = process.hrtime.bigint();
const startedAt = new Date();
const log = (message: string) => process.stderr.write(`[${secondsSince(started).toFixed(1).padStart(6)} s] ${message}\n`);

const REPO = 'start/images';
const ACCESS_KEY_ID = 'AKIABENCHROOT0000001';
const SECRET = 'bench-start-secret-0123456789';

/** Writes `count` images into Berth's data directory `dataDir` through its metadata store, the server stopped. */
async function seedBerth(dataDir: string, config: Blob, layer: Blob, count: number): Promise<void> {
  // Not what a server does (it keeps synchronous = FULL): the seeding is not measured, and need not survive a crash.
  const store = new SqliteMetaStore(join(dataDir, 'meta.db'), { bulkLoad: true });
  try {
    const accountId = await store.getSetting('default_account_id');
    const repo = accountId ? await store.getRepository(accountId, REPO) : undefined;
    if (!repo) throw new Error(`${REPO} was not made by the first push`);
    const now = Date.now();
    for (let i = 0; i < count; i++) {
      const body = manifestOf(config, [layer], { 'org.example.start.index': String(i) });
      const write = await store.putManifest(manifestRow(repo.id, body, now + i), tagOf(i), now + i, false);
      if (!write.created || write.missingBlobs?.length) throw new Error(`seeding ${tagOf(i)}: ${JSON.stringify(write)}`);
    }
  } finally {
    await store.close();
  }
}

/** The short commit of a checkout, for the report. */
function commitOf(dir: string): string {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown commit';
  }
}

const tagOf = (i: number) => `v${String(i).padStart(6, '0')}`;

/** Lays out `count` images in distribution's filesystem storage as a push of them would (blob data and links). */
function seedDistribution(storage: string, config: Blob, layer: Blob, count: number): void {
  const v2 = join(storage, 'docker', 'registry', 'v2');
  const blob = (digest: string, data: Buffer) => {
    const hex = digest.slice('sha256:'.length);
    const dir = join(v2, 'blobs', 'sha256', hex.slice(0, 2), hex);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'data'), data);
  };
  const link = (dir: string, digest: string) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'link'), digest);
  };
  const repo = join(v2, 'repositories', REPO);
  for (const b of [config, layer]) {
    blob(b.digest, Buffer.concat([...b.pieces()]));
    link(join(repo, '_layers', 'sha256', b.digest.slice(7)), b.digest);
  }
  for (let i = 0; i < count; i++) {
    const body = manifestOf(config, [layer], { 'org.example.start.index': String(i) });
    const digest = sha256Digest(body);
    const hex = digest.slice(7);
    blob(digest, body);
    link(join(repo, '_manifests', 'revisions', 'sha256', hex), digest);
    link(join(repo, '_manifests', 'tags', tagOf(i), 'current'), digest);
    link(join(repo, '_manifests', 'tags', tagOf(i), 'index', 'sha256', hex), digest);
  }
}

/** Sends GET /v2/ on a new connection; resolves with the status code, or undefined when nothing listens yet. */
function probe(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let head = '';
    socket.setNoDelay(true);
    socket.once('connect', () => socket.write(`GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`));
    socket.on('data', (d) => {
      head += d.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (m) {
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
    socket.once('error', () => resolve(undefined));
    socket.once('close', () => resolve(undefined));
  });
}

interface Start {
  seconds: number;
  status: number;
}

/** Spawns `command`, probes /v2/ every 2 ms until it answers, stops it: exec to first answer, in seconds. */
async function timeStart(command: string, args: string[], env: NodeJS.ProcessEnv, port: number, cwd: string): Promise<Start> {
  const t0 = process.hrtime.bigint();
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`${command} exited (${child.exitCode ?? child.signalCode}): ${stderr}`);
      const status = await probe(port);
      if (status !== undefined) return { seconds: secondsSince(t0), status };
      if (secondsSince(t0) > 30) throw new Error(`${command} did not answer on port ${port} in 30 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

const FLOOR_SERVER = `import { createRequire } from 'node:module';
const { createServer } = createRequire(import.meta.url)('node:http');
createServer((req, res) => { res.statusCode = 401; res.end(); }).listen(Number(process.env.PORT), '127.0.0.1');
`;

interface Series {
  samples: number[];
  median: number;
  p90: number;
  min: number;
  max: number;
}

const series = (samples: number[]): Series => ({
  samples,
  median: median(samples),
  p90: percentile(samples, 90),
  min: Math.min(...samples),
  max: Math.max(...samples),
});

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      images: { type: 'string' },
      runs: { type: 'string' },
      'berth-only': { type: 'boolean', default: false },
      baseline: { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      json: { type: 'string' },
      md: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  cleanUpOnSignals();
  const smoke = values.smoke;
  const images = Number(values.images ?? (smoke ? 2000 : 100_000));
  const runs = Number(values.runs ?? (smoke ? 3 : 9));
  if (!Number.isInteger(images) || images <= 0) throw new Error('--images: a positive integer');
  if (!Number.isInteger(runs) || runs <= 0) throw new Error('--runs: a positive integer');
  const withDistribution = !values['berth-only'];
  const loadavgBefore = os.loadavg();
  log(
    `start-time benchmark${smoke ? ' (smoke)' : ''}: ${images} images, ${runs} runs; load average ${loadavgBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );

  const work = mkdtempSync(join(os.tmpdir(), 'berth-bench-start-'));
  try {
    // Berth: a first start makes the data directory (schema, account, root key); the config and the layer are pushed,
    // which makes the repository; then the images are written through the metadata store with the server stopped.
    const config = smallBlob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })));
    const layer = smallBlob(Buffer.from('one tiny layer shared by every image of the start benchmark\n'));
    const berthDir = join(work, 'berth');
    const emptyDir = join(work, 'berth-empty');
    mkdirSync(berthDir);
    mkdirSync(emptyDir);
    for (const dir of [berthDir, emptyDir]) {
      const reg = await startBerth({ dataDir: dir, accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET });
      if (dir === berthDir) {
        await uploadMonolithic(reg, REPO, config);
        await uploadMonolithic(reg, REPO, layer);
      }
      await reg.stop();
    }
    let t = process.hrtime.bigint();
    await seedBerth(berthDir, config, layer, images);
    const seedBerthSeconds = secondsSince(t);
    log(`seeded Berth with ${images} images through the metadata store in ${seedBerthSeconds.toFixed(1)} s`);
    const distributionDir = join(work, 'distribution');
    let seedDistributionSeconds = 0;
    if (withDistribution) {
      t = process.hrtime.bigint();
      seedDistribution(join(distributionDir, 'storage'), config, layer, images);
      seedDistributionSeconds = secondsSince(t);
      log(`seeded distribution's storage with ${images} images in ${seedDistributionSeconds.toFixed(1)} s`);
    }
    writeFileSync(join(work, 'floor.mjs'), FLOOR_SERVER);

    const node = process.execPath;
    const berthEnv = (port: number) => ({
      ...withoutAwsVariables(process.env),
      BERTH_LISTEN: `127.0.0.1:${port}`,
      BERTH_ROOT_ACCESS_KEY_ID: ACCESS_KEY_ID,
      BERTH_ROOT_SECRET_ACCESS_KEY: SECRET,
      BERTH_CREATE_ON_PUSH: 'true',
      BERTH_LOG_LEVEL: 'warn',
      BERTH_AUDIT_LOG: 'off',
    });
    type Name = 'berth' | 'berth_baseline' | 'berth_empty' | 'distribution' | 'node_floor';
    const baseline = values.baseline ? resolve(values.baseline) : undefined;
    const starters: Record<Name, (port: number) => Promise<Start>> = {
      berth: (port) =>
        timeStart(node, [join(ROOT, 'bin', 'berth.js'), 'serve'], { ...berthEnv(port), BERTH_DATA_DIR: berthDir }, port, ROOT),
      berth_baseline: (port) =>
        timeStart(node, [join(baseline!, 'bin', 'berth.js'), 'serve'], { ...berthEnv(port), BERTH_DATA_DIR: berthDir }, port, baseline!),
      berth_empty: (port) =>
        timeStart(node, [join(ROOT, 'bin', 'berth.js'), 'serve'], { ...berthEnv(port), BERTH_DATA_DIR: emptyDir }, port, ROOT),
      distribution: async (port) => {
        const configPath = join(distributionDir, 'config.yml');
        writeFileSync(configPath, distributionConfig(join(distributionDir, 'storage'), port));
        return timeStart(DISTRIBUTION_BIN, ['serve', configPath], withoutAwsVariables(process.env), port, distributionDir);
      },
      node_floor: (port) =>
        timeStart(node, [join(work, 'floor.mjs')], { ...withoutAwsVariables(process.env), PORT: String(port) }, port, work),
    };
    const names: Name[] = [
      'berth',
      ...(baseline ? (['berth_baseline'] as const) : []),
      'berth_empty',
      'node_floor',
      ...(withDistribution ? (['distribution'] as const) : []),
    ];
    const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Name, number[]>;
    const statuses: Partial<Record<Name, number>> = {};
    // One start of each is not counted: it brings the binaries and the stores into the page cache.
    for (let r = -1; r < runs; r++) {
      // The order rotates from run to run, so that none is always first after the machine was idle.
      const order = names.map((_, i) => names[(i + Math.max(r, 0)) % names.length]);
      for (const name of order) {
        const s = await starters[name](await freePort());
        statuses[name] = s.status;
        if (r >= 0) samples[name].push(s.seconds);
      }
      if (r >= 0) log(`run ${r + 1}: ${names.map((n) => `${n} ${(samples[n][r] * 1000).toFixed(0)} ms`).join(', ')}`);
    }
    const figures = Object.fromEntries(names.map((n) => [n, series(samples[n])])) as Record<Name, Series>;

    let profile: ReturnType<typeof summarizeProfile> | undefined;
    if (values['cpu-prof']) {
      const dir = join(work, 'cpuprof');
      mkdirSync(dir);
      const port = await freePort();
      await timeStart(
        node,
        ['--cpu-prof', '--cpu-prof-dir', dir, join(ROOT, 'bin', 'berth.js'), 'serve'],
        { ...berthEnv(port), BERTH_DATA_DIR: berthDir },
        port,
        ROOT,
      );
      const { readdirSync, copyFileSync } = await import('node:fs');
      const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
      if (file) {
        const kept = join(os.tmpdir(), `berth-start-${Date.now()}.cpuprofile`);
        copyFileSync(join(dir, file), kept);
        profile = summarizeProfile(kept, realpathSync(ROOT), 25);
        console.log(formatProfile("Berth's start (exec to the first answer, and the moment until SIGTERM)", profile));
        log(`profile kept in ${kept}`);
      }
    }

    const loadavgAfter = os.loadavg();
    const ms = (s: number) => (s * 1000).toFixed(0);
    const target = 0.5;
    const met = figures.berth.median <= target;
    const rows = names.map(
      (n) =>
        `| ${
          {
            berth: `Berth, ${images.toLocaleString('en-US')} images`,
            berth_baseline: `Berth before (${values.baseline}, ${commitOf(baseline!)}), the same store`,
            berth_empty: 'Berth, empty store',
            node_floor: 'Node itself (a trivial `node:http` server)',
            distribution: `distribution 2.8.2, ${images.toLocaleString('en-US')} images`,
          }[n]
        } | ${ms(figures[n].median)} | ${ms(figures[n].p90)} | ${ms(figures[n].min)}–${ms(figures[n].max)} | ${statuses[n]} |`,
    );
    const md = [
      '# Start time (issue 21, item 4)',
      '',
      `\`node bench/start.ts${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}\`, ${new Date().toISOString()}, ` +
        `${os.availableParallelism()} cores, load average ${loadavgBefore.map((l) => l.toFixed(2)).join(' ')} before and ${loadavgAfter.map((l) => l.toFixed(2)).join(' ')} after.`,
      '',
      `From the spawn of the server to its first HTTP answer on \`GET /v2/\` (a new connection tried every 2 ms; Berth answers 401 without credentials, distribution 200), ${runs} runs of each, in rotating order after one uncounted start of each.`,
      '',
      '| server | median ms | p90 ms | range ms | status |',
      '|---|---|---|---|---|',
      ...rows,
      '',
      `Target: Berth with ${images.toLocaleString('en-US')} images answers in ≤ ${target * 1000} ms: **${met ? 'met' : 'missed'}** (median ${ms(figures.berth.median)} ms, p90 ${ms(figures.berth.p90)} ms).`,
      '',
      `Berth's start is ${ms(figures.berth.median - figures.node_floor.median)} ms above Node's own (medians); with ${images.toLocaleString('en-US')} images it is ${ms(figures.berth.median - figures.berth_empty.median)} ms from the empty store's: what start reads does not grow with the images (the schema version, settings, the account, the root key, job schedules), and the time goes to loading modules (\`--cpu-prof\` shows where).` +
        (figures.berth_baseline
          ? ` Before (\`--baseline\`): median ${ms(figures.berth_baseline.median)} ms, p90 ${ms(figures.berth_baseline.p90)} ms.`
          : ''),
      '',
      `Berth's store was seeded through its SQLite metadata store (${seedBerthSeconds.toFixed(0)} s, not timed): one repository of ${images.toLocaleString('en-US')} tagged images, as pushes write them.` +
        (withDistribution
          ? ` Distribution's storage holds the same number of images, laid out as its pushes lay them out (${seedDistributionSeconds.toFixed(0)} s); distribution reads nothing of its storage at start, so its start does not depend on it.`
          : ''),
    ].join('\n');
    const result = {
      startedAt: startedAt.toISOString(),
      options: { images, runs, smoke, withDistribution, ...(baseline ? { baseline } : {}) },
      machine: { cores: os.availableParallelism(), loadavgBefore, loadavgAfter, node: process.version },
      seed: { berthSeconds: seedBerthSeconds, distributionSeconds: seedDistributionSeconds },
      figures,
      statuses,
      target: { seconds: target, met },
      ...(profile ? { profile } : {}),
    };
    const resultsDir = join(ROOT, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const jsonPath = values.json ?? join(resultsDir, `start-${stamp}${smoke ? '-smoke' : ''}.json`);
    writeFileSync(jsonPath, JSON.stringify(result, null, 2));
    const full = !smoke && !values.images && !values.runs && withDistribution;
    const mdPath = values.md ?? (full ? join(resultsDir, 'START.md') : undefined);
    if (mdPath) writeFileSync(mdPath, md + '\n');
    console.log('\n' + md);
    console.log(`JSON: ${jsonPath}${mdPath ? `\nMarkdown: ${mdPath}` : ''}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
