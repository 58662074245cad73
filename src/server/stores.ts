// Opening a data directory: the metadata and blob stores, the default account and its root key, and the core
// services built on them. The server and the `berth` maintenance commands share this.
import { Webhooks, WEBHOOK_JOB } from '../core/webhooks.ts';
import { BACKFILL_JOB, REPLICATION_JOB, type ReplicationJob } from '../core/replication.ts';
import { ReplicationDestinations } from '../replication/destinations.ts';
import { Replicator, type BackfillJob } from '../replication/worker.ts';
import { PULL_THROUGH_JOB, PullThroughCache, type PullThroughJob } from '../core/pull-through.ts';
import { SecretStore } from '../core/secret-store.ts';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config.ts';
import { loadRootKey, loadSharedRootKey, type RootKey } from '../auth/credentials.ts';
import { Identity, newAccountId } from '../auth/identity.ts';
import { SecretBox } from '../auth/secrets.ts';
import { Images } from '../core/images.ts';
import { Registry } from '../core/registry.ts';
import { Repositories } from '../core/repositories.ts';
import { Collector, type CollectableBlobStore, type GcReport } from '../gc/collector.ts';
import { fsck, type FsckReport } from '../gc/fsck.ts';
import { Lifecycle, PREVIEW_JOB, type PreviewJob } from '../lifecycle/worker.ts';
import { JobRunner } from '../jobs/runner.ts';
import { openBlobStore } from '../storage/blobs/open.ts';
import { RESCAN_JOB, SCAN_JOB, Scanner, type ScanJob } from '../scan/scanner.ts';
import { openMetaStore } from '../storage/meta/open.ts';
import type { MetaStore } from '../storage/meta/store.ts';
import { Clock } from './clock.ts';
import { createAuditLogger, type Logger } from './log.ts';
import { AUDIT_RETENTION_JOB } from './audit-table.ts';
import { recordUsageSnapshot, USAGE_SNAPSHOT_JOB } from '../core/usage-history.ts';
import { DIR_MODE, FILE_MODE, restrictNewFiles, secureDataDir } from './file-modes.ts';
import { StorageSpace } from './storage-space.ts';
import { SigningProfiles } from '../signing/profiles.ts';
import { SIGN_JOB, Signer, type SignJob } from '../signing/signer.ts';

export interface Stores {
  dataDir: string;
  meta: MetaStore;
  blobs: CollectableBlobStore;
  accountId: string;
  rootKey: RootKey;
  identity: Identity;
  registry: Registry;
  repositories: Repositories;
  images: Images;
  lifecycle: Lifecycle;
  /** Image scanning (scan on push, manual scans, rescans after an import). */
  scanner: Scanner;
  collector: Collector;
  /** Webhooks, and their delivery from the events outbox (WEBHOOK_JOB). */
  webhooks: Webhooks;
  /** Replication destinations (admin resources) and the worker that copies images to them. */
  replicationDestinations: ReplicationDestinations;
  replicator: Replicator;
  /** Signing profiles, and the signing of pushed images (SIGN_JOB). */
  signingProfiles: SigningProfiles;
  /** The pull through cache (its caching jobs: PULL_THROUGH_JOB) and the secret store of its upstream credentials. */
  pullThrough: PullThroughCache;
  audit: Logger;
  clock: Clock;
  config: Config;
  /** Background work (jobs): started by the server; the maintenance commands run their job themselves. */
  jobs: JobRunner;
  /** Space on the data directory's filesystem: a full disk is logged once, and counted (see /healthz). */
  space: StorageSpace;
  /** Garbage collection with the configured grace period and upload age limit. */
  gc(dryRun: boolean): Promise<GcReport>;
  fsck(): Promise<FsckReport>;
  /** Writes what is noted in memory (last uses, audit lines) and closes the stores. */
  close(): Promise<void>;
}

/** Kinds of the jobs the core runs (besides lifecycle previews). */
export const GC_JOB = 'gc';
export const LIFECYCLE_JOB = 'lifecycle';

