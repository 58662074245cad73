// Opening a data directory: the metadata and blob stores, the default account and its root key, and the core
// services built on them. The server and the `berth` maintenance commands share this.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config.ts';
import { loadRootKey, type RootKey } from '../auth/credentials.ts';
import { Identity, newAccountId } from '../auth/identity.ts';
import { SecretBox } from '../auth/secrets.ts';
import { Images } from '../core/images.ts';
import { Registry } from '../core/registry.ts';
import { Repositories } from '../core/repositories.ts';
import { Collector, type CollectableBlobStore, type GcReport } from '../gc/collector.ts';
import { fsck, type FsckReport } from '../gc/fsck.ts';
import { Lifecycle } from '../lifecycle/worker.ts';
import { openBlobStore } from '../storage/blobs/open.ts';
import { SqliteMetaStore } from '../storage/meta/sqlite.ts';
import type { MetaStore } from '../storage/meta/store.ts';
import { Clock } from './clock.ts';
import { createAuditLogger, type Logger } from './log.ts';

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
  collector: Collector;
  audit: Logger;
  clock: Clock;
  config: Config;
  /** Garbage collection with the configured grace period and upload age limit. */
  gc(dryRun: boolean): Promise<GcReport>;
  fsck(): Promise<FsckReport>;
}

/** Opens the data directory: metadata, blobs, the default account and its root key, identities. */
export async function openStores(config: Config): Promise<Stores> {
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const meta = new SqliteMetaStore(join(dataDir, 'meta.db'));
  const blobs = await openBlobStore(config, dataDir);
  const accountId = await defaultAccount(meta, config.accountId);
  const clock = new Clock(config.testClock);
  await meta.ensureAccount(accountId, clock.now());
  const rootKey = loadRootKey(dataDir, { accessKeyId: config.rootAccessKeyId, secretAccessKey: config.rootSecretAccessKey });
  const identity = new Identity(meta, SecretBox.load(dataDir, config.secretKey), rootKey, accountId, clock.now);
  const registry = new Registry(meta, blobs, { createOnPush: config.createOnPush, gcGraceMs: config.gcGraceSeconds * 1000, blobRedirect: config.blobRedirect, now: clock.now });
  const repositories = new Repositories(meta, clock.now);
  const images = new Images(meta);
  const audit = createAuditLogger(config.auditLog ?? join(dataDir, 'audit.log'));
  const lifecycle = new Lifecycle(meta, images, audit, clock.now);
  const collector = new Collector(meta, blobs, registry.digestLocks, clock.now, (id) => registry.forgetUpload(id));
  return {
    dataDir, meta, blobs, accountId, rootKey, identity, registry, repositories, images, lifecycle, collector, audit, clock, config,
    gc: (dryRun) => collector.run({ graceMs: config.gcGraceSeconds * 1000, uploadMaxAgeMs: config.uploadMaxAgeSeconds * 1000, dryRun }),
    fsck: () => fsck(meta, blobs),
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
