// Images as the ECR API sees them: a manifest and its tags, identified by digest and/or tag. Listing,
// describing, resolving identifiers and deleting, with ECR's semantics (removing an image's last tag deletes
// the image, unless an index in the repository still references it).
import { imageAction } from './events.ts';
import type { ImageId, ImageRow, MetaStore, Repository, StorageClass, TagStatus } from '../storage/meta/store.ts';
import { isValidDigest, isValidTag } from './grammar.ts';

export interface ImageIdentifier {
  imageDigest?: string;
  imageTag?: string;
}

export type ImageFailureCode =
  | 'InvalidImageDigest'
  | 'InvalidImageTag'
  | 'ImageTagDoesNotMatchDigest'
  | 'ImageNotFound'
  | 'MissingDigestAndTag'
  | 'ImageReferencedByManifestList';

export type Resolved = { digest: string; tag?: string } | { failure: ImageFailureCode; reason: string };

export class Images {
  private readonly meta: MetaStore;
  private readonly now: () => number;
  constructor(meta: MetaStore, now: () => number = Date.now) {
    this.meta = meta;
    this.now = now;
  }

  /** The image an identifier names, or why it names none (ECR's failure codes and reasons). */
  async resolve(repo: Repository, id: ImageIdentifier): Promise<Resolved> {
    const { imageDigest, imageTag } = id;
    if (imageDigest === undefined && imageTag === undefined) {
      return { failure: 'MissingDigestAndTag', reason: 'Invalid request parameters: both tag and digest cannot be null' };
    }
    if (imageDigest !== undefined && !isValidDigest(imageDigest))
      return {
        failure: 'InvalidImageDigest',
        reason: "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
      };
    if (imageTag !== undefined && !isValidTag(imageTag))
      return {
        failure: 'InvalidImageTag',
        reason: "Invalid request parameters: image tag should satisfy the regex '[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}'",
      };
    if (imageTag !== undefined) {
      const digest = await this.meta.getTag(repo.id, imageTag);
      if (digest === undefined) return { failure: 'ImageNotFound', reason: 'Requested image not found' };
      if (imageDigest !== undefined && imageDigest !== digest)
        return {
          failure: 'ImageTagDoesNotMatchDigest',
          reason: `Invalid request parameters: given tag '${imageTag}' does not match given digest '${imageDigest}'`,
        };
      return { digest, tag: imageTag };
    }
    if (!(await this.meta.getManifest(repo.id, imageDigest!))) return { failure: 'ImageNotFound', reason: 'Requested image not found' };
    return { digest: imageDigest! };
  }

  async get(repo: Repository, digest: string): Promise<ImageRow | undefined> {
    return this.meta.getImage(repo.id, digest);
  }

  async list(
    repo: Repository,
    status: TagStatus,
    after: string | undefined,
    limit: number,
    storageClass?: StorageClass,
  ): Promise<ImageRow[]> {
    return this.meta.listImages(repo.id, status, after, limit, storageClass);
  }

  async listIds(
    repo: Repository,
    status: TagStatus,
    after: string | undefined,
    limit: number,
    storageClass?: StorageClass,
  ): Promise<ImageId[]> {
    return this.meta.listImageIds(repo.id, status, after, limit, storageClass);
  }

  /**
   * Deletes what an identifier names: a tag (and the image with it when that was its last tag and no index
   * references it), or, by digest, the image and all its tags. Returns the identifiers removed.
   */
  async delete(
    repo: Repository,
    id: ImageIdentifier,
    reason?: 'LIFECYCLE_POLICY',
  ): Promise<{ deleted: ImageIdentifier[] } | { failure: ImageFailureCode; reason: string }> {
    const resolved = await this.resolve(repo, id);
    if ('failure' in resolved) return resolved;
    const image = (await this.meta.getImage(repo.id, resolved.digest))!;
    const referenced = (await this.meta.manifestParents(repo.id, resolved.digest)).length > 0;
    const untag = (tag: string) => this.meta.deleteTag(repo.id, tag, imageAction(repo, this.now(), 'DELETE', resolved.digest, tag, reason));
    const notFound = { failure: 'ImageNotFound' as const, reason: 'Requested image not found' };
    if (resolved.tag !== undefined && image.tags.length > 1) {
      if (!(await untag(resolved.tag))) return notFound;
      return { deleted: [{ imageDigest: resolved.digest, imageTag: resolved.tag }] };
    }
    if (referenced) {
      if (resolved.tag !== undefined) {
        if (!(await untag(resolved.tag))) return notFound;
        return { deleted: [{ imageDigest: resolved.digest, imageTag: resolved.tag }] };
      }
      return { failure: 'ImageReferencedByManifestList', reason: 'Requested image is referenced by a manifest list' };
    }
    // The store decides, in its own transaction: another node (or request) may have deleted the image, or an index
    // may have come to reference it, since it was read above. Only the delete that happened reports it.
    if (
      !(await this.meta.deleteManifest(
        repo.id,
        resolved.digest,
        imageAction(repo, this.now(), 'DELETE', resolved.digest, undefined, reason),
      ))
    ) {
      return (await this.meta.manifestParents(repo.id, resolved.digest)).length > 0
        ? { failure: 'ImageReferencedByManifestList', reason: 'Requested image is referenced by a manifest list' }
        : notFound;
    }
    return {
      deleted:
        image.tags.length > 0 ? image.tags.map((t) => ({ imageDigest: resolved.digest, imageTag: t })) : [{ imageDigest: resolved.digest }],
    };
  }

  /**
   * Deletes images by digest, a batch in one transaction (a lifecycle run): each as delete() by digest does (the
   * image, its tags and its event), except one an index references or one gone already. Returns the digests deleted.
   */
  async deleteDigests(repo: Repository, digests: string[], reason?: 'LIFECYCLE_POLICY'): Promise<string[]> {
    return this.meta.deleteManifests(
      repo.id,
      digests.map((digest) => ({ digest, event: imageAction(repo, this.now(), 'DELETE', digest, undefined, reason) })),
    );
  }
}
