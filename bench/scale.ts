// `node bench/scale.ts`: Berth alone at scale (issue 6). Seeds one repository with many images (100,000 by
// default: small OCI manifests PUT concurrently over the data plane, each unique by an annotation and tagged, all
// referencing one config blob and one tiny layer) and the registry with many repositories (10,000 by default,
// CreateRepository over the ECR API), then measures, through the ECR API with the AWS SDK (SigV4) and the OCI API:
// DescribeImages and ListImages page latency (pages of 100, p50 and p99) and full pagination walks,
// DescribeRepositories and /v2/_catalog walks, the lifecycle preview (StartLifecyclePolicyPreview until
// GetLifecyclePolicyPreview says COMPLETE), and the server's CPU and memory. With --backend pg (issue 17) Berth runs on
// a private PostgreSQL, the images are written through the metadata store in bulk (not pushed: seeding is not what
// is measured), and only the image listings are measured. See bench/README.md.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import {
  closeSync,
  copyFileSync,
  existsSync,
  futimesSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetLifecyclePolicyPreviewCommand,
  ListImagesCommand,
  PutLifecyclePolicyCommand,
  StartLifecyclePolicyPreviewCommand,
} from '@aws-sdk/client-ecr';
import pg from 'pg';
import { PostgresMetaStore } from '../src/storage/meta/postgres.ts';
import { SqliteMetaStore } from '../src/storage/meta/sqlite.ts';
import { sha256Digest, smallBlob, type Blob } from './lib/data.ts';
import { expectStatus, nextLink, pool, send, type Target } from './lib/http.ts';
import { privatePostgres } from './lib/pg-s3.ts';
import { memory, phase, type Phase } from './lib/proc.ts';
import { ROOT, cleanUpOnSignals, startBerth, type Registry } from './lib/servers.ts';
import { percentile, secondsSince } from './lib/stats.ts';
import { uploadMonolithic } from './workloads/blobs.ts';
import { manifestOf, putManifest } from './workloads/manifests.ts';
import { manifestRow } from './lib/seed.ts';

const USAGE = `Usage: node bench/scale.ts [options]

  --smoke              3,000 images and 500 repositories: a check that the benchmark works (well under a minute)
  --backend B          sqlite (default), or pg: Berth on a private PostgreSQL, the images written through the
                       metadata store in bulk (not timed), and only DescribeImages and ListImages measured
  --images N           images in the one repository (default 100000)
  --repos N            repositories besides it (default 10000)
  --concurrency N      requests in flight while seeding (default 32)
  --seed-minutes M     stop seeding images past this budget and measure with what was made (default 8)
  --walk-seconds S     stop each pagination walk past this budget; its full time is then estimated (default 60)
  --bulk               issue 21's big registry instead: --images (default 1000000) across --repos (default 10000,
                       one of them, scale/big, of --big-repo images, default 100000), seeded through the SQLite
                       metadata store in bulk with a config blob per image (not timed); then measured: start,
                       DescribeImages pages, /v2/_catalog walks, an online GC on the idle registry, pushes alone and
                       during a GC, a lifecycle run over scale/big expiring --expire images (default 10000); RSS
                       after each. With --smoke: 3,000 images in 50 repositories, 1,000 in scale/big
  --data-dir DIR       (--bulk) seed into DIR and keep it; a later run with the same sizes reuses the seed (its
                       database is restored from the seeded copy before each run)
  --push-seconds S     (--bulk) how long pushes alone are measured (default 15)
  --push-concurrency N (--bulk) pushes in flight (default 4)
  --seed-only          (--bulk, with --data-dir) seed, then stop
  --cpu-prof DIR       (--bulk) Berth writes a CPU profile of the measured run (after seeding) into DIR
  --json PATH          where to write the JSON result (default bench/results/scale-<time>[-smoke].json)
  --md PATH            also write the Markdown table there (a full run writes bench/results/SCALE.md, or SCALE-PG.md)`;

const started = process.hrtime.bigint();
const log = (message: string) => process.stderr.write(`[${secondsSince(started).toFixed(1).padStart(6)} s] ${message}\n`);

const IMAGES_REPO = 'scale/images';
const PAGE = 100;

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

interface Walk {
  /** Whether the walk reached the last page (false: stopped at the time budget). */
  complete: boolean;
  pages: number;
  items: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  firstPageMs: number;
  lastPageMs: number;
}

/** One page of a listing: how many items it held, and the token (or path) of the next page, if any. */
type Page = (token: string | undefined) => Promise<{ items: number; next?: string }>;

/** DescribeRepositories, pages of PAGE. */
const describeRepositoriesPage =
  (ecr: ECRClient): Page =>
  async (nextToken) => {
    const r = await ecr.send(new DescribeRepositoriesCommand({ maxResults: PAGE, nextToken }));
    return { items: r.repositories?.length ?? 0, next: r.nextToken };
  };

/** /v2/_catalog, pages of `n`, following the Link header. */
const catalogPage =
  (t: Target, n: number): Page =>
  async (path) => {
    const r = expectStatus(await send(t, 'GET', path ?? `/v2/_catalog?n=${n}`), 200, 'GET /v2/_catalog');
    return { items: (JSON.parse(r.body.toString('utf8')) as { repositories: string[] }).repositories.length, next: nextLink(r) };
  };

/** Calls `page(token)` until it returns no next token, or `budgetSeconds` have passed; records each call's latency.
 * The walk's wall time is the measuring phase's (see measureWalk). */
async function walk(page: Page, budgetSeconds: number): Promise<Walk> {
  const latencies: number[] = [];
  let token: string | undefined;
  let items = 0;
  const t0 = process.hrtime.bigint();
  do {
    const t1 = process.hrtime.bigint();
    const r = await page(token);
    latencies.push(secondsSince(t1) * 1000);
    items += r.items;
    token = r.next;
  } while (token && secondsSince(t0) < budgetSeconds);
  return {
    complete: !token,
    pages: latencies.length,
    items,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.reduce((a, b) => Math.max(a, b), 0),
    firstPageMs: latencies[0],
    lastPageMs: latencies[latencies.length - 1],
  };
}

/** One rule that expires all but the newest 1,000 images: every image is evaluated, most are selected. */
const LIFECYCLE_POLICY = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      description: 'keep the newest 1000',
      selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1000 },
      action: { type: 'expire' },
    },
  ],
});

