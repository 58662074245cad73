// Artifacts Berth writes itself (the scanner's SBOMs, the signer's signatures) are referrers marked with an
// annotation: untagged, never scanned, signed or expired on their own, and deleted with their subject, by the store,
// in the subject's delete transaction (src/storage/meta/own-artifacts.ts).
import { createHash } from 'node:crypto';
import type { Repository } from '../storage/meta/store.ts';
import type { Registry } from './registry.ts';

export { BERTH_ARTIFACT_ANNOTATION } from '../storage/meta/own-artifacts.ts';
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
