// The registry core: repositories, blobs, uploads, manifests and tags. The only writer of metadata; the OCI
// adapter (and the ECR adapter, later) call it after authorization. Invariants (DESIGN.md) live here:
// blobs become visible only once verified and durable; a manifest is accepted only when everything it
// references is reachable from its repository; an index keeps its children.
import { imageAction } from './events.ts';
import { createHash, randomUUID } from 'node:crypto';
import type { BlobStore, Chunks } from '../storage/blobs/store.ts';
import type {
  MetaStore,
  Page,
  Referrer,
  ReplicationOnWrite,
  Repository,
  ScanOnWrite,
  SignOnWrite,
  StoredBlob,
  StoredManifest,
} from '../storage/meta/store.ts';
import { fail, isStorageFull } from './errors.ts';
import { LastUse } from './last-use.ts';
import { digestOfStream } from './digest.ts';
import { isDigestReference, isValidRepositoryName, isValidTag, parseDigest } from './grammar.ts';
import { MAX_MANIFEST_BYTES, parseManifest } from './manifest.ts';
import { UploadHashes } from './uploads.ts';
import { isTagImmutable } from './immutability.ts';
import { KeyedLock } from './locks.ts';
import { getAccountSetting } from './account-settings.ts';
import { createFromTemplate, listTemplates, templateFor } from './creation-templates.ts';
import type { PullThroughCache } from './pull-through.ts';

/** An upload session's id (a UUID). */
export const UPLOAD_ID = /^[0-9a-f-]{36}$/;

export interface RegistryOptions {
  createOnPush: boolean;
  /** How long a blob no manifest references is kept after its last use (garbage collection's lease). */
  gcGraceMs?: number;
  /** Upload sessions in progress per principal, at most (counted in the metadata store). */
  maxUploadsPerPrincipal?: number;
  /** Whether blob reads are sent to the blob store's presigned URLs when it has them (default: when it has). */
  blobRedirect?: boolean;
  now?: () => number;
}

export const DEFAULT_GC_GRACE_MS = 60 * 60 * 1000;

export interface ManifestPut {
  digest: string;
  mediaType: string;
  subject?: string;
  /** The manifest was new to the repository. */
  created: boolean;
  /** The tag (if any) was created or moved by this put. */
  tagChanged: boolean;
}

/** What decides whether a manifest pushed anew is scanned (src/scan/scanner.ts): the scan to start with its write. */
export type ScanOnPush = (
  repo: Repository,
  manifest: { digest: string; mediaType: string; artifactType: string | null; subject: string | null },
) => Promise<ScanOnWrite | undefined>;

/** What decides whether a push is replicated (src/core/replication.ts): the replication to start with its write. */
export type ReplicateOnPush = (
  repo: Repository,
  manifest: { digest: string; tag?: string; subject: string | null; annotations: Record<string, string> | null },
) => Promise<ReplicationOnWrite | undefined>;
/** What decides whether a manifest pushed anew is signed (src/signing/signer.ts): the signing to start with its write. */
export type SignOnPush = (repo: Repository, manifest: { digest: string; subject: string | null }) => Promise<SignOnWrite | undefined>;

/** How many repositories holding a blob an automatic mount considers (each needs an authorization decision). */
const MOUNT_CANDIDATES = 32;

/** How often a manifest's last pull time is written: pulls in between change nothing (ECR records it daily). */
const PULL_RECORD_INTERVAL_MS = 60_000;

