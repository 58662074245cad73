// `node bench/scan.ts`: the scanner's pure parts against the bounds of issue 18, on generated data.
//   - matching 1,000 packages against 100,000 OSV advisories (target: at most 100 ms; the index is built once,
//     when the data is loaded, and its build time is shown separately);
//   - inventorying a 50 MB compressed layer (target: at most 2 s), streamed, with the process's memory shown
//     before and after.
// Options: --only match|layer, --advisories N, --packages N, --layer-mb N.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
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
  },
});

const ms = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (n: number): string => `${(n / 1048576).toFixed(0)} MiB`;

/** Advisories spread over Debian (by source package), npm and PyPI, several per package, with two-event ranges. */
function generateAdvisories(count: number): OsvRecord[] {
  const out: OsvRecord[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 5;
    const n = Math.floor(i / 5) % 20000;
    const [ecosystem, name, fixed] =
      kind < 3 ? ['Debian:12', `src${n}`, `1.${i % 7}.0-${i % 3}+deb12u1`] : kind === 3 ? ['npm', `pkg-${n}`, `2.${i % 9}.1`] : ['PyPI', `py_${n}`, `3.${i % 11}.0`];
    out.push({
      id: `BENCH-${i}`,
      modified: '2024-01-01T00:00:00Z',
      aliases: [`CVE-2024-${10000 + i}`],
      severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
      affected: [{ package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] }],
    });
  }
  return out;
}

function generatePackages(count: number): Package[] {
  const out: Package[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 5;
    const n = (i * 7) % 20000;
    if (kind < 3) out.push({ type: 'deb', ecosystem: 'Debian:12', name: `bin${n}`, version: `1.3.0-1`, sourceName: `src${n}`, sourceVersion: '1.3.0-1', purl: `pkg:deb/debian/bin${n}@1.3.0-1`, path: '/var/lib/dpkg/status' });
    else if (kind === 3) out.push({ type: 'npm', ecosystem: 'npm', name: `pkg-${n}`, version: '2.4.0', purl: `pkg:npm/pkg-${n}@2.4.0`, path: '/app/package-lock.json' });
    else out.push({ type: 'pypi', ecosystem: 'PyPI', name: `py-${n}`, version: '3.5.0', purl: `pkg:pypi/py-${n}@3.5.0`, path: '/usr/lib/python3/dist-packages/x' });
  }
  return out;
}

function benchMatch(): void {
  const advisories = generateAdvisories(Number(values.advisories));
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
  console.log(`match: ${packages.length} packages × ${index.size} advisories: ${m.toFixed(1)} ms (median of ${runs.length}; ${findings} findings); index built in ${build.toFixed(0)} ms — target ≤ 100 ms: ${m <= 100 ? 'met' : 'MISSED'}`);
}

/** A layer of incompressible files around a dpkg status file, gzip-compressed to about `mb` MB. */
async function generateLayer(mb: number): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c) => chunks.push(c as Buffer));
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  const status = Array.from({ length: 100 }, (_, i) => `Package: bin${i}\nStatus: install ok installed\nArchitecture: amd64\nSource: src${i}\nVersion: 1.${i}.0-1\nDescription: generated\n`).join('\n');
  pack.entry({ name: 'etc/os-release' }, 'ID=debian\nVERSION_ID="12"\n');
  const files = Math.max(1, Math.round(mb));
  for (let i = 0; i < files; i++) {
    pack.entry({ name: `usr/lib/data/blob${i}.bin` }, randomBytes(1024 * 1024));
    if (i === Math.floor(files / 2)) pack.entry({ name: 'var/lib/dpkg/status' }, status);
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks), { level: 1 });
}

async function benchLayer(): Promise<void> {
  const blob = await generateLayer(Number(values['layer-mb']));
  const rssBefore = process.memoryUsage().rss;
  const start = process.hrtime.bigint();
  const inv = await inventoryLayers([{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', open: () => Readable.from(split(blob, 65536)) }]);
  const took = ms(start);
  const rssAfter = process.memoryUsage().rss;
  console.log(`layer: ${(blob.length / 1e6).toFixed(1)} MB compressed, ${inv.packages.length} packages in ${took.toFixed(0)} ms — target ≤ 2000 ms: ${took <= 2000 ? 'met' : 'MISSED'}; RSS ${mib(rssBefore)} → ${mib(rssAfter)} (the layer itself is held by the benchmark)`);
}

function* split(buf: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

if (!values.only || values.only === 'match') benchMatch();
if (!values.only || values.only === 'layer') await benchLayer();
