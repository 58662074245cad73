// `node bench/scan.ts`: the scanner against the bounds of issue 18, on generated data.
//   - match: 1,000 packages against 100,000 OSV advisories (target: at most 100 ms; the index is built once, when the
//     data is loaded, and its build time is shown separately);
//   - layer: a 50 MB gzip-compressed layer inventoried (target: at most 2 s), streamed from a file as the blob store
//     serves it, with the process's resident memory before and at its peak;
//   - memory: the layer walk again in a fresh process for each of several layer sizes (50, 200, 500 MB): the peak
//     resident memory must stay flat whatever the size;
//   - import: `berth vulndb import` of an all.zip of 100,000 OSV records into a fresh data directory (SQLite), the
//     command as operators run it, in its own process (target: at most 60 s), with that process's peak memory.
// Options: --only match|layer|memory|import (comma-separated), --advisories N, --packages N, --layer-mb N,
// --memory-mb N,N,..., --records N, --md PATH (a full default run writes bench/results/SCAN.md), --json (one layer
// run's figures as JSON, for the memory runs).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { crc32, createGzip, deflateRawSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import tar from 'tar-stream';
import { inventoryLayers } from '../src/scan/image.ts';
import type { Package } from '../src/scan/inventory/index.ts';
import { AdvisoryIndex } from '../src/scan/match.ts';
import type { OsvRecord } from '../src/scan/osv.ts';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    advisories: { type: 'string', default: '100000' },
    packages: { type: 'string', default: '1000' },
    'layer-mb': { type: 'string', default: '50' },
    'memory-mb': { type: 'string', default: '50,200,500' },
    records: { type: 'string', default: '100000' },
    md: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ms = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const MiB = 1048576;
const only = new Set((values.only ?? 'match,layer,memory,import').split(','));

interface Row {
  figure: string;
  value: string;
  note: string;
}
interface Target {
  target: string;
  measured: string;
  met: boolean;
}
const rows: Row[] = [];
const targets: Target[] = [];
const say = (line: string): void => {
  if (!values.json) console.log(line);
};

// ---------------------------------------------------------------------------------------------------------------
// Generated data.

/** An OSV record as osv.dev publishes them (schema 1.7): Debian (by source package), npm and PyPI, two-event ranges. */
function advisory(i: number): OsvRecord {
  const kind = i % 5;
  const n = Math.floor(i / 5) % 20000;
  const [ecosystem, name, fixed, prefix] =
    kind < 3
      ? ['Debian:12', `src${n}`, `1.${i % 7}.0-${i % 3}+deb12u1`, 'DEBIAN']
      : kind === 3
        ? ['npm', `pkg-${n}`, `2.${i % 9}.1`, 'GHSA']
        : ['PyPI', `py_${n}`, `3.${i % 11}.0`, 'PYSEC'];
  const cve = `CVE-2024-${10000 + i}`;
  return {
    schema_version: '1.7.0',
    id: `${prefix}-${cve}`,
    modified: '2024-06-01T12:00:00Z',
    published: '2024-01-01T00:00:00Z',
    aliases: [cve],
    summary: `A generated vulnerability in ${name}`,
    details: `A generated advisory for the benchmark: ${name} before ${fixed} lets a remote attacker do something unwelcome. `.repeat(3),
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
    affected: [{ package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] }],
    references: [
      { type: 'ADVISORY', url: `https://security-tracker.debian.org/tracker/${cve}` },
      { type: 'WEB', url: `https://example.com/advisories/${i}` },
    ],
  };
}

function generatePackages(count: number): Package[] {
  const out: Package[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 5;
    const n = (i * 7) % 20000;
    if (kind < 3)
      out.push({
        type: 'deb',
        ecosystem: 'Debian:12',
        name: `bin${n}`,
        version: `1.3.0-1`,
        sourceName: `src${n}`,
        sourceVersion: '1.3.0-1',
        purl: `pkg:deb/debian/bin${n}@1.3.0-1`,
        path: '/var/lib/dpkg/status',
      });
    else if (kind === 3)
      out.push({
        type: 'npm',
        ecosystem: 'npm',
        name: `pkg-${n}`,
        version: '2.4.0',
        purl: `pkg:npm/pkg-${n}@2.4.0`,
        path: '/app/package-lock.json',
      });
    else
      out.push({
        type: 'pypi',
        ecosystem: 'PyPI',
        name: `py-${n}`,
        version: '3.5.0',
        purl: `pkg:pypi/py-${n}@3.5.0`,
        path: '/usr/lib/python3/dist-packages/x',
      });
  }
  return out;
}

