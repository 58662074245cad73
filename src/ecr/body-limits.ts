// How large an ECR request body may be, by operation: what the operation can legitimately need, from ECR's own
// limits on its largest member (the service model's maxima), chosen from X-Amz-Target before the body is read.
// A JSON string takes more bytes on the wire than it has characters: a manifest's or a policy's quotes and
// backslashes are escaped (twice the size), and SDKs that escape non-ASCII text (boto3) send `\uXXXX` (six bytes).

const KiB = 1024;
const MiB = 1024 * KiB;

/** Every operation not listed below: ECR's inputs are names, ids, tags and small lists. */
export const DEFAULT_ECR_BODY_LIMIT = 1 * MiB;

export const ECR_BODY_LIMITS: Readonly<Record<string, number>> = {
  // layerPartBlob: at most 20 MiB (20,971,520 bytes), base64 in JSON: 27,962,028 bytes and the other members.
  UploadLayerPart: 28 * MiB,
  // imageManifest: at most 4 MiB (4,194,304 characters), its quotes escaped: under 8 MiB, and the other members.
  PutImage: 9 * MiB,
  // policyText: at most 10,240 characters, six bytes each at worst: 61,440 bytes, and the other members.
  SetRepositoryPolicy: 64 * KiB,
  PutRegistryPolicy: 64 * KiB,
  // lifecyclePolicyText: at most 30,720 characters, six bytes each at worst: 184,320 bytes, and the other members.
  PutLifecyclePolicy: 192 * KiB,
  StartLifecyclePolicyPreview: 192 * KiB,
  // A repository creation template carries a repository policy and a lifecycle policy.
  CreateRepositoryCreationTemplate: 256 * KiB,
  UpdateRepositoryCreationTemplate: 256 * KiB,
};

/** The body limit of an operation (the default for an unknown one: it is refused after authentication). */
export function ecrBodyLimit(operation: string): number {
  return Object.hasOwn(ECR_BODY_LIMITS, operation) ? ECR_BODY_LIMITS[operation] : DEFAULT_ECR_BODY_LIMIT;
}