export class Registry {
  readonly meta: MetaStore;
  readonly blobs: BlobStore;
  private readonly options: RegistryOptions;
  private readonly hashes = new UploadHashes();
  /** Work on one digest (commit, mount, collection) runs one at a time. */
  readonly digestLocks = new KeyedLock();
  /** The registry's clock (the test clock under BERTH_TEST_CLOCK). */
  readonly now: () => number;
  private readonly touchIntervalMs: number;
  /** Uses of blobs and manifests not written yet: flushed before garbage collection and at close. */
  readonly lastUse: LastUse;
  /** Scan on push: set by the scanner when it is wired in (none: nothing is scanned). */
  scanOnPush?: ScanOnPush;
  /** Replication on push: set when replication is wired in (none: nothing is replicated). */
  replicateOnPush?: ReplicateOnPush;
  /** Sign on push: set by the signer when it is wired in (none: nothing is signed). */
  signOnPush?: SignOnPush;
  /** Told the bytes of each chunk appended to an upload (the server's metrics). */
  uploadedBytes?: (bytes: number) => void;
  /** The pull through cache: set when it is wired in (none: pulls never go upstream). */
  pullThrough?: PullThroughCache;

  constructor(meta: MetaStore, blobs: BlobStore, options: RegistryOptions) {
    this.meta = meta;
    this.lastUse = new LastUse(meta);
    this.blobs = blobs;
    this.options = options;
    this.now = options.now ?? Date.now;
    this.touchIntervalMs = Math.min(60_000, (options.gcGraceMs ?? DEFAULT_GC_GRACE_MS) / 4);
  }

  // --- repositories ---

  /** The repository, or NAME_UNKNOWN; with `forPush`, created when create-on-push is on. */
  async repository(accountId: string, name: string, forPush = false): Promise<Repository> {
    if (!isValidRepositoryName(name)) return fail('NAME_INVALID', `invalid repository name "${name}"`, { name });
    const existing = await this.meta.getRepository(accountId, name);
    if (existing) return existing;
    if (forPush) {
      // A CREATE_ON_PUSH creation template that matches creates it with its settings; BERTH_CREATE_ON_PUSH acts
      // as a ROOT template with default settings, used only when no template matches.
      const template = templateFor(await listTemplates(this.meta, accountId), name, 'CREATE_ON_PUSH');
      if (template) return createFromTemplate(this.meta, accountId, name, template, this.now());
      if (this.options.createOnPush) return this.meta.ensureRepository(accountId, name, this.now());
    }
    return fail('NAME_UNKNOWN', `The repository with name '${name}' does not exist in the registry with id '${accountId}'`, { name });
  }

  // --- blobs ---

  /**
   * The blob, if `repo` reaches it, as it is used: `check` (HEAD, BatchCheckLayerAvailability, a completed
   * layer upload's check), or `pull` (GET, GetDownloadUrlForLayer).
   * A client that finds a blob by a check may reference it in a manifest soon: the check renews the blob's lease
   * against collection before it answers, so that a collection starting after the answer keeps the blob. When
   * that write fails (a full disk) the check still answers: the renewal is noted for later, and a manifest that
   * references a blob collected meanwhile is refused in its own transaction (invariant 2), so nothing dangles.
   * A pull renews the lease too, but never waits for it: noted in memory and written a moment later (LastUse),
   * so that pulls neither pay for a metadata write nor fail on a full disk.
   */
  async statBlob(repo: Repository, digest: string, use: 'check' | 'pull'): Promise<StoredBlob> {
    checkDigest(digest);
    const blob = await this.meta.getRepositoryBlob(repo.id, digest);
    if (!blob) return fail('BLOB_UNKNOWN', `blob ${digest} is not known to repository ${repo.name}`, { digest });
    const now = this.now();
    if (blob.touchedAt !== undefined && now - blob.touchedAt >= this.touchIntervalMs) {
      if (use === 'pull') this.lastUse.blobUsed(digest, now);
      else
        await this.meta
          .touchBlob(digest, now)
          .catch((e: unknown) => (isStorageFull(e) ? this.lastUse.blobUsed(digest, now) : Promise.reject(e)));
    }
    return blob;
  }

  /**
   * A URL that reads the blob straight from the blob store for `ttlSeconds` (an OCI 307, ECR's download URL),
   * when the store offers them (S3) and redirects are on; else undefined, and the blob is served through Berth.
   */
  async blobDownloadUrl(digest: string, ttlSeconds: number): Promise<string | undefined> {
    if (!this.redirects) return undefined;
    return this.blobs.presignedUrl!(digest, ttlSeconds);
  }

