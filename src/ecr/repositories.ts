// ECR repository operations: CreateRepository, DescribeRepositories, DeleteRepository, PutImageTagMutability,
// PutImageScanningConfiguration, TagResource, UntagResource, ListTagsForResource.
import type {
  CreateRepositoryRequest,
  CreateRepositoryResponse,
  DeleteRepositoryRequest,
  DeleteRepositoryResponse,
  DescribeRepositoriesRequest,
  DescribeRepositoriesResponse,
  ListTagsForResourceRequest,
  ListTagsForResourceResponse,
  PutImageScanningConfigurationRequest,
  PutImageScanningConfigurationResponse,
  PutImageTagMutabilityRequest,
  PutImageTagMutabilityResponse,
  Repository as WireRepository,
  TagResourceRequest,
  TagResourceResponse,
  UntagResourceRequest,
  UntagResourceResponse,
  Tag,
  ImageTagMutabilityExclusionFilter,
} from '@aws-sdk/client-ecr';
import { DEFAULT_SETTINGS, listVisible } from '../core/repositories.ts';
import type { MutabilityExclusion, Repository, TagMutability } from '../storage/meta/store.ts';
import { afterOf, authorizedRepository, epochSeconds, pageOf, type EcrContext, type Wire } from './context.ts';
import { repositoryArn } from '../core/arn.ts';
import { EcrError, invalidParameter } from './errors.ts';

/** A repository's ARN. */
export const REPOSITORY_ARN = /^arn:aws:ecr:([^:]+):(\d{12}):repository\/(.+)$/;

const MAX_TAGS = 50;

export function wireRepository(ctx: EcrContext, r: Repository): Wire<WireRepository> {
  return {
    repositoryArn: repositoryArn(ctx.region, r.accountId, r.name),
    registryId: r.accountId,
    repositoryName: r.name,
    repositoryUri: `${ctx.publicHost}/${r.name}`,
    createdAt: epochSeconds(r.createdAt),
    imageTagMutability: r.imageTagMutability,
    ...(r.mutabilityExclusions.length > 0 ? { imageTagMutabilityExclusionFilters: r.mutabilityExclusions } : {}),
    imageScanningConfiguration: { scanOnPush: r.scanOnPush },
    encryptionConfiguration: { encryptionType: r.encryptionType as 'AES256', ...(r.kmsKey ? { kmsKey: r.kmsKey } : {}) },
  };
}

/** Mutability and its exclusion filters, checked together as ECR does. */
export function mutability(
  mode: string | undefined,
  filters: ImageTagMutabilityExclusionFilter[] | undefined,
): { imageTagMutability: TagMutability; mutabilityExclusions: MutabilityExclusion[] } {
  const imageTagMutability = (mode ?? 'MUTABLE') as TagMutability;
  const withExclusion = imageTagMutability.endsWith('_WITH_EXCLUSION');
  if (withExclusion && (!filters || filters.length === 0)) {
    throw invalidParameter(`imageTagMutabilityExclusionFilters must be provided when imageTagMutability is ${imageTagMutability}`);
  }
  if (!withExclusion && filters && filters.length > 0) {
    throw invalidParameter(
      `imageTagMutabilityExclusionFilters can only be provided when imageTagMutability is MUTABLE_WITH_EXCLUSION or IMMUTABLE_WITH_EXCLUSION`,
    );
  }
  return {
    imageTagMutability,
    mutabilityExclusions: (filters ?? []).map((f) => ({ filterType: 'WILDCARD', filter: f.filter! })),
  };
}

export function checkTags(tags: Tag[]): { Key: string; Value: string }[] {
  if (tags.length > MAX_TAGS) throw new EcrError('TooManyTagsException', `The number of tags exceeds the limit of ${MAX_TAGS}`);
  const keys = new Set<string>();
  for (const t of tags) {
    if (t.Key!.toLowerCase().startsWith('aws:'))
      throw new EcrError('InvalidTagParameterException', `Tag keys starting with 'aws:' are reserved: '${t.Key}'`);
    if (t.Key!.length < 1 || t.Key!.length > 128)
      throw new EcrError('InvalidTagParameterException', `Tag key '${t.Key}' must be 1 to 128 characters`);
    if (t.Value!.length > 256)
      throw new EcrError('InvalidTagParameterException', `Tag value for key '${t.Key}' must be at most 256 characters`);
    if (keys.has(t.Key!)) throw new EcrError('InvalidTagParameterException', `Duplicate tag key '${t.Key}'`);
    keys.add(t.Key!);
  }
  return tags.map((t) => ({ Key: t.Key!, Value: t.Value! }));
}

