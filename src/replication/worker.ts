// Replication's worker: the jobs that copy an image to a destination (REPLICATION_JOB, one per image and destination,
// enqueued in the push's transaction) and that run a backfill (BACKFILL_JOB). A copy sends only what the destination
// lacks: each manifest is looked for by digest first, each blob with a HEAD, then mounted from another repository
// of the destination that the same rules replicate to, and only then uploaded (streamed from the blob store).
// Manifests go byte for byte, so digests are identical; the tag the push set is set there too; deletions are not
// replicated (as in ECR). Berth's own artifacts (SBOMs) travel with their subject. A copy cut short (either side
// restarting) fails its attempt and the job is retried with backoff (or taken over when its node died: its lease
// runs out); the image stays IN_PROGRESS until it is COMPLETE or, after the last attempt, FAILED with the reason.
import type { Readable } from 'node:stream';
import { Authorizer } from '../auth/authorizer.ts';
import { rootArn } from '../auth/principal.ts';
import { repositoryArn } from '../core/arn.ts';
import { parseManifest } from '../core/manifest.ts';
import { BERTH_ARTIFACT_ANNOTATION } from '../core/own-artifacts.ts';
import type { Registry } from '../core/registry.ts';
import {
  destinationsFor,
  getReplicationConfiguration,
  replicationOnPush,
  sameDestination,
  type ReplicationDestination,
  type ReplicationJob,
} from '../core/replication.ts';
import type { Logger } from '../server/log.ts';
import type { Job, ReplicationBackfillRow, ReplicationDestinationRow, Repository, StoredManifest } from '../storage/meta/store.ts';
import type { RegistryClient } from '../transfer/registry-client.ts';
import type { ReplicationDestinations } from './destinations.ts';

/** A replication that no retry can make succeed (no destination configured, refused by the destination's policy). */
export class ReplicationRefused extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** ECR's backfill fails once half its replications (of at least 100 processed) failed. */
const BACKFILL_FAILURE_MIN = 100;

export interface BackfillJob {
  accountId: string;
  id: string;
}

export class Replicator {
  private readonly registry: Registry;
  private readonly destinations: ReplicationDestinations;
  private readonly authorizer: Authorizer;
  private readonly now: () => number;
  private readonly log?: Logger;

  constructor(registry: Registry, destinations: ReplicationDestinations, audit: Logger, now: () => number, log?: Logger) {
    this.registry = registry;
    this.destinations = destinations;
    this.authorizer = new Authorizer(registry.meta, audit, now);
    this.now = now;
    this.log = log;
  }

  /** The replication a push starts (Registry.replicateOnPush). */
  readonly replicationOnPush: NonNullable<Registry['replicateOnPush']> = (repo, manifest) =>
    replicationOnPush(this.registry.meta, repo, manifest, this.now());

  /** REPLICATION_JOB: one image to one destination. */
  async run(p: ReplicationJob, job: Job): Promise<unknown> {
    const meta = this.registry.meta;
    const repo = await meta.getRepository(p.accountId, p.repositoryName);
    // Deleted meanwhile (deletions are not replicated): nothing to copy.
    if (!repo || repo.id !== p.repositoryId || !(await meta.getManifest(repo.id, p.digest)))
      return { skipped: 'the image no longer exists' };
    try {
      const bytes = await this.replicate(repo, p.digest, p.tag === undefined ? [] : [p.tag], p.destination);
      await meta.setReplicationStatus(repo.id, p.digest, p.destination, 'COMPLETE', null, this.now());
      return { replicated: p.digest, bytes };
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      if (e instanceof ReplicationRefused || job.attempts >= job.maxAttempts) {
        await meta.setReplicationStatus(repo.id, p.digest, p.destination, 'FAILED', reason.slice(0, 1024), this.now());
        if (e instanceof ReplicationRefused) return { failed: reason };
      }
      throw e;
    }
  }

  /** Copies the image (its children, its blobs, its tags, Berth's artifacts of it) to the destination; the bytes uploaded. */
  async replicate(repo: Repository, digest: string, tags: string[], destination: ReplicationDestination): Promise<number> {
    const meta = this.registry.meta;
    const d = await meta.getReplicationDestination(repo.accountId, destination.region, destination.registryId);
    if (!d) {
      throw new ReplicationRefused(
        'DESTINATION_NOT_CONFIGURED',
        `no replication destination is configured for region ${destination.region} and registry ${destination.registryId}: add it with berth admin put-replication-destination`,
      );
    }
    if (d.kind === 'berth' && d.registryId !== repo.accountId) await this.checkCrossAccount(d, repo);
    const config = await getReplicationConfiguration(meta, repo.accountId);
    const copy = new Copy(this.registry, this.destinations.client(d), repo, (r) =>
      destinationsFor(config, r.name).some((x) => sameDestination(x, destination)),
    );
    const manifest = await meta.getManifest(repo.id, digest);
    if (!manifest) return 0;
    await copy.manifest(manifest, tags);
    for (const r of await meta.listReferrers(repo.id, digest)) {
      if (r.annotations?.[BERTH_ARTIFACT_ANNOTATION] === undefined) continue;
      const artifact = await meta.getManifest(repo.id, r.digest);
      if (artifact) await copy.manifest(artifact, []);
    }
    return copy.bytes;
  }

