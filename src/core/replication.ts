// ECR's registry replication configuration: up to 10 rules, each with destinations (a region and a registry id) and
// optional PREFIX_MATCH repository filters, kept per account in the settings table. Pure but for the two settings
// calls: which destinations an image of a repository goes to, and the decision made with a push (the replication
// to start in the push's own transaction, so a crash between the reply and the copy loses no replication).
import type { ReplicationOnWrite, Repository, SettingsStore } from '../storage/meta/store.ts';
import { BERTH_ARTIFACT_ANNOTATION } from './own-artifacts.ts';

export interface ReplicationDestination {
  region: string;
  registryId: string;
}

export interface ReplicationRule {
  destinations: ReplicationDestination[];
  repositoryFilters?: { filter: string; filterType: 'PREFIX_MATCH' }[];
}

export interface ReplicationConfiguration {
  rules: ReplicationRule[];
}

/** The job that copies one image to one destination (src/replication/worker.ts). */
export const REPLICATION_JOB = 'replication';
/** The job that runs a replication backfill. */
export const BACKFILL_JOB = 'replication-backfill';
/** Attempts of a replication job before the image is FAILED for that destination (5 s, 10 s, 20 s, ... apart). */
export const REPLICATION_ATTEMPTS = 6;

export interface ReplicationJob {
  accountId: string;
  repositoryId: number;
  repositoryName: string;
  digest: string;
  /** The tag the push set (tags replicate; an untagged push is copied by digest). */
  tag?: string;
  destination: ReplicationDestination;
}

const key = (accountId: string) => `account/${accountId}/replication_configuration`;

export async function getReplicationConfiguration(meta: SettingsStore, accountId: string): Promise<ReplicationConfiguration> {
  const text = await meta.getSetting(key(accountId));
  return text ? (JSON.parse(text) as ReplicationConfiguration) : { rules: [] };
}

export async function putReplicationConfiguration(meta: SettingsStore, accountId: string, config: ReplicationConfiguration): Promise<void> {
  await meta.setSetting(key(accountId), JSON.stringify(config));
}

/** A rule applies to a repository when it has no filters, or one of its prefixes begins the repository's name. */
export const ruleMatches = (rule: ReplicationRule, name: string): boolean =>
  !rule.repositoryFilters?.length || rule.repositoryFilters.some((f) => name.startsWith(f.filter));

export const sameDestination = (a: ReplicationDestination, b: ReplicationDestination): boolean =>
  a.region === b.region && a.registryId === b.registryId;

/** The destinations an image of the repository is replicated to: those of every rule that applies, each once. */
export function destinationsFor(config: ReplicationConfiguration, name: string): ReplicationDestination[] {
  const out: ReplicationDestination[] = [];
  for (const rule of config.rules) {
    if (!ruleMatches(rule, name)) continue;
    for (const d of rule.destinations)
      if (!out.some((o) => sameDestination(o, d))) out.push({ region: d.region, registryId: d.registryId });
  }
  return out;
}

export function replicationJob(job: ReplicationJob, now: number) {
  return { kind: REPLICATION_JOB, payload: JSON.stringify(job), runAt: now, maxAttempts: REPLICATION_ATTEMPTS };
}

/**
 * The replication a push starts: one job per destination, the image IN_PROGRESS for each. An artifact Berth wrote
 * itself (an SBOM) is never replicated on its own: its subject is copied again, and it travels with it (no status
 * of its own).
 */
export async function replicationOnPush(
  meta: SettingsStore,
  repo: Repository,
  manifest: { digest: string; tag?: string; subject: string | null; annotations: Record<string, string> | null },
  now: number,
): Promise<ReplicationOnWrite | undefined> {
  const destinations = destinationsFor(await getReplicationConfiguration(meta, repo.accountId), repo.name);
  if (destinations.length === 0) return undefined;
  const ownArtifact = manifest.subject !== null && manifest.annotations?.[BERTH_ARTIFACT_ANNOTATION] !== undefined;
  const digest = ownArtifact ? manifest.subject! : manifest.digest;
  const base = {
    accountId: repo.accountId,
    repositoryId: repo.id,
    repositoryName: repo.name,
    digest,
    ...(ownArtifact || manifest.tag === undefined ? {} : { tag: manifest.tag }),
  };
  return {
    destinations: ownArtifact ? [] : destinations,
    jobs: destinations.map((destination) => replicationJob({ ...base, destination }, now)),
  };
}
