// ECR's replication operations: PutReplicationConfiguration (DescribeRegistry shows it), DescribeImageReplicationStatus,
// and the replication backfill operations of the newest API (StartReplicationBackfill, StopReplicationBackfill,
// ListReplicationBackfills, DescribeReplicationBackfillResults; validated from src/ecr/model-extra.ts). The copying
// itself is background work (src/replication/worker.ts); destinations' endpoints and credentials are admin resources.
import { randomUUID } from 'node:crypto';
import type {
  DescribeImageReplicationStatusRequest,
  DescribeImageReplicationStatusResponse,
  DescribeReplicationBackfillResultsRequest,
  DescribeReplicationBackfillResultsResponse,
  ListReplicationBackfillsRequest,
  ListReplicationBackfillsResponse,
  PutReplicationConfigurationRequest,
  PutReplicationConfigurationResponse,
  ReplicationBackfillSummary,
  StartReplicationBackfillRequest,
  StartReplicationBackfillResponse,
  StopReplicationBackfillRequest,
  StopReplicationBackfillResponse,
} from '@aws-sdk/client-ecr';
import {
  BACKFILL_JOB,
  getReplicationConfiguration,
  putReplicationConfiguration as storeReplicationConfiguration,
  sameDestination,
  type ReplicationConfiguration,
  type ReplicationDestination,
} from '../core/replication.ts';
import type { ReplicationBackfillRow } from '../storage/meta/store.ts';
import { afterOf, authorizedRepository, epochSeconds, pageOf, type EcrContext, type Wire } from './context.ts';
import { EcrError, invalidParameter } from './errors.ts';
import { imageDigest } from './scanning.ts';

/** ECR: at most 25 destinations across all rules. */
const MAX_DESTINATIONS = 25;
/** ECR: at most 10 backfills in progress per registry. */
const MAX_BACKFILLS_IN_PROGRESS = 10;

export async function putReplicationConfiguration(
  ctx: EcrContext,
  input: PutReplicationConfigurationRequest,
): Promise<Wire<PutReplicationConfigurationResponse>> {
  const { registryId } = ctx.authorized;
  const config: ReplicationConfiguration = {
    rules: input.replicationConfiguration!.rules!.map((r) => ({
      destinations: r.destinations!.map((d) => ({ region: d.region!, registryId: d.registryId! })),
      ...(r.repositoryFilters
        ? { repositoryFilters: r.repositoryFilters.map((f) => ({ filter: f.filter!, filterType: 'PREFIX_MATCH' as const })) }
        : {}),
    })),
  };
  const unique: ReplicationDestination[] = [];
  for (const d of config.rules.flatMap((r) => r.destinations)) {
    if (d.region === ctx.region && d.registryId === registryId) {
      throw invalidParameter(
        `Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: 'Replication destination cannot be the same as the source registry and region: ${d.region}/${d.registryId}'`,
      );
    }
    if (!unique.some((u) => sameDestination(u, d))) unique.push(d);
  }
  if (unique.length > MAX_DESTINATIONS) {
    throw invalidParameter(
      `Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: 'A replication configuration may have at most ${MAX_DESTINATIONS} unique destinations, found ${unique.length}'`,
    );
  }
  await storeReplicationConfiguration(ctx.registry.meta, registryId, config);
  return { replicationConfiguration: config };
}

/** DescribeRegistry's replicationConfiguration. */
export const replicationConfigurationOf = (ctx: EcrContext, registryId: string): Promise<ReplicationConfiguration> =>
  getReplicationConfiguration(ctx.registry.meta, registryId);

export async function describeImageReplicationStatus(
  ctx: EcrContext,
  input: DescribeImageReplicationStatusRequest,
): Promise<Wire<DescribeImageReplicationStatusResponse>> {
  const repo = authorizedRepository(ctx);
  const digest = await imageDigest(ctx, repo, input.imageId!);
  const statuses = await ctx.registry.meta.listReplicationStatuses(repo.id, digest);
  return {
    repositoryName: repo.name,
    imageId: { imageDigest: digest, ...(input.imageId!.imageTag ? { imageTag: input.imageId!.imageTag } : {}) },
    replicationStatuses: statuses.map((s) => ({
      region: s.region,
      registryId: s.registryId,
      status: s.status,
      ...(s.failureReason ? { failureCode: s.failureReason } : {}),
    })),
  };
}

export async function startReplicationBackfill(
  ctx: EcrContext,
  input: StartReplicationBackfillRequest,
): Promise<Wire<StartReplicationBackfillResponse>> {
  const { registryId } = ctx.authorized;
  const destination = { region: input.destination!.region!, registryId: input.destination!.registryId! };
  const config = await getReplicationConfiguration(ctx.registry.meta, registryId);
  if (!config.rules.some((r) => r.destinations.some((d) => sameDestination(d, destination)))) {
    throw new EcrError(
      'ValidationException',
      `The destination ${destination.region}/${destination.registryId} is not in the replication configuration of the registry with id '${registryId}'`,
    );
  }
  const now = Date.now();
  const row: ReplicationBackfillRow = {
    id: randomUUID(),
    accountId: registryId,
    ...destination,
    status: 'PREPARING',
    failureCode: null,
    total: null,
    completed: 0,
    failed: 0,
    failureCodes: [],
    startedAt: now,
    endedAt: null,
  };
  const job = { kind: BACKFILL_JOB, payload: JSON.stringify({ accountId: registryId, id: row.id }), runAt: now, maxAttempts: 5 };
  const started = await ctx.registry.meta.startReplicationBackfill(row, MAX_BACKFILLS_IN_PROGRESS, job);
  if (started === 'in-progress') {
    throw new EcrError(
      'ReplicationBackfillInProgressException',
      `A replication backfill is already in progress for the destination Region '${destination.region}' in the registry with id '${registryId}'`,
    );
  }
  if (started === 'limit') {
    throw new EcrError(
      'LimitExceededException',
      `The registry with id '${registryId}' already has ${MAX_BACKFILLS_IN_PROGRESS} replication backfills in progress`,
    );
  }
  return { replicationBackfillId: row.id, registryId, destination, status: row.status, startedAt: epochSeconds(now) };
}