  /**
   * Cross-account, ECR requires the destination's registry policy to allow the source account `ecr:ReplicateImage`:
   * read from the destination (GetRegistryPolicy, with the destination's credentials) and decided by the evaluator.
   */
  private async checkCrossAccount(d: ReplicationDestinationRow, repo: Repository): Promise<void> {
    const resource = repositoryArn(d.region, d.registryId, repo.name);
    const refused = (why: string) =>
      new ReplicationRefused(
        'REPLICATION_NOT_AUTHORIZED',
        `${rootArn(repo.accountId)} is not authorized to perform: ecr:ReplicateImage on resource: ${resource} ${why}`,
      );
    const { status, answer } = await this.destinations.client(d).ecr('GetRegistryPolicy', { registryId: d.registryId });
    if (String(answer.__type).endsWith('RegistryPolicyNotFoundException'))
      throw refused('because the destination registry has no registry policy');
    if (String(answer.__type).endsWith('AccessDeniedException'))
      throw refused(`because the destination's registry policy cannot be read with the destination's credentials: ${answer.message ?? ''}`);
    if (status !== 200 || typeof answer.policyText !== 'string')
      throw new Error(`GetRegistryPolicy at ${d.endpoint} answered ${status}: ${answer.__type ?? ''} ${answer.message ?? ''}`);
    let decision: Awaited<ReturnType<typeof this.authorizer.authorizeByResourcePolicy>>;
    try {
      decision = await this.authorizer.authorizeByResourcePolicy(
        {
          principal: { kind: 'root', accountId: repo.accountId, arn: rootArn(repo.accountId) },
          resource,
          resourceAccount: d.registryId,
          policyName: `registry/${d.registryId}@${d.region}`,
          policyText: answer.policyText,
        },
        'ecr:ReplicateImage',
      );
    } catch (e) {
      throw refused(`because the destination's registry policy does not parse: ${(e as Error).message}`);
    }
    if (!decision.allowed)
      throw refused(
        decision.effect === 'ExplicitDeny'
          ? "with an explicit deny in the destination's registry policy"
          : "because no statement of the destination's registry policy allows it",
      );
  }