async function lifecyclePreview(
  reg: Registry,
  ecr: ECRClient,
  images: number,
  figures: Record<string, number>,
): Promise<Record<string, unknown>> {
  let status = 'IN_PROGRESS';
  let polls = 0;
  let expiring: number | undefined;
  const { seconds, usage } = await phase(reg.pid, async () => {
    const t0 = process.hrtime.bigint();
    await ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName: IMAGES_REPO, lifecyclePolicyText: LIFECYCLE_POLICY }));
    while (status === 'IN_PROGRESS') {
      if (secondsSince(t0) > 300) throw new Error('the lifecycle preview did not complete in 300 s');
      await new Promise((r) => setTimeout(r, 20));
      const r = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: IMAGES_REPO, maxResults: PAGE }));
      polls++;
      status = r.status ?? 'unknown';
      expiring = r.summary?.expiringImageTotalCount;
    }
  });
  if (status !== 'COMPLETE') throw new Error(`lifecycle preview ended ${status}`);
  const wanted = Math.max(0, images - 1000);
  if (expiring !== wanted) throw new Error(`lifecycle preview: ${expiring} images expiring, expected ${wanted}`);
  // Reading the preview's result, page by page (following nextToken), as a console would. The poll that saw
  // COMPLETE already read the results once; Berth keeps them parsed for the pages that follow.
  const pages: number[] = [];
  let nextToken: string | undefined;
  for (let i = 0; i < 5; i++) {
    const t1 = process.hrtime.bigint();
    const r = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: IMAGES_REPO, maxResults: PAGE, nextToken }));
    pages.push(secondsSince(t1) * 1000);
    nextToken = r.nextToken;
    if (!nextToken) break;
  }
  figures.lifecycle_preview_s = seconds;
  figures.lifecycle_preview_cpu_s = usage.cpuSeconds;
  figures.lifecycle_preview_rss_max_MiB = usage.rssMaxMiB;
  figures.lifecycle_preview_page_p50_ms = percentile(pages, 50);
  log(
    `lifecycle preview over ${images} images: COMPLETE in ${seconds.toFixed(2)} s (${polls} polls), ${expiring} expiring; ` +
      `server CPU ${usage.cpuSeconds.toFixed(2)} s, RSS max ${usage.rssMaxMiB.toFixed(0)} MiB; a result page ${percentile(pages, 50).toFixed(1)} ms`,
  );
  // `implemented` stays in the result for readers of the berth-bench-scale/1 JSON (older results may say false).
  return { implemented: true, policy: JSON.parse(LIFECYCLE_POLICY), seconds, polls, expiring, usage, resultPageMs: pages };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      backend: { type: 'string', default: 'sqlite' },
      images: { type: 'string' },
      repos: { type: 'string' },
      concurrency: { type: 'string' },
      'seed-minutes': { type: 'string' },
      'walk-seconds': { type: 'string' },
      json: { type: 'string' },
      md: { type: 'string' },
      bulk: { type: 'boolean', default: false },
      'big-repo': { type: 'string' },
      expire: { type: 'string' },
      'data-dir': { type: 'string' },
      'push-seconds': { type: 'string' },
      'push-concurrency': { type: 'string' },
      'cpu-prof': { type: 'string' },
      'seed-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const smoke = values.smoke;
  if (values.bulk) {
    const o: BulkOptions = {
      smoke,
      images: Number(values.images ?? (smoke ? 3000 : 1_000_000)),
      repos: Number(values.repos ?? (smoke ? 50 : 10_000)),
      bigRepo: Number(values['big-repo'] ?? (smoke ? 1000 : 100_000)),
      expire: Number(values.expire ?? (smoke ? 200 : 10_000)),
      dataDir: values['data-dir'],
      walkBudget: Number(values['walk-seconds'] ?? 60),
      pushSeconds: Number(values['push-seconds'] ?? (smoke ? 1 : 15)),
      pushConcurrency: Number(values['push-concurrency'] ?? 4),
      json: values.json,
      md: values.md,
      cpuProf: values['cpu-prof'],
      seedOnly: values['seed-only'],
    };
    if (o.seedOnly && !o.dataDir) throw new Error('--seed-only: with --data-dir');
    for (const k of ['images', 'repos', 'bigRepo', 'expire', 'walkBudget', 'pushSeconds', 'pushConcurrency'] as const)
      if (!Number.isInteger(o[k]) || o[k] <= 0) throw new Error(`--bulk: ${k} must be a positive integer`);
    if (o.bigRepo >= o.images || o.repos < 2 || o.expire >= o.bigRepo || o.images - o.bigRepo < o.repos - 1)
      throw new Error('--bulk: want --big-repo < --images, --expire < --big-repo, and at least one image per other repository');
    if (values.backend === 'pg') {
      if (o.dataDir || o.seedOnly || o.cpuProf) throw new Error('--bulk --backend pg: no --data-dir, --seed-only or --cpu-prof');
      return bulkPgMain(o);
    }
    if (values.backend !== 'sqlite') throw new Error(`--backend: sqlite or pg, not ${values.backend}`);
    return bulkMain(o);
  }
  if (values.backend !== 'sqlite' && values.backend !== 'pg') throw new Error(`--backend: sqlite or pg, not ${values.backend}`);
  const pg = values.backend === 'pg';
  const wantImages = Number(values.images ?? (smoke ? 3000 : 100_000));
  const wantRepos = Number(values.repos ?? (smoke ? 500 : 10_000));
  const concurrency = Number(values.concurrency ?? 32);
  const seedBudget = Number(values['seed-minutes'] ?? 8) * 60;
  const walkBudget = Number(values['walk-seconds'] ?? 60);
  for (const [name, v] of [
    ['images', wantImages],
    ['repos', wantRepos],
    ['concurrency', concurrency],
    ['seed-minutes', seedBudget],
    ['walk-seconds', walkBudget],
  ] as const) {
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: a positive number`);
  }
  const startedAt = new Date();
  const loadavgBefore = os.loadavg();
  const cores = os.availableParallelism();
  log(
    `berth scale benchmark${pg ? ' on PostgreSQL' : ''}${smoke ? ' (smoke)' : ''}: ${wantImages} images in one repository${pg ? '' : `, ${wantRepos} repositories`}; ` +
      `${cores} cores, load average ${loadavgBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );

  const postgres = pg ? await privatePostgres() : undefined;
  const databaseUrl = postgres ? await postgres.createDatabase('scale') : undefined;
  let reg: Registry;
  try {
    reg = await startBerth(
      databaseUrl ? { env: { BERTH_DATABASE_URL: databaseUrl, BERTH_SECRET_KEY: randomBytes(32).toString('base64') } } : {},
    );
  } catch (e) {
    await postgres?.stop();
    throw e;
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  /** An ECR client of Berth signing with `credentials`: one attempt per call, on the shared keep-alive agent. */
  const ecrFor = (credentials: Keys) =>
    new ECRClient({ endpoint: reg.url, region: 'us-east-1', credentials, maxAttempts: 1, requestHandler: { httpAgent: agent } });
  const ecr = ecrFor({ accessKeyId: reg.accessKeyId!, secretAccessKey: reg.secretAccessKey! });
  const result: Record<string, unknown> = {};
  const figures: Record<string, number> = {};
  const notes: string[] = [];
  try {
    figures.rss_start_MiB = memory(reg.pid).rssMiB;

    // Seeding: the images.
    const config = smallBlob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })));
    const layer = smallBlob(Buffer.from('one tiny layer shared by every image of the scale benchmark\n'));
    await uploadMonolithic(reg, IMAGES_REPO, config);
    await uploadMonolithic(reg, IMAGES_REPO, layer);
    const seedOne = databaseUrl ? await storeSeeder(databaseUrl, ecr, config, layer) : undefined;
    let made = 0;
    let stopped = false;
    const progress: { images: number; seconds: number; perSecond: number }[] = [];
    const seedStart = process.hrtime.bigint();
    let lastMark = seedStart;
    const step = Math.max(1000, Math.floor(wantImages / 10));
    const seeded = await phase(reg.pid, () =>
      pool(wantImages, concurrency, async (i) => {
        if (stopped) return;
        if (secondsSince(seedStart) > seedBudget) {
          stopped = true;
          return;
        }
        const manifest = manifestOf(config, [layer], { 'org.example.scale.index': String(i) });
        const tag = `v${String(i).padStart(6, '0')}`;
        if (seedOne) await seedOne.put(manifest, tag);
        else await putManifest(reg, IMAGES_REPO, tag, manifest);
        made++;
        if (made % step === 0) {
          const s = secondsSince(lastMark);
          lastMark = process.hrtime.bigint();
          progress.push({ images: made, seconds: secondsSince(seedStart), perSecond: step / s });
          log(`  ${made} images (${(step / s).toFixed(0)}/s over the last ${step}, RSS ${memory(reg.pid).rssMiB.toFixed(0)} MiB)`);
        }
      }),
    );
    figures.seed_images = made;
    figures.seed_images_s = seeded.seconds;
    figures.seed_images_per_s = made / seeded.seconds;
    figures.seed_images_cpu_s = seeded.usage.cpuSeconds;
    result.seedImages = {
      wanted: wantImages,
      made,
      seconds: seeded.seconds,
      progress,
      usage: seeded.usage,
      machineBusyCores: seeded.machineBusyCores,
    };
    if (seeded.seconds > 180)
      notes.push(`Seeding ${made} images took ${(seeded.seconds / 60).toFixed(1)} minutes, more than the 3 minutes hoped for.`);
    if (made < wantImages)
      notes.push(
        `Seeding stopped at ${made} of ${wantImages} images: the ${seedBudget / 60}-minute budget passed. The figures are for ${made} images.`,
      );
    await seedOne?.close();
    log(
      `seeded ${made} images${seedOne ? ' through the metadata store' : ''} in ${seeded.seconds.toFixed(1)} s (${(made / seeded.seconds).toFixed(0)}/s), server CPU ${seeded.usage.cpuSeconds.toFixed(1)} s`,
    );
    if (seedOne)
      notes.push(
        `The ${made} images were written through the metadata store (PostgresMetaStore.putManifest, ${concurrency} in flight), not pushed, then VACUUM (ANALYZE) was run (what autovacuum would do): seeding is not measured.`,
      );

    // Seeding: the repositories (not on PostgreSQL, where only the image listings are measured).
    if (!pg) await seedRepositories();
    async function seedRepositories() {
      const repos = await phase(reg.pid, () =>
        pool(wantRepos, concurrency, async (i) => {
          await ecr.send(new CreateRepositoryCommand({ repositoryName: `scale/repo-${String(i).padStart(5, '0')}` }));
        }),
      );
      figures.seed_repos = wantRepos;
      figures.seed_repos_s = repos.seconds;
      figures.seed_repos_per_s = wantRepos / repos.seconds;
      result.seedRepos = { made: wantRepos, seconds: repos.seconds, usage: repos.usage, machineBusyCores: repos.machineBusyCores };
      log(`created ${wantRepos} repositories in ${repos.seconds.toFixed(1)} s (${(wantRepos / repos.seconds).toFixed(0)}/s)`);
    }
    figures.rss_after_seed_MiB = memory(reg.pid).rssMiB;

    // Measurements.
    const walks: Record<string, Walk & Phase> = {};
    const measureWalk = async (name: string, expected: number, page: Page) => {
      const w = await phase(reg.pid, () => walk(page, walkBudget));
      if (w.value.complete && w.value.items !== expected) throw new Error(`${name}: ${w.value.items} items, expected ${expected}`);
      walks[name] = { ...w.value, seconds: w.seconds, usage: w.usage, machineBusyCores: w.machineBusyCores };
      figures[`${name}_page_p50_ms`] = w.value.p50Ms;
      figures[`${name}_page_p99_ms`] = w.value.p99Ms;
      if (w.value.complete) {
        figures[`${name}_walk_s`] = w.seconds;
      } else {
        // Stopped at the budget: the full walk's time extrapolated from the pages read (an estimate, said so).
        figures[`${name}_walk_estimated_s`] = (w.seconds * expected) / w.value.items;
        notes.push(
          `${name}: the walk stopped at the ${walkBudget} s budget after ${w.value.pages} pages (${w.value.items} of ${expected} items); ` +
            `its page latencies are of those pages, and the full walk would take about ${figures[`${name}_walk_estimated_s`].toFixed(0)} s at that pace.`,
        );
      }
      figures[`${name}_cpu_s`] = w.usage.cpuSeconds;
      figures[`${name}_rss_max_MiB`] = w.usage.rssMaxMiB;
      log(
        `${name}: ${w.value.pages} pages, ${w.value.items} items in ${w.seconds.toFixed(2)} s${w.value.complete ? '' : ' (stopped at the time budget)'}; page p50 ${w.value.p50Ms.toFixed(1)} ms, ` +
          `p99 ${w.value.p99Ms.toFixed(1)} ms, max ${w.value.maxMs.toFixed(1)} ms (first ${w.value.firstPageMs.toFixed(1)}, last ${w.value.lastPageMs.toFixed(1)}); RSS max ${w.usage.rssMaxMiB.toFixed(0)} MiB`,
      );
    };
    await measureWalk('describe_images', made, async (nextToken) => {
      const r = await ecr.send(new DescribeImagesCommand({ repositoryName: IMAGES_REPO, maxResults: PAGE, nextToken }));
      return { items: r.imageDetails?.length ?? 0, next: r.nextToken };
    });
    await measureWalk('list_images', made, async (nextToken) => {
      const r = await ecr.send(new ListImagesCommand({ repositoryName: IMAGES_REPO, maxResults: PAGE, nextToken }));
      return { items: r.imageIds?.length ?? 0, next: r.nextToken };
    });
    if (!pg) {
      await measureWalk('describe_repositories', wantRepos + 1, describeRepositoriesPage(ecr));
      for (const n of [100, 1000]) await measureWalk(`catalog_n${n}`, wantRepos + 1, catalogPage(reg, n));
      // The same listings as an IAM user with a read-only policy (what CI is given): every repository is
      // authorized against the user's identity policies.
      const user = await readOnlyUser(reg);
      const userEcr = ecrFor(user);
      const userTarget = { ...reg, auth: 'Basic ' + Buffer.from(`${user.accessKeyId}:${user.secretAccessKey}`).toString('base64') };
      // No userEcr.destroy(): it would destroy the agent both clients share (the finally below does, once).
      await measureWalk('describe_repositories_user', wantRepos + 1, describeRepositoriesPage(userEcr));
      await measureWalk('catalog_n1000_user', wantRepos + 1, catalogPage(userTarget, 1000));

      // Lifecycle preview: StartLifecyclePolicyPreview, then GetLifecyclePolicyPreview until it is COMPLETE.
      result.lifecyclePreview = await lifecyclePreview(reg, ecr, made, figures);
    }
    result.walks = walks;
    figures.hwm_end_MiB = memory(reg.pid).hwmMiB;
    figures.rss_end_MiB = memory(reg.pid).rssMiB;
  } catch (e) {
    throw new Error(`${(e as Error).stack ?? e}\n--- last lines of Berth's output ---\n${reg.output().split('\n').slice(-30).join('\n')}`);
  } finally {
    ecr.destroy();
    agent.destroy();
    await reg.cleanup();
    await postgres?.stop();
  }

  const loadavgAfter = os.loadavg();
  const target = figures.describe_images_page_p99_ms;
  const listing = (name: string, op: string) => ({
    target: `${op} page (100 images) p99 < 50 ms with 100,000 images in the repository${pg ? ', on PostgreSQL' : ''}`,
    measured: `${figures[`${name}_page_p99_ms`].toFixed(1)} ms with ${figures.seed_images} images`,
    met: figures.seed_images >= 100_000 ? figures[`${name}_page_p99_ms`] < 50 : null,
  });
  const targets = pg
    ? [listing('describe_images', 'DescribeImages'), listing('list_images', 'ListImages')]
    : [
        listing('describe_images', 'DescribeImages'),
        {
          target: 'lifecycle preview over them < 5 s',
          measured: `${figures.lifecycle_preview_s.toFixed(2)} s with ${figures.seed_images} images`,
          met: figures.seed_images >= 100_000 ? figures.lifecycle_preview_s < 5 : null,
        },
      ];
  notes.push(
    `The machine was shared: load average ${loadavgBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadavgAfter.map((l) => l.toFixed(2)).join(' ')} after (${cores} cores).`,
  );
  notes.push('Page latencies are measured by the client (the AWS SDK for JavaScript v3, SigV4 signing included; one request at a time).');
  const out = {
    schema: 'berth-bench-scale/1',
    kind: smoke ? 'smoke' : 'full',
    startedAt: startedAt.toISOString(),
    seconds: secondsSince(started),
    options: {
      backend: values.backend,
      images: wantImages,
      repos: pg ? 0 : wantRepos,
      concurrency,
      seedMinutes: seedBudget / 60,
      page: PAGE,
    },
    machine: { nproc: cores, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadavgBefore, loadavgAfter },
    figures,
    targets,
    ...result,
    notes,
  };
  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const jsonPath = values.json ?? join(resultsDir, `scale-${pg ? 'pg-' : ''}${stamp}${smoke ? '-smoke' : ''}.json`);
  writeFileSync(jsonPath, JSON.stringify(out, null, 2) + '\n');

  const rows: [string, string, string][] = [
    [
      `images seeded (${pg ? 'through the metadata store, not timed' : 'OCI manifest PUTs'}, ${concurrency} in flight)`,
      `${figures.seed_images} in ${figures.seed_images_s.toFixed(1)} s`,
      `${figures.seed_images_per_s.toFixed(0)}/s`,
    ],
  ];
  if (!pg)
    rows.push([
      'repositories created (CreateRepository, ' + concurrency + ' in flight)',
      `${figures.seed_repos} in ${figures.seed_repos_s.toFixed(1)} s`,
      `${figures.seed_repos_per_s.toFixed(0)}/s`,
    ]);
  for (const [name, label] of [
    ['describe_images', 'DescribeImages'],
    ['list_images', 'ListImages'],
    ['describe_repositories', 'DescribeRepositories'],
    ['catalog_n100', '/v2/_catalog?n=100'],
    ['catalog_n1000', '/v2/_catalog?n=1000'],
    ['describe_repositories_user', 'DescribeRepositories as an IAM user'],
    ['catalog_n1000_user', '/v2/_catalog?n=1000 as an IAM user'],
  ] as const) {
    const w = (result.walks as Record<string, Walk & Phase>)[name];
    if (!w) continue;
    rows.push([
      `${label}: page p50 / p99 (pages of ${name.startsWith('catalog_n1000') ? 1000 : PAGE}${w.complete ? '' : `, the first ${w.pages}`})`,
      `${w.p50Ms.toFixed(1)} / ${w.p99Ms.toFixed(1)} ms`,
      `max ${w.maxMs.toFixed(1)} ms`,
    ]);
    rows.push(
      w.complete
        ? [
            `${label}: full walk (${w.pages} pages, ${w.items} items)`,
            `${w.seconds.toFixed(2)} s`,
            `server CPU ${w.usage.cpuSeconds.toFixed(2)} s, RSS max ${w.usage.rssMaxMiB.toFixed(0)} MiB`,
          ]
        : [
            `${label}: full walk, **stopped** at the ${walkBudget} s budget after ${w.pages} pages (${w.items} items)`,
            `about ${figures[`${name}_walk_estimated_s`].toFixed(0)} s (estimated)`,
            `server CPU ${w.usage.cpuSeconds.toFixed(2)} s, RSS max ${w.usage.rssMaxMiB.toFixed(0)} MiB`,
          ],
    );
  }
  rows.push([
    'server RSS: after start / after seeding / at the end',
    `${figures.rss_start_MiB.toFixed(0)} / ${figures.rss_after_seed_MiB.toFixed(0)} / ${figures.rss_end_MiB.toFixed(0)} MiB`,
    `peak (VmHWM) ${figures.hwm_end_MiB.toFixed(0)} MiB`,
  ]);
  if (!pg)
    rows.push([
      `lifecycle preview (keep the newest 1,000 of ${figures.seed_images}): Start until COMPLETE`,
      `${figures.lifecycle_preview_s.toFixed(2)} s`,
      `server CPU ${figures.lifecycle_preview_cpu_s.toFixed(2)} s, RSS max ${figures.lifecycle_preview_rss_max_MiB.toFixed(0)} MiB; a result page ${figures.lifecycle_preview_page_p50_ms.toFixed(1)} ms`,
    ]);
  const md = [
    `# Berth at scale${pg ? ' on PostgreSQL' : ''}${smoke ? ' (smoke run)' : ''}`,
    '',
    `${startedAt.toISOString()}: \`node bench/scale.ts${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}\`, ${secondsSince(started).toFixed(0)} s in all; ` +
      `${cores} cores, load average ${loadavgBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadavgAfter.map((l) => l.toFixed(2)).join(' ')} after.`,
    '',
    '| figure | value | |',
    '|---|---:|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    `| target (issue ${pg ? 17 : 6}) | measured | met |`,
    '|---|---|---|',
    ...targets.map((t) => `| ${t.target} | ${t.measured} | ${t.met === null ? 'not measured' : t.met ? 'yes' : '**no**'} |`),
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
  const mdPath = values.md ?? (smoke || values.images || values.repos ? undefined : join(resultsDir, pg ? 'SCALE-PG.md' : 'SCALE.md'));
  if (mdPath) writeFileSync(mdPath, md);
  console.log('\n' + md);
  console.log(`JSON: ${jsonPath}${mdPath ? `\nMarkdown: ${mdPath}` : ''}`);
}

