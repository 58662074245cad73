// ECR's UpdateImageStorageClass: an image moves between the STANDARD and ARCHIVE storage classes (src/core/archive.ts).
// Berth restores at once, so a restore answers ACTIVE where ECR answers ACTIVATING for up to 20 minutes.
import type { UpdateImageStorageClassRequest, UpdateImageStorageClassResponse } from '@aws-sdk/client-ecr';
import { updateStorageClass } from '../core/archive.ts';
import type { StorageClass } from '../storage/meta/store.ts';
import { authorizedRepository, type EcrContext, type Wire } from './context.ts';
import { EcrError, imageNotFound } from './errors.ts';
import { resolveImage } from './images.ts';

export async function updateImageStorageClass(
  ctx: EcrContext,
  input: UpdateImageStorageClassRequest,
): Promise<Wire<UpdateImageStorageClassResponse>> {
  const repo = authorizedRepository(ctx);
  const id = input.imageId!;
  const target = input.targetStorageClass as StorageClass;
  const resolved = await resolveImage(ctx, repo, id);
  const result = await updateStorageClass(ctx.registry.meta, repo, resolved.digest, target, ctx.registry.now());
  if (result === 'missing') throw imageNotFound(repo, id);
  if (result === 'own-artifact') {
    throw new EcrError(
      'ImageStorageClassUpdateNotSupportedException',
      `The image '${resolved.digest}' is an artifact Berth wrote for another image (a signature or an SBOM): it moves with its subject, not on its own`,
    );
  }
  if (result === 'referenced-by-index') {
    throw new EcrError(
      'ImageStorageClassUpdateNotSupportedException',
      `The image '${resolved.digest}' is referenced by a manifest list and cannot be archived without the manifest list being archived first`,
    );
  }
  return {
    registryId: repo.accountId,
    repositoryName: repo.name,
    imageId: { imageDigest: resolved.digest, ...(resolved.tag !== undefined ? { imageTag: resolved.tag } : {}) },
    imageStatus: target === 'ARCHIVE' ? 'ARCHIVED' : 'ACTIVE',
  };
}
