// Image storage classes (ECR's archive): an image moved to ARCHIVE is listed and described but not pulled until it
// is restored to STANDARD (UpdateImageStorageClass, or pushed again). The artifacts Berth wrote for it (SBOMs,
// signatures) follow it; they are never moved on their own. An image an index references stays with its index
// (ECR: it "cannot be expired or archived without the manifest list being deleted or archived first").
import type { MetaStore, Repository, StorageClass } from '../storage/meta/store.ts';
import { BERTH_ARTIFACT_ANNOTATION } from './own-artifacts.ts';

export type StorageClassUpdate = 'changed' | 'unchanged' | 'missing' | 'own-artifact' | 'referenced-by-index';

/** Moves the image (and Berth's artifacts for it) to `target`, or says why not. */
export async function updateStorageClass(
  meta: MetaStore,
  repo: Repository,
  digest: string,
  target: StorageClass,
  now: number,
): Promise<StorageClassUpdate> {
  const manifest = await meta.getManifest(repo.id, digest);
  if (!manifest) return 'missing';
  if (manifest.annotations?.[BERTH_ARTIFACT_ANNOTATION] !== undefined) return 'own-artifact';
  if (target === 'ARCHIVE' && manifest.storageClass !== 'ARCHIVE' && (await meta.manifestParents(repo.id, digest)).length > 0)
    return 'referenced-by-index';
  const result = await meta.setImageStorageClass(repo.id, digest, target, now);
  for (const r of await meta.listReferrers(repo.id, digest)) {
    if (r.annotations?.[BERTH_ARTIFACT_ANNOTATION] !== undefined) await meta.setImageStorageClass(repo.id, r.digest, target, now);
  }
  return result;
}
