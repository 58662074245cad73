// Artifacts Berth writes itself (the scanner's SBOMs) are referrers marked with an annotation; they are deleted with
// their subject (DESIGN.md, "Artifacts Berth writes itself"), after it, by either delete path (OCI DELETE and
// BatchDeleteImage / lifecycle expiry). A crash between the two leaves an untagged referrer of a deleted image,
// which a later delete of the same digest or a manual delete removes.
import type { ImageStore } from '../storage/meta/store.ts';

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