  /** Whether blob reads may be redirected to the store (known without I/O: a blob GET asks it before anything). */
  get redirects(): boolean {
    return this.blobs.presignedUrl !== undefined && this.options.blobRedirect !== false;
  }

  /** Unlinks the blob from the repository, unless a manifest there references it (BLOB_REFERENCED: nothing changes). */
  async deleteBlob(repo: Repository, digest: string): Promise<void> {
    checkDigest(digest);
    const result = await this.meta.unlinkBlobIfUnreferenced(repo.id, digest);
    if (result === 'unknown') fail('BLOB_UNKNOWN', `blob ${digest} is not known to repository ${repo.name}`, { digest });
    if (typeof result === 'object') {
      fail(
        'BLOB_REFERENCED',
        `blob ${digest} is referenced by manifest ${result.referencedBy} in repository ${repo.name}; delete the manifest first`,
        { digest, manifest: result.referencedBy },
      );
    }
  }

  /**
   * The repositories an automatic cross-repository mount (no `from`) may take the blob from: those of the account
   * that hold it (at most MOUNT_CANDIDATES), none when the account's BLOB_MOUNTING setting is DISABLED. The caller
   * mounts only from one it may pull from.
   */
  async mountCandidates(accountId: string, digest: string): Promise<Repository[]> {
    checkDigest(digest);
    if ((await getAccountSetting(this.meta, accountId, 'BLOB_MOUNTING')) !== 'ENABLED') return [];
    return this.meta.repositoriesHoldingBlob(accountId, digest, MOUNT_CANDIDATES);
  }

  /**
   * Makes a blob linked to the repository `from` (which the caller may pull from: the adapter decided) reachable
   * from `repo` without uploading it. Undefined when `from` does not hold it (the caller starts an upload instead).
   */
  async mountBlob(repo: Repository, digest: string, from: Repository): Promise<StoredBlob | undefined> {
    checkDigest(digest);
    return this.digestLocks.run(digest, async () => {
      if ((await this.blobs.stat(digest)) === undefined) return undefined;
      return this.meta.mountBlob(repo.id, from.id, digest, this.now());
    });
  }

  // --- uploads ---

  /** Starts an upload session for `principalArn`, or TOO_MANY_UPLOADS when it has the most open it may have. */
  async startUpload(repo: Repository, principalArn: string): Promise<string> {
    const id = randomUUID();
    await this.blobs.createUpload(id);
    const max = this.options.maxUploadsPerPrincipal ?? Infinity;
    if (!(await this.meta.createUpload({ id, repositoryId: repo.id, startedAt: this.now(), principalArn }, max))) {
      await this.blobs.deleteUpload(id);
      fail('TOO_MANY_UPLOADS', `${principalArn} has ${max} uploads in progress, the most it may have; complete or cancel some first`);
    }
    this.hashes.start(id);
    return id;
  }

  /** Bytes the upload holds so far. */
  async uploadOffset(repo: Repository, id: string): Promise<number> {
    await this.upload(repo, id);
    const size = await this.blobs.uploadSize(id);
    return size ?? fail('BLOB_UPLOAD_UNKNOWN', `upload ${id} is not known`, { id });
  }

  /**
   * Appends a chunk. With `start` (from Content-Range), the chunk must begin exactly where the upload ends,
   * else RANGE_INVALID with the upload's current size. `length`: the body's declared length, when known (see
   * BlobStore.append). Returns the new size.
   */
  async appendUpload(repo: Repository, id: string, body: Chunks, start?: number, length?: number): Promise<number> {
    await this.upload(repo, id);
    return this.hashes.exclusive(id, () => this.append(id, body, start, length));
  }

