// The metadata store: a narrow, asynchronous, dialect-neutral interface in the registry's own terms.
// SQLite (embedded default) implements it in sqlite.ts; PostgreSQL comes later behind the same interface.
// The core is its only caller.

export interface Repository {
  id: number;
  accountId: string;
  name: string;
  createdAt: number; // ms since epoch
}

export interface StoredBlob {
  digest: string;
  size: number;
}

export interface StoredManifest {
  repositoryId: number;
  digest: string;
  mediaType: string;
  artifactType: string | null;
  subjectDigest: string | null;
  size: number;
  content: Buffer;
  annotations: Record<string, string> | null;
  pushedAt: number;
}

export interface NewManifest extends Omit<StoredManifest, 'pushedAt'> {
  pushedAt: number;
  /** Blobs and child manifests it references (already checked to exist). */
  blobs: string[];
  manifests: string[];
}

export interface Upload {
  id: string;
  repositoryId: number;
  startedAt: number;
}

export interface Page { last?: string; limit: number }

export interface Referrer {
  digest: string;
  mediaType: string;
  artifactType: string | null;
  size: number;
  annotations: Record<string, string> | null;
}

export interface MetaStore {
  close(): Promise<void>;

  getSetting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;

  getRepository(accountId: string, name: string): Promise<Repository | undefined>;
  /** Returns the repository, creating it if it does not exist (concurrent callers get the same one). */
  ensureRepository(accountId: string, name: string, now: number): Promise<Repository>;
  /** Repository names of an account, sorted, after `last`. */
  listRepositoryNames(accountId: string, page: Page): Promise<string[]>;

  /** Records a verified, durable blob in the registry (idempotent). */
  recordBlob(blob: StoredBlob, now: number): Promise<void>;
  getBlob(digest: string): Promise<StoredBlob | undefined>;
  linkBlob(repositoryId: number, digest: string, now: number): Promise<void>;
  /** The blob if it is linked to (reachable from) the repository. */
  getRepositoryBlob(repositoryId: number, digest: string): Promise<StoredBlob | undefined>;
  unlinkBlob(repositoryId: number, digest: string): Promise<boolean>;
  /** Whether any repository of the account links the blob (for automatic cross-repository mount). */
  isBlobInAccount(accountId: string, digest: string): Promise<boolean>;
  /** Of `digests`, those not linked to the repository. */
  missingBlobs(repositoryId: number, digests: string[]): Promise<string[]>;
  /** Of `digests`, those that are not manifests of the repository. */
  missingManifests(repositoryId: number, digests: string[]): Promise<string[]>;

  /** Stores a manifest (idempotent by digest) and, when given, points `tag` at it, atomically. */
  putManifest(manifest: NewManifest, tag: string | undefined, now: number): Promise<void>;
  getManifest(repositoryId: number, digest: string): Promise<StoredManifest | undefined>;
  getTaggedManifest(repositoryId: number, tag: string): Promise<StoredManifest | undefined>;
  /** Indexes in the repository that reference the manifest. */
  manifestParents(repositoryId: number, digest: string): Promise<string[]>;
  /** Deletes the manifest and its tags. False when it did not exist. */
  deleteManifest(repositoryId: number, digest: string): Promise<boolean>;
  deleteTag(repositoryId: number, tag: string): Promise<boolean>;
  listTags(repositoryId: number, page: Page): Promise<string[]>;
  listReferrers(repositoryId: number, subjectDigest: string, artifactType?: string): Promise<Referrer[]>;

  createUpload(upload: Upload): Promise<void>;
  getUpload(id: string): Promise<Upload | undefined>;
  deleteUpload(id: string): Promise<void>;
}
