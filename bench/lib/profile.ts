// Reads a V8 CPU profile (.cpuprofile, as `node --cpu-prof` writes it) and tells where the time went: self time
// per function and per source file, from the samples and their time deltas.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  where: string;
  selfMs: number;
  percent: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Time not idle: what the percentages are of. */
  busyMs: number;
  idleMs: number;
  gcMs: number;
  functions: ProfileEntry[];
  files: ProfileEntry[];
}

function shortUrl(url: string, root: string): string {
  if (!url) return '';
  let path = url;
  if (url.startsWith('file://')) {
    try {
      path = fileURLToPath(url);
    } catch {
      /* keep it */
    }
  }
  if (path.startsWith(root)) path = relative(root, path);
  return path.replace(/^.*node_modules\//, 'node_modules/');
}

/**
 * `window`, in microseconds of CLOCK_MONOTONIC (process.hrtime.bigint() / 1000n in any process of the machine,
 * the clock V8 stamps samples with on Linux), keeps only the samples taken while the measured part ran: not the
 * server's start (module loading, type stripping) nor its shutdown.
 */
export function summarizeProfile(file: string, root: string, top = 15, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const selfByNode = new Map<number, number>();
  // timeDeltas[i] is the time from sample i-1 to sample i: the time of sample i-1's stack.
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    selfByNode.set(profile.samples[i], (selfByNode.get(profile.samples[i]) ?? 0) + dt);
  }
  const fns = new Map<string, { name: string; where: string; ms: number }>();
  const files = new Map<string, number>();
  let idle = 0;
  let gc = 0;
  let total = 0;
  for (const [id, ms] of selfByNode) {
    const cf = byId.get(id)!.callFrame;
    total += ms;
    if (cf.functionName === '(idle)') {
      idle += ms;
      continue;
    }
    if (cf.functionName === '(garbage collector)') gc += ms;
    const where = cf.url ? `${shortUrl(cf.url, root)}:${cf.lineNumber + 1}` : '';
    const name = cf.functionName || '(anonymous)';
    const key = `${name} ${where}`;
    const e = fns.get(key) ?? { name, where, ms: 0 };
    e.ms += ms;
    fns.set(key, e);
    const fileKey = cf.url ? shortUrl(cf.url, root) : name.startsWith('(') ? name : '(native)';
    files.set(fileKey, (files.get(fileKey) ?? 0) + ms);
  }
  const busy = total - idle;
  const pct = (ms: number) => (busy > 0 ? (100 * ms) / busy : 0);
  return {
    file,
    totalMs: total,
    busyMs: busy,
    idleMs: idle,
    gcMs: gc,
    functions: [...fns.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((e) => ({ name: e.name, where: e.where, selfMs: e.ms, percent: pct(e.ms) })),
    files: [...files.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([where, ms]) => ({ name: where, where, selfMs: ms, percent: pct(ms) })),
  };
}

export function formatProfile(title: string, p: ProfileSummary): string {
  const lines = [
    `### ${title}: ${(p.busyMs / 1000).toFixed(2)} s busy of ${(p.totalMs / 1000).toFixed(2)} s profiled (GC ${(p.gcMs / 1000).toFixed(2)} s)`,
  ];
  lines.push('', '| self ms | % busy | function | where |', '|---:|---:|---|---|');
  for (const f of p.functions) lines.push(`| ${f.selfMs.toFixed(0)} | ${f.percent.toFixed(1)} | ${f.name} | ${f.where} |`);
  lines.push('', '| self ms | % busy | file |', '|---:|---:|---|');
  for (const f of p.files) lines.push(`| ${f.selfMs.toFixed(0)} | ${f.percent.toFixed(1)} | ${f.name} |`);
  return lines.join('\n');
}
