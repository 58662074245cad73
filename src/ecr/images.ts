// ECR image operations: ListImages, DescribeImages, BatchGetImage, BatchDeleteImage, PutImage. The same core
// calls as the data plane, so immutability, validation and pull recording behave the same on both.
import type {
  BatchDeleteImageRequest,
  BatchDeleteImageResponse,
  BatchGetImageRequest,
  BatchGetImageResponse,
  DescribeImagesRequest,
  DescribeImagesResponse,
  ImageDetail,
  ImageFailure,
  ImageIdentifier,
  Image,
  ListImagesRequest,
  ListImagesResponse,
  PutImageRequest,
  PutImageResponse,
} from '@aws-sdk/client-ecr';
import { RegistryError } from '../core/errors.ts';
import type { ImageRow, ImageScan, Repository, StorageClass, TagStatus } from '../storage/meta/store.ts';
import { afterOf, epochSeconds, pageOf, authorizedRepository, type EcrContext, type Wire } from './context.ts';
import { EcrError, fromRegistryError, imageNotFound, invalidParameter } from './errors.ts';
import { scanStatus, scanSummary } from './scanning.ts';

const DEFAULT_PAGE = 100;

export const ARCHIVED_REASON =
  'Requested image is archived and cannot be pulled: restore it to the STANDARD storage class (UpdateImageStorageClass) first';

/** An image's detail with its scan status and summary, when it was scanned. */
async function scannedDetail(ctx: EcrContext, repo: Repository, row: ImageRow): Promise<Wire<ImageDetail>> {
  return withScan(ctx, row, imageDetail(repo, row), await ctx.registry.meta.getImageScan(repo.id, row.digest));
}

/** An image's detail with its scan's status and summary, when it was scanned. */
function withScan(ctx: EcrContext, row: ImageRow, detail: Wire<ImageDetail>, scan: ImageScan | undefined): Wire<ImageDetail> {
  if (!scan) return detail;
  const summary = scanSummary(scan);
  return { ...detail, imageScanStatus: scanStatus(ctx, scan, row), ...(summary ? { imageScanFindingsSummary: summary } : {}) };
}

/** The image an imageId names (its digest, and its tag when named by one), or ECR's ImageNotFoundException / InvalidParameterException. */
export async function resolveImage(ctx: EcrContext, repo: Repository, id: ImageIdentifier): Promise<{ digest: string; tag?: string }> {
  const resolved = await ctx.images.resolve(repo, id);
  if (!('failure' in resolved)) return resolved;
  if (resolved.failure === 'ImageNotFound') throw imageNotFound(repo, id);
  throw invalidParameter(resolved.reason);
}

function imageDetail(repo: Repository, row: ImageRow): Wire<ImageDetail> {
  return {
    registryId: repo.accountId,
    repositoryName: repo.name,
    imageDigest: row.digest,
    ...(row.tags.length > 0 ? { imageTags: row.tags } : {}),
    imageSizeInBytes: row.imageSize,
    imagePushedAt: epochSeconds(row.pushedAt),
    imageManifestMediaType: row.mediaType,
    ...(row.configMediaType ? { artifactMediaType: row.configMediaType } : {}),
    ...(row.lastPulledAt !== null ? { lastRecordedPullTime: epochSeconds(row.lastPulledAt) } : {}),
    imageStatus: row.storageClass === 'ARCHIVE' ? 'ARCHIVED' : 'ACTIVE',
    ...(row.lastArchivedAt !== null ? { lastArchivedAt: epochSeconds(row.lastArchivedAt) } : {}),
    ...(row.lastActivatedAt !== null ? { lastActivatedAt: epochSeconds(row.lastActivatedAt) } : {}),
  };
}

/** The storage class an imageStatus filter lists (ECR lists ACTIVE images when none is given); null: none (ACTIVATING,
 * which Berth's immediate restores never leave an image in). */
function storageClassOf(imageStatus: string | undefined): StorageClass | undefined | null {
  switch (imageStatus ?? 'ACTIVE') {
    case 'ACTIVE':
      return 'STANDARD';
    case 'ARCHIVED':
      return 'ARCHIVE';
    case 'ACTIVATING':
      return null;
    default:
      return undefined;
  }
}

