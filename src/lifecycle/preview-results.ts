// The results of a completed lifecycle preview, parsed once and kept for the pages that follow. A preview over
// 100,000 images stores ~10 MB of JSON; reading and parsing it for every page of 100 took ~90 ms a page. Results
// are kept per (repository, generation): every preview started has a generation of its own (a repository id may
// be reused, a generation never is), so nothing stale is ever served, on this node or another. Few are kept, and not for long, since they can be large.
import type { MetaStore } from '../storage/meta/store.ts';
import type { LifecycleResult } from './evaluate.ts';

const KEEP = 4;
const KEEP_MS = 5 * 60 * 1000;

const kept = new Map<string, { results: LifecycleResult[]; at: number }>();

/** The results of the repository's completed preview of `generation`; undefined when that is no longer the
 * latest preview, or is not complete. */
export async function completedPreviewResults(meta: MetaStore, repositoryId: number, generation: number, now = Date.now()): Promise<LifecycleResult[] | undefined> {
  for (const [key, entry] of kept) if (now - entry.at > KEEP_MS) kept.delete(key);
  const key = `${repositoryId}:${generation}`;
  const hit = kept.get(key);
  if (hit) {
    kept.delete(key);
    kept.set(key, hit); // most recently used last
    return hit.results;
  }
  const preview = await meta.getLifecyclePreview(repositoryId);
  if (!preview || preview.generation !== generation || preview.status !== 'COMPLETE') return undefined;
  const results = preview.results === null ? [] : JSON.parse(preview.results) as LifecycleResult[];
  kept.set(key, { results, at: now });
  while (kept.size > KEEP) kept.delete(kept.keys().next().value!);
  return results;
}
