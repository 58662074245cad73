// The results of a completed lifecycle preview, parsed once and kept for the pages that follow. A preview over
// 100,000 images stores ~10 MB of JSON; reading and parsing it for every page of 100 took ~90 ms a page. Results
// are kept by generation: every preview started in a store has a generation of its own (a repository id may be
// reused, a generation never is), so nothing stale is ever served, on this node or another. One cache per store
// (its Lifecycle owns it); few results are kept, and not for long, since they can be large.
import type { LifecyclePreview, MetaStore } from '../storage/meta/store.ts';
import type { LifecycleResult } from './evaluate.ts';

const KEEP = 4;
const KEEP_MS = 5 * 60 * 1000;

export class PreviewResults {
  private readonly meta: MetaStore;
  private readonly now: () => number;
  /** Parsed results by generation, most recently used last. */
  private readonly kept = new Map<number, { results: LifecycleResult[]; at: number }>();

  constructor(meta: MetaStore, now: () => number) {
    this.meta = meta;
    this.now = now;
  }

  /** The repository's latest preview, with its results when it is complete (parsed once, then kept). */
  async latest(repositoryId: number): Promise<{ preview: LifecyclePreview; results?: LifecycleResult[] } | undefined> {
    const now = this.now();
    const kept = this.kept;
    for (const [generation, entry] of kept) if (now - entry.at > KEEP_MS) kept.delete(generation);
    const light = await this.meta.getLifecyclePreview(repositoryId, false);
    if (!light || light.status !== 'COMPLETE') return light && { preview: light };
    const hit = kept.get(light.generation);
    if (hit) {
      kept.delete(light.generation);
      kept.set(light.generation, hit);
      return { preview: light, results: hit.results };
    }
    // Read whole: by now it may be a newer preview, which is then the one answered.
    const preview = await this.meta.getLifecyclePreview(repositoryId);
    if (!preview || preview.status !== 'COMPLETE') return preview && { preview };
    const results = preview.results === null ? [] : (JSON.parse(preview.results) as LifecycleResult[]);
    kept.set(preview.generation, { results, at: now });
    while (kept.size > KEEP) kept.delete(kept.keys().next().value!);
    return { preview, results };
  }
}