  private async append(id: string, body: Chunks, start?: number, length?: number): Promise<number> {
    const offset = await this.blobs.uploadSize(id);
    if (offset === undefined) return fail('BLOB_UPLOAD_UNKNOWN', `upload ${id} is not known`, { id });
    if (start !== undefined && start !== offset) {
      return fail('RANGE_INVALID', `chunk starts at ${start} but the upload holds ${offset} bytes`, { offset });
    }
    const hashing = this.hashes.observe(id, offset);
    let size: number | undefined;
    try {
      size = await this.blobs.append(id, body, hashing.piece, offset, length);
      this.uploadedBytes?.(size - offset);
      return size;
    } finally {
      hashing.appended(size);
    }
  }

  /** Appends the last chunk (if any), verifies the digest, and makes the blob durable and visible in `repo`. */
  async completeUpload(
    repo: Repository,
    id: string,
    digest: string | undefined,
    body?: Chunks,
    start?: number,
    length?: number,
  ): Promise<StoredBlob> {
    await this.upload(repo, id);
    // The digest is checked before any byte of a last chunk is taken: a malformed request changes nothing.
    if (!digest) return fail('DIGEST_INVALID', 'the digest query parameter is required to complete an upload');
    const parsed = parseDigest(digest) ?? fail('DIGEST_INVALID', `invalid digest "${digest}"`, { digest });
    return this.hashes.exclusive(id, async () => {
      const size = body
        ? await this.append(id, body, start, length)
        : ((await this.blobs.uploadSize(id)) ?? fail('BLOB_UPLOAD_UNKNOWN', `upload ${id} is not known`, { id }));
      const actual = await this.uploadDigest(id, parsed.algorithm, size);
      if (actual !== digest) {
        await this.cancel(id);
        return fail('DIGEST_INVALID', `provided digest ${digest} does not match the uploaded content (${actual})`, { digest });
      }
      await this.digestLocks.run(digest, async () => {
        await this.blobs.commit(id, digest);
        const now = this.now();
        await this.meta.recordBlob({ digest, size }, now);
        await this.meta.linkBlob(repo.id, digest, now);
      });
      await this.meta.deleteUpload(id);
      this.hashes.forget(id);
      return { digest, size };
    });
  }

  async cancelUpload(repo: Repository, id: string): Promise<void> {
    await this.upload(repo, id);
    await this.hashes.exclusive(id, () => this.cancel(id));
  }

  /**
   * Drops what this process keeps for an upload deleted without it (by garbage collection). Under the upload's
   * lock: an append running meanwhile holds the state, and would put it back after a forget that did not wait.
   */
  forgetUpload(id: string): Promise<void> {
    return this.hashes.exclusive(id, async () => this.hashes.forget(id));
  }

  private async cancel(id: string): Promise<void> {
    await this.blobs.deleteUpload(id);
    await this.meta.deleteUpload(id);
    this.hashes.forget(id);
  }

  private async upload(repo: Repository, id: string) {
    const upload = UPLOAD_ID.test(id) ? await this.meta.getUpload(id) : undefined;
    if (!upload || upload.repositoryId !== repo.id)
      return fail('BLOB_UPLOAD_UNKNOWN', `upload ${id} is not known to repository ${repo.name}`, { id });
    return upload;
  }

  private async uploadDigest(id: string, algorithm: string, size: number): Promise<string> {
    const known = algorithm === 'sha256' ? await this.hashes.sha256(id, size) : undefined;
    if (known) return `sha256:${known}`;
    return digestOfStream(algorithm, await this.blobs.readUpload(id));
  }

  // --- manifests and tags ---