/**
 * Writes images straight through the metadata store (bench/scale.ts --backend pg): the manifest, its tag and its
 * references in one putManifest each, as the core does for a push, on a pool of its own. `config` and `layer` must
 * already be in the repository (pushed over HTTP, which made the repository too).
 */
async function storeSeeder(
  databaseUrl: string,
  ecr: ECRClient,
  config: Blob,
  layer: Blob,
): Promise<{ put: (manifest: Buffer, tag: string) => Promise<void>; close: () => Promise<void> }> {
  const repository = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [IMAGES_REPO] }))).repositories?.[0];
  if (!repository?.registryId) throw new Error(`${IMAGES_REPO} was not made by the first push`);
  const store = await PostgresMetaStore.open(databaseUrl, { max: 16 });
  const repo = await store.getRepository(repository.registryId, IMAGES_REPO);
  if (!repo) throw new Error(`${IMAGES_REPO} is not in the database`);
  return {
    async put(body, tag) {
      const now = Date.now();
      const write = await store.putManifest(manifestRow(repo.id, body, now), tag, now, false);
      if (!write.created || write.missingBlobs?.length)
        throw new Error(`seeding ${tag}: ${JSON.stringify(write)} (config ${config.digest}, layer ${layer.digest})`);
    },
    async close() {
      await store.close();
      // What autovacuum would do after 100,000 inserts, done now rather than during the walks (not timed): the
      // measured walks are of a database at rest, with its statistics up to date.
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        await client.query('VACUUM (ANALYZE) manifests, tags, manifest_references, repository_blobs');
      } finally {
        await client.end();
      }
    },
  };
}