  /** BACKFILL_JOB: every image the rules replicate to the backfill's destination, one at a time, until done or stopped. */
  async backfill(p: BackfillJob): Promise<unknown> {
    const meta = this.registry.meta;
    let b = await meta.getReplicationBackfill(p.accountId, p.id);
    if (!b) return { skipped: 'no such backfill' };
    const destination = { region: b.region, registryId: b.registryId };
    const config = await getReplicationConfiguration(meta, p.accountId);
    // What to replicate: each image and tag (or untagged image) of the repositories the rules send there.
    const work: { repo: Repository; digest: string; tags: (string | null)[] }[] = [];
    for (let last: string | undefined; ; ) {
      const page = await meta.listRepositories(p.accountId, { last, limit: 100 });
      for (const repo of page) {
        if (!destinationsFor(config, repo.name).some((x) => sameDestination(x, destination))) continue;
        for (let after: string | undefined; ; ) {
          const images = await meta.listImages(repo.id, 'ANY', after, 100);
          for (const image of images) {
            const m = await meta.getManifest(repo.id, image.digest);
            // Berth's own artifacts go with their subject.
            if (!m || (m.subjectDigest !== null && m.annotations?.[BERTH_ARTIFACT_ANNOTATION] !== undefined)) continue;
            work.push({ repo, digest: image.digest, tags: image.tags.length ? image.tags : [null] });
          }
          if (images.length < 100) break;
          after = images[images.length - 1].digest;
        }
      }
      if (page.length < 100) break;
      last = page[page.length - 1].name;
    }
    const total = work.reduce((n, w) => n + w.tags.length, 0);
    const done = new Map(
      (await meta.listReplicationBackfillResults(b.id)).map((r) => [`${r.repositoryName} ${r.digest} ${r.tag ?? ''}`, r]),
    );
    const counts = { completed: 0, failed: 0, codes: new Set<string>() };
    for (const r of done.values()) count(counts, r.status, r.failureCode);
    b = await meta.updateReplicationBackfill(b.id, {
      status: 'IN_PROGRESS',
      total,
      completed: counts.completed,
      failed: counts.failed,
      failureCodes: [...counts.codes],
    });
    for (const w of work) {
      if (!b || b.status === 'STOPPING') break;
      const pending = w.tags.filter((t) => !done.has(`${w.repo.name} ${w.digest} ${t ?? ''}`));
      if (pending.length === 0) continue;
      let failureCode: string | null = null;
      await meta.setReplicationStatus(w.repo.id, w.digest, destination, 'IN_PROGRESS', null, this.now());
      try {
        await this.replicate(
          w.repo,
          w.digest,
          pending.filter((t): t is string => t !== null),
          destination,
        );
        await meta.setReplicationStatus(w.repo.id, w.digest, destination, 'COMPLETE', null, this.now());
      } catch (e) {
        failureCode = e instanceof ReplicationRefused ? e.code : 'REPLICATION_FAILED';
        this.log?.warn({ err: e, repository: w.repo.name, digest: w.digest }, 'replication backfill: an image failed');
        await meta.setReplicationStatus(w.repo.id, w.digest, destination, 'FAILED', (e as Error).message.slice(0, 1024), this.now());
      }
      for (const tag of pending) {
        await meta.putReplicationBackfillResult(b.id, {
          repositoryName: w.repo.name,
          digest: w.digest,
          tag,
          status: failureCode ? 'FAILED' : 'COMPLETE',
          failureCode,
        });
        count(counts, failureCode ? 'FAILED' : 'COMPLETE', failureCode);
      }
      b = await meta.updateReplicationBackfill(b.id, {
        completed: counts.completed,
        failed: counts.failed,
        failureCodes: [...counts.codes],
      });
      const processed = counts.completed + counts.failed;
      if (processed >= BACKFILL_FAILURE_MIN && counts.failed * 2 >= processed) break;
    }
    const failed = counts.failed > 0 && counts.failed * 2 >= counts.completed + counts.failed;
    const ended = await meta.updateReplicationBackfill(p.id, {
      status: failed ? 'FAILED' : 'COMPLETE',
      failureCode: failed ? 'REPLICATION_FAILURE_THRESHOLD_EXCEEDED' : null,
      endedAt: this.now(),
    });
    return { backfill: p.id, status: ended?.status, completed: counts.completed, failed: counts.failed };
  }
}

function count(
  counts: { completed: number; failed: number; codes: Set<string> },
  status: ReplicationBackfillRow['status'] | 'COMPLETE' | 'FAILED',
  code: string | null,
): void {
  if (status === 'COMPLETE') counts.completed++;
  else counts.failed++;
  if (code) counts.codes.add(code);
}

/** One image's copy to one destination: what was sent, and what is known to be there. */
class Copy {
  bytes = 0;
  private readonly sent = new Set<string>();
  private readonly registry: Registry;
  private readonly client: RegistryClient;
  private readonly repo: Repository;
  /** Whether another repository of the account is replicated to this destination (a mount source there). */
  private readonly replicatedThere: (repo: Repository) => boolean;

  constructor(registry: Registry, client: RegistryClient, repo: Repository, replicatedThere: (repo: Repository) => boolean) {
    this.registry = registry;
    this.client = client;
    this.repo = repo;
    this.replicatedThere = replicatedThere;
  }

  /** The manifest (by digest, byte for byte) after what it references; then each tag pointed at it. */
  async manifest(m: StoredManifest, tags: string[]): Promise<void> {
    const name = this.repo.name;
    if (!this.sent.has(m.digest) && (await this.client.manifestDigest(name, m.digest)) !== m.digest) {
      const parsed = parseManifest(m.content, m.mediaType);
      for (const child of parsed.manifests) {
        const c = await this.registry.meta.getManifest(this.repo.id, child);
        if (c) await this.manifest(c, []);
      }
      for (const blob of parsed.blobs) await this.blob(blob);
      await this.client.putManifest(name, m.digest, m.content, m.mediaType);
    }
    this.sent.add(m.digest);
    for (const tag of tags) {
      if ((await this.client.manifestDigest(name, tag)) !== m.digest) await this.client.putManifest(name, tag, m.content, m.mediaType);
    }
  }

  private async blob(digest: string): Promise<void> {
    const name = this.repo.name;
    if (this.sent.has(digest) || (await this.client.hasBlob(name, digest))) return;
    // A repository of the destination that holds it already: mounted, not sent again.
    const holders = await this.registry.meta.repositoriesHoldingBlob(this.repo.accountId, digest, 16);
    const from = holders.find((r) => r.id !== this.repo.id && this.replicatedThere(r));
    if (!from || !(await this.client.mountBlob(name, digest, from.name))) {
      const data: Readable = await this.registry.blobs.read(digest);
      this.bytes += (await this.client.uploadBlob(name, data, digest)).size;
    }
    this.sent.add(digest);
  }
}
