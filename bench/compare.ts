// Before/after on a noisy machine: two builds of Berth run at once and receive short bursts of the same load in
// alternation (A B, B A, A B, ...), so a drift of the machine's speed hits both alike. The figure is the median of
// the per-pair ratios. Usage:
//   git worktree add /tmp/berth-base <commit> && ln -s "$PWD/node_modules" /tmp/berth-base/node_modules
//   node bench/compare.ts --baseline /tmp/berth-base [--workload blob-head|manifest-get] [--pairs 14] [--seconds 3]
// The baseline must have bench/lib/servers.ts with the same startBerth() as this checkout (true since issue 6).
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cleanUpOnSignals, startBerth, type Registry } from './lib/servers.ts';
import { load } from './lib/load.ts';
import { headersFor } from './lib/http.ts';
import { smallBlob } from './lib/data.ts';
import { uploadMonolithic } from './workloads/blobs.ts';
import { manifestOf, putManifest } from './workloads/manifests.ts';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' },
    workload: { type: 'string', default: 'blob-head' },
    pairs: { type: 'string', default: '14' },
    seconds: { type: 'string', default: '3' },
  },
});
if (!values.baseline) throw new Error('--baseline DIR: a checkout of the build to compare with (see the header of bench/compare.ts)');
if (!['blob-head', 'manifest-get'].includes(values.workload!)) throw new Error('--workload: blob-head or manifest-get');
cleanUpOnSignals();

const base = (await import(pathToFileURL(resolve(values.baseline, 'bench/lib/servers.ts')).href)) as { startBerth: typeof startBerth };
const servers: Record<'baseline' | 'this', Registry> = { baseline: await base.startBerth(), this: await startBerth() };
const layer = smallBlob(Buffer.from('a tiny layer for the before/after comparison\n'));
const config = smallBlob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })));
const REPO = 'compare/bench';
for (const s of Object.values(servers)) {
  await uploadMonolithic(s, REPO, layer);
  await uploadMonolithic(s, REPO, config);
  await putManifest(s, REPO, 'latest', manifestOf(config, [layer]));
}
const target = (s: Registry) =>
  values.workload === 'blob-head'
    ? { url: `${s.url}/v2/${REPO}/blobs/${layer.digest}`, method: 'HEAD' as const }
    : { url: `${s.url}/v2/${REPO}/manifests/latest`, method: 'GET' as const };

const rps: Record<'baseline' | 'this', number[]> = { baseline: [], this: [] };
const pairs = Number(values.pairs);
for (let i = 0; i < pairs; i++) {
  for (const k of i % 2 === 0 ? (['baseline', 'this'] as const) : (['this', 'baseline'] as const)) {
    const s = servers[k];
    const r = await load({ ...target(s), headers: headersFor(s, {}), connections: 32, seconds: Number(values.seconds) });
    rps[k].push(r.rps);
  }
  console.log(
    `pair ${i + 1}: baseline ${rps.baseline[i].toFixed(0)}/s, this ${rps.this[i].toFixed(0)}/s, ratio ${(rps.this[i] / rps.baseline[i]).toFixed(3)}`,
  );
}
const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ratios = rps.this.map((v, i) => v / rps.baseline[i]);
console.log(
  `${values.workload}: median baseline ${median(rps.baseline).toFixed(0)}/s, this ${median(rps.this).toFixed(0)}/s; median ratio this/baseline ${median(ratios).toFixed(3)} (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)}, ${pairs} pairs)`,
);
for (const s of Object.values(servers)) await s.cleanup();