/** Writes a gzip layer of about `mb` MB (incompressible files around a dpkg status file) to `path`, streamed. */
async function writeLayer(path: string, mb: number): Promise<void> {
  const pack = tar.pack();
  const writing = pipeline(pack, createGzip({ level: 1 }), createWriteStream(path));
  const status = Array.from(
    { length: 100 },
    (_, i) =>
      `Package: bin${i}\nStatus: install ok installed\nArchitecture: amd64\nSource: src${i}\nVersion: 1.${i}.0-1\nDescription: generated\n`,
  ).join('\n');
  const entry = (name: string, data: Buffer | string): Promise<void> =>
    new Promise((resolve, reject) => pack.entry({ name }, data, (err) => (err ? reject(err) : resolve())));
  await entry('etc/os-release', 'ID=debian\nVERSION_ID="12"\n');
  const files = Math.max(1, Math.round(mb));
  for (let i = 0; i < files; i++) {
    await entry(`usr/lib/data/blob${i}.bin`, randomBytes(MiB));
    if (i === Math.floor(files / 2)) await entry('var/lib/dpkg/status', status);
  }
  pack.finalize();
  await writing;
}

/**
 * Writes a zip of deflated entries, as osv.dev's all.zip (ZIP64 end records, for more than 65,535 entries), one entry
 * at a time. (yazl queues a deflate stream per entry at once: a hundred thousand of them do not fit in memory.)
 */
async function writeZip(path: string, entries: Iterable<[string, Buffer]>): Promise<void> {
  const out = createWriteStream(path);
  let offset = 0;
  const write = async (b: Buffer): Promise<void> => {
    offset += b.length;
    if (!out.write(b)) await once(out, 'drain');
  };
  const central: Buffer[] = [];
  let count = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name);
    const packed = deflateRawSync(data);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(45, 4);
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(8, 10);
    header.writeUInt16LE(0x21, 14);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(packed.length, 20);
    header.writeUInt32LE(data.length, 24);
    header.writeUInt16LE(nameBytes.length, 28);
    header.writeUInt32LE(offset, 42);
    central.push(header, nameBytes);
    await write(Buffer.concat([local, nameBytes, packed]));
    count++;
  }
  const cdOffset = offset;
  for (const b of central) await write(b);
  const cdSize = offset - cdOffset;
  const zip64 = Buffer.alloc(56 + 20 + 22);
  zip64.writeUInt32LE(0x06064b50, 0);
  zip64.writeBigUInt64LE(44n, 4);
  zip64.writeUInt16LE(45, 12);
  zip64.writeUInt16LE(45, 14);
  zip64.writeBigUInt64LE(BigInt(count), 24);
  zip64.writeBigUInt64LE(BigInt(count), 32);
  zip64.writeBigUInt64LE(BigInt(cdSize), 40);
  zip64.writeBigUInt64LE(BigInt(cdOffset), 48);
  zip64.writeUInt32LE(0x07064b50, 56);
  zip64.writeBigUInt64LE(BigInt(offset), 64);
  zip64.writeUInt32LE(1, 72);
  zip64.writeUInt32LE(0x06054b50, 76);
  zip64.writeUInt16LE(0xffff, 84);
  zip64.writeUInt16LE(0xffff, 86);
  zip64.writeUInt32LE(cdSize, 88);
  zip64.writeUInt32LE(0xffffffff, 92);
  await write(zip64);
  out.end();
  await once(out, 'close');
}

// ---------------------------------------------------------------------------------------------------------------
// The benchmarks.

function benchMatch(): void {
  const advisories = Array.from({ length: Number(values.advisories) }, (_, i) => advisory(i));
  const packages = generatePackages(Number(values.packages));
  let start = process.hrtime.bigint();
  const index = AdvisoryIndex.of(advisories);
  const build = ms(start);
  index.match(packages); // warm-up
  const runs: number[] = [];
  let findings = 0;
  for (let i = 0; i < 7; i++) {
    start = process.hrtime.bigint();
    findings = index.match(packages).length;
    runs.push(ms(start));
  }
  const m = median(runs);
  say(
    `match: ${packages.length} packages × ${index.size} advisories: ${m.toFixed(1)} ms (median of ${runs.length}; ${findings} findings); index built in ${build.toFixed(0)} ms`,
  );
  rows.push({
    figure: `match ${packages.length} packages against ${index.size} advisories`,
    value: `${m.toFixed(1)} ms`,
    note: `median of 7 (min ${Math.min(...runs).toFixed(1)}, max ${Math.max(...runs).toFixed(1)}); ${findings} findings; the index (built once per data version) in ${build.toFixed(0)} ms`,
  });
  targets.push({ target: 'matching 1,000 packages against 100,000 advisories ≤ 100 ms', measured: `${m.toFixed(1)} ms`, met: m <= 100 });
}

