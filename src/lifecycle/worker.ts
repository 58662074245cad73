// Applying lifecycle policies: previews (what a policy would expire, without expiring it) and runs (expiring
// it), on a schedule, on demand (`berth lifecycle run [repo]`), each expiry written to the audit log.
import type { Images } from '../core/images.ts';
import type { Logger } from '../server/log.ts';
import type { MetaStore, Repository } from '../storage/meta/store.ts';
import { evaluateLifecycle, type LifecycleResult } from './evaluate.ts';
import { BERTH_ARTIFACT_ANNOTATION } from '../core/own-artifacts.ts';
import { parseLifecyclePolicy } from './policy.ts';
import { updateStorageClass } from '../core/archive.ts';
import { PreviewResults } from './preview-results.ts';

export interface RunReport {
  registryId: string;
  repositoryName: string;
  expired: { imageDigest: string; imageTags: string[]; appliedRulePriority: number }[];
  /** Images moved to the archive storage class by `transition` rules. */
  transitioned: { imageDigest: string; imageTags: string[]; appliedRulePriority: number; targetStorageClass: 'ARCHIVE' }[];
  durationMs: number;
}

/** Images a lifecycle run expires per transaction: one commit for many, and short enough a hold on the store. */
const EXPIRE_BATCH = 1000;

/** The kind of the job that computes a preview, and its payload. */
export const PREVIEW_JOB = 'lifecycle-preview';
export interface PreviewJob {
  accountId: string;
  name: string;
  repositoryId: number;
}

export class Lifecycle {
  private readonly meta: MetaStore;
  private readonly images: Images;
  private readonly audit: Logger;
  private readonly now: () => number;
  private readonly previews: PreviewResults;

  /** Pulls noted in memory and not written yet (core/last-use.ts): written before an evaluation reads them. */
  private readonly lastUse: { flush(): Promise<void> } | undefined;

  constructor(meta: MetaStore, images: Images, audit: Logger, now: () => number = Date.now, lastUse?: { flush(): Promise<void> }) {
    this.meta = meta;
    this.lastUse = lastUse;
    this.images = images;
    this.audit = audit;
    this.now = now;
    this.previews = new PreviewResults(meta, now);
  }

  /** The repository's latest preview, with its results when it is complete. */
  latestPreview(repositoryId: number): ReturnType<PreviewResults['latest']> {
    return this.previews.latest(repositoryId);
  }

  /** What the policy would expire in the repository now. */
  async evaluate(repo: Repository, policyText: string): Promise<LifecycleResult[]> {
    const policy = parseLifecyclePolicy(policyText);
    await this.lastUse?.flush();
    return evaluateLifecycle(policy, await this.ownImages(repo), this.now());
  }

  /** The images rules see: not the artifacts Berth writes itself (SBOMs), which go with their subject only. */
  private async ownImages(repo: Repository) {
    const images = await this.meta.lifecycleImages(repo.id);
    const kept = [];
    for (const image of images) {
      // Berth's artifacts are untagged: only untagged images need a look at their annotations.
      if (
        image.tags.length === 0 &&
        (await this.meta.getManifest(repo.id, image.digest))?.annotations?.[BERTH_ARTIFACT_ANNOTATION] !== undefined
      )
        continue;
      kept.push(image);
    }
    return kept;
  }

  /**
   * Starts a preview (false when one is already in progress). A `lifecycle-preview` job, enqueued in the same
   * transaction, computes it on any node (`computePreview`): a crash in between loses no preview.
   */
  async startPreview(repo: Repository, policyText: string): Promise<boolean> {
    const payload: PreviewJob = { accountId: repo.accountId, name: repo.name, repositoryId: repo.id };
    const job = { kind: PREVIEW_JOB, payload: JSON.stringify(payload), runAt: Date.now(), maxAttempts: 3 };
    return this.meta.startLifecyclePreview(repo.id, policyText, this.now(), job);
  }