export async function createRepository(ctx: EcrContext, input: CreateRepositoryRequest): Promise<Wire<CreateRepositoryResponse>> {
  const { registryId } = ctx.authorized;
  const name = input.repositoryName!;
  const tags = checkTags(input.tags ?? []);
  const encryption = input.encryptionConfiguration;
  if (encryption && encryption.encryptionType !== 'AES256') {
    throw new EcrError(
      'KmsException',
      `encryptionType ${encryption.encryptionType} needs AWS KMS, which this registry does not have; use AES256`,
    );
  }
  const repo = await ctx.repositories.create(
    registryId,
    name,
    {
      ...DEFAULT_SETTINGS,
      ...mutability(input.imageTagMutability, input.imageTagMutabilityExclusionFilters),
      scanOnPush: input.imageScanningConfiguration?.scanOnPush ?? false,
    },
    tags,
  );
  return { repository: wireRepository(ctx, repo) };
}

export async function describeRepositories(
  ctx: EcrContext,
  input: DescribeRepositoriesRequest,
): Promise<Wire<DescribeRepositoriesResponse>> {
  const { registryId, repositories, listing } = ctx.authorized;
  if (input.repositoryNames) {
    if (input.maxResults !== undefined || input.nextToken !== undefined) {
      throw invalidParameter('maxResults and nextToken cannot be used together with repositoryNames');
    }
    return { repositories: repositories!.map((r) => wireRepository(ctx, r)) };
  }
  // Every repository the caller may describe (the table's decision for each), a page at a time (read on past
  // the ones it may not).
  const limit = input.maxResults ?? 100;
  const visible = await listVisible(ctx.registry.meta, registryId, afterOf(input.nextToken), limit, listing!.visible);
  if (visible.length === 0) await listing!.refuse();
  const { shown, ...next } = pageOf(visible, limit, (last) => last.name);
  return {
    repositories: shown.map((r) => wireRepository(ctx, r)),
    ...next,
  };
}

export async function deleteRepository(ctx: EcrContext, input: DeleteRepositoryRequest): Promise<Wire<DeleteRepositoryResponse>> {
  const repo = authorizedRepository(ctx);
  await ctx.repositories.delete(repo, input.force ?? false);
  return { repository: wireRepository(ctx, repo) };
}

export async function putImageTagMutability(
  ctx: EcrContext,
  input: PutImageTagMutabilityRequest,
): Promise<Wire<PutImageTagMutabilityResponse>> {
  const repo = authorizedRepository(ctx);
  const settings = mutability(input.imageTagMutability, input.imageTagMutabilityExclusionFilters);
  await ctx.repositories.update(repo, settings);
  return {
    registryId: repo.accountId,
    repositoryName: repo.name,
    imageTagMutability: settings.imageTagMutability,
    ...(settings.mutabilityExclusions.length > 0 ? { imageTagMutabilityExclusionFilters: settings.mutabilityExclusions } : {}),
  };
}

export async function putImageScanningConfiguration(
  ctx: EcrContext,
  input: PutImageScanningConfigurationRequest,
): Promise<Wire<PutImageScanningConfigurationResponse>> {
  const repo = authorizedRepository(ctx);
  const scanOnPush = input.imageScanningConfiguration!.scanOnPush ?? false;
  await ctx.repositories.update(repo, { scanOnPush });
  return { registryId: repo.accountId, repositoryName: repo.name, imageScanningConfiguration: { scanOnPush } };
}

export async function tagResource(ctx: EcrContext, input: TagResourceRequest): Promise<Wire<TagResourceResponse>> {
  const tags = checkTags(input.tags!);
  // The repository resourceArn names (only repositories carry tags in ECR), authorized by the dispatcher.
  const repo = authorizedRepository(ctx);
  const existing = await ctx.repositories.tags(repo);
  const keys = new Set([...existing.map((t) => t.Key), ...tags.map((t) => t.Key)]);
  if (keys.size > MAX_TAGS) throw new EcrError('TooManyTagsException', `The number of tags exceeds the limit of ${MAX_TAGS}`);
  await ctx.repositories.tag(repo, tags);
  return {};
}

export async function untagResource(ctx: EcrContext, input: UntagResourceRequest): Promise<Wire<UntagResourceResponse>> {
  const repo = authorizedRepository(ctx);
  await ctx.repositories.untag(repo, input.tagKeys!);
  return {};
}

export async function listTagsForResource(ctx: EcrContext, input: ListTagsForResourceRequest): Promise<Wire<ListTagsForResourceResponse>> {
  const repo = authorizedRepository(ctx);
  return { tags: await ctx.repositories.tags(repo) };
}