  /**
   * Stores a manifest, by tag, by digest (verified against the bytes), by both, or by neither (untagged).
   * The OCI PUT passes one reference; ECR's PutImage may pass both or neither.
   */
  async putManifest(
    repo: Repository,
    ref: { tag?: string; digest?: string },
    body: Buffer,
    contentType: string | undefined,
  ): Promise<ManifestPut> {
    if (body.length > MAX_MANIFEST_BYTES) {
      return fail('MANIFEST_TOO_LARGE', `manifest is ${body.length} bytes; the limit is ${MAX_MANIFEST_BYTES} bytes (4 MiB)`);
    }
    const { tag } = ref;
    if (tag !== undefined && !isValidTag(tag)) return fail('TAG_INVALID', `invalid tag "${tag}"`, { tag });
    // Hashed once, with the algorithm of the digest given (sha256 when none is).
    const algorithm =
      ref.digest === undefined
        ? 'sha256'
        : (parseDigest(ref.digest) ?? fail('DIGEST_INVALID', `invalid digest "${ref.digest}"`, { digest: ref.digest })).algorithm;
    const digest = `${algorithm}:${createHash(algorithm).update(body).digest('hex')}`;
    if (ref.digest !== undefined && digest !== ref.digest) {
      return fail('DIGEST_INVALID', `manifest digest ${digest} does not match ${ref.digest}`, { digest: ref.digest });
    }
    const manifest = parseManifest(body, contentType);
    const imageSize = manifest.manifests.length > 0 ? await this.largestChild(repo, manifest.manifests) : manifest.layersSize;
    const tagImmutable = tag !== undefined && isTagImmutable(repo.imageTagMutability, repo.mutabilityExclusions, tag);
    const now = this.now();
    // Decided before the write, enqueued in its transaction (only when the manifest is new): a crash between the
    // reply and the scan loses no scan.
    const scan = await this.scanOnPush?.(repo, {
      digest,
      mediaType: manifest.mediaType,
      artifactType: manifest.artifactType ?? null,
      subject: manifest.subject?.digest ?? null,
    });
    const sign = await this.signOnPush?.(repo, { digest, subject: manifest.subject?.digest ?? null });
    const write = await this.meta.putManifest(
      {
        repositoryId: repo.id,
        digest,
        mediaType: manifest.mediaType,
        artifactType: manifest.artifactType ?? null,
        subjectDigest: manifest.subject?.digest ?? null,
        size: body.length,
        content: body,
        annotations: manifest.annotations ?? null,
        pushedAt: now,
        blobs: manifest.blobs,
        manifests: manifest.manifests,
        imageSize,
        configMediaType: manifest.configMediaType ?? null,
      },
      tag,
      now,
      tagImmutable,
      scan,
      imageAction(repo, now, 'PUSH', digest, tag),
      await this.replicateOnPush?.(repo, {
        digest,
        tag,
        subject: manifest.subject?.digest ?? null,
        annotations: manifest.annotations ?? null,
      }),
      sign,
    );
    if (write.repositoryMissing)
      fail('NAME_UNKNOWN', `The repository with name '${repo.name}' does not exist in the registry with id '${repo.accountId}'`, {
        name: repo.name,
      });
    const { missingBlobs = [], missingManifests = [] } = write;
    if (missingBlobs.length > 0) {
      return fail('MANIFEST_BLOB_UNKNOWN', `manifest references blob ${missingBlobs[0]}, which is not in repository ${repo.name}`, {
        digest: missingBlobs[0],
        kind: 'blob',
        missing: missingBlobs,
      });
    }
    if (missingManifests.length > 0) {
      return fail('MANIFEST_BLOB_UNKNOWN', `index references manifest ${missingManifests[0]}, which is not in repository ${repo.name}`, {
        digest: missingManifests[0],
        kind: 'manifest',
        missing: missingManifests,
      });
    }
    if (write.refused) {
      return fail(
        'IMAGE_TAG_IMMUTABLE',
        `The image tag '${tag}' already exists in the '${repo.name}' repository and cannot be overwritten because the repository is immutable.`,
        { tag },
      );
    }
    // ECR: an archived image "can be restored as an active image ... by re-pushing the image to the repository".
    if (!write.created && (await this.meta.getManifest(repo.id, digest))?.storageClass === 'ARCHIVE')
      await this.meta.setImageStorageClass(repo.id, digest, 'STANDARD', now);
    return {
      digest,
      mediaType: manifest.mediaType,
      subject: manifest.subject?.digest,
      created: write.created,
      tagChanged: tag !== undefined && write.previousTagDigest !== digest,
    };
  }

