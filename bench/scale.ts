// `node bench/scale.ts`: Berth alone at scale (issue 6). Seeds one repository with many images (100,000 by
// default: small OCI manifests PUT concurrently over the data plane, each unique by an annotation and tagged, all
// referencing one config blob and one tiny layer) and the registry with many repositories (10,000 by default,
// CreateRepository over the ECR API), then measures, through the ECR API with the AWS SDK (SigV4) and the OCI API:
// DescribeImages and ListImages page latency (pages of 100, p50 and p99) and full pagination walks,
// DescribeRepositories and /v2/_catalog walks, the lifecycle preview (StartLifecyclePolicyPreview until
// GetLifecyclePolicyPreview says COMPLETE), and the server's CPU and memory. With --backend pg (issue 17) Berth runs on
// a private PostgreSQL, the images are written through the metadata store in bulk (not pushed: seeding is not what
// is measured), and only the image listings are measured. See bench/README.md.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetLifecyclePolicyPreviewCommand,
  ListImagesCommand,
  StartLifecyclePolicyPreviewCommand,
} from '@aws-sdk/client-ecr';
import pg from 'pg';
import { parseManifest } from '../src/core/manifest.ts';
import { PostgresMetaStore } from '../src/storage/meta/postgres.ts';
import { smallBlob, type Blob } from './lib/data.ts';
import { expectStatus, nextLink, pool, send, type Target } from './lib/http.ts';
import { privatePostgres } from './lib/pg-s3.ts';
import { memory, phase, type Phase } from './lib/proc.ts';
import { ROOT, cleanUpOnSignals, startBerth, type Registry } from './lib/servers.ts';
import { percentile, secondsSince } from './lib/stats.ts';
import { uploadMonolithic } from './workloads/blobs.ts';
import { manifestOf, putManifest } from './workloads/manifests.ts';

const USAGE = `Usage: node bench/scale.ts [options]

  --smoke              3,000 images and 500 repositories: a check that the benchmark works (well under a minute)
  --backend B          sqlite (default), or pg: Berth on a private PostgreSQL, the images written through the
                       metadata store in bulk (not timed), and only DescribeImages and ListImages measured
  --images N           images in the one repository (default 100000)
  --repos N            repositories besides it (default 10000)
  --concurrency N      requests in flight while seeding (default 32)
  --seed-minutes M     stop seeding images past this budget and measure with what was made (default 8)
  --walk-seconds S     stop each pagination walk past this budget; its full time is then estimated (default 60)
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
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const smoke = values.smoke;
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
      const m = parseManifest(body, 'application/vnd.oci.image.manifest.v1+json');
      const now = Date.now();
      const write = await store.putManifest(
        {
          repositoryId: repo.id,
          digest: `sha256:${createHash('sha256').update(body).digest('hex')}`,
          mediaType: m.mediaType,
          artifactType: m.artifactType ?? null,
          subjectDigest: null,
          size: body.length,
          content: body,
          annotations: m.annotations ?? null,
          pushedAt: now,
          blobs: m.blobs,
          manifests: m.manifests,
          imageSize: m.layersSize,
          configMediaType: m.configMediaType ?? null,
        },
        tag,
        now,
        false,
      );
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

cleanUpOnSignals();
main().catch((e: Error) => {
  console.error(`scale bench failed: ${e.stack ?? e}`);
  process.exit(1);
});
