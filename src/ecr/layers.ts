// ECR layer operations: BatchCheckLayerAvailability, GetDownloadUrlForLayer, InitiateLayerUpload,
// UploadLayerPart, CompleteLayerUpload. Uploads are the data plane's upload sessions: one core path.
import type {
  BatchCheckLayerAvailabilityRequest,
  BatchCheckLayerAvailabilityResponse,
  CompleteLayerUploadRequest,
  CompleteLayerUploadResponse,
  GetDownloadUrlForLayerRequest,
  GetDownloadUrlForLayerResponse,
  InitiateLayerUploadRequest,
  InitiateLayerUploadResponse,
  Layer,
  LayerFailure,
  UploadLayerPartRequest,
  UploadLayerPartResponse,
} from '@aws-sdk/client-ecr';
import { RegistryError } from '../core/errors.ts';
import { isValidDigest } from '../core/grammar.ts';
import { DOWNLOAD_SIGNATURE } from '../oci/router.ts';
import type { Repository } from '../storage/meta/store.ts';
import { authorizedRepository, type EcrContext, type Wire } from './context.ts';
import { EcrError, fromRegistryError } from './errors.ts';

/** ECR's smallest part but the last. */
const MIN_PART_SIZE = 5 * 1024 * 1024;
/** The part size Berth suggests (ECR's largest part, 20 MiB). */
const PART_SIZE = 20 * 1024 * 1024;
/** How long a layer download URL stays valid. */
const DOWNLOAD_URL_TTL_MS = 60 * 60 * 1000;

async function layerIn(ctx: EcrContext, repo: Repository, digest: string, use: 'check' | 'pull' = 'check') {
  try {
    return await ctx.registry.statBlob(repo, digest, use);
  } catch (e) {
    if (e instanceof RegistryError && e.code === 'BLOB_UNKNOWN') return undefined;
    throw e;
  }
}

export async function batchCheckLayerAvailability(
  ctx: EcrContext,
  input: BatchCheckLayerAvailabilityRequest,
): Promise<Wire<BatchCheckLayerAvailabilityResponse>> {
  const repo = authorizedRepository(ctx);
  const layers: Layer[] = [];
  const failures: LayerFailure[] = [];
  for (const digest of input.layerDigests!) {
    if (!isValidDigest(digest)) {
      failures.push({ layerDigest: digest, failureCode: 'InvalidLayerDigest', failureReason: `Invalid layer digest: ${digest}` });
      continue;
    }
    const blob = await layerIn(ctx, repo, digest);
    if (blob) layers.push({ layerDigest: digest, layerAvailability: 'AVAILABLE', layerSize: blob.size });
    else failures.push({ layerDigest: digest, failureCode: 'MissingLayerDigest', failureReason: 'Could not find layer' });
  }
  return { layers, failures };
}

export async function getDownloadUrlForLayer(
  ctx: EcrContext,
  input: GetDownloadUrlForLayerRequest,
): Promise<Wire<GetDownloadUrlForLayerResponse>> {
  const repo = authorizedRepository(ctx);
  const digest = input.layerDigest!;
  if (!isValidDigest(digest))
    throw new EcrError(
      'InvalidParameterException',
      `Invalid parameter at 'layerDigest' failed to satisfy constraint: 'Invalid layer digest: ${digest}'`,
    );
  if (!(await layerIn(ctx, repo, digest, 'pull'))) {
    throw new EcrError(
      'LayersNotFoundException',
      `The image layer '${digest}' does not exist in the repository with name '${repo.name}' in the registry with id '${repo.accountId}'`,
    );
  }
  // As ECR: a presigned URL of the blob store when it has them (S3); else a URL of Berth's, signed for the caller.
  const presigned = await ctx.registry.blobDownloadUrl(digest, DOWNLOAD_URL_TTL_MS / 1000);
  if (presigned) return { downloadUrl: presigned, layerDigest: digest };
  const signature = ctx.identity.signDownload(ctx.holder, repo.name, digest, DOWNLOAD_URL_TTL_MS);
  const downloadUrl = `${ctx.publicScheme}://${ctx.publicHost}/v2/${repo.name}/blobs/${digest}?${DOWNLOAD_SIGNATURE}=${encodeURIComponent(signature)}`;
  return { downloadUrl, layerDigest: digest };
}