const wireId = (id: ImageIdentifier): ImageIdentifier => ({
  ...(id.imageDigest !== undefined ? { imageDigest: id.imageDigest } : {}),
  ...(id.imageTag !== undefined ? { imageTag: id.imageTag } : {}),
});

export async function listImages(ctx: EcrContext, input: ListImagesRequest): Promise<Wire<ListImagesResponse>> {
  const repo = authorizedRepository(ctx);
  const limit = input.maxResults ?? DEFAULT_PAGE;
  const status = (input.filter?.tagStatus ?? 'ANY') as TagStatus;
  const storageClass = storageClassOf(input.filter?.imageStatus);
  const ids = storageClass === null ? [] : await ctx.images.listIds(repo, status, afterOf(input.nextToken), limit + 1, storageClass);
  const { shown, ...next } = pageOf(ids, limit, (last) => `${last.digest} ${last.tag ?? ''}`);
  return {
    imageIds: shown.map((i) => (i.tag === null ? { imageDigest: i.digest } : { imageDigest: i.digest, imageTag: i.tag })),
    ...next,
  };
}

export async function describeImages(ctx: EcrContext, input: DescribeImagesRequest): Promise<Wire<DescribeImagesResponse>> {
  const repo = authorizedRepository(ctx);
  if (input.imageIds) {
    if (input.maxResults !== undefined || input.nextToken !== undefined) {
      throw invalidParameter('maxResults and nextToken cannot be used together with imageIds');
    }
    const details: Wire<ImageDetail>[] = [];
    const seen = new Set<string>();
    for (const id of input.imageIds) {
      const resolved = await ctx.images.resolve(repo, id);
      if ('failure' in resolved) {
        if (resolved.failure === 'ImageNotFound') {
          throw imageNotFound(repo, id);
        }
        throw invalidParameter(resolved.reason);
      }
      if (seen.has(resolved.digest)) continue;
      seen.add(resolved.digest);
      details.push(await scannedDetail(ctx, repo, (await ctx.images.get(repo, resolved.digest))!));
    }
    return { imageDetails: details };
  }
  const limit = input.maxResults ?? DEFAULT_PAGE;
  const status = (input.filter?.tagStatus ?? 'ANY') as TagStatus;
  const storageClass = storageClassOf(input.filter?.imageStatus);
  const rows = storageClass === null ? [] : await ctx.images.list(repo, status, afterOf(input.nextToken), limit + 1, storageClass);
  const { shown, ...next } = pageOf(rows, limit, (last) => last.digest);
  // The page's scans in one query: one per image costs a round trip each on PostgreSQL.
  const scans = await ctx.registry.meta.getImageScans(
    repo.id,
    shown.map((r) => r.digest),
  );
  return {
    imageDetails: shown.map((r) => withScan(ctx, r, imageDetail(repo, r), scans.get(r.digest))),
    ...next,
  };
}

export async function batchGetImage(ctx: EcrContext, input: BatchGetImageRequest): Promise<Wire<BatchGetImageResponse>> {
  const repo = authorizedRepository(ctx);
  const images: Image[] = [];
  const failures: ImageFailure[] = [];
  for (const id of input.imageIds!) {
    const resolved = await ctx.images.resolve(repo, id);
    if ('failure' in resolved) {
      failures.push({ imageId: wireId(id), failureCode: resolved.failure, failureReason: resolved.reason });
      continue;
    }
    let manifest: Awaited<ReturnType<typeof ctx.registry.pullManifest>>;
    try {
      manifest = await ctx.registry.pullManifest(repo, resolved.digest);
    } catch (e) {
      if (!(e instanceof RegistryError && e.code === 'MANIFEST_ARCHIVED')) throw e;
      // ECR: "Archived images cannot be pulled. Requests to pull the archived image will fail with a 404 error."
      failures.push({ imageId: wireId(id), failureCode: 'ImageNotFound', failureReason: ARCHIVED_REASON });
      continue;
    }
    if (input.acceptedMediaTypes && !input.acceptedMediaTypes.includes(manifest.mediaType)) {
      // ECR's failure codes have none for this: like the data plane's 404, the image is not found in a form asked for.
      failures.push({
        imageId: wireId(id),
        failureCode: 'ImageNotFound',
        failureReason: `Requested image not found: it is stored as ${manifest.mediaType}, which is not among the acceptedMediaTypes`,
      });
      continue;
    }
    // A manifest the console shows is not pulled (it keeps no pull time, as a lifecycle rule on pulls expects).
    if (!ctx.toShow) ctx.registry.recordPull(repo, manifest, ctx.principal.arn);
    images.push({
      registryId: repo.accountId,
      repositoryName: repo.name,
      imageId: { imageDigest: manifest.digest, ...(resolved.tag !== undefined ? { imageTag: resolved.tag } : {}) },
      imageManifest: manifest.content.toString('utf8'),
      imageManifestMediaType: manifest.mediaType,
    });
  }
  return { images, failures };
}