  /** The `lifecycle-preview` job: evaluates the preview's policy and stores the results (or the failure). */
  async computePreview(job: PreviewJob): Promise<{ status: string }> {
    const repo = await this.meta.getRepository(job.accountId, job.name);
    if (!repo || repo.id !== job.repositoryId) return { status: 'repository deleted' };
    const preview = await this.meta.getLifecyclePreview(repo.id);
    if (!preview || preview.status !== 'IN_PROGRESS') return { status: 'not in progress' };
    try {
      await this.meta.finishLifecyclePreview(repo.id, 'COMPLETE', JSON.stringify(await this.evaluate(repo, preview.policyText)));
      return { status: 'COMPLETE' };
    } catch (e) {
      await this.meta.finishLifecyclePreview(repo.id, 'FAILED', JSON.stringify({ error: String(e) }));
      return { status: 'FAILED' };
    }
  }

  /** Applies the repository's policy: expires what it selects. */
  async run(repo: Repository): Promise<RunReport> {
    const started = this.now();
    const report: RunReport = { registryId: repo.accountId, repositoryName: repo.name, expired: [], transitioned: [], durationMs: 0 };
    if (repo.lifecyclePolicyText === null) return report;
    const expiring: LifecycleResult[] = [];
    for (const r of await this.evaluate(repo, repo.lifecyclePolicyText)) {
      if (r.action === 'TRANSITION') {
        if ((await updateStorageClass(this.meta, repo, r.digest, 'ARCHIVE', this.now())) !== 'changed') continue;
        report.transitioned.push({
          imageDigest: r.digest,
          imageTags: r.tags,
          appliedRulePriority: r.appliedRulePriority,
          targetStorageClass: 'ARCHIVE',
        });
        this.audit.info({
          event: 'lifecycle-transition',
          registryId: repo.accountId,
          repository: repo.name,
          imageDigest: r.digest,
          imageTags: r.tags,
          appliedRulePriority: r.appliedRulePriority,
          targetStorageClass: 'ARCHIVE',
          pushedAt: new Date(r.pushedAt).toISOString(),
        });
        continue;
      }
      expiring.push(r);
    }
    // Expired a batch per transaction (one commit, not one per image: issue 21). An image an index came to
    // reference since the evaluation, or deleted meanwhile, is left out, as a single delete would.
    for (let i = 0; i < expiring.length; i += EXPIRE_BATCH) {
      // Requests waiting are served between two batches (each is synchronous underneath on SQLite).
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const batch = expiring.slice(i, i + EXPIRE_BATCH);
      const deleted = new Set(
        await this.images.deleteDigests(
          repo,
          batch.map((r) => r.digest),
          'LIFECYCLE_POLICY',
        ),
      );
      for (const r of batch) {
        if (!deleted.has(r.digest)) continue;
        report.expired.push({ imageDigest: r.digest, imageTags: r.tags, appliedRulePriority: r.appliedRulePriority });
        this.audit.info({
          event: 'lifecycle-expire',
          registryId: repo.accountId,
          repository: repo.name,
          imageDigest: r.digest,
          imageTags: r.tags,
          appliedRulePriority: r.appliedRulePriority,
          pushedAt: new Date(r.pushedAt).toISOString(),
        });
      }
    }
    await this.meta.setLifecycleEvaluatedAt(repo.id, this.now());
    report.durationMs = this.now() - started;
    return report;
  }

  /** Every repository with a policy, or the named one. */
  async runAll(only?: { accountId: string; name: string }): Promise<RunReport[]> {
    const repos = only
      ? [await this.meta.getRepository(only.accountId, only.name)].filter((r): r is Repository => r !== undefined)
      : await this.meta.repositoriesWithLifecyclePolicy();
    const reports: RunReport[] = [];
    for (const repo of repos) reports.push(await this.run(repo));
    return reports;
  }
}