  /** An index's size as ECR reports it: the largest of its manifests. */
  private async largestChild(repo: Repository, digests: string[]): Promise<number> {
    let max = 0;
    for (const d of digests) max = Math.max(max, (await this.meta.getManifest(repo.id, d))?.imageSize ?? 0);
    return max;
  }

  /**
   * Notes a pull of the manifest by `principalArn` (at most once a minute per manifest), written a moment later
   * (LastUse), unless the principal is one of the registry's pull time update exclusions (its pulls keep no image
   * alive). Never waits: the exclusion is looked up only when a pull would be noted.
   */
  recordPull(repo: Repository, manifest: StoredManifest, principalArn: string): void {
    const now = this.now();
    if (manifest.lastPulledAt === null || now - manifest.lastPulledAt >= PULL_RECORD_INTERVAL_MS) {
      // On a failed look-up the pull is noted, as it is for every principal not excluded.
      this.lastUse.manifestPulledUnless(repo.id, manifest.digest, now, this.meta.hasPullTimeExclusion(repo.accountId, principalArn));
    }
  }

  async getManifest(repo: Repository, reference: string): Promise<StoredManifest> {
    const manifest = isDigestReference(reference)
      ? await this.meta.getManifest(repo.id, checkDigest(reference))
      : await this.meta.getTaggedManifest(repo.id, checkTag(reference));
    return manifest ?? fail('MANIFEST_UNKNOWN', `manifest ${reference} is not known to repository ${repo.name}`, { reference });
  }

  /** The manifest a pull gets (GET or HEAD, BatchGetImage): MANIFEST_ARCHIVED when it is archived. */
  async pullManifest(repo: Repository, reference: string): Promise<StoredManifest> {
    const manifest = await this.getManifest(repo, reference);
    if (manifest.storageClass === 'ARCHIVE') {
      fail(
        'MANIFEST_ARCHIVED',
        `manifest ${reference} of repository ${repo.name} is archived and cannot be pulled: restore it to the STANDARD storage class (UpdateImageStorageClass) first`,
        { reference },
      );
    }
    return manifest;
  }

  /** By digest: deletes the manifest and its tags. By tag: deletes only the tag. */
  async deleteManifest(repo: Repository, reference: string): Promise<void> {
    if (!isDigestReference(reference)) {
      if (
        !(await this.meta.deleteTag(
          repo.id,
          checkTag(reference),
          imageAction(repo, this.now(), 'DELETE', await this.meta.getTag(repo.id, reference), reference),
        ))
      )
        fail('MANIFEST_UNKNOWN', `tag ${reference} is not known to repository ${repo.name}`, { reference });
      return;
    }
    checkDigest(reference);
    const parents = await this.meta.manifestParents(repo.id, reference);
    if (parents.length > 0) {
      fail('MANIFEST_REFERENCED', `manifest ${reference} is referenced by the index ${parents[0]}; delete the index first`, { parents });
    }
    if (!(await this.meta.deleteManifest(repo.id, reference, imageAction(repo, this.now(), 'DELETE', reference))))
      fail('MANIFEST_UNKNOWN', `manifest ${reference} is not known to repository ${repo.name}`, { reference });
  }

  async listTags(repo: Repository, page: Page): Promise<string[]> {
    return this.meta.listTags(repo.id, page);
  }

  async listReferrers(repo: Repository, digest: string, artifactType?: string): Promise<Referrer[]> {
    checkDigest(digest);
    return this.meta.listReferrers(repo.id, digest, artifactType);
  }
}

function checkDigest(digest: string): string {
  return parseDigest(digest) ? digest : fail('DIGEST_INVALID', `invalid digest "${digest}"`, { digest });
}

/** A reference read (GET, HEAD, DELETE) that is no valid tag names nothing: MANIFEST_UNKNOWN (404), as the spec
 * and its conformance suite require; only a write with an invalid tag is a client error (TAG_INVALID). */
function checkTag(tag: string): string {
  return isValidTag(tag) ? tag : fail('MANIFEST_UNKNOWN', `manifest unknown: "${tag}" is not a valid tag`, { tag });
}