/** A user with a read-only identity policy (like AWS's AmazonEC2ContainerRegistryReadOnly), made over the admin API. */
async function readOnlyUser(reg: Registry): Promise<Keys> {
  const admin = async (action: string, args: object) => {
    const r = expectStatus(
      await send(reg, 'POST', `/_berth/admin/${action}`, { 'Content-Type': 'application/json' }, JSON.stringify(args)),
      200,
      `admin ${action}`,
    );
    return JSON.parse(r.body.toString('utf8'));
  };
  await admin('create-user', { user: 'ci-reader' });
  const key = (await admin('create-access-key', { user: 'ci-reader' })) as Keys;
  await admin('put-user-policy', {
    user: 'ci-reader',
    policyName: 'read-only',
    policyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'ecr:GetAuthorizationToken',
            'ecr:BatchCheckLayerAvailability',
            'ecr:GetDownloadUrlForLayer',
            'ecr:GetRepositoryPolicy',
            'ecr:DescribeRepositories',
            'ecr:ListImages',
            'ecr:DescribeImages',
            'ecr:BatchGetImage',
            'ecr:GetLifecyclePolicy',
            'ecr:ListTagsForResource',
          ],
          Resource: '*',
        },
      ],
    }),
  });
  return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
}

// ---------------------------------------------------------------------------------------------------------------
// --bulk (issue 21, item 5): a registry of 1,000,000 images across 10,000 repositories, one of them of 100,000, seeded
// through the SQLite metadata store in bulk (not pushed, not timed), each image with its own config blob (recorded,
// and a file in the blob store) and its repository's layer: about 1,010,000 blobs. Then measured on the running
// server: its start, DescribeImages pages over the big repository, the /v2/_catalog walk, an online garbage
// collection on the idle registry, pushes with and without a collection running, and a lifecycle run over the big
// repository; the server's RSS after each.

const BIG_REPO = 'scale/big';
const PUSH_REPO = 'scale/pushes';
/** Seeded blobs and images are this old: past any grace period, so collection checks every one of them. */
const SEED_AGE_MS = 30 * 86_400_000;
/** The root key of a bulk run's registry: kept with a kept data directory (a benchmark's, on loopback). */
const BULK_KEYS = { accessKeyId: 'AKIABENCHSCALEROOT01', secretAccessKey: 'bench-scale-root-secret-0123456789abcdef' };

interface BulkOptions {
  smoke: boolean;
  images: number;
  repos: number;
  bigRepo: number;
  expire: number;
  dataDir?: string;
  walkBudget: number;
  pushSeconds: number;
  pushConcurrency: number;
  json?: string;
  md?: string;
  /** Seed --data-dir and stop (a later run measures). */
  seedOnly: boolean;
  /** Where Berth writes a CPU profile (node --cpu-prof) of the measured run. */
  cpuProf?: string;
}

interface SeedRecord {
  schema: 'berth-bench-scale-seed/1';
  accountId: string;
  images: number;
  repos: number;
  bigRepo: number;
  blobs: number;
  seconds: number;
  seededAt: string;
}

/** The data of one seeded image: its config (unique to it) and its manifest, referencing its repository's layer. */
function seedImage(repoName: string, index: number, layer: Blob): { config: Buffer; manifest: Buffer } {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { repo: repoName, index: String(index) } },
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
    }),
  );
  const manifest = manifestOf(smallBlob(config), [layer]);
  return { config, manifest };
}

/** How many images repository `r` (0: the big one) gets. */
function imagesOf(r: number, o: Pick<BulkOptions, 'images' | 'repos' | 'bigRepo'>): number {
  if (r === 0) return o.bigRepo;
  const rest = o.images - o.bigRepo;
  const others = o.repos - 1;
  return Math.floor(rest / others) + (r - 1 < rest % others ? 1 : 0);
}

/**
 * Seeds the stopped registry's data directory through the metadata store (SqliteMetaStore with synchronous = OFF:
 * recordBlob, linkBlob and putManifest, as a push writes them) and writes each blob's file where the filesystem
 * blob store keeps it, dated like its record.
 */
async function bulkSeed(dataDir: string, accountId: string, o: BulkOptions): Promise<SeedRecord> {
  const t0 = process.hrtime.bigint();
  const store = new SqliteMetaStore(join(dataDir, 'meta.db'), { bulkLoad: true });
  const old = Date.now() - SEED_AGE_MS;
  const blobsDir = join(dataDir, 'blobs', 'sha256');
  for (let i = 0; i < 256; i++) mkdirSync(join(blobsDir, i.toString(16).padStart(2, '0')), { recursive: true, mode: 0o700 });
  const oldDate = new Date(old);
  const writeBlob = (digest: string, data: Buffer) => {
    const hex = digest.slice('sha256:'.length);
    const fd = openSync(join(blobsDir, hex.slice(0, 2), hex), 'w', 0o600);
    try {
      writeSync(fd, data);
      futimesSync(fd, oldDate, oldDate);
    } finally {
      closeSync(fd);
    }
  };
  let blobs = 0;
  let images = 0;
  let lastLog = process.hrtime.bigint();
  try {
    for (let r = 0; r < o.repos; r++) {
      const name = r === 0 ? BIG_REPO : `scale/repo-${String(r).padStart(5, '0')}`;
      const repo = await store.ensureRepository(accountId, name, old);
      const layerData = Buffer.from(`the one layer of every image in ${name}\n`);
      const layer = smallBlob(layerData);
      writeBlob(layer.digest, layerData);
      await store.recordBlob({ digest: layer.digest, size: layer.size }, old);
      await store.linkBlob(repo.id, layer.digest, old);
      blobs++;
      const count = imagesOf(r, o);
      for (let j = 0; j < count; j++) {
        const { config, manifest } = seedImage(name, j, layer);
        const configDigest = sha256Digest(config);
        writeBlob(configDigest, config);
        await store.recordBlob({ digest: configDigest, size: config.length }, old);
        await store.linkBlob(repo.id, configDigest, old);
        blobs++;
        // Pushed a second apart, in order: "the newest N" of a lifecycle rule are the last N.
        const pushedAt = old + j * 1000;
        const write = await store.putManifest(manifestRow(repo.id, manifest, pushedAt), `v${String(j).padStart(6, '0')}`, pushedAt, false);
        if (!write.created || write.missingBlobs?.length) throw new Error(`seeding ${name} image ${j}: ${JSON.stringify(write)}`);
        images++;
        if (secondsSince(lastLog) > 15) {
          lastLog = process.hrtime.bigint();
          log(`  seeded ${images} images, ${blobs} blobs, ${r + 1} repositories (${(images / secondsSince(t0)).toFixed(0)}/s)`);
        }
      }
    }
  } finally {
    await store.close();
  }
  const seconds = secondsSince(t0);
  return {
    schema: 'berth-bench-scale-seed/1',
    accountId,
    images,
    repos: o.repos,
    bigRepo: o.bigRepo,
    blobs,
    seconds,
    seededAt: new Date().toISOString(),
  };
}

