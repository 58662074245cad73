// Small statistics helpers: medians and percentiles over samples.

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** The p-th percentile (0..100) by linear interpolation between closest ranks; NaN for no values. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** Seconds since `start` (a process.hrtime.bigint() value). */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export const MiB = 1024 * 1024;
/** Throughputs are reported in MB/s with MB = 10^6 bytes, as the targets are. */
export const MB = 1_000_000;
