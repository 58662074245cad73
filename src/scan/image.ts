// The scanner's pure pipeline for one image, for the worker to call: walk the layers keeping the inventory's files,
// inventory them, match the packages against an advisory index, and describe the result as a CycloneDX SBOM.
import { inventory, inventoryFileLimit, isInventoryFile, reduceInventoryFile, type Inventory } from './inventory/index.ts';
import { walkLayers, type Layer } from './layers.ts';
import type { AdvisoryIndex, Finding } from './match.ts';

/** The inventory of an image from its layers, in order (the manifest's `layers`). */
export async function inventoryLayers(layers: Layer[]): Promise<Inventory> {
  return inventory(await walkLayers(layers, { want: isInventoryFile, maxFileSize: inventoryFileLimit, reduce: reduceInventoryFile }));
}

/** The findings of an inventory (stored inventories are matched again when the data changes, without the layers). */
export function findingsOf(inv: Inventory, advisories: AdvisoryIndex): Finding[] {
  return advisories.match(inv.packages);
}

export { cycloneDx, cycloneDxJson, CYCLONEDX_MEDIA_TYPE } from './sbom.ts';
export type { Inventory } from './inventory/index.ts';
export type { Finding } from './match.ts';
