// The metadata store: narrow, asynchronous, dialect-neutral interfaces in the registry's own terms, one per domain
// (settings, repositories, images, blob records, uploads, identity, policies, lifecycle), and MetaStore, all of them.
// SQLite (embedded default) implements it in sqlite.ts, PostgreSQL in postgres.ts; test/contracts/meta-store.contract.ts
// holds both to the same behaviour. Invariants (no dangling reference, immutable tags) hold inside each method's
// transaction, whatever the number of nodes. The core is its only caller.

export type TagMutability = 'MUTABLE' | 'IMMUTABLE' | 'MUTABLE_WITH_EXCLUSION' | 'IMMUTABLE_WITH_EXCLUSION';

export interface MutabilityExclusion {
  filterType: 'WILDCARD';
  filter: string;
}

export interface RepositorySettings {
  imageTagMutability: TagMutability;
  /** Tags matching these are the exception to the mutability setting (the *_WITH_EXCLUSION modes). */
  mutabilityExclusions: MutabilityExclusion[];
  scanOnPush: boolean;
  encryptionType: string;
  kmsKey: string | null;
}

export interface Repository extends RepositorySettings {
  id: number;
  accountId: string;
  name: string;
  createdAt: number; // ms since epoch
  /** The repository policy (JSON text as set), or null. */
  policyText: string | null;
  lifecyclePolicyText: string | null;
  lifecycleEvaluatedAt: number | null;
}

export interface LifecyclePreview {
  policyText: string;
  status: 'IN_PROGRESS' | 'COMPLETE' | 'FAILED';
  startedAt: number;
  /** Identifies the preview: every preview started, of any repository, has a new one (never reused). */
  generation: number;
  /** JSON of the results, when complete (and asked for). */
  results: string | null;
}

export interface LifecycleImageRow {
  digest: string;
  tags: string[];
  pushedAt: number;
  lastPulledAt: number | null;
  referencedByIndex: boolean;
  storageClass: StorageClass;
  lastArchivedAt: number | null;
  lastActivatedAt: number | null;
}

export interface NamedPolicy {
  name: string;
  text: string;
}

export interface ResourceTag {
  Key: string;
  Value: string;
}

export type TagStatus = 'TAGGED' | 'UNTAGGED' | 'ANY';

/** An image as the ECR API describes it: a manifest with its tags. */
export interface ImageRow {
  digest: string;
  tags: string[];
  mediaType: string;
  configMediaType: string | null;
  imageSize: number;
  pushedAt: number;
  lastPulledAt: number | null;
  storageClass: StorageClass;
  /** When it was last archived / last restored from the archive (ms), or null. */
  lastArchivedAt: number | null;
  lastActivatedAt: number | null;
}

/** Where an image is kept (ECR's image storage classes): an ARCHIVE image is listed and described but not pulled. */
export type StorageClass = 'STANDARD' | 'ARCHIVE';

export interface ImageId {
  digest: string;
  tag: string | null;
}

export interface AccessKeyRow {
  accessKeyId: string;
  accountId: string;
  /** null for the account's root. */
  userName: string | null;
  secretCiphertext: string;
  status: 'Active' | 'Inactive';
  createdAt: number;
}

/** A refresh token of the OAuth2 token flow, known by its hash only. */
export interface RefreshTokenRow {
  /** SHA-256 (hex) of the opaque token. */
  tokenHash: string;
  /** The access key it was issued to: it dies with the key (deactivated or deleted). */
  accessKeyId: string;
  principalArn: string;
  createdAt: number;
  expiresAt: number;
}

