// `node bench/memory.ts`: where Berth's resident memory goes (issue 21, item 3). Starts, in the same run:
//   - Node itself: a trivial node:http server started as Berth is (`node <file>`), the floor under any Node server;
//   - Berth in the embedded default (SQLite, filesystem blobs) on a data directory with an imported vulnerability
//     database (generated OSV records, `berth vulndb import`), measured after start, idle;
//   - the same Berth after each feature was used once: the metrics scraped, the console's sign-in page and an ECR
//     API call (DescribeRepositories over SigV4), then a heap snapshot taken (--heapsnapshot-signal).
// For each: VmRSS, and the resident memory by part (bench/lib/resident.ts): the node binary's pages by what they
// hold, anonymous memory (the V8 heap, malloc), shared libraries; for Berth, the V8 heap by kind from the snapshot.
// See bench/README.md.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { smallBlob } from './lib/data.ts';
import { headersFor, send } from './lib/http.ts';
import { load } from './lib/load.ts';
import { memory } from './lib/proc.ts';
import { residentByPart, type Resident } from './lib/resident.ts';
import { ROOT, cleanUpOnSignals, freePort, startBerth, withoutAwsVariables } from './lib/servers.ts';
import { secondsSince } from './lib/stats.ts';
import { uploadMonolithic } from './workloads/blobs.ts';
import { manifestOf, OCI_MANIFEST, putManifest } from './workloads/manifests.ts';

const USAGE = `Usage: node bench/memory.ts [options]

  --smoke          200 advisories, no heap snapshot: a check that the benchmark works (about 10 s)
  --advisories N   OSV records imported into the vulnerability database (default 20000)
  --baseline DIR   also measure the Berth of another checkout (built: its dist/ up to date), before this one
  --json PATH      where to write the JSON result (default bench/results/memory-<time>[-smoke].json)
  --md PATH        also write the Markdown report there (a full default run writes bench/results/MEMORY.md)`;

const started = process.hrtime.bigint();
const startedAt = new Date();
const log = (message: string) => process.stderr.write(`[${secondsSince(started).toFixed(1).padStart(6)} s] ${message}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An OSV record (schema 1.7) of a generated advisory: Debian, npm and PyPI in turn. */
function advisory(i: number): object {
  const [ecosystem, name, fixed] =
    i % 3 === 0
      ? ['Debian:12', `src${i}`, `1.${i % 7}.0-1+deb12u1`]
      : i % 3 === 1
        ? ['npm', `pkg-${i}`, `2.${i % 9}.1`]
        : ['PyPI', `py_${i}`, `3.0.${i % 11}`];
  const cve = `CVE-2024-${10000 + i}`;
  return {
    schema_version: '1.7.0',
    id: `OSV-${cve}`,
    modified: '2024-06-01T12:00:00Z',
    published: '2024-01-01T00:00:00Z',
    aliases: [cve],
    summary: `A generated vulnerability in ${name}`,
    details: `A generated advisory: ${name} before ${fixed} is affected.`,
    affected: [{ package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] }],
  };
}

/** Runs a command to its end; rejects with its output when it fails. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${out}`))));
  });
}

interface Snapshot {
  totalMiB: number;
  /** Self size by V8's node type (code, strings, objects, arrays...). */
  byType: Record<string, number>;
  /** The largest kinds of object (constructor or internal name), by self size. */
  topNames: [string, number][];
}

/** Sums a heap snapshot's nodes by type and by name. */
function summarizeSnapshot(file: string): Snapshot {
  const s = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const step = fields.length;
  const fType = fields.indexOf('type');
  const fName = fields.indexOf('name');
  const fSize = fields.indexOf('self_size');
  const byType: Record<string, number> = {};
  const byName = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < s.nodes.length; i += step) {
    const size = s.nodes[i + fSize];
    const type = types[s.nodes[i + fType]];
    total += size;
    byType[type] = (byType[type] ?? 0) + size;
    const raw = s.strings[s.nodes[i + fName]];
    const name = type === 'object' || type === 'hidden' || type === 'native' || type === 'array' ? raw.slice(0, 60) : `(${type})`;
    byName.set(name, (byName.get(name) ?? 0) + size);
  }
  const MiB = 1024 * 1024;
  return {
    totalMiB: total / MiB,
    byType: Object.fromEntries(
      Object.entries(byType)
        .map(([k, v]) => [k, v / MiB] as const)
        .sort((a, b) => b[1] - a[1]),
    ),
    topNames: [...byName.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([k, v]) => [k, v / MiB]),
  };
}