export async function initiateLayerUpload(ctx: EcrContext, input: InitiateLayerUploadRequest): Promise<Wire<InitiateLayerUploadResponse>> {
  const repo = authorizedRepository(ctx);
  return { uploadId: await ctx.registry.startUpload(repo, ctx.principal.arn), partSize: PART_SIZE };
}

function uploadNotFound(repo: Repository, id: string) {
  return new EcrError(
    'UploadNotFoundException',
    `Upload with id '${id}' does not exist in the repository with name '${repo.name}' in the registry with id '${repo.accountId}'`,
  );
}

export async function uploadLayerPart(ctx: EcrContext, input: UploadLayerPartRequest): Promise<Wire<UploadLayerPartResponse>> {
  const repo = authorizedRepository(ctx);
  const id = input.uploadId!;
  // Decoded already when the body was large (src/ecr/input.ts), else the base64 string JSON gave.
  const blob = input.layerPartBlob as Uint8Array | string;
  const part = typeof blob === 'string' ? Buffer.from(blob, 'base64') : Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const first = input.partFirstByte!;
  const last = input.partLastByte!;
  const invalidPart = (message: string, lastValidByteReceived: number) =>
    new EcrError('InvalidLayerPartException', message, 400, {
      registryId: repo.accountId,
      repositoryName: repo.name,
      uploadId: id,
      lastValidByteReceived,
    });
  if (last < first || last - first + 1 !== part.length) {
    const offset = await ctx.registry.uploadOffset(repo, id).catch(() => {
      throw uploadNotFound(repo, id);
    });
    throw invalidPart(`The layer part's byte range ${first}-${last} does not match the ${part.length} bytes sent`, offset - 1);
  }
  try {
    const offset = await ctx.registry.appendUpload(repo, id, [part], first);
    await ctx.layerParts.add(id, part.length, MIN_PART_SIZE);
    return { registryId: repo.accountId, repositoryName: repo.name, uploadId: id, lastByteReceived: offset - 1 };
  } catch (e) {
    if (e instanceof RegistryError && e.code === 'BLOB_UPLOAD_UNKNOWN') throw uploadNotFound(repo, id);
    if (e instanceof RegistryError && e.code === 'RANGE_INVALID') {
      const offset = (e.detail as { offset: number }).offset;
      throw invalidPart(`The layer part must start at byte ${offset}, the end of what was uploaded so far, not at ${first}`, offset - 1);
    }
    throw e;
  }
}

export async function completeLayerUpload(ctx: EcrContext, input: CompleteLayerUploadRequest): Promise<Wire<CompleteLayerUploadResponse>> {
  const repo = authorizedRepository(ctx);
  const id = input.uploadId!;
  const digest = input.layerDigests![0];
  const size = await ctx.registry.uploadOffset(repo, id).catch((e: unknown) => {
    throw e instanceof RegistryError && e.code === 'BLOB_UPLOAD_UNKNOWN' ? uploadNotFound(repo, id) : e;
  });
  if (size === 0) throw new EcrError('EmptyUploadException', `The upload with id '${id}' does not contain any layer parts`);
  if (isValidDigest(digest) && (await layerIn(ctx, repo, digest))) {
    await ctx.registry.cancelUpload(repo, id);
    throw new EcrError(
      'LayerAlreadyExistsException',
      `The image layer '${digest}' already exists in the repository with name '${repo.name}' in the registry with id '${repo.accountId}'`,
    );
  }
  // Every part but the last must be at least 5 MiB, as in ECR.
  if (await ctx.layerParts.smallBeforeLast(id)) {
    throw new EcrError('LayerPartTooSmallException', 'All layer parts except the last part should be at least 5MB', 400, {
      registryId: repo.accountId,
      repositoryName: repo.name,
      uploadId: id,
    });
  }
  try {
    const blob = await ctx.registry.completeUpload(repo, id, digest);
    return { registryId: repo.accountId, repositoryName: repo.name, uploadId: id, layerDigest: blob.digest };
  } catch (e) {
    if (e instanceof RegistryError && e.code === 'DIGEST_INVALID') {
      throw new EcrError(
        'InvalidLayerException',
        `The layer digest calculated for the upload does not match the provided digest '${digest}'`,
      );
    }
    if (e instanceof RegistryError) throw fromRegistryError(e, repo.accountId);
    throw e;
  }
}