/** POST /_berth/admin/<action>: its JSON answer. */
async function adminCall(reg: Registry, action: string, args: object): Promise<unknown> {
  const r = expectStatus(
    await send(reg, 'POST', `/_berth/admin/${action}`, { 'Content-Type': 'application/json' }, JSON.stringify(args)),
    200,
    `admin ${action}`,
  );
  return JSON.parse(r.body.toString('utf8'));
}

/** Pushes small images (a unique config and layer, then the manifest), `concurrency` at a time, until `until`
 * settles (or, given seconds, for that long): how many, in how long. */
async function pushWhile(
  reg: Registry,
  concurrency: number,
  until: Promise<unknown> | number,
  start: number,
  written: string[],
): Promise<{ pushes: number; seconds: number }> {
  let done = false;
  const t0 = process.hrtime.bigint();
  const stop = typeof until === 'number' ? new Promise((r) => setTimeout(r, until * 1000)) : until;
  void stop.finally(() => {
    done = true;
  });
  let next = start;
  let pushes = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!done) {
        const i = next++;
        const config = smallBlob(
          Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', push: i, nonce: randomBytes(8).toString('hex') })),
        );
        const layer = smallBlob(randomBytes(1024));
        written.push(config.digest, layer.digest);
        await uploadMonolithic(reg, PUSH_REPO, config);
        await uploadMonolithic(reg, PUSH_REPO, layer);
        await putManifest(reg, PUSH_REPO, `p${i}`, manifestOf(config, [layer]));
        if (!done) pushes++;
      }
    }),
  );
  await stop;
  return { pushes, seconds: secondsSince(t0) };
}