/** Issue 21's target for the resident memory after start. */
const TARGET_START_MIB = 55;

/** The three parts that grew most from `floor` to `m`, with their growth. */
function topDiffs(m: Record<string, number>, floor: Record<string, number>): string {
  return Object.keys(m)
    .map((k) => [k, m[k] - (floor[k] ?? 0)] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([k, v]) => `${k} +${v.toFixed(1)}`)
    .join(', ');
}

/** The short commit of a checkout, for the report. */
function commitOf(dir: string): string {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown commit';
  }
}

const FLOOR_SERVER = `import { createRequire } from 'node:module';
const { createServer } = createRequire(import.meta.url)('node:http');
createServer((req, res) => { res.statusCode = 401; res.end(); }).listen(0, '127.0.0.1', () => console.log('listening'));
`;

const FLOOR_ESM_IMPORT = `import { createServer } from 'node:http';
createServer((req, res) => { res.statusCode = 401; res.end(); }).listen(0, '127.0.0.1', () => console.log('listening'));
`;

/** Starts `node file` and waits for it to say it listens. */
async function startNode(file: string): Promise<{ pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [file], { env: withoutAwsVariables(process.env), stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d) => String(d).includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`${file} exited ${code}`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

interface Measured extends Resident {
  vmRssMiB: number;
  /** The kernel's peak since the process started. */
  vmHwmMiB: number;
  /** From Node's diagnostic report (--report-on-signal), when the process makes them: the V8 heap's committed MiB,
   * by space, and what the heap allocated with malloc. */
  v8?: { committedMiB: number; spaces: Record<string, number>; mallocedMiB: number; externalMiB: number };
}

/** Asks the process for a diagnostic report (SIGUSR2, see REPORT_ARGS) and reads its JavaScript heap. */
async function v8Heap(pid: number, dir: string): Promise<Measured['v8']> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 100; i++) {
    await sleep(50);
    const file = readdirSync(dir).find((f) => f.endsWith('.json') && !before.has(f));
    if (!file) continue;
    try {
      const h = (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { javascriptHeap: Record<string, unknown> }).javascriptHeap as {
        totalCommittedMemory: number;
        mallocedMemory: number;
        externalMemory: number;
        heapSpaces: Record<string, { committedMemory: number }>;
      };
      const MiB = 1024 * 1024;
      return {
        committedMiB: h.totalCommittedMemory / MiB,
        spaces: Object.fromEntries(
          Object.entries(h.heapSpaces)
            .filter(([, v]) => v.committedMemory > 0)
            .map(([k, v]) => [k, v.committedMemory / MiB]),
        ),
        mallocedMiB: h.mallocedMemory / MiB,
        externalMiB: h.externalMemory / MiB,
      };
    } catch {
      /* still being written */
    }
  }
  throw new Error('no diagnostic report was written');
}