/** Peak resident memory while `run` runs, sampled every 10 ms (and /proc's VmHWM when it is there). */
async function peakRss<T>(run: () => Promise<T>): Promise<{ result: T; before: number; peak: number }> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  try {
    const result = await run();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, before, peak };
  } finally {
    clearInterval(timer);
  }
}

async function layerRun(mb: number): Promise<{ compressedMb: number; packages: number; ms: number; before: number; peak: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-layer-'));
  try {
    const path = join(dir, 'layer.tar.gz');
    await writeLayer(path, mb);
    const compressedMb = statSync(path).size / 1e6;
    // With --expose-gc (the memory runs), what the layer's writing left behind is collected before measuring.
    (globalThis as { gc?: () => void }).gc?.();
    const { result, before, peak } = await peakRss(async () => {
      const start = process.hrtime.bigint();
      const inv = await inventoryLayers([{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', open: () => createReadStream(path) }]);
      return { packages: inv.packages.length, ms: ms(start) };
    });
    return { compressedMb, ...result, before, peak };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchLayer(): Promise<void> {
  const r = await layerRun(Number(values['layer-mb']));
  if (values.json) {
    console.log(JSON.stringify(r));
    return;
  }
  say(
    `layer: ${r.compressedMb.toFixed(1)} MB compressed, ${r.packages} packages in ${r.ms.toFixed(0)} ms; RSS ${(r.before / MiB).toFixed(0)} → peak ${(r.peak / MiB).toFixed(0)} MiB`,
  );
  rows.push({
    figure: `layer of ${r.compressedMb.toFixed(1)} MB (gzip) inventoried, streamed from a file`,
    value: `${r.ms.toFixed(0)} ms`,
    note: `${r.packages} packages; RSS ${(r.before / MiB).toFixed(0)} MiB before, peak ${(r.peak / MiB).toFixed(0)} MiB`,
  });
  targets.push({
    target: 'a 50 MB compressed layer inventoried ≤ 2 s',
    measured: `${r.ms.toFixed(0)} ms for ${r.compressedMb.toFixed(1)} MB`,
    met: r.ms <= 2000,
  });
}

/** Runs this benchmark in a child process and returns what it printed on stdout, with the child's peak VmHWM. */
async function child(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ stdout: string; stderr: string; code: number; vmHwm: number; ms: number; cpuMs: number }> {
  const start = process.hrtime.bigint();
  const p = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (c) => {
    stdout += c;
  });
  p.stderr.on('data', (c) => {
    stderr += c;
  });
  let vmHwm = 0;
  let cpuMs = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
      if (m) vmHwm = Math.max(vmHwm, Number(m[1]) * 1024);
      // utime and stime, in clock ticks (100 a second), the 14th and 15th fields after the command's name.
      const fields = readFileSync(`/proc/${p.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      cpuMs = (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      /* exited */
    }
  }, 50);
  const [code] = (await once(p, 'exit')) as [number];
  clearInterval(poll);
  return { stdout, stderr, code, vmHwm, ms: ms(start), cpuMs };
}

async function benchMemory(): Promise<void> {
  const sizes = values['memory-mb']!.split(',').map(Number);
  const runs: { mb: number; compressedMb: number; ms: number; growth: number; peak: number }[] = [];
  for (const mb of sizes) {
    const c = await child(['--expose-gc', join(root, 'bench', 'scan.ts'), '--only', 'layer', '--layer-mb', String(mb), '--json']);
    if (c.code !== 0) throw new Error(`the layer run of ${mb} MB failed: ${c.stderr}`);
    const r = JSON.parse(c.stdout.trim().split('\n').pop()!) as { compressedMb: number; ms: number; before: number; peak: number };
    runs.push({ mb, compressedMb: r.compressedMb, ms: r.ms, growth: r.peak - r.before, peak: r.peak });
    say(
      `memory: ${r.compressedMb.toFixed(0)} MB layer in ${r.ms.toFixed(0)} ms; RSS ${(r.before / MiB).toFixed(0)} → peak ${(r.peak / MiB).toFixed(0)} MiB (+${((r.peak - r.before) / MiB).toFixed(0)} MiB)`,
    );
    rows.push({
      figure: `layer of ${r.compressedMb.toFixed(0)} MB (gzip), own process`,
      value: `+${((r.peak - r.before) / MiB).toFixed(0)} MiB`,
      note: `peak RSS ${(r.peak / MiB).toFixed(0)} MiB during the walk (from ${(r.before / MiB).toFixed(0)}); ${r.ms.toFixed(0)} ms`,
    });
  }
  const growths = runs.map((r) => r.growth);
  const spread = Math.max(...growths) - Math.min(...growths);
  // Flat: every size's walk grows the process by about as much as any other's (within 64 MiB: the young generation's
  // garbage, collected when V8 pleases, is most of what there is), whatever the ratio of sizes.
  targets.push({
    target: 'memory flat whatever the layer size',
    measured: `peak growth ${runs.map((r) => `${(r.growth / MiB).toFixed(0)} MiB at ${r.compressedMb.toFixed(0)} MB`).join(', ')}`,
    met: spread <= 64 * MiB,
  });
}

async function benchImport(): Promise<void> {
  const count = Number(values.records);
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-vulndb-'));
  try {
    const zipPath = join(dir, 'all.zip');
    await writeZip(
      zipPath,
      (function* () {
        for (let i = 0; i < count; i++) {
          const r = advisory(i);
          yield [`${r.id}.json`, Buffer.from(JSON.stringify(r, null, 2))] as [string, Buffer];
        }
      })(),
    );
    const zipMb = statSync(zipPath).size / 1e6;
    const env = { ...process.env, BERTH_DATA_DIR: join(dir, 'data'), BERTH_LOG_LEVEL: 'warn', BERTH_AUDIT_LOG: 'off' };
    const c = await child([join(root, 'bin', 'berth.js'), 'vulndb', 'import', zipPath], env);
    if (c.code !== 0) throw new Error(`berth vulndb import failed (${c.code}): ${c.stderr}`);
    const report = JSON.parse(c.stdout) as { records: number };
    say(
      `import: ${report.records} records (${zipMb.toFixed(0)} MB all.zip) in ${(c.ms / 1000).toFixed(1)} s (CPU ${(c.cpuMs / 1000).toFixed(1)} s); peak RSS ${(c.vmHwm / MiB).toFixed(0)} MiB`,
    );
    rows.push({
      figure: `\`berth vulndb import\` of ${report.records} records (${zipMb.toFixed(0)} MB zip), SQLite`,
      value: `${(c.ms / 1000).toFixed(1)} s`,
      note: `the whole command (start, validation, staging, swap); its CPU time ${(c.cpuMs / 1000).toFixed(1)} s (at least, sampled every 50 ms); peak RSS ${(c.vmHwm / MiB).toFixed(0)} MiB`,
    });
    targets.push({
      target: '`berth vulndb import` of 100,000 records ≤ 60 s',
      measured: `${(c.ms / 1000).toFixed(1)} s for ${report.records}`,
      met: c.ms <= 60_000 && report.records === count,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------

const started = new Date();
const loadBefore = loadavg();
if (only.has('match')) benchMatch();
if (only.has('layer')) await benchLayer();
if (only.has('memory')) await benchMemory();
if (only.has('import')) await benchImport();
const loadAfter = loadavg();

if (!values.json) {
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const md = [
    '# The scanner against its bounds (issue 18)',
    '',
    `${started.toISOString()}: \`node bench/scan.ts${values.only ? ` --only ${values.only}` : ''}\`; ${cpus().length} cores, load average ${load(loadBefore)} before, ${load(loadAfter)} after (the machine is shared).`,
    '',
    '| figure | value | |',
    '|---|---:|---|',
    ...rows.map((r) => `| ${r.figure} | ${r.value} | ${r.note} |`),
    '',
    '| target (issue 18) | measured | met |',
    '|---|---|---|',
    ...targets.map((t) => `| ${t.target} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`),
    '',
  ].join('\n');
  console.log(`\n${md}`);
  const full = values.only === undefined && values.advisories === '100000' && values.records === '100000';
  const mdPath = values.md ?? (full ? join(root, 'bench', 'results', 'SCAN.md') : undefined);
  if (mdPath) writeFileSync(mdPath, md);
  if (targets.some((t) => !t.met)) process.exitCode = 1;
}
