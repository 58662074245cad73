// Artifacts Berth writes itself (the scanner's SBOMs) are referrers marked with an annotation; they are deleted with
// their subject (DESIGN.md, "Artifacts Berth writes itself"), after it, by either delete path (OCI DELETE and
// BatchDeleteImage / lifecycle expiry). A crash between the two leaves an untagged referrer of a deleted image,
// which a later delete of the same digest or a manual delete removes.
import { createHash } from 'node:crypto';
import type { ImageStore, Repository } from '../storage/meta/store.ts';
import type { Registry } from './registry.ts';

/** The annotation that marks a manifest as written by Berth (its value names the writer, e.g. `scanner`). */
export const BERTH_ARTIFACT_ANNOTATION = 'dev.berth.artifact.generator';

/** Deletes the Berth-written referrers of a deleted manifest; returns their digests. */
export async function deleteOwnArtifacts(meta: ImageStore, repositoryId: number, subjectDigest: string): Promise<string[]> {
  const deleted: string[] = [];
  for (const r of await meta.listReferrers(repositoryId, subjectDigest)) {
    if (r.annotations?.[BERTH_ARTIFACT_ANNOTATION] === undefined) continue;
    if (await meta.deleteManifest(repositoryId, r.digest)) deleted.push(r.digest);
  }
  return deleted;
}

/** The empty JSON config (OCI's `application/vnd.oci.empty.v1+json`) of Berth's artifacts. */
export const EMPTY_CONFIG = Buffer.from('{}');

/** Stores a small blob of a Berth artifact in the repository through the core (an upload by `principalArn`), unless it is there. */
export async function putOwnBlob(registry: Registry, repo: Repository, data: Buffer, principalArn: string): Promise<string> {
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  if (await registry.meta.getRepositoryBlob(repo.id, digest)) return digest;
  const id = await registry.startUpload(repo, principalArn);
  await registry.completeUpload(repo, id, digest, [data]);
  return digest;
}