/** A signed-in console session, known by its hash only (the cookie holds the token). */
export interface ConsoleSessionRow {
  /** SHA-256 (hex) of the opaque session token. */
  tokenHash: string;
  /** The access key the user signed in with: the session dies with the key (deactivated or deleted). */
  accessKeyId: string;
  principalArn: string;
  createdAt: number;
  expiresAt: number;
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'dead';

/** A unit of background work (see src/jobs/). Times are ms since epoch. */
export interface Job {
  id: number;
  kind: string;
  /** JSON text. */
  payload: string;
  status: JobStatus;
  attempts: number;
  maxAttempts: number;
  /** Not claimed before this. */
  runAt: number;
  /** The node holding it while it runs, and until when its lease holds. */
  leaseOwner: string | null;
  leaseUntil: number | null;
  lastError: string | null;
  /** JSON text, once it succeeded. */
  result: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface NewJob {
  kind: string;
  payload: string;
  runAt: number;
  maxAttempts: number;
}

export interface StoredBlob {
  digest: string;
  size: number;
  /** When last pushed, mounted, linked or checked for (ms). */
  touchedAt?: number;
}

export interface StoredManifest {
  repositoryId: number;
  imageSize: number;
  configMediaType: string | null;
  lastPulledAt: number | null;
  digest: string;
  mediaType: string;
  artifactType: string | null;
  subjectDigest: string | null;
  size: number;
  content: Buffer;
  annotations: Record<string, string> | null;
  pushedAt: number;
  /** Absent on a manifest being written (a new manifest is STANDARD). */
  storageClass?: StorageClass;
}

/** Uses of blobs and manifests gathered in memory (see core/last-use.ts). */
export interface RecordedUse {
  blobs: { digest: string; at: number }[];
  pulls: { repositoryId: number; digest: string; at: number }[];
}

export interface NewManifest extends Omit<StoredManifest, 'lastPulledAt'> {
  /** Blobs and child manifests it references (already checked to exist). */
  blobs: string[];
  manifests: string[];
}

/** A scan to start with a manifest written anew (scan on push): its row IN_PROGRESS and its job, in the write's transaction. */
export interface ScanOnWrite {
  scanType: 'BASIC' | 'ENHANCED';
  job: NewJob;
}

export interface ManifestWrite {
  /** The manifest was not stored before. */
  created: boolean;
  /** What the tag pointed at before (undefined: no tag given, or the tag is new). */
  previousTagDigest?: string;
  /** The tag is immutable and points at another manifest: nothing was written. */
  refused: boolean;
  /** References not in the repository (checked in the same transaction as the write): nothing was written. */
  missingBlobs?: string[];
  missingManifests?: string[];
  /** The repository was deleted (by another request or node) before the write: nothing was written. */
  repositoryMissing?: boolean;
}

export interface GcCandidate {
  digest: string;
  size: number;
}

export interface Usage {
  repositories: { name: string; accountId: string; images: number; bytes: number }[];
  /** Distinct blobs referenced by any manifest, each counted once, plus manifests. */
  referencedBytes: number;
  /** The blobs' part of referencedBytes. */
  referencedBlobBytes: number;
  /** Every verified blob the registry stores (referenced or not). */
  storedBytes: number;
  storedBlobs: number;
  /** Images and their sizes (imageSizeInBytes, as ECR reports them) per storage class. */
  storageClasses: { storageClass: StorageClass; images: number; bytes: number }[];
}

/** An image among the registry's largest. */
export interface LargeImage {
  accountId: string;
  repositoryName: string;
  digest: string;
  tags: string[];
  imageSize: number;
  pushedAt: number;
}

/** What unlinkBlobIfUnreferenced did: unlinked, nothing to unlink, or refused because a manifest holds the blob. */
export type BlobUnlink = 'unlinked' | 'unknown' | { referencedBy: string };

export interface Upload {
  id: string;
  repositoryId: number;
  startedAt: number;
  /** The ARN of the principal that started it (open uploads are limited per principal). */
  principalArn?: string;
}

export interface Page {
  last?: string;
  limit: number;
}

export interface Referrer {
  digest: string;
  mediaType: string;
  artifactType: string | null;
  size: number;
  annotations: Record<string, string> | null;
}

/** Key/value settings of the registry (the default account id, counters). */
export interface SettingsStore {
  getSetting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;
  /** Sets the setting unless it is set, in one statement: the value it holds afterwards (the first writer's,
   * whatever the number of nodes racing). How nodes agree on a generated key. */
  addSetting(key: string, value: string): Promise<string>;
}

/** Repositories, their settings and resource tags. */
export interface RepositoryStore {
  getRepository(accountId: string, name: string): Promise<Repository | undefined>;
  /** Returns the repository, creating it if it does not exist (concurrent callers get the same one). */
  ensureRepository(accountId: string, name: string, now: number): Promise<Repository>;
  /** Creates a repository; undefined when one of that name exists. */
  createRepository(
    accountId: string,
    name: string,
    settings: RepositorySettings,
    tags: ResourceTag[],
    now: number,
  ): Promise<Repository | undefined>;
  updateRepository(id: number, settings: Partial<RepositorySettings>): Promise<void>;
  /** Deletes the repository with its images, tags, links and uploads. */
  deleteRepository(id: number): Promise<void>;
  /** Repositories of an account, sorted by name, after `last`. */
  listRepositories(accountId: string, page: Page): Promise<Repository[]>;
  countImages(repositoryId: number): Promise<number>;
  getResourceTags(repositoryId: number): Promise<ResourceTag[]>;
  putResourceTags(repositoryId: number, tags: ResourceTag[]): Promise<void>;
  deleteResourceTags(repositoryId: number, keys: string[]): Promise<void>;
}

/** Verified blobs, their links to repositories, and what garbage collection and fsck ask of them. */
export interface BlobRecordStore {
  /** Records a verified, durable blob in the registry (idempotent). */
  recordBlob(blob: StoredBlob, now: number): Promise<void>;
  getBlob(digest: string): Promise<StoredBlob | undefined>;
  /** Manifests (repository id, digest, blob references) after a cursor, for fsck. */
  listManifestReferences(
    afterRepository: number,
    afterDigest: string,
    limit: number,
  ): Promise<{ repositoryId: number; digest: string; blobs: string[]; manifests: string[] }[]>;
  linkBlob(repositoryId: number, digest: string, now: number): Promise<void>;
  /** The blob if it is linked to (reachable from) the repository. */
  getRepositoryBlob(repositoryId: number, digest: string): Promise<StoredBlob | undefined>;
  /**
   * Unlinks the blob from the repository unless a manifest of the repository references it, in one transaction:
   * 'unlinked', 'unknown' (not linked there), or a manifest that holds it (nothing changed).
   */
  unlinkBlobIfUnreferenced(repositoryId: number, digest: string): Promise<BlobUnlink>;
  /** Marks the blob as just used (a push, mount or check), so that garbage collection leaves it alone a while. */
  touchBlob(digest: string, now: number): Promise<void>;
  /**
   * Garbage collection's mark, a slice at a time: of the (at most `scan`) blobs after `after` in digest order, those
   * no manifest references and untouched since `before`; `last` is the last blob looked at, undefined once the
   * slice reached the end. Each call is short (the event loop of an embedded store turns between slices).
   */
  unreferencedBlobs(before: number, after: string, scan: number): Promise<{ candidates: GcCandidate[]; last: string | undefined }>;
  /** Of the digests given, those with no blob record (the blob files garbage collection may find orphaned). */
  unrecordedBlobs(digests: string[]): Promise<string[]>;
  /**
   * Deletes the blob's rows if it is still unreferenced and untouched since `before`; true when deleted. The check
   * and the delete are one transaction: a manifest written at the same time either sees the blob gone (and is
   * refused) or keeps it.
   */
  deleteBlobIfUnreferenced(digest: string, before: number): Promise<boolean>;
  /** Every stored blob's digest and size, after `after` in digest order. */
  listBlobs(after: string, limit: number): Promise<GcCandidate[]>;
  usage(): Promise<Usage>;
  /** The registry's largest images (any account), by image size, largest first. */
  largestImages(limit: number): Promise<LargeImage[]>;
  /** Repositories of the account the blob is linked to, by name, at most `limit`: the sources an automatic
   * cross-repository mount may choose from (the caller still decides which it may pull from). */
  repositoriesHoldingBlob(accountId: string, digest: string, limit: number): Promise<Repository[]>;
  /** Links the blob to `repositoryId` if it is linked to `fromRepositoryId`, in one transaction: the blob, or
   * undefined when the source does not hold it (nothing changed). */
  mountBlob(repositoryId: number, fromRepositoryId: number, digest: string, now: number): Promise<StoredBlob | undefined>;
}

/** Images: manifests, tags, referrers and pulls. */
export interface ImageStore {
  /** Of `digests`, those that are not manifests of the repository. */
  missingManifests(repositoryId: number, digests: string[]): Promise<string[]>;
  /**
   * Stores a manifest (idempotent by digest) and, when given, points `tag` at it, atomically. With
   * `tagImmutable`, a tag that already points at another manifest is not moved and nothing is stored
   * (`refused`). References are checked in the same transaction as the write; a repository deleted meanwhile
   * is `repositoryMissing`.
   */
  /** With `event`: recorded in the write's transaction when the manifest is new or the tag moves. */
  /** With `replication`: started in the write's transaction when the manifest is new or the tag moves. With `sign`:
   * the image's signing statuses (IN_PROGRESS) and the signing job, in the write's transaction, when the manifest is new. */
  putManifest(
    manifest: NewManifest,
    tag: string | undefined,
    now: number,
    tagImmutable: boolean,
    scan?: ScanOnWrite,
    event?: NewEvent,
    replication?: ReplicationOnWrite,
    sign?: SignOnWrite,
  ): Promise<ManifestWrite>;
  getManifest(repositoryId: number, digest: string): Promise<StoredManifest | undefined>;
  getTaggedManifest(repositoryId: number, tag: string): Promise<StoredManifest | undefined>;
  /** Indexes in the repository that reference the manifest. */
  manifestParents(repositoryId: number, digest: string): Promise<string[]>;
  /**
   * Deletes the manifest and its tags. False when it did not exist, or when an index of the repository
   * references it (checked in the same transaction as the delete, so an index pushed meanwhile keeps it).
   * The referrers Berth wrote for it (own-artifacts.ts), and theirs, go in the same transaction.
   */
  deleteManifest(repositoryId: number, digest: string, event?: NewEvent): Promise<boolean>;
  /**
   * deleteManifest for each image, in one transaction (a lifecycle run's batch): each with its event; returns the
   * digests deleted (not those gone already, nor those an index references).
   */
  deleteManifests(repositoryId: number, images: { digest: string; event?: NewEvent }[]): Promise<string[]>;
  /** With `event`: recorded in the delete's transaction when a tag was deleted. */
  deleteTag(repositoryId: number, tag: string, event?: NewEvent): Promise<boolean>;
  listTags(repositoryId: number, page: Page): Promise<string[]>;
  /** The digest a tag points at. */
  getTag(repositoryId: number, tag: string): Promise<string | undefined>;
  /** One entry per tag, and one per untagged image, by digest then tag; `after` is the last entry's "digest tag". */
  /** With `storageClass`, only the images of that class. */
  listImageIds(
    repositoryId: number,
    status: TagStatus,
    after: string | undefined,
    limit: number,
    storageClass?: StorageClass,
  ): Promise<ImageId[]>;
  /** Images by digest, after the digest `after` (with `storageClass`, only those of that class). */
  listImages(
    repositoryId: number,
    status: TagStatus,
    after: string | undefined,
    limit: number,
    storageClass?: StorageClass,
  ): Promise<ImageRow[]>;
  getImage(repositoryId: number, digest: string): Promise<ImageRow | undefined>;
  /** Records uses gathered since the last call, in one transaction: blobs served or checked for (their lease
   * against collection, as touchBlob) and manifests pulled (their last pull time). A time never moves back. */
  recordUse(use: RecordedUse): Promise<void>;
  listReferrers(repositoryId: number, subjectDigest: string, artifactType?: string): Promise<Referrer[]>;
}

/** Blob upload sessions in progress. */
export interface UploadStore {
  /** Records an upload, in one transaction with counting the principal's open uploads: false (and nothing
   * recorded) when it already has `maxPerPrincipal` or more. */
  createUpload(upload: Upload, maxPerPrincipal?: number): Promise<boolean>;
  getUpload(id: string): Promise<Upload | undefined>;
  deleteUpload(id: string): Promise<void>;
  listUploads(): Promise<Upload[]>;
  /** Notes a part appended to the upload (ECR's UploadLayerPart): its size, and whether the part before it was
   * under `minimum`. Kept with the upload, so that any node can complete it. */
  recordUploadPart(id: string, size: number, minimum: number): Promise<void>;
  /** Whether a part other than the last one recorded was under its minimum. */
  smallPartBeforeLast(id: string): Promise<boolean>;
}

/** One audit record: when, and its JSON text. */
export interface AuditRecord {
  id: number;
  at: number;
  record: string;
}

/** A repository creation template of an account (ECR's RepositoryCreationTemplate): its prefix (a namespace, or
 * ROOT) and its settings, kept as the JSON text the ECR adapter writes (src/core/creation-templates.ts). */
export interface CreationTemplateRow {
  accountId: string;
  prefix: string;
  body: string;
  createdAt: number;
  updatedAt: number;
}

/** Repository creation templates, one per account and prefix. */
export interface CreationTemplateStore {
  /** Stores a new template; false when the account has one with that prefix. */
  createCreationTemplate(t: CreationTemplateRow): Promise<boolean>;
  /** The account's templates in prefix order (byte order). */
  listCreationTemplates(accountId: string): Promise<CreationTemplateRow[]>;
  /** Replaces a template's body; false when there is none with that prefix. */
  updateCreationTemplate(accountId: string, prefix: string, body: string, updatedAt: number): Promise<boolean>;
  /** Deletes a template and returns it; undefined when there is none with that prefix. */
  deleteCreationTemplate(accountId: string, prefix: string): Promise<CreationTemplateRow | undefined>;
}

/** Principals whose pulls do not update an image's last-pull time (ECR's pull time update exclusions), per account. */
export interface PullTimeExclusionStore {
  /** false when the principal is already excluded. */
  addPullTimeExclusion(accountId: string, principalArn: string, now: number): Promise<boolean>;
  /** false when the principal was not excluded. */
  removePullTimeExclusion(accountId: string, principalArn: string): Promise<boolean>;
  /** The account's exclusions in principal order (byte order). */
  listPullTimeExclusions(accountId: string): Promise<{ principalArn: string; createdAt: number }[]>;
  hasPullTimeExclusion(accountId: string, principalArn: string): Promise<boolean>;
}

/** A pull through cache rule of an account (ECR's PullThroughCacheRule): its ECR repository prefix (a namespace, or
 * ROOT) and its settings, kept as the JSON text the ECR adapter writes (src/core/pull-through-rules.ts). */
export interface PullThroughRuleRow {
  accountId: string;
  prefix: string;
  body: string;
  createdAt: number;
  updatedAt: number;
}

/** Pull through cache rules (one per account and prefix), and when each cached tag was last checked upstream. */
export interface PullThroughStore {
  /** Stores a new rule: `exists` when the account has one with that prefix, `limit` when it has `max` rules. */
  createPullThroughRule(r: PullThroughRuleRow, max: number): Promise<'created' | 'exists' | 'limit'>;
  /** The account's rules in prefix order (byte order). */
  listPullThroughRules(accountId: string): Promise<PullThroughRuleRow[]>;
  /** Replaces a rule's body; false when there is none with that prefix. */
  updatePullThroughRule(accountId: string, prefix: string, body: string, updatedAt: number): Promise<boolean>;
  /** Deletes a rule and returns it; undefined when there is none with that prefix. */
  deletePullThroughRule(accountId: string, prefix: string): Promise<PullThroughRuleRow | undefined>;
  /** When the tag of a pull-through repository was last found current upstream (undefined: never). */
  upstreamTagCheckedAt(repositoryId: number, tag: string): Promise<number | undefined>;
  /** Notes that the tag was found current upstream at `at` (goes with the repository). */
  recordUpstreamTagCheck(repositoryId: number, tag: string, at: number): Promise<void>;
}

/** A secret of an account's small secret store (upstream registry credentials), encrypted with the registry key. */
export interface SecretRow {
  accountId: string;
  name: string;
  ciphertext: string;
  createdAt: number;
  updatedAt: number;
}

/** Secrets, one per account and name. */
export interface SecretStore {
  /** Creates the secret or replaces its value (keeping its creation time); true when it is new. */
  putSecret(s: SecretRow): Promise<boolean>;
  getSecret(accountId: string, name: string): Promise<SecretRow | undefined>;
  /** The account's secrets in name order (byte order), without their values. */
  listSecrets(accountId: string): Promise<Omit<SecretRow, 'ciphertext'>[]>;
  /** false when there was no such secret. */
  deleteSecret(accountId: string, name: string): Promise<boolean>;
}

/** A domain event to record in the same transaction as the change it tells of (the outbox, src/core/events.ts). */
export interface NewEvent {
  at: number;
  /** EventBridge's detail-type: "ECR Image Action", "ECR Image Scan", "ECR Lifecycle Action". */
  detailType: string;
  accountId: string;
  repositoryName: string;
  /** The detail's JSON text. */
  detail: string;
}

/** A recorded event, numbered in the order of its commit. */
export interface StoredEvent extends NewEvent {
  seq: number;
}

/** The outbox: events written with their change (the image and scan methods' optional `event`), read in order. */
export interface EventStore {
  /** Events after the sequence number `after`, in order. */
  listEvents(after: number, limit: number): Promise<StoredEvent[]>;
}

/** A webhook of an account (src/core/webhooks.ts), with where its delivery stands. */
export interface WebhookRow {
  id: string;
  accountId: string;
  url: string;
  /** Detail types delivered (empty: all). */
  eventTypes: string[];
  /** Repository names delivered: exact, or a prefix ending in `*` (empty: all). */
  repositories: string[];
  secretCiphertext: string;
  createdAt: number;
  /** The last event delivered (or skipped as filtered out). */
  cursor: number;
  failures: number;
  nextAttemptAt: number;
  lastError: string | null;
  /** What manages it ("apply" for the webhooks `berth apply` creates), null for none. */
  managedBy: string | null;
}

export interface WebhookStore {
  /** Records a webhook whose cursor is the newest event: it is told what happens from now on. */
  createWebhook(
    row: Omit<WebhookRow, 'cursor' | 'failures' | 'nextAttemptAt' | 'lastError' | 'managedBy'> & { managedBy?: string | null },
  ): Promise<WebhookRow>;
  /** Replaces the filters given (event types, repositories), keeping the rest (secret, cursor, backoff); false when there is no such webhook. */
  updateWebhookFilters(accountId: string, id: string, filters: { eventTypes?: string[]; repositories?: string[] }): Promise<boolean>;
  listWebhooks(accountId?: string): Promise<WebhookRow[]>;
  deleteWebhook(accountId: string, id: string): Promise<boolean>;
  updateWebhookDelivery(
    id: string,
    d: { cursor: number; failures: number; nextAttemptAt: number; lastError: string | null },
  ): Promise<void>;
}

/** A search of audit records: each given criterion must hold. */
export interface AuditSearch {
  /** Text the record's JSON contains (case-sensitive). */
  contains?: string;
  /** Records at or after this time (ms), and before `until`. */
  since?: number;
  until?: number;
  /** Records with an id below this one (the next page of a search, newest first). */
  beforeId?: number;
  limit: number;
}

/** Audit records kept in the metadata store (every node's, in one place), for a registry of several nodes. */
export interface AuditStore {
  appendAuditRecords(records: { at: number; record: string }[]): Promise<void>;
  /** Records in the order they were appended, after the id `after`. */
  listAuditRecords(after: number, limit: number): Promise<AuditRecord[]>;
  /** Records matching the search, newest first. */
  searchAuditRecords(search: AuditSearch): Promise<AuditRecord[]>;
  /** Deletes the records older than `before` (ms); returns how many. */
  pruneAuditRecords(before: number): Promise<number>;
}

/** The registry's storage on one day (UTC), as the daily usage job recorded it. */
export interface UsageSnapshot {
  /** YYYY-MM-DD (UTC). */
  day: string;
  /** When it was taken (ms). */
  at: number;
  storedBytes: number;
  referencedBytes: number;
  repositories: number;
  images: number;
}

/** Daily usage snapshots: storage over time. */
export interface UsageHistoryStore {
  /** Records the day's snapshot, replacing one taken earlier that day. */
  recordUsageSnapshot(snapshot: UsageSnapshot): Promise<void>;
  /** Snapshots of the days from `sinceDay` on (YYYY-MM-DD), oldest first, at most `limit`. */
  listUsageSnapshots(sinceDay: string, limit: number): Promise<UsageSnapshot[]>;
}

export interface UserRow {
  name: string;
  createdAt: number;
  managedBy: string | null;
}

/** Accounts, users, access keys, refresh tokens and console sessions. */
export interface IdentityStore {
  ensureAccount(accountId: string, now: number): Promise<void>;
  listAccounts(): Promise<string[]>;
  /** `managedBy`: what manages the user ("apply" for the users `berth apply` creates), null for none. */
  createUser(accountId: string, name: string, now: number, managedBy?: string | null): Promise<boolean>;
  deleteUser(accountId: string, name: string): Promise<boolean>;
  listUsers(accountId: string): Promise<UserRow[]>;
  createAccessKey(key: AccessKeyRow): Promise<void>;
  getAccessKey(accessKeyId: string): Promise<AccessKeyRow | undefined>;
  listAccessKeys(accountId: string, userName: string | null): Promise<AccessKeyRow[]>;
  /** Sets the key's status; deactivating it revokes its refresh tokens in the same transaction. */
  setAccessKeyStatus(accessKeyId: string, status: 'Active' | 'Inactive'): Promise<boolean>;
  /** Deletes the key and its refresh tokens. */
  deleteAccessKey(accessKeyId: string): Promise<boolean>;
  /** Stores a refresh token, and drops those expired by `now`. */
  createRefreshToken(token: RefreshTokenRow, now: number): Promise<void>;
  getRefreshToken(tokenHash: string): Promise<RefreshTokenRow | undefined>;
  /** Revokes every refresh token of the key (the configured root key has no row to deactivate). */
  deleteRefreshTokens(accessKeyId: string): Promise<number>;
  /** Stores a console session, and drops those expired by `now`. Deactivating or deleting the key (or its user)
   * revokes its sessions in the same transaction, as its refresh tokens. */
  createConsoleSession(session: ConsoleSessionRow, now: number): Promise<void>;
  getConsoleSession(tokenHash: string): Promise<ConsoleSessionRow | undefined>;
  /** Ends one session (sign out); false when there was none. */
  deleteConsoleSession(tokenHash: string): Promise<boolean>;
}

/** Repository policies, registry policies and users' inline policies. */
export interface PolicyStore {
  setRepositoryPolicy(repositoryId: number, text: string | null): Promise<void>;
  getRegistryPolicy(accountId: string): Promise<string | undefined>;
  setRegistryPolicy(accountId: string, text: string | null): Promise<void>;
  putUserPolicy(accountId: string, userName: string, policy: NamedPolicy): Promise<void>;
  listUserPolicies(accountId: string, userName: string): Promise<NamedPolicy[]>;
  deleteUserPolicy(accountId: string, userName: string, name: string): Promise<boolean>;
}

/** Lifecycle policies, what their rules see of images, and previews. */
export interface LifecycleStore {
  setLifecyclePolicy(repositoryId: number, text: string | null): Promise<void>;
  setLifecycleEvaluatedAt(repositoryId: number, at: number): Promise<void>;
  /** Repositories (of every account) that have a lifecycle policy. */
  repositoriesWithLifecyclePolicy(): Promise<Repository[]>;
  /** Every image of a repository as lifecycle rules see it. */
  lifecycleImages(repositoryId: number): Promise<LifecycleImageRow[]>;
  /** The repository's latest preview; without `withResults`, its `results` is null (they can be large). */
  getLifecyclePreview(repositoryId: number, withResults?: boolean): Promise<LifecyclePreview | undefined>;
  /** Starts a preview unless one is in progress (false then), enqueueing `job` (the one that computes it) in the
   * same transaction. */
  startLifecyclePreview(repositoryId: number, policyText: string, now: number, job?: NewJob): Promise<boolean>;
  finishLifecyclePreview(repositoryId: number, status: 'COMPLETE' | 'FAILED', results: string): Promise<void>;
}

/** Background work: jobs claimed with a lease, retried, and recurring schedules (src/jobs/). */
export interface JobStore {
  enqueueJob(job: NewJob, now: number): Promise<number>;
  /**
   * Claims the next due job of these kinds for `owner` until `leaseUntil`: a queued job whose time has come, or a
   * running one whose lease ran out (its node died). Exactly one caller gets a job, whatever the number of nodes.
   */
  claimJob(owner: string, kinds: string[], now: number, leaseUntil: number): Promise<Job | undefined>;
  /** Extends the lease while the owner still holds it; false when it lost the job. */
  heartbeatJob(id: number, owner: string, leaseUntil: number, now: number): Promise<boolean>;
  /** Records the outcome of a job the owner holds: a result, a retry at `retryAt`, or dead (retryAt null). */
  finishJob(
    id: number,
    owner: string,
    outcome: { result: string } | { error: string; retryAt: number | null },
    now: number,
  ): Promise<boolean>;
  getJob(id: number): Promise<Job | undefined>;
  /** Jobs, newest first, before the id `before`. */
  listJobs(filter: { status?: JobStatus; kind?: string }, before: number | undefined, limit: number): Promise<Job[]>;
  /** Deletes the succeeded jobs of a kind last updated before `before` (frequent recurring jobs keep no history); returns how many. */
  pruneJobs(kind: string, before: number): Promise<number>;
  /** Sets a recurring schedule (every `intervalMs`, first at `firstRunAt` when new), or removes it (intervalMs 0). */
  setJobSchedule(kind: string, intervalMs: number, payload: string, firstRunAt: number): Promise<void>;
  /** Enqueues one job for every schedule due at `now` and moves it to its next time, in one transaction: a schedule
   * fires once whatever the number of nodes asking. Returns the ids of the jobs enqueued. */
  runDueSchedules(now: number, maxAttempts: number): Promise<number[]>;
}

/** An image's latest scan (ECR's imageScanStatus, findings and summary), with the inventory kept for rescans. */
export interface ImageScan {
  repositoryId: number;
  digest: string;
  scanType: 'BASIC' | 'ENHANCED';
  /** BASIC: IN_PROGRESS, COMPLETE, FAILED, UNSUPPORTED_IMAGE; ENHANCED: ACTIVE, PENDING, SCAN_ELIGIBILITY_EXPIRED, ... */
  status: string;
  description: string | null;
  startedAt: number;
  completedAt: number | null;
  /** When the vulnerability data it was matched against was imported. */
  vulnerabilitySourceUpdatedAt: number | null;
  /** JSON of the findings (an array), when complete. */
  findings: string | null;
  /** JSON of the counts by severity. */
  severityCounts: string | null;
  /** JSON of the image's inventory (matched again when the data changes, without the layers). */
  inventory: string | null;
  /** When a manual scan (StartImageScan) last started: ECR allows one a day per image. */
  manualScanAt: number | null;
}

export interface ScanOutcome {
  status: string;
  description: string | null;
  findings: string | null;
  severityCounts: string | null;
  /** Kept as it was when undefined (a rescan from the stored inventory). */
  inventory?: string | null;
  vulnerabilitySourceUpdatedAt: number | null;
}

/** A source of vulnerability data as `berth vulndb status` shows it. */
export interface VulnSource {
  name: string;
  records: number;
  importedAt: number;
  /** SHA-256 (hex) of the file imported (null for a directory). */
  sha256: string | null;
  /** What was imported (the path given). */
  origin: string;
}

export interface StagedVulnRecord {
  id: string;
  modified: string;
  /** The record's JSON text. */
  record: string;
}

/** Image scans, and the vulnerability data they are matched against. */
export interface ScanStore {
  getImageScan(repositoryId: number, digest: string): Promise<ImageScan | undefined>;
  /** The scans of these images (one query for a page of DescribeImages), by digest; images never scanned are absent. */
  getImageScans(repositoryId: number, digests: string[]): Promise<Map<string, ImageScan>>;
  /**
   * Starts a scan of the image (status IN_PROGRESS, findings cleared) and enqueues `job` (when given) in the same transaction.
   * With `manualSince`, a manual scan: refused ('limited', nothing changed) when one started after that time.
   * 'missing' when the image does not exist.
   */
  startImageScan(
    repositoryId: number,
    digest: string,
    scanType: 'BASIC' | 'ENHANCED',
    now: number,
    job: NewJob | undefined,
    manualSince?: number,
  ): Promise<'started' | 'limited' | 'missing'>;
  /** Records a scan's outcome (nothing when the image is gone). */
  finishImageScan(repositoryId: number, digest: string, outcome: ScanOutcome, now: number, event?: NewEvent): Promise<void>;
  /** Images with a stored inventory (for rescans), by repository id then digest, after `after`. */
  listScannedImages(
    after: { repositoryId: number; digest: string } | undefined,
    limit: number,
  ): Promise<{ repositoryId: number; accountId: string; repositoryName: string; digest: string; scanType: 'BASIC' | 'ENHANCED' }[]>;
  /** Adds records to an import's staging area (a record id seen again replaces the earlier one). */
  stageVulnRecords(importId: string, records: StagedVulnRecord[]): Promise<void>;
  /**
   * Swaps an import in, in one transaction: the source's records become the staged ones, its status row is
   * written, the data version moves on, and `job` (the rescans) is enqueued. Returns the new data version.
   */
  commitVulnImport(importId: string, source: VulnSource, job?: NewJob): Promise<number>;
  /** Drops an import's staged records (a failed import changes nothing else). */
  discardVulnImport(importId: string): Promise<void>;
  listVulnSources(): Promise<VulnSource[]>;
  /** A counter that moves on with every import (0 before any). */
  vulnDataVersion(): Promise<number>;
  /** Every record's JSON text, a page at a time after the key `after` (source and id). */
  listVulnRecords(after: string | undefined, limit: number): Promise<{ key: string; record: string }[]>;
}

/** Where an ECR replication destination (a region and registry id) is: another Berth (`berth`: its ECR API and
 * /v2/) or any OCI registry (`oci`: /v2/ only), with the credentials to push there (src/replication/destinations.ts). */
export interface ReplicationDestinationRow {
  accountId: string;
  region: string;
  registryId: string;
  kind: 'berth' | 'oci';
  /** The registry's base URL (http:// or https://). */
  endpoint: string;
  /** An access key id (berth) or a user name (oci); null: no credentials. */
  username: string | null;
  /** The secret (or password), encrypted with the registry's SecretBox. */
  secretCiphertext: string | null;
  createdAt: number;
  updatedAt: number;
}

export type ReplicationState = 'IN_PROGRESS' | 'COMPLETE' | 'FAILED';

/** An image's replication to one destination (ECR's ImageReplicationStatus). */
export interface ReplicationStatusRow {
  region: string;
  registryId: string;
  status: ReplicationState;
  failureReason: string | null;
  updatedAt: number;
}

/** Replication to start with a write (a push, a backfill): the image IN_PROGRESS for each destination, and its job. */
export interface ReplicationOnWrite {
  destinations: { region: string; registryId: string }[];
  /** One per destination. */
  jobs: NewJob[];
}

export type ReplicationBackfillState = 'PREPARING' | 'IN_PROGRESS' | 'COMPLETE' | 'FAILED' | 'STOPPING' | 'STOPPED';

/** A replication backfill (ECR's StartReplicationBackfill): existing images replicated to one destination. */
export interface ReplicationBackfillRow {
  id: string;
  accountId: string;
  region: string;
  registryId: string;
  status: ReplicationBackfillState;
  failureCode: string | null;
  /** null while PREPARING. */
  total: number | null;
  completed: number;
  failed: number;
  failureCodes: string[];
  startedAt: number;
  endedAt: number | null;
}

/** One replication of a backfill: an image and tag (tag null: untagged). */
export interface ReplicationBackfillResultRow {
  repositoryName: string;
  digest: string;
  tag: string | null;
  status: 'COMPLETE' | 'FAILED';
  failureCode: string | null;
}

/** Replication: destinations, per-image statuses, backfills. */
export interface ReplicationStore {
  /** Adds or replaces the destination of (account, region, registry id). */
  putReplicationDestination(row: ReplicationDestinationRow): Promise<void>;
  getReplicationDestination(accountId: string, region: string, registryId: string): Promise<ReplicationDestinationRow | undefined>;
  /** By region, then registry id. */
  listReplicationDestinations(accountId: string): Promise<ReplicationDestinationRow[]>;
  deleteReplicationDestination(accountId: string, region: string, registryId: string): Promise<boolean>;
  /** Marks the image IN_PROGRESS for each destination and enqueues the jobs, in one transaction (nothing when the
   * image is gone). */
  startReplication(repositoryId: number, digest: string, replication: ReplicationOnWrite, now: number): Promise<void>;
  setReplicationStatus(
    repositoryId: number,
    digest: string,
    destination: { region: string; registryId: string },
    status: ReplicationState,
    failureReason: string | null,
    now: number,
  ): Promise<void>;
  /** By region, then registry id. */
  listReplicationStatuses(repositoryId: number, digest: string): Promise<ReplicationStatusRow[]>;
  /**
   * Records a new backfill (PREPARING) and enqueues its job, in one transaction, unless the account has one in
   * progress (PREPARING, IN_PROGRESS or STOPPING) for the destination's region ('in-progress') or `maxInProgress` in
   * all ('limit'): nothing is written then.
   */
  startReplicationBackfill(row: ReplicationBackfillRow, maxInProgress: number, job: NewJob): Promise<'started' | 'in-progress' | 'limit'>;
  getReplicationBackfill(accountId: string, id: string): Promise<ReplicationBackfillRow | undefined>;
  /** Newest first (then by id). */
  listReplicationBackfills(accountId: string): Promise<ReplicationBackfillRow[]>;
  /**
   * Writes the backfill's progress; a backfill being stopped keeps STOPPING (and becomes STOPPED when the update
   * ends it, `endedAt`). Returns the row as written (undefined: no such backfill).
   */
  updateReplicationBackfill(
    id: string,
    update: Partial<Pick<ReplicationBackfillRow, 'status' | 'failureCode' | 'total' | 'completed' | 'failed' | 'failureCodes' | 'endedAt'>>,
  ): Promise<ReplicationBackfillRow | undefined>;
  /** PREPARING or IN_PROGRESS becomes STOPPING, in one transaction: the row afterwards; 'invalid' for any other
   * status (nothing changed); undefined when there is no such backfill. */
  stopReplicationBackfill(accountId: string, id: string): Promise<ReplicationBackfillRow | 'invalid' | undefined>;
  /** Records (or replaces) one replication's result. */
  putReplicationBackfillResult(id: string, result: ReplicationBackfillResultRow): Promise<void>;
  /** By repository name, digest, then tag. */
  listReplicationBackfillResults(id: string, status?: 'COMPLETE' | 'FAILED'): Promise<ReplicationBackfillResultRow[]>;
}

/** Image storage classes (ECR's archive): moving an image between STANDARD and ARCHIVE. */
export interface ImageArchiveStore {
  /** Moves the image to `storageClass` in one transaction, stamping its archive (or restore) time: 'changed',
   * 'unchanged' (it is there already) or 'missing' (no such image). */
  setImageStorageClass(
    repositoryId: number,
    digest: string,
    storageClass: StorageClass,
    now: number,
  ): Promise<'changed' | 'unchanged' | 'missing'>;
}

/** A signing profile of an account (src/signing/profiles.ts): its ECDSA key encrypted with the registry's secret key, and its certificate. */
export interface SigningProfileRow {
  accountId: string;
  name: string;
  keyCiphertext: string;
  certificatePem: string;
  createdAt: number;
}

export type SigningStatus = 'IN_PROGRESS' | 'COMPLETE' | 'FAILED';

/** An image's signing by one profile (ECR's ImageSigningStatus), with the signature it wrote. */
export interface ImageSigningRow {
  signingProfileArn: string;
  status: SigningStatus;
  failureCode: string | null;
  failureReason: string | null;
  /** The signature manifest's digest, once COMPLETE. */
  signatureDigest: string | null;
  updatedAt: number;
}

/** Signing to start with a manifest written anew (sign on push): its statuses IN_PROGRESS and its job, in the write's transaction. */
export interface SignOnWrite {
  signingProfileArns: string[];
  job: NewJob;
}

/** Signing profiles and images' signing statuses (deleted with their image). */
export interface SigningStore {
  /** false when the account has a profile of that name (profiles are never replaced: rotation is a new profile). */
  createSigningProfile(row: SigningProfileRow): Promise<boolean>;
  getSigningProfile(accountId: string, name: string): Promise<SigningProfileRow | undefined>;
  /** The account's profiles by name. */
  listSigningProfiles(accountId: string): Promise<SigningProfileRow[]>;
  /** The image's signing statuses, by profile ARN. */
  listImageSigning(repositoryId: number, digest: string): Promise<ImageSigningRow[]>;
  /** Records how one profile's signing ended (nothing when the image is gone). */
  finishImageSigning(
    repositoryId: number,
    digest: string,
    signingProfileArn: string,
    outcome: Pick<ImageSigningRow, 'status' | 'failureCode' | 'failureReason' | 'signatureDigest'>,
    now: number,
  ): Promise<void>;
}

/** Every part of the metadata store, as one object (what callers hold). */
export interface MetaStore
  extends SettingsStore,
    RepositoryStore,
    BlobRecordStore,
    ImageStore,
    UploadStore,
    IdentityStore,
    PolicyStore,
    LifecycleStore,
    JobStore,
    ScanStore,
    AuditStore,
    CreationTemplateStore,
    PullTimeExclusionStore,
    EventStore,
    WebhookStore,
    UsageHistoryStore,
    ReplicationStore,
    ImageArchiveStore,
    SigningStore,
    PullThroughStore,
    SecretStore {
  close(): Promise<void>;
}