async function measure(pid: number, binary: string, wait = 1000, reports?: string): Promise<Measured> {
  await sleep(wait);
  const m = memory(pid);
  const resident = residentByPart(pid, binary);
  return { vmRssMiB: m.rssMiB, vmHwmMiB: m.hwmMiB, ...resident, ...(reports ? { v8: await v8Heap(pid, reports) } : {}) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      advisories: { type: 'string' },
      baseline: { type: 'string' },
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
  const advisories = Number(values.advisories ?? (smoke ? 200 : 20_000));
  const binary = realpathSync(process.execPath);
  const loadavgBefore = os.loadavg();
  log(`memory benchmark${smoke ? ' (smoke)' : ''}; load average ${loadavgBefore.map((l) => l.toFixed(2)).join(' ')}`);
  const work = mkdtempSync(join(os.tmpdir(), 'berth-bench-memory-'));
  const result: Record<string, unknown> = {};
  try {
    // Node itself, started as Berth is.
    writeFileSync(join(work, 'floor.mjs'), FLOOR_SERVER);
    writeFileSync(join(work, 'floor-esm-import.mjs'), FLOOR_ESM_IMPORT);
    const floors: Record<string, Measured> = {};
    for (const file of ['floor.mjs', 'floor-esm-import.mjs']) {
      const n = await startNode(join(work, file));
      floors[file] = await measure(n.pid, binary);
      await n.stop();
    }
    log(
      `node:http floor ${floors['floor.mjs'].vmRssMiB.toFixed(1)} MiB (with an ES import of node:http: ${floors['floor-esm-import.mjs'].vmRssMiB.toFixed(1)} MiB)`,
    );

    // Berth (this checkout, and with --baseline another one, before it) on a data directory of its own.
    const osv = join(work, 'osv');
    mkdirSync(osv);
    for (let i = 0; i < advisories; i++) writeFileSync(join(osv, `BENCH-${i}.json`), JSON.stringify(advisory(i)));
    const berthRun = async (label: 'this' | 'baseline', root: string, start: typeof startBerth) => {
      // Berth's data directory, with the vulnerability database imported (the server stopped).
      const dataDir = join(work, `berth-${label}`);
      mkdirSync(dataDir);
      const accessKeyId = 'AKIABENCHROOT0000001';
      const secretAccessKey = 'bench-memory-secret-0123456789';
      const env = {
        ...withoutAwsVariables(process.env),
        BERTH_DATA_DIR: dataDir,
        BERTH_ROOT_ACCESS_KEY_ID: accessKeyId,
        BERTH_ROOT_SECRET_ACCESS_KEY: secretAccessKey,
        BERTH_LOG_LEVEL: 'warn',
      };
      const t = process.hrtime.bigint();
      await run(process.execPath, [join(root, 'bin', 'berth.js'), 'vulndb', 'import', osv], env);
      log(`imported ${advisories} advisories in ${secondsSince(t).toFixed(1)} s`);

      const snapshots = join(work, `snapshots-${label}`);
      mkdirSync(snapshots);
      const reports = join(work, `reports-${label}`);
      mkdirSync(reports);
      const reg = await start({
        dataDir,
        accessKeyId,
        secretAccessKey,
        // A diagnostic report on SIGUSR2 (the V8 heap by space), a heap snapshot on SIGPWR.
        nodeArgs: [
          '--report-on-signal',
          '--report-signal=SIGUSR2',
          `--report-directory=${reports}`,
          '--heapsnapshot-signal=SIGPWR',
          `--diagnostic-dir=${snapshots}`,
        ],
      });
      let afterStart: Measured;
      let afterUse: Measured;
      let underLoad: Measured;
      let loadRps = 0;
      let snapshot: Snapshot | undefined;
      try {
        afterStart = await measure(reg.pid, binary, 1000, reports);
        log(`Berth (${label}) after start: ${afterStart.vmRssMiB.toFixed(1)} MiB`);
        // Each feature once: the metrics, the console's sign-in page, an ECR call.
        const metrics = await send(reg, 'GET', '/metrics');
        if (metrics.status !== 200) throw new Error(`GET /metrics: ${metrics.status}`);
        const consolePage = await send({ ...reg, auth: undefined }, 'GET', '/console/sign-in');
        if (consolePage.status !== 200) throw new Error(`GET /console/sign-in: ${consolePage.status}`);
        const ecr = new ECRClient({
          endpoint: reg.url,
          region: 'us-east-1',
          credentials: { accessKeyId, secretAccessKey },
          maxAttempts: 1,
        });
        await ecr.send(new DescribeRepositoriesCommand({}));
        ecr.destroy();
        afterUse = await measure(reg.pid, binary, 1000, reports);
        log(`Berth (${label}) after the metrics, the console and the ECR API were used once: ${afterUse.vmRssMiB.toFixed(1)} MiB`);
        // Then manifest GETs under load (wrk, 32 connections, as bench/run.ts's manifest-get), measured at its end.
        const config = smallBlob(Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'));
        const layer = smallBlob(Buffer.from('the one layer of the memory benchmark\n'));
        await uploadMonolithic(reg, 'memory/small', config);
        await uploadMonolithic(reg, 'memory/small', layer);
        await putManifest(reg, 'memory/small', 'latest', manifestOf(config, [layer]));
        const loadSeconds = smoke ? 1 : 10;
        const measuredAtEnd = sleep(loadSeconds * 1000 - 300).then(() => measure(reg.pid, binary, 0, reports));
        const r = await load({
          url: `${reg.url}/v2/memory/small/manifests/latest`,
          method: 'GET',
          headers: headersFor(reg, { Accept: OCI_MANIFEST }),
          connections: 32,
          seconds: loadSeconds,
        });
        loadRps = r.rps;
        underLoad = await measuredAtEnd;
        log(
          `Berth (${label}) at the end of ${loadSeconds} s of manifest GETs (${r.rps.toFixed(0)}/s): ${underLoad.vmRssMiB.toFixed(1)} MiB, peak ${underLoad.vmHwmMiB.toFixed(1)} MiB`,
        );
        if (!smoke && label === 'this') {
          process.kill(reg.pid, 'SIGPWR');
          let file: string | undefined;
          for (let i = 0; i < 600 && !file; i++) {
            await sleep(100);
            file = readdirSync(snapshots).find((f) => f.endsWith('.heapsnapshot'));
            if (file) {
              // Written when its size stops changing.
              let size = -1;
              for (;;) {
                const now = readFileSync(join(snapshots, file)).length;
                if (now === size) break;
                size = now;
                await sleep(300);
              }
            }
          }
          if (!file) throw new Error('no heap snapshot was written');
          snapshot = summarizeSnapshot(join(snapshots, file));
          if (process.env.BENCH_KEEP_SNAPSHOT)
            (await import('node:fs')).copyFileSync(join(snapshots, file), process.env.BENCH_KEEP_SNAPSHOT);
        }
      } finally {
        await reg.stop();
      }
      return { afterStart, afterUse, underLoad, loadRps, snapshot };
    };
    const baseline = values.baseline
      ? await berthRun(
          'baseline',
          resolve(values.baseline),
          ((await import(pathToFileURL(resolve(values.baseline, 'bench/lib/servers.ts')).href)) as { startBerth: typeof startBerth })
            .startBerth,
        )
      : undefined;
    const { afterStart, afterUse, underLoad, loadRps, snapshot } = await berthRun('this', ROOT, startBerth);

    const loadavgAfter = os.loadavg();
    Object.assign(result, {
      startedAt: startedAt.toISOString(),
      options: { advisories, smoke },
      machine: { cores: os.availableParallelism(), loadavgBefore, loadavgAfter, node: process.version },
      floor: floors['floor.mjs'],
      floorEsmImport: floors['floor-esm-import.mjs'],
      afterStart,
      afterUse,
      underLoad,
      loadRps,
      ...(baseline
        ? {
            baseline: {
              root: resolve(values.baseline!),
              afterStart: baseline.afterStart,
              afterUse: baseline.afterUse,
              underLoad: baseline.underLoad,
              loadRps: baseline.loadRps,
            },
          }
        : {}),
      ...(snapshot ? { snapshot } : {}),
    });
    const f = (n: number) => n.toFixed(1);
    const parts = [...new Set([...Object.keys(underLoad.binary), ...Object.keys(floors['floor.mjs'].binary)])].sort(
      (a, b) => (underLoad.binary[b] ?? 0) - (underLoad.binary[a] ?? 0),
    );
    const floor = floors['floor.mjs'];
    const columns = [floor, floors['floor-esm-import.mjs'], afterStart, afterUse, underLoad];
    const anonKinds = [...new Set(columns.flatMap((m) => Object.keys(m.anonByMapping)))].filter((k) =>
      columns.some((m) => (m.anonByMapping[k] ?? 0) >= 0.05),
    );
    const heapSpaces = [...new Set(columns.flatMap((m) => Object.keys(m.v8?.spaces ?? {})))];
    const row = (label: string, cell: (m: Measured) => string) => `| ${label} | ${columns.map(cell).join(' | ')} |`;
    const md = [
      '# Memory (issue 21, item 3)',
      '',
      `\`node bench/memory.ts${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}\`, ${startedAt.toISOString()}, ${os.availableParallelism()} cores, load average ${loadavgBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadavgAfter.map((l) => l.toFixed(2)).join(' ')} after. Node ${process.version}.`,
      '',
      `Berth runs as users run it (\`node bin/berth.js serve\`, the embedded default: SQLite, filesystem blobs) on a data directory with ${advisories.toLocaleString('en-US')} OSV advisories imported. "After start": 1 s after it said it listens, idle. "After use": after \`GET /metrics\`, the console's sign-in page and one ECR call (DescribeRepositories), 1 s later. The floor is a trivial \`node:http\` server started the same way (\`node file.mjs\`, node:http loaded through \`require\`); with an ES \`import\` of node:http it is larger, because the import reads node:http's lazy \`WebSocket\` getters, which load undici.`,
      '',
      `| MiB resident | Node floor | Node floor, ES import of node:http | Berth after start | Berth after use | Berth at the end of the load (${loadRps.toFixed(0)} manifest GETs/s) |`,
      '|---|---:|---:|---:|---:|---:|',
      row('**VmRSS**', (m) => `**${f(m.vmRssMiB)}**`),
      row('VmHWM (peak since start)', (m) => f(m.vmHwmMiB)),
      row('node binary, pages resident (file-backed, clean, shared)', (m) => f(m.binaryMiB)),
      ...parts.map((p) => row(`&nbsp;&nbsp;${p}`, (m) => f(m.binary[p] ?? 0))),
      row('anonymous (V8 heap, malloc, stacks)', (m) => f(m.anonMiB)),
      ...anonKinds.map((k) => row(`&nbsp;&nbsp;${k}`, (m) => f(m.anonByMapping[k] ?? 0))),
      row('shared libraries (libc, libstdc++...)', (m) => f(m.otherFilesMiB)),
      row('V8 heap, committed (diagnostic report; part of anonymous)', (m) => (m.v8 ? f(m.v8.committedMiB) : '–')),
      ...heapSpaces.map((sp) => row(`&nbsp;&nbsp;${sp}`, (m) => (m.v8 ? f(m.v8.spaces[sp] ?? 0) : '–'))),
      row('malloc by V8 (zone memory of compilers and parser)', (m) => (m.v8 ? f(m.v8.mallocedMiB) : '–')),
      row('external memory (Buffers and other memory held by JavaScript objects)', (m) => (m.v8 ? f(m.v8.externalMiB) : '–')),
      '',
      'The binary\'s pages are attributed to its symbols (`nm -S -C`) from `/proc/<pid>/pagemap`; "unnamed rodata" is read-only data without a symbol: Node\'s built-in JavaScript sources, their code cache and its start-up snapshot.',
      '',
      '## Reading it',
      '',
      `- RSS after start: ${f(afterStart.vmRssMiB)} MiB against the target of ${TARGET_START_MIB} MiB (**${afterStart.vmRssMiB <= TARGET_START_MIB ? 'met' : 'missed'}**). Node itself, as a trivial \`node:http\` server, takes ${f(floor.vmRssMiB)} MiB here: ${floor.vmRssMiB <= TARGET_START_MIB ? `a target ${f(TARGET_START_MIB - floor.vmRssMiB)} MiB above that floor leaves that much for everything Berth adds` : 'the target is below that floor'}.`,
      `- Berth after start is ${f(afterStart.vmRssMiB - floor.vmRssMiB)} MiB above that floor: ${f(afterStart.binaryMiB - floor.binaryMiB)} MiB more of the node binary's pages (the code Berth makes run: ${topDiffs(afterStart.binary, floor.binary)}) and ${f(afterStart.anonMiB - floor.anonMiB)} MiB more anonymous memory${afterStart.v8 ? ` (the V8 heap: ${f(afterStart.v8.committedMiB)} MiB committed; external ${f(afterStart.v8.externalMiB)} MiB)` : ''}.`,
      `- Using the console, the metrics and the ECR API once adds ${f(afterUse.vmRssMiB - afterStart.vmRssMiB)} MiB (their modules, loaded on first use, and the ECR service model).`,
      `- At the end of the manifest GET load: ${f(underLoad.vmRssMiB)} MiB, ${f(underLoad.vmRssMiB - afterUse.vmRssMiB)} MiB more than after use: ${f(underLoad.binaryMiB - afterUse.binaryMiB)} MiB of the binary's pages, ${f(underLoad.anonMiB - afterUse.anonMiB)} MiB anonymous${underLoad.v8 && afterUse.v8 ? ` (the V8 heap ${f(underLoad.v8.committedMiB - afterUse.v8.committedMiB)} MiB, external memory ${f(underLoad.v8.externalMiB - afterUse.v8.externalMiB)} MiB: the two small uploads made before the load start the upload hashing thread, a Worker with its own V8 isolate and Node environment, and the blob store's buffers)` : ''}.`,
      ...(baseline
        ? [
            '',
            `## Before and after, in the same run (\`--baseline ${values.baseline}\`, ${commitOf(resolve(values.baseline!))}; this: ${commitOf(ROOT)})`,
            '',
            '| MiB | before | after |',
            '|---|---:|---:|',
            `| VmRSS after start | ${f(baseline.afterStart.vmRssMiB)} | ${f(afterStart.vmRssMiB)} |`,
            `| &nbsp;&nbsp;node binary's pages | ${f(baseline.afterStart.binaryMiB)} | ${f(afterStart.binaryMiB)} |`,
            `| &nbsp;&nbsp;anonymous | ${f(baseline.afterStart.anonMiB)} | ${f(afterStart.anonMiB)} |`,
            `| VmRSS after use | ${f(baseline.afterUse.vmRssMiB)} | ${f(afterUse.vmRssMiB)} |`,
            `| VmRSS at the end of the load | ${f(baseline.underLoad.vmRssMiB)} | ${f(underLoad.vmRssMiB)} |`,
            `| VmHWM at the end of the load | ${f(baseline.underLoad.vmHwmMiB)} | ${f(underLoad.vmHwmMiB)} |`,
            `| V8 heap committed at the end of the load | ${baseline.underLoad.v8 ? f(baseline.underLoad.v8.committedMiB) : '–'} | ${underLoad.v8 ? f(underLoad.v8.committedMiB) : '–'} |`,
            `| &nbsp;&nbsp;new space | ${f(baseline.underLoad.v8?.spaces.new_space ?? 0)} | ${f(underLoad.v8?.spaces.new_space ?? 0)} |`,
            `| manifest GETs/s during the load (a shared 2-core machine: indicative) | ${baseline.loadRps.toFixed(0)} | ${loadRps.toFixed(0)} |`,
          ]
        : []),
      ...(snapshot
        ? [
            '',
            `## The V8 heap of Berth at the end of the load (heap snapshot, which collects garbage first): ${f(snapshot.totalMiB)} MiB`,
            '',
            '| kind | MiB |',
            '|---|---:|',
            ...Object.entries(snapshot.byType).map(([k, v]) => `| ${k} | ${f(v)} |`),
            '',
            'Largest by name:',
            '',
            '| name | MiB |',
            '|---|---:|',
            ...snapshot.topNames.map(([k, v]) => `| ${k.replace(/\|/g, '\\|')} | ${f(v)} |`),
          ]
        : []),
    ].join('\n');
    const resultsDir = join(ROOT, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
    const jsonPath = values.json ?? join(resultsDir, `memory-${stamp}${smoke ? '-smoke' : ''}.json`);
    writeFileSync(jsonPath, JSON.stringify(result, null, 2));
    const mdPath = values.md ?? (!smoke && !values.advisories ? join(resultsDir, 'MEMORY.md') : undefined);
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
