// Seeding a metadata store directly (bench/scale.ts, bench/start.ts): the rows a push would write, without the push.
import { parseManifest } from '../../src/core/manifest.ts';
import { sha256Digest } from './data.ts';

/** The row putManifest writes for an OCI image manifest `body` pushed at `pushedAt`. */
export function manifestRow(repositoryId: number, body: Buffer, pushedAt: number) {
  const m = parseManifest(body, 'application/vnd.oci.image.manifest.v1+json');
  return {
    repositoryId,
    digest: sha256Digest(body),
    mediaType: m.mediaType,
    artifactType: m.artifactType ?? null,
    subjectDigest: null,
    size: body.length,
    content: body,
    annotations: m.annotations ?? null,
    pushedAt,
    blobs: m.blobs,
    manifests: m.manifests,
    imageSize: m.layersSize,
    configMediaType: m.configMediaType ?? null,
  };
}
