// Artifacts Berth writes itself (the scanner's SBOMs) are referrers marked with an annotation. Both stores delete
// them in the transaction that deletes their subject (DESIGN.md, "Artifacts Berth writes itself": deleted with their
// subject), whichever path deletes it: OCI DELETE, BatchDeleteImage, lifecycle expiry.

/** The annotation that marks a manifest as written by Berth (its value names the writer, e.g. `scanner`). */
export const BERTH_ARTIFACT_ANNOTATION = 'dev.berth.artifact.generator';

/** Whether a manifest's stored annotations (JSON text, or null) mark it as written by Berth. */
export function isOwnArtifact(annotations: unknown): boolean {
  if (typeof annotations !== 'string') return false;
  const parsed = JSON.parse(annotations) as Record<string, unknown> | null;
  return parsed !== null && typeof parsed === 'object' && parsed[BERTH_ARTIFACT_ANNOTATION] !== undefined;
}
