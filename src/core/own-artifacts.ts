// Artifacts Berth writes itself (the scanner's SBOMs) are referrers marked with an annotation: untagged, never
// scanned or expired on their own, and deleted with their subject, by the store, in the subject's delete transaction
// (src/storage/meta/own-artifacts.ts).
export { BERTH_ARTIFACT_ANNOTATION } from '../storage/meta/own-artifacts.ts';