const notFound = (id: string, registryId: string) =>
  new EcrError(
    'ReplicationBackfillNotFoundException',
    `The replication backfill with id '${id}' does not exist in the registry with id '${registryId}'`,
  );

export async function stopReplicationBackfill(
  ctx: EcrContext,
  input: StopReplicationBackfillRequest,
): Promise<Wire<StopReplicationBackfillResponse>> {
  const { registryId } = ctx.authorized;
  const id = input.replicationBackfillId!;
  const stopped = await ctx.registry.meta.stopReplicationBackfill(registryId, id.toLowerCase());
  if (stopped === undefined) throw notFound(id, registryId);
  if (stopped === 'invalid') {
    const b = await ctx.registry.meta.getReplicationBackfill(registryId, id.toLowerCase());
    throw new EcrError(
      'ReplicationBackfillInvalidStatusException',
      `The replication backfill with id '${id}' cannot be stopped: its status is ${b?.status ?? 'unknown'}`,
    );
  }
  return {
    registryId,
    replicationBackfillId: stopped.id,
    destination: { region: stopped.region, registryId: stopped.registryId },
    status: stopped.status,
    startedAt: epochSeconds(stopped.startedAt),
  };
}

function summary(b: ReplicationBackfillRow): Wire<ReplicationBackfillSummary> {
  return {
    replicationBackfillId: b.id,
    destination: { region: b.region, registryId: b.registryId },
    status: b.status,
    ...(b.failureCode ? { failureCode: b.failureCode } : {}),
    ...(b.total === null
      ? {}
      : {
          progress: {
            totalReplicationCount: b.total,
            completedReplicationCount: b.completed,
            failedReplicationCount: b.failed,
            failureCodes: b.failureCodes,
          },
        }),
    startedAt: epochSeconds(b.startedAt),
    ...(b.endedAt === null ? {} : { endedAt: epochSeconds(b.endedAt) }),
  };
}

export async function listReplicationBackfills(
  ctx: EcrContext,
  input: ListReplicationBackfillsRequest,
): Promise<Wire<ListReplicationBackfillsResponse>> {
  const { registryId } = ctx.authorized;
  const limit = input.maxResults ?? 25;
  const after = afterOf(input.nextToken);
  const all = await ctx.registry.meta.listReplicationBackfills(registryId);
  // Newest first: the cursor is the position of the last one shown (its start time and id, as the store orders them).
  const key = (b: ReplicationBackfillRow) => `${String(1e15 - b.startedAt).padStart(16, '0')} ${b.id}`;
  const rest = all.filter((b) => after === undefined || key(b) > after);
  const { shown, ...next } = pageOf(rest.slice(0, limit + 1), limit, key);
  return { registryId, backfills: shown.map(summary), ...next };
}

export async function describeReplicationBackfillResults(
  ctx: EcrContext,
  input: DescribeReplicationBackfillResultsRequest,
): Promise<Wire<DescribeReplicationBackfillResultsResponse>> {
  const { registryId } = ctx.authorized;
  const id = input.replicationBackfillId!;
  const b = await ctx.registry.meta.getReplicationBackfill(registryId, id.toLowerCase());
  if (!b) throw notFound(id, registryId);
  const { progress, destination, status, failureCode, startedAt, endedAt } = summary(b);
  // Per-image results only once the backfill reached a terminal status, as in ECR.
  const terminal = b.status === 'COMPLETE' || b.status === 'FAILED' || b.status === 'STOPPED';
  const limit = input.maxResults ?? 100;
  const after = afterOf(input.nextToken);
  const key = (r: { repositoryName: string; digest: string; tag: string | null }) => `${r.repositoryName} ${r.digest} ${r.tag ?? ''}`;
  const results = terminal
    ? (await ctx.registry.meta.listReplicationBackfillResults(b.id, input.resultStatusFilter)).filter(
        (r) => after === undefined || key(r) > after,
      )
    : [];
  const { shown, ...next } = pageOf(results.slice(0, limit + 1), limit, key);
  return {
    registryId,
    replicationBackfillId: b.id,
    destination,
    status,
    ...(failureCode ? { failureCode } : {}),
    ...(progress ? { progress } : {}),
    ...(terminal
      ? {
          results: shown.map((r) => ({
            repositoryName: r.repositoryName,
            imageId: { imageDigest: r.digest, ...(r.tag ? { imageTag: r.tag } : {}) },
            status: r.status,
            ...(r.failureCode ? { failureCode: r.failureCode } : {}),
          })),
        }
      : {}),
    startedAt,
    ...(endedAt === undefined ? {} : { endedAt }),
    ...next,
  };
}