async function bulkMain(o: BulkOptions): Promise<void> {
  const startedAt = new Date();
  const loadavgBefore = os.loadavg();
  const cores = os.availableParallelism();
  log(
    `berth scale benchmark, bulk${o.smoke ? ' (smoke)' : ''}: ${o.images} images in ${o.repos} repositories, ${o.bigRepo} in ${BIG_REPO}; ` +
      `${cores} cores, load average ${loadavgBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );
  const kept = o.dataDir !== undefined;
  const dataDir = o.dataDir ? resolve(o.dataDir) : mkdtempSync(join(os.tmpdir(), 'berth-scale-bulk-'));
  const marker = join(dataDir, 'scale-seed.json');
  const seedDb = join(dataDir, 'meta.seed.db');
  const figures: Record<string, number> = {};
  const notes: string[] = [];
  let seed: SeedRecord | undefined = existsSync(marker) ? (JSON.parse(readFileSync(marker, 'utf8')) as SeedRecord) : undefined;
  if (seed && (seed.images !== o.images || seed.repos !== o.repos || seed.bigRepo !== o.bigRepo))
    throw new Error(
      `--data-dir ${dataDir} holds a seed of ${seed.images} images, ${seed.repos} repositories, ${seed.bigRepo} in the big one: not what was asked`,
    );
  try {
    if (seed) {
      log(
        `reusing the seed in ${dataDir} (${seed.images} images, ${seed.blobs} blobs, seeded ${seed.seededAt} in ${seed.seconds.toFixed(0)} s)`,
      );
      notes.push(
        `The seeded data directory was reused (--data-dir ${dataDir}, seeded ${seed.seededAt} in ${seed.seconds.toFixed(0)} s); the database was restored from its seeded copy.`,
      );
    } else {
      if (existsSync(dataDir) && readdirSync(dataDir).length > 0)
        throw new Error(`--data-dir ${dataDir}: not empty, and not seeded by this benchmark`);
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      // A first start makes the database, its schema and the account; the store is then written with Berth stopped.
      const first = await startBerth({ dataDir, ...BULK_KEYS });
      let accountId: string | undefined;
      const ecr0 = new ECRClient({ endpoint: first.url, region: 'us-east-1', credentials: BULK_KEYS, maxAttempts: 1 });
      try {
        accountId = (await ecr0.send(new CreateRepositoryCommand({ repositoryName: BIG_REPO }))).repository?.registryId;
      } finally {
        ecr0.destroy();
        await first.stop();
      }
      if (!accountId) throw new Error('CreateRepository returned no registryId');
      log(`seeding ${dataDir} through the metadata store...`);
      seed = await bulkSeed(dataDir, accountId, o);
      log(
        `seeded ${seed.images} images and ${seed.blobs} blobs in ${seed.repos} repositories in ${seed.seconds.toFixed(1)} s (${(seed.images / seed.seconds).toFixed(0)}/s)`,
      );
      copyFileSync(join(dataDir, 'meta.db'), seedDb);
      writeFileSync(marker, JSON.stringify(seed, null, 2) + '\n');
      notes.push(
        `Seeding (not timed by the targets) wrote ${seed.images} images and ${seed.blobs} blobs through the SQLite metadata store (recordBlob, linkBlob, putManifest; synchronous = OFF) and the blob files, in ${seed.seconds.toFixed(0)} s.`,
      );
    }
    if (o.seedOnly) return;
    figures.seed_images = seed.images;
    figures.seed_blobs = seed.blobs;
    figures.seed_s = seed.seconds;
    // The seeded copy gets the schema migrations made since it was seeded, once (not at each start, and not timed).
    await new SqliteMetaStore(seedDb).close();
    // Each run starts from the seeded database (a kept directory may have served runs that expired and pushed).
    for (const f of ['meta.db', 'meta.db-wal', 'meta.db-shm']) rmSync(join(dataDir, f), { force: true });
    copyFileSync(seedDb, join(dataDir, 'meta.db'));

    const t0 = process.hrtime.bigint();
    const reg = await startBerth({
      dataDir,
      ...BULK_KEYS,
      ...(o.cpuProf ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', resolve(o.cpuProf)] } : {}),
    });
    figures.start_s = secondsSince(t0);
    figures.rss_start_MiB = memory(reg.pid).rssMiB;
    log(`Berth started on the seeded store in ${figures.start_s.toFixed(2)} s, RSS ${figures.rss_start_MiB.toFixed(0)} MiB`);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const ecr = new ECRClient({
      endpoint: reg.url,
      region: 'us-east-1',
      credentials: BULK_KEYS,
      maxAttempts: 1,
      requestHandler: { httpAgent: agent },
    });
    const pushedDigests: string[] = [];
    const steps: Record<string, unknown> = {};
    const rssAfter = (step: string) => {
      figures[`rss_after_${step}_MiB`] = memory(reg.pid).rssMiB;
    };
    try {
      // DescribeImages over the big repository, and the _catalog walks.
      const walks: Record<string, Walk & Phase> = {};
      const measure = async (name: string, expected: number, page: Page) => {
        const w = await phase(reg.pid, () => walk(page, o.walkBudget));
        if (w.value.complete && w.value.items !== expected) throw new Error(`${name}: ${w.value.items} items, expected ${expected}`);
        walks[name] = { ...w.value, seconds: w.seconds, usage: w.usage, machineBusyCores: w.machineBusyCores };
        figures[`${name}_page_p50_ms`] = w.value.p50Ms;
        figures[`${name}_page_p99_ms`] = w.value.p99Ms;
        if (w.value.complete) figures[`${name}_walk_s`] = w.seconds;
        else {
          figures[`${name}_walk_estimated_s`] = (w.seconds * expected) / w.value.items;
          notes.push(`${name}: the walk stopped at the ${o.walkBudget} s budget after ${w.value.items} of ${expected} items.`);
        }
        figures[`${name}_rss_max_MiB`] = w.usage.rssMaxMiB;
        log(
          `${name}: ${w.value.pages} pages, ${w.value.items} items in ${w.seconds.toFixed(2)} s; page p50 ${w.value.p50Ms.toFixed(1)} ms, p99 ${w.value.p99Ms.toFixed(1)} ms, ` +
            `max ${w.value.maxMs.toFixed(1)} ms; RSS max ${w.usage.rssMaxMiB.toFixed(0)} MiB`,
        );
      };
      await measure('describe_images', o.bigRepo, async (nextToken) => {
        const r = await ecr.send(new DescribeImagesCommand({ repositoryName: BIG_REPO, maxResults: PAGE, nextToken }));
        return { items: r.imageDetails?.length ?? 0, next: r.nextToken };
      });
      rssAfter('describe_images');
      for (const n of [100, 1000]) await measure(`catalog_n${n}`, o.repos, catalogPage(reg, n));
      rssAfter('catalog');
      steps.walks = walks;

      // Online garbage collection on the idle registry: every blob is past the grace period and referenced, so the
      // collection checks them all and deletes nothing.
      const gcIdle = await phase(reg.pid, () => adminCall(reg, 'gc', {}));
      const idleReport = gcIdle.value as { blobsDeleted?: number; orphanFilesDeleted?: number; durationMs?: number };
      figures.gc_idle_s = gcIdle.seconds;
      figures.gc_idle_cpu_s = gcIdle.usage.cpuSeconds;
      figures.gc_idle_rss_max_MiB = gcIdle.usage.rssMaxMiB;
      rssAfter('gc_idle');
      steps.gcIdle = { report: { ...idleReport, deleted: undefined }, seconds: gcIdle.seconds, usage: gcIdle.usage };
      if (idleReport.blobsDeleted || idleReport.orphanFilesDeleted)
        throw new Error(`the idle collection deleted something: ${JSON.stringify(idleReport)}`);
      log(
        `gc on the idle registry (${seed.blobs} blobs): ${gcIdle.seconds.toFixed(2)} s, server CPU ${gcIdle.usage.cpuSeconds.toFixed(1)} s, RSS max ${gcIdle.usage.rssMaxMiB.toFixed(0)} MiB`,
      );

      // Pushes alone, then pushes while a collection runs.
      await ecr.send(new CreateRepositoryCommand({ repositoryName: PUSH_REPO }));
      await pushWhile(reg, o.pushConcurrency, Math.min(2, o.pushSeconds), 0, pushedDigests); // warm-up
      const alone = await pushWhile(reg, o.pushConcurrency, o.pushSeconds, 1_000_000, pushedDigests);
      figures.push_alone_per_s = alone.pushes / alone.seconds;
      // Collections back to back for at least as long as the pushes alone were measured (one, when it takes longer):
      // a window as long as the first, however quick a collection is.
      const gcRuns: number[] = [];
      const gcBusy = phase(reg.pid, async () => {
        const t = process.hrtime.bigint();
        let report: unknown;
        do {
          const t1 = process.hrtime.bigint();
          report = await adminCall(reg, 'gc', {});
          gcRuns.push(secondsSince(t1));
        } while (secondsSince(t) < o.pushSeconds);
        return report;
      });
      const during = await pushWhile(reg, o.pushConcurrency, gcBusy, 2_000_000, pushedDigests);
      const busy = await gcBusy;
      figures.gc_busy_s = gcRuns.reduce((a, b) => a + b, 0) / gcRuns.length;
      figures.gc_busy_runs = gcRuns.length;
      figures.push_during_gc_per_s = during.pushes / during.seconds;
      figures.push_during_gc_ratio = figures.push_during_gc_per_s / figures.push_alone_per_s;
      rssAfter('pushes');
      steps.pushes = {
        concurrency: o.pushConcurrency,
        alone,
        during,
        gc: { runs: gcRuns, lastReport: { ...(busy.value as object), deleted: undefined }, usage: busy.usage },
      };
      log(
        `pushes (${o.pushConcurrency} in flight): ${figures.push_alone_per_s.toFixed(0)}/s alone, ${figures.push_during_gc_per_s.toFixed(0)}/s during a collection ` +
          `(${during.pushes} in ${during.seconds.toFixed(2)} s; ${(100 * figures.push_during_gc_ratio).toFixed(0)} %); ${gcRuns.length} collection(s), ${figures.gc_busy_s.toFixed(2)} s each`,
      );

      // A lifecycle run over the big repository: a rule that expires its oldest `expire` images.
      const keep = o.bigRepo - o.expire;
      await ecr.send(
        new PutLifecyclePolicyCommand({
          repositoryName: BIG_REPO,
          lifecyclePolicyText: JSON.stringify({
            rules: [
              {
                rulePriority: 1,
                description: `keep the newest ${keep}`,
                selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: keep },
                action: { type: 'expire' },
              },
            ],
          }),
        }),
      );
      const run = await phase(reg.pid, () => adminCall(reg, 'lifecycle-run', { repository: BIG_REPO }));
      const results = (run.value as { results?: { expired: unknown[] }[] }).results ?? [];
      const expired = results.reduce((n, r) => n + r.expired.length, 0);
      if (expired !== o.expire) throw new Error(`the lifecycle run expired ${expired} images, expected ${o.expire}`);
      figures.lifecycle_run_s = run.seconds;
      figures.lifecycle_run_cpu_s = run.usage.cpuSeconds;
      figures.lifecycle_run_rss_max_MiB = run.usage.rssMaxMiB;
      figures.lifecycle_expired = expired;
      rssAfter('lifecycle');
      steps.lifecycleRun = { expired, seconds: run.seconds, usage: run.usage };
      log(
        `lifecycle run over ${o.bigRepo} images: ${expired} expired in ${run.seconds.toFixed(2)} s, server CPU ${run.usage.cpuSeconds.toFixed(1)} s, RSS max ${run.usage.rssMaxMiB.toFixed(0)} MiB`,
      );
      figures.hwm_end_MiB = memory(reg.pid).hwmMiB;
    } catch (e) {
      throw new Error(
        `${(e as Error).stack ?? e}\n--- last lines of Berth's output ---\n${reg.output().split('\n').slice(-30).join('\n')}`,
      );
    } finally {
      ecr.destroy();
      agent.destroy();
      await reg.stop();
    }
    // The blobs the pushes wrote are not in the seeded database: removed, so that a kept directory stays as seeded.
    for (const d of pushedDigests) rmSync(join(dataDir, 'blobs', 'sha256', d.slice(7, 9), d.slice(7)), { force: true });
    writeBulkReport(o, { startedAt, loadavgBefore, cores, figures, notes, steps, seed, dataDir: kept ? dataDir : undefined });
  } finally {
    if (!kept) rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * --bulk --backend pg: the same registry on a private PostgreSQL, written in bulk with multi-row INSERTs (the rows
 * putManifest, recordBlob and linkBlob write; not timed), then VACUUM (ANALYZE); measured: Berth's start, the
 * DescribeImages walk over scale/big and the /v2/_catalog walks (the PostgreSQL target is DescribeImages').
 * No blob files: nothing measured here reads them.
 */
async function bulkPgMain(o: BulkOptions): Promise<void> {
  const startedAt = new Date();
  const loadavgBefore = os.loadavg();
  const cores = os.availableParallelism();
  log(
    `berth scale benchmark, bulk on PostgreSQL${o.smoke ? ' (smoke)' : ''}: ${o.images} images in ${o.repos} repositories, ${o.bigRepo} in ${BIG_REPO}`,
  );
  const figures: Record<string, number> = {};
  const notes: string[] = [];
  const walks: Record<string, Walk & Phase> = {};
  const postgres = await privatePostgres();
  const dataDir = mkdtempSync(join(os.tmpdir(), 'berth-scale-bulk-pg-'));
  try {
    const databaseUrl = await postgres.createDatabase('scale_bulk');
    const env = { BERTH_DATABASE_URL: databaseUrl, BERTH_SECRET_KEY: randomBytes(32).toString('base64') };
    const first = await startBerth({ dataDir, ...BULK_KEYS, env });
    let accountId: string | undefined;
    const ecr0 = new ECRClient({ endpoint: first.url, region: 'us-east-1', credentials: BULK_KEYS, maxAttempts: 1 });
    try {
      accountId = (await ecr0.send(new CreateRepositoryCommand({ repositoryName: BIG_REPO }))).repository?.registryId;
    } finally {
      ecr0.destroy();
      await first.stop();
    }
    if (!accountId) throw new Error('CreateRepository returned no registryId');
    const t0 = process.hrtime.bigint();
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    let blobs = 0;
    let images = 0;
    try {
      const old = Date.now() - SEED_AGE_MS;
      const names = Array.from({ length: o.repos - 1 }, (_, i) => `scale/repo-${String(i + 1).padStart(5, '0')}`);
      await client.query('INSERT INTO repositories (account_id, name, created_at) SELECT $1, n, $2 FROM unnest($3::text[]) AS n', [
        accountId,
        old,
        names,
      ]);
      const ids = new Map<string, number>(
        (await client.query('SELECT id, name FROM repositories WHERE account_id = $1', [accountId])).rows.map((r) => [
          String(r.name),
          Number(r.id),
        ]),
      );
      const rows = {
        blobDigest: [] as string[],
        blobSize: [] as number[],
        linkRepo: [] as number[],
        linkDigest: [] as string[],
        mRepo: [] as number[],
        mDigest: [] as string[],
        mSize: [] as number[],
        mContent: [] as string[],
        mPushed: [] as number[],
        mImageSize: [] as number[],
        refRepo: [] as number[],
        refManifest: [] as string[],
        refChild: [] as string[],
        tagName: [] as string[],
      };
      const flush = async () => {
        if (rows.linkDigest.length === 0 && rows.mDigest.length === 0) return;
        await client.query('BEGIN');
        await client.query(
          'INSERT INTO blobs (digest, size, created_at, touched_at) SELECT d, s, $3, $3 FROM unnest($1::text[], $2::bigint[]) AS x (d, s) ON CONFLICT DO NOTHING',
          [rows.blobDigest, rows.blobSize, old],
        );
        await client.query(
          'INSERT INTO repository_blobs (repository_id, digest, linked_at) SELECT r, d, $3 FROM unnest($1::bigint[], $2::text[]) AS x (r, d) ON CONFLICT DO NOTHING',
          [rows.linkRepo, rows.linkDigest, old],
        );
        await client.query(
          `INSERT INTO manifests (repository_id, digest, media_type, size, content, pushed_at, image_size, config_media_type)
          SELECT r, d, $7, s, convert_to(c, 'UTF8'), p, i, $8 FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[]) AS x (r, d, s, c, p, i)`,
          [
            rows.mRepo,
            rows.mDigest,
            rows.mSize,
            rows.mContent,
            rows.mPushed,
            rows.mImageSize,
            'application/vnd.oci.image.manifest.v1+json',
            'application/vnd.oci.image.config.v1+json',
          ],
        );
        await client.query(
          "INSERT INTO manifest_references (repository_id, manifest_digest, child_digest, kind) SELECT r, m, c, 'blob' FROM unnest($1::bigint[], $2::text[], $3::text[]) AS x (r, m, c)",
          [rows.refRepo, rows.refManifest, rows.refChild],
        );
        await client.query(
          'INSERT INTO tags (repository_id, name, digest, updated_at) SELECT r, n, d, p FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[]) AS x (r, n, d, p)',
          [rows.mRepo, rows.tagName, rows.mDigest, rows.mPushed],
        );
        await client.query('COMMIT');
        for (const a of Object.values(rows)) a.length = 0;
      };
      let lastLog = process.hrtime.bigint();
      for (let r = 0; r < o.repos; r++) {
        const name = r === 0 ? BIG_REPO : names[r - 1];
        const repoId = ids.get(name);
        if (repoId === undefined) throw new Error(`${name} is not in the database`);
        const layerData = Buffer.from(`the one layer of every image in ${name}\n`);
        const layer = smallBlob(layerData);
        rows.blobDigest.push(layer.digest);
        rows.blobSize.push(layer.size);
        rows.linkRepo.push(repoId);
        rows.linkDigest.push(layer.digest);
        blobs++;
        for (let j = 0, count = imagesOf(r, o); j < count; j++) {
          const { config, manifest } = seedImage(name, j, layer);
          const configDigest = sha256Digest(config);
          const m = manifestRow(repoId, manifest, old + j * 1000);
          rows.blobDigest.push(configDigest);
          rows.blobSize.push(config.length);
          rows.linkRepo.push(repoId);
          rows.linkDigest.push(configDigest);
          blobs++;
          rows.mRepo.push(repoId);
          rows.mDigest.push(m.digest);
          rows.mSize.push(m.size);
          rows.mContent.push(manifest.toString('utf8'));
          rows.mPushed.push(m.pushedAt);
          rows.mImageSize.push(m.imageSize);
          for (const child of m.blobs) {
            rows.refRepo.push(repoId);
            rows.refManifest.push(m.digest);
            rows.refChild.push(child);
          }
          rows.tagName.push(`v${String(j).padStart(6, '0')}`);
          images++;
          if (rows.mDigest.length >= 5000) await flush();
          if (secondsSince(lastLog) > 15) {
            lastLog = process.hrtime.bigint();
            log(`  seeded ${images} images, ${blobs} blobs (${(images / secondsSince(t0)).toFixed(0)}/s)`);
          }
        }
      }
      await flush();
      log('VACUUM (ANALYZE)...');
      await client.query('VACUUM (ANALYZE)');
    } finally {
      await client.end();
    }
    figures.seed_images = images;
    figures.seed_blobs = blobs;
    figures.seed_s = secondsSince(t0);
    log(`seeded ${images} images and ${blobs} blobs through PostgreSQL in ${figures.seed_s.toFixed(0)} s`);
    notes.push(
      `Seeding (not timed by the targets) wrote the rows putManifest, recordBlob and linkBlob write with multi-row INSERTs, 5,000 images a transaction, then VACUUM (ANALYZE), in ${figures.seed_s.toFixed(0)} s. No blob files (nothing measured reads them).`,
    );

    const t1 = process.hrtime.bigint();
    const reg = await startBerth({ dataDir, ...BULK_KEYS, env });
    figures.start_s = secondsSince(t1);
    figures.rss_start_MiB = memory(reg.pid).rssMiB;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const ecr = new ECRClient({
      endpoint: reg.url,
      region: 'us-east-1',
      credentials: BULK_KEYS,
      maxAttempts: 1,
      requestHandler: { httpAgent: agent },
    });
    try {
      const measure = async (name: string, expected: number, page: Page) => {
        const w = await phase(reg.pid, () => walk(page, o.walkBudget));
        if (w.value.complete && w.value.items !== expected) throw new Error(`${name}: ${w.value.items} items, expected ${expected}`);
        walks[name] = { ...w.value, seconds: w.seconds, usage: w.usage, machineBusyCores: w.machineBusyCores };
        figures[`${name}_page_p50_ms`] = w.value.p50Ms;
        figures[`${name}_page_p99_ms`] = w.value.p99Ms;
        figures[`${name}_walk_s`] = w.seconds;
        figures[`rss_after_${name}_MiB`] = memory(reg.pid).rssMiB;
        log(
          `${name}: ${w.value.pages} pages, ${w.value.items} items in ${w.seconds.toFixed(2)} s; page p50 ${w.value.p50Ms.toFixed(1)} ms, p99 ${w.value.p99Ms.toFixed(1)} ms, ` +
            `max ${w.value.maxMs.toFixed(1)} ms; server CPU ${w.usage.cpuSeconds.toFixed(2)} s; machine ${w.machineBusyCores.toFixed(2)} cores busy`,
        );
      };
      await measure('describe_images', o.bigRepo, async (nextToken) => {
        const r = await ecr.send(new DescribeImagesCommand({ repositoryName: BIG_REPO, maxResults: PAGE, nextToken }));
        return { items: r.imageDetails?.length ?? 0, next: r.nextToken };
      });
      for (const n of [100, 1000]) await measure(`catalog_n${n}`, o.repos, catalogPage(reg, n));
      figures.hwm_end_MiB = memory(reg.pid).hwmMiB;
    } finally {
      ecr.destroy();
      agent.destroy();
      await reg.stop();
    }
  } finally {
    await postgres.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const loadavgAfter = os.loadavg();
  const di = walks.describe_images;
  const full = figures.seed_images >= 1_000_000;
  const md = [
    `# Berth at scale on PostgreSQL: ${figures.seed_images.toLocaleString('en-US')} images${o.smoke ? ' (smoke run)' : ''}`,
    '',
    `${startedAt.toISOString()}: \`node bench/scale.ts ${process.argv.slice(2).join(' ')}\`, ${secondsSince(started).toFixed(0)} s in all; ` +
      `${cores} cores, load average ${loadavgBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadavgAfter.map((l) => l.toFixed(2)).join(' ')} after.`,
    '',
    '| figure | value | |',
    '|---|---:|---|',
    `| seeded through PostgreSQL in bulk (not timed): ${figures.seed_images} images in ${o.repos} repositories, ${figures.seed_blobs} blobs | ${figures.seed_s.toFixed(0)} s | |`,
    `| Berth start (exec to listening) | ${figures.start_s.toFixed(2)} s | RSS ${figures.rss_start_MiB.toFixed(0)} MiB |`,
    ...(
      [
        ['describe_images', `DescribeImages over ${BIG_REPO} (${o.bigRepo} images)`],
        ['catalog_n100', '/v2/_catalog?n=100'],
        ['catalog_n1000', '/v2/_catalog?n=1000'],
      ] as const
    ).flatMap(([name, label]) => {
      const w = walks[name];
      return [
        `| ${label}: page p50 / p99 | ${w.p50Ms.toFixed(1)} / ${w.p99Ms.toFixed(1)} ms | max ${w.maxMs.toFixed(1)} ms |`,
        `| ${label}: full walk (${w.pages} pages, ${w.items} items) | ${w.seconds.toFixed(2)} s | server CPU ${w.usage.cpuSeconds.toFixed(2)} s, RSS max ${w.usage.rssMaxMiB.toFixed(0)} MiB; machine ${w.machineBusyCores.toFixed(2)} of ${cores} cores busy |`,
      ];
    }),
    '',
    '| target (issue 21, item 5) | measured | met |',
    '|---|---|---|',
    `| DescribeImages page (100 images) p99 < 50 ms, PostgreSQL | ${di.p99Ms.toFixed(1)} ms | ${full ? (di.p99Ms < 50 ? 'yes' : '**no**') : 'not measured (fewer than 1,000,000 images)'} |`,
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
  const resultsDir = join(ROOT, 'bench', 'results');
  const jsonPath =
    o.json ?? join(resultsDir, `scale-bulk-pg-${startedAt.toISOString().replace(/[:.]/g, '-')}${o.smoke ? '-smoke' : ''}.json`);
  writeFileSync(
    jsonPath,
    JSON.stringify(
      {
        schema: 'berth-bench-scale-bulk-pg/1',
        kind: o.smoke ? 'smoke' : 'full',
        options: o,
        figures,
        walks,
        notes,
        loadavgBefore,
        loadavgAfter,
      },
      null,
      2,
    ) + '\n',
  );
  const mdPath = o.md ?? (full && !o.smoke ? join(resultsDir, 'SCALE-1M-PG.md') : undefined);
  if (mdPath) writeFileSync(mdPath, md);
  console.log('\n' + md);
  console.log(`JSON: ${jsonPath}${mdPath ? `\nMarkdown: ${mdPath}` : ''}`);
}

function writeBulkReport(
  o: BulkOptions,
  r: {
    startedAt: Date;
    loadavgBefore: number[];
    cores: number;
    figures: Record<string, number>;
    notes: string[];
    steps: Record<string, unknown>;
    seed: SeedRecord;
    dataDir?: string;
  },
): void {
  const { figures: f, notes } = r;
  const loadavgAfter = os.loadavg();
  const full = f.seed_images >= 1_000_000;
  const target = (text: string, measured: string, met: boolean) => ({ target: text, measured, met: full ? met : null });
  const targets = [
    target(
      'DescribeImages page (100 images) p99 < 20 ms, SQLite',
      `${f.describe_images_page_p99_ms.toFixed(1)} ms`,
      f.describe_images_page_p99_ms < 20,
    ),
    target(
      '/v2/_catalog walk < 2 s',
      `${f.catalog_n100_walk_s?.toFixed(2) ?? '?'} s (n=100), ${f.catalog_n1000_walk_s?.toFixed(2) ?? '?'} s (n=1000)`,
      (f.catalog_n100_walk_s ?? Infinity) < 2 && (f.catalog_n1000_walk_s ?? Infinity) < 2,
    ),
    target(
      `lifecycle run over the ${o.bigRepo}-image repository < 3 s`,
      `${f.lifecycle_run_s.toFixed(2)} s (${f.lifecycle_expired} expired)`,
      f.lifecycle_run_s < 3,
    ),
    target(`online GC over ${f.seed_blobs} blobs on the idle registry < 30 s`, `${f.gc_idle_s.toFixed(2)} s`, f.gc_idle_s < 30),
    target('pushes during GC keep ≥ 60 % of their rate', `${(100 * f.push_during_gc_ratio).toFixed(0)} %`, f.push_during_gc_ratio >= 0.6),
  ];
  notes.push(
    `The machine was shared: load average ${r.loadavgBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadavgAfter.map((l) => l.toFixed(2)).join(' ')} after (${r.cores} cores).`,
  );
  notes.push(
    'Page latencies are measured by the client (DescribeImages with the AWS SDK for JavaScript v3, SigV4 included; one request at a time).',
  );
  const di = (r.steps.walks as Record<string, Walk & Phase>).describe_images;
  notes.push(
    `During the DescribeImages walk Berth used ${((1000 * di.usage.cpuSeconds) / di.pages).toFixed(1)} ms of CPU a page (median latency ${di.p50Ms.toFixed(1)} ms), ` +
      `and the machine's ${r.cores} cores were ${di.machineBusyCores.toFixed(2)} busy on average (this benchmark's client and server included): ` +
      "with the machine that busy, a page's latency includes its wait for a core.",
  );
  const out = {
    schema: 'berth-bench-scale-bulk/1',
    kind: o.smoke ? 'smoke' : 'full',
    startedAt: r.startedAt.toISOString(),
    seconds: secondsSince(started),
    options: { ...o, page: PAGE },
    machine: {
      nproc: r.cores,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadavgBefore: r.loadavgBefore,
      loadavgAfter,
    },
    seed: r.seed,
    figures: f,
    targets,
    ...r.steps,
    notes,
  };
  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = r.startedAt.toISOString().replace(/[:.]/g, '-');
  const jsonPath = o.json ?? join(resultsDir, `scale-bulk-${stamp}${o.smoke ? '-smoke' : ''}.json`);
  writeFileSync(jsonPath, JSON.stringify(out, null, 2) + '\n');
  const walks = r.steps.walks as Record<string, Walk & Phase>;
  const pushes = r.steps.pushes as { alone: { pushes: number; seconds: number }; during: { pushes: number; seconds: number } };
  const rows: [string, string, string][] = [
    [
      `seeded through the metadata store (not timed): ${f.seed_images} images in ${o.repos} repositories, ${f.seed_blobs} blobs`,
      `${f.seed_s.toFixed(0)} s`,
      r.dataDir ? `kept in ${r.dataDir}` : '',
    ],
    ['Berth start on the seeded store (exec to listening)', `${f.start_s.toFixed(2)} s`, `RSS ${f.rss_start_MiB.toFixed(0)} MiB`],
  ];
  for (const [name, label] of [
    ['describe_images', `DescribeImages over ${BIG_REPO} (${o.bigRepo} images)`],
    ['catalog_n100', '/v2/_catalog?n=100'],
    ['catalog_n1000', '/v2/_catalog?n=1000'],
  ] as const) {
    const w = walks[name];
    rows.push([`${label}: page p50 / p99`, `${w.p50Ms.toFixed(1)} / ${w.p99Ms.toFixed(1)} ms`, `max ${w.maxMs.toFixed(1)} ms`]);
    rows.push([
      `${label}: full walk (${w.pages} pages, ${w.items} items)`,
      w.complete ? `${w.seconds.toFixed(2)} s` : `stopped at ${o.walkBudget} s`,
      `server CPU ${w.usage.cpuSeconds.toFixed(2)} s, RSS max ${w.usage.rssMaxMiB.toFixed(0)} MiB`,
    ]);
  }
  rows.push([
    `online GC, idle registry (${f.seed_blobs} blobs, all past the grace period, all referenced)`,
    `${f.gc_idle_s.toFixed(2)} s`,
    `server CPU ${f.gc_idle_cpu_s.toFixed(2)} s, RSS max ${f.gc_idle_rss_max_MiB.toFixed(0)} MiB`,
  ]);
  rows.push([
    `pushes (config + layer + manifest, ${o.pushConcurrency} in flight): alone / during a GC`,
    `${f.push_alone_per_s.toFixed(0)} / ${f.push_during_gc_per_s.toFixed(0)} per s`,
    `${(100 * f.push_during_gc_ratio).toFixed(0)} %; ${pushes.alone.pushes} in ${pushes.alone.seconds.toFixed(1)} s, ${pushes.during.pushes} in ${pushes.during.seconds.toFixed(1)} s (${f.gc_busy_runs} GC(s) back to back, ${f.gc_busy_s.toFixed(2)} s each)`,
  ]);
  rows.push([
    `lifecycle run over ${BIG_REPO}: keep the newest ${o.bigRepo - o.expire}`,
    `${f.lifecycle_run_s.toFixed(2)} s`,
    `${f.lifecycle_expired} expired; server CPU ${f.lifecycle_run_cpu_s.toFixed(2)} s, RSS max ${f.lifecycle_run_rss_max_MiB.toFixed(0)} MiB`,
  ]);
  rows.push([
    'server RSS after: start / DescribeImages / _catalog / idle GC / pushes / lifecycle run',
    ['start', 'describe_images', 'catalog', 'gc_idle', 'pushes', 'lifecycle']
      .map((s) => (s === 'start' ? f.rss_start_MiB : f[`rss_after_${s}_MiB`]).toFixed(0))
      .join(' / ') + ' MiB',
    `peak (VmHWM) ${f.hwm_end_MiB.toFixed(0)} MiB`,
  ]);
  const md = [
    `# Berth at scale: ${f.seed_images.toLocaleString('en-US')} images${o.smoke ? ' (smoke run)' : ''}`,
    '',
    `${r.startedAt.toISOString()}: \`node bench/scale.ts ${process.argv.slice(2).join(' ')}\`, ${secondsSince(started).toFixed(0)} s in all; ` +
      `${r.cores} cores, load average ${r.loadavgBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadavgAfter.map((l) => l.toFixed(2)).join(' ')} after.`,
    '',
    '| figure | value | |',
    '|---|---:|---|',
    ...rows.map((x) => `| ${x.join(' | ')} |`),
    '',
    '| target (issue 21, item 5) | measured | met |',
    '|---|---|---|',
    ...targets.map(
      (t) =>
        `| ${t.target} | ${t.measured} | ${t.met === null ? 'not measured (fewer than 1,000,000 images)' : t.met ? 'yes' : '**no**'} |`,
    ),
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
  const mdPath = o.md ?? (full && !o.smoke ? join(resultsDir, 'SCALE-1M.md') : undefined);
  if (mdPath) writeFileSync(mdPath, md);
  console.log('\n' + md);
  console.log(`JSON: ${jsonPath}${mdPath ? `\nMarkdown: ${mdPath}` : ''}`);
}

cleanUpOnSignals();
main().catch((e: Error) => {
  console.error(`scale bench failed: ${e.stack ?? e}`);
  process.exit(1);
});
