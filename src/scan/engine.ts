// The scanner's heavy parts (layer walker, package parsers, OSV schema validation, the rpm database reader, the
// matcher, the SBOM writer), gathered so that the scan job loads them on its first scan: an idle registry, or one
// that never scans, does not carry them (about 30 MiB of resident memory).
export { inventoryLayers, findingsOf, cycloneDxJson } from './image.ts';
export { UnsupportedLayerError } from './layers.ts';
export { AdvisoryIndex, severityCounts } from './match.ts';

let loading: Promise<typeof import('./engine.ts')> | undefined;

/** This module, loaded once. */
export function scanEngine(): Promise<typeof import('./engine.ts')> {
  return (loading ??= import('./engine.ts'));
}