/** Opens the data directory: metadata, blobs, the default account and its root key, identities. */
/** `log` hears of a full disk (the server's log; the maintenance commands report errors themselves). */
export async function openStores(config: Config, log?: Logger): Promise<Stores> {
  const dataDir = resolve(config.dataDir);
  restrictNewFiles();
  mkdirSync(dataDir, { recursive: true, mode: DIR_MODE });
  // SQLite gives the -wal and -shm files the database's mode: set it before opening.
  chmodIfExists(join(dataDir, 'meta.db'), FILE_MODE);
  const space = new StorageSpace(dataDir, log);
  const meta = await openMetaStore(config, { onFull: () => space.ranOut('metadata') });
  // A node that cannot start closes its pool (PostgreSQL's connections would keep the process alive).
  const opened = await closeOnError(meta, async () => {
    const blobs = await openBlobStore(config, dataDir, { onFull: () => space.ranOut('blobs') });
    const accountId = await defaultAccount(meta, config.accountId);
    const clock = new Clock(config.testClock);
    await meta.ensureAccount(accountId, clock.now());
    // On a shared database (several nodes), nothing another node needs stays in the data directory: the secret key
    // and the root key are in the database (generated by the first node), and so are the audit records.
    const shared = config.databaseUrl !== undefined;
    const configuredRoot = { accessKeyId: config.rootAccessKeyId, secretAccessKey: config.rootSecretAccessKey };
    const box = shared ? await SecretBox.shared(meta, config.secretKey) : SecretBox.load(dataDir, config.secretKey);
    const rootKey = shared ? await loadSharedRootKey(meta, box, configuredRoot) : loadRootKey(dataDir, configuredRoot);
    return { blobs, accountId, clock, shared, box, rootKey };
  });
  const { blobs, accountId, clock, shared, box, rootKey } = opened;
  const identity = new Identity(meta, box, rootKey, accountId, clock.now);
  const registry = new Registry(meta, blobs, {
    createOnPush: config.createOnPush,
    gcGraceMs: config.gcGraceSeconds * 1000,
    maxUploadsPerPrincipal: config.maxUploadsPerPrincipal,
    blobRedirect: config.blobRedirect,
    now: clock.now,
  });
  const repositories = new Repositories(meta, clock.now);
  const images = new Images(meta, clock.now);
  const auditPath = config.auditLog ?? (shared ? 'database' : join(dataDir, 'audit.log'));
  await secureDataDir(dataDir, meta, ['stdout', 'off', 'database'].includes(auditPath) ? [] : [resolve(auditPath)]);
  const auditLog = createAuditLogger(auditPath, (lines, error) => space.auditDropped(lines, error), meta);
  const audit = auditLog.logger;
  const lifecycle = new Lifecycle(meta, images, audit, clock.now, registry.lastUse);
  const scanner = new Scanner(registry, clock.now, log, config.scanEligibilityDays * 86_400_000);
  registry.scanOnPush = scanner.scanOnPush;
  const collector = new Collector(meta, blobs, registry.digestLocks, clock.now, (id) => registry.forgetUpload(id));
  const gc = async (dryRun: boolean) => {
    // Leases renewed by pulls are still in memory: written first, so that collection sees them. When that
    // write fails (a full disk), collection goes on: a pull's renewal protects no push, a check's was written
    // before it answered, and collection's own deletions need the space the write lacked.
    await registry.lastUse.flush();
    return collector.run({ graceMs: config.gcGraceSeconds * 1000, uploadMaxAgeMs: config.uploadMaxAgeSeconds * 1000, dryRun });
  };
  const webhooks = new Webhooks(meta, box, config.region, clock.now);
  const replicationDestinations = new ReplicationDestinations(meta, box, clock.now);
  const replicator = new Replicator(registry, replicationDestinations, audit, clock.now, log);
  registry.replicateOnPush = replicator.replicationOnPush;
  const signingProfiles = new SigningProfiles(meta, box, config.region, clock.now);
  const signer = new Signer(registry, signingProfiles, clock.now, log);
  registry.signOnPush = signer.signOnPush;
  const pullThrough = new PullThroughCache(registry, new SecretStore(meta, box, config.region, clock.now), {
    tagTtlMs: config.pullThroughTagTtlSeconds * 1000,
    now: clock.now,
    enqueue: (job) => jobs.enqueue(PULL_THROUGH_JOB, job),
  });
  registry.pullThrough = pullThrough;
  const jobs = new JobRunner({
    meta,
    handlers: {
      [GC_JOB]: (p) => gc((p as { dryRun?: boolean }).dryRun === true),
      [LIFECYCLE_JOB]: async (p) => ({
        results: await lifecycle.runAll((p as { repository?: { accountId: string; name: string } }).repository),
      }),
      [PREVIEW_JOB]: (p) => lifecycle.computePreview(p as PreviewJob),
      [SCAN_JOB]: (p) => scanner.run(p as ScanJob),
      [RESCAN_JOB]: () => scanner.rescanContinuous(),
      [SIGN_JOB]: (p) => signer.run(p as SignJob),
      // Every few seconds: its own succeeded runs older than an hour are not kept.
      [REPLICATION_JOB]: (p, job) => replicator.run(p as ReplicationJob, job),
      [BACKFILL_JOB]: (p) => replicator.backfill(p as BackfillJob),
      [PULL_THROUGH_JOB]: (p) => pullThrough.runJob(p as PullThroughJob),
      [WEBHOOK_JOB]: async () => {
        await meta.pruneJobs(WEBHOOK_JOB, Date.now() - 3_600_000);
        return webhooks.deliver();
      },
      // The day's storage, for the usage history (the console's chart).
      [USAGE_SNAPSHOT_JOB]: () => recordUsageSnapshot(meta, clock.now()),
      // Hourly: audit records past the retention, and this job's own runs older than a day.
      [AUDIT_RETENTION_JOB]: async () => {
        await meta.pruneJobs(AUDIT_RETENTION_JOB, Date.now() - 86_400_000);
        return {
          deleted: config.auditRetentionDays > 0 ? await meta.pruneAuditRecords(clock.now() - config.auditRetentionDays * 86_400_000) : 0,
        };
      },
    },
  });
  return {
    dataDir,
    meta,
    blobs,
    accountId,
    rootKey,
    identity,
    registry,
    repositories,
    images,
    lifecycle,
    scanner,
    collector,
    webhooks,
    replicationDestinations,
    replicator,
    signingProfiles,
    pullThrough,
    audit,
    clock,
    config,
    jobs,
    space,
    gc,
    fsck: () => fsck(meta, blobs),
    close: async () => {
      await registry.lastUse.close();
      await auditLog.close();
      space.stop();
      await meta.close();
    },
  };
}

/** The default account's id: configured, else generated once and kept in the metadata. */
async function defaultAccount(meta: MetaStore, configured: string | undefined): Promise<string> {
  const saved = await meta.getSetting('default_account_id');
  if (configured) {
    if (saved !== configured) await meta.setSetting('default_account_id', configured);
    return configured;
  }
  if (saved) return saved;
  const id = newAccountId();
  await meta.setSetting('default_account_id', id);
  return id;
}

async function closeOnError<T>(meta: MetaStore, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    await meta.close().catch(() => {});
    throw e;
  }
}

function chmodIfExists(path: string, mode: number): void {
  if (existsSync(path)) chmodSync(path, mode);
}
