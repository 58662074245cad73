// The registry's storage over time: a recurring job (USAGE_SNAPSHOT_JOB, daily by default) records the usage of
// the day (UTC) in the metadata store, one snapshot a day (taken again the same day, it replaces that day's), for
// the console's chart. The day follows the registry's clock (the test clock in tests).
import type { MetaStore, UsageSnapshot } from '../storage/meta/store.ts';

export const USAGE_SNAPSHOT_JOB = 'usage-snapshot';

/** YYYY-MM-DD (UTC) of a time in ms. */
export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Reads the registry's usage and records it as the snapshot of the day. */
export async function recordUsageSnapshot(meta: Pick<MetaStore, 'usage' | 'recordUsageSnapshot'>, now: number): Promise<UsageSnapshot> {
  const usage = await meta.usage();
  const snapshot: UsageSnapshot = {
    day: dayOf(now),
    at: now,
    storedBytes: usage.storedBytes,
    referencedBytes: usage.referencedBytes,
    repositories: usage.repositories.length,
    images: usage.repositories.reduce((n, r) => n + r.images, 0),
  };
  await meta.recordUsageSnapshot(snapshot);
  return snapshot;
}