export async function batchDeleteImage(ctx: EcrContext, input: BatchDeleteImageRequest): Promise<Wire<BatchDeleteImageResponse>> {
  const repo = authorizedRepository(ctx);
  const imageIds: ImageIdentifier[] = [];
  const failures: ImageFailure[] = [];
  for (const id of input.imageIds!) {
    const result = await ctx.images.delete(repo, id);
    if ('failure' in result) failures.push({ imageId: wireId(id), failureCode: result.failure, failureReason: result.reason });
    else imageIds.push(...result.deleted);
  }
  return { imageIds, failures };
}

export async function putImage(ctx: EcrContext, input: PutImageRequest): Promise<Wire<PutImageResponse>> {
  const repo = authorizedRepository(ctx);
  const body = Buffer.from(input.imageManifest!, 'utf8');
  const tag = input.imageTag;
  // ECR needs the media type from the manifest or the request; it does not guess it from the shape. A manifest
  // that is no JSON, and one with no media type anywhere, get ECR's "Invalid JSON syntax".
  const manifest = parseJson(input.imageManifest!);
  const declared = typeof manifest === 'object' && manifest !== null ? (manifest as { mediaType?: unknown }).mediaType : undefined;
  if (manifest === undefined || (declared === undefined && input.imageManifestMediaType === undefined)) {
    throw invalidParameter("Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'");
  }
  let put: Awaited<ReturnType<typeof ctx.registry.putManifest>>;
  try {
    put = await ctx.registry.putManifest(repo, { tag, digest: input.imageDigest }, body, input.imageManifestMediaType);
  } catch (e) {
    throw putImageError(e, repo, input);
  }
  if (!put.created && !put.tagChanged) {
    throw new EcrError(
      'ImageAlreadyExistsException',
      `Image with digest '${put.digest}' and tag '${tag ?? 'null'}' already exists in the repository with name '${repo.name}' in the registry with id '${repo.accountId}'`,
    );
  }
  return {
    image: {
      registryId: repo.accountId,
      repositoryName: repo.name,
      imageId: { imageDigest: put.digest, ...(tag !== undefined ? { imageTag: tag } : {}) },
      imageManifest: input.imageManifest,
      imageManifestMediaType: put.mediaType,
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function putImageError(e: unknown, repo: Repository, input: PutImageRequest): unknown {
  if (!(e instanceof RegistryError)) return e;
  const detail = (e.detail ?? {}) as { kind?: string; missing?: string[] };
  switch (e.code) {
    case 'MANIFEST_BLOB_UNKNOWN':
      return detail.kind === 'manifest'
        ? new EcrError(
            'ReferencedImagesNotFoundException',
            `Manifest list references images that do not exist in the repository with name '${repo.name}' in the registry with id '${repo.accountId}': [${(detail.missing ?? []).join(', ')}]`,
          )
        : new EcrError(
            'LayersNotFoundException',
            `Layers with digests '[${(detail.missing ?? []).join(', ')}]' required for pushing image into repository with name '${repo.name}' in the registry with id '${repo.accountId}' do not exist`,
          );
    case 'DIGEST_INVALID':
      return new EcrError(
        'ImageDigestDoesNotMatchException',
        `Invalid parameter at 'imageDigest' failed to satisfy constraint: 'The digest '${input.imageDigest}' does not match the digest of the image manifest'`,
      );
    case 'MANIFEST_INVALID':
    case 'MANIFEST_TOO_LARGE':
      return invalidParameter(`Invalid parameter at 'ImageManifest' failed to satisfy constraint: '${e.message}'`);
    case 'TAG_INVALID':
      return invalidParameter(`Invalid parameter at 'imageTag' failed to satisfy constraint: '${e.message}'`);
    default:
      return fromRegistryError(e, repo.accountId);
  }
}
