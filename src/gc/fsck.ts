// berth fsck: verifies every stored blob against its digest and size, and every manifest's references, and
// reports what is wrong. Reads only; changes nothing.
import { digestOfStream } from '../core/digest.ts';
import { parseDigest } from '../core/grammar.ts';
import type { MetaStore } from '../storage/meta/store.ts';
import type { CollectableBlobStore } from './collector.ts';

export interface FsckProblem {
  kind: 'blob-missing' | 'blob-size' | 'blob-digest' | 'reference-missing' | 'reference-unlinked' | 'child-missing';
  digest: string;
  repositoryId?: number;
  manifest?: string;
  detail: string;
}

export interface FsckReport {
  blobsChecked: number;
  bytesChecked: number;
  manifestsChecked: number;
  /** Damage: something recorded or referenced is missing or wrong. `berth fsck` exits 1 when there is any. */
  problems: FsckProblem[];
  /** Not damage: blob files no record names, left by a push that never completed (its upload was interrupted after
   * the file was made durable and before its record). Garbage collection removes them. */
  unrecorded: { digest: string; size: number }[];
}

export async function fsck(meta: MetaStore, blobs: CollectableBlobStore): Promise<FsckReport> {
  const report: FsckReport = { blobsChecked: 0, bytesChecked: 0, manifestsChecked: 0, problems: [], unrecorded: [] };
  const recorded = new Map<string, number>();

  for (let after = ''; ; ) {
    const batch = await meta.listBlobs(after, 1000);
    for (const blob of batch) {
      recorded.set(blob.digest, blob.size);
      report.blobsChecked++;
      const size = await blobs.stat(blob.digest);
      if (size === undefined) {
        report.problems.push({ kind: 'blob-missing', digest: blob.digest, detail: 'recorded, but its file is missing' });
        continue;
      }
      if (size !== blob.size) {
        report.problems.push({ kind: 'blob-size', digest: blob.digest, detail: `recorded as ${blob.size} bytes, the file has ${size}` });
        continue;
      }
      const actual = await digestOf(blobs, blob.digest);
      report.bytesChecked += size;
      if (actual !== blob.digest)
        report.problems.push({ kind: 'blob-digest', digest: blob.digest, detail: `the file's content hashes to ${actual}` });
    }
    if (batch.length < 1000) break;
    after = batch[batch.length - 1].digest;
  }

  for await (const file of blobs.walk()) {
    if (!recorded.has(file.digest)) report.unrecorded.push({ digest: file.digest, size: file.size });
  }

  for (let repo = 0, digest = ''; ; ) {
    const batch = await meta.listManifestReferences(repo, digest, 1000);
    for (const m of batch) {
      report.manifestsChecked++;
      for (const b of m.blobs) {
        if (!recorded.has(b)) {
          report.problems.push({
            kind: 'reference-missing',
            digest: b,
            repositoryId: m.repositoryId,
            manifest: m.digest,
            detail: 'the manifest references a blob the registry does not have',
          });
        } else if ((await meta.getRepositoryBlob(m.repositoryId, b)) === undefined) {
          report.problems.push({
            kind: 'reference-unlinked',
            digest: b,
            repositoryId: m.repositoryId,
            manifest: m.digest,
            detail: 'the manifest references a blob not linked to its repository',
          });
        }
      }
      const missing = await meta.missingManifests(m.repositoryId, m.manifests);
      for (const c of missing) {
        report.problems.push({
          kind: 'child-missing',
          digest: c,
          repositoryId: m.repositoryId,
          manifest: m.digest,
          detail: 'the index references a manifest its repository does not have',
        });
      }
    }
    if (batch.length < 1000) break;
    repo = batch[batch.length - 1].repositoryId;
    digest = batch[batch.length - 1].digest;
  }
  return report;
}

async function digestOf(blobs: CollectableBlobStore, digest: string): Promise<string> {
  return digestOfStream(parseDigest(digest)!.algorithm, await blobs.read(digest));
}
