// ECR lifecycle policy operations: PutLifecyclePolicy, GetLifecyclePolicy, DeleteLifecyclePolicy,
// StartLifecyclePolicyPreview, GetLifecyclePolicyPreview. The grammar and evaluation are src/lifecycle/.
import type {
  DeleteLifecyclePolicyRequest,
  DeleteLifecyclePolicyResponse,
  GetLifecyclePolicyPreviewRequest,
  GetLifecyclePolicyPreviewResponse,
  GetLifecyclePolicyRequest,
  GetLifecyclePolicyResponse,
  LifecyclePolicyPreviewResult,
  PutLifecyclePolicyRequest,
  PutLifecyclePolicyResponse,
  StartLifecyclePolicyPreviewRequest,
  StartLifecyclePolicyPreviewResponse,
} from '@aws-sdk/client-ecr';
import { LifecyclePolicyError, parseLifecyclePolicy } from '../lifecycle/policy.ts';
import type { Repository } from '../storage/meta/store.ts';
import { afterOf, epochSeconds, pageOf, authorizedRepository, type EcrContext, type Wire } from './context.ts';
import { EcrError, invalidParameter } from './errors.ts';

export function validateLifecyclePolicy(text: string): void {
  try {
    parseLifecyclePolicy(text);
  } catch (e) {
    if (e instanceof LifecyclePolicyError) {
      throw invalidParameter(e.detail && e.detail !== e.constraint ? `${e.message} (${e.detail})` : e.message);
    }
    throw e;
  }
}

const notFound = (repo: Repository) =>
  new EcrError(
    'LifecyclePolicyNotFoundException',
    `Lifecycle policy does not exist for the repository with name '${repo.name}' in the registry with id '${repo.accountId}'`,
  );

export async function putLifecyclePolicy(ctx: EcrContext, input: PutLifecyclePolicyRequest): Promise<Wire<PutLifecyclePolicyResponse>> {
  const repo = authorizedRepository(ctx);
  validateLifecyclePolicy(input.lifecyclePolicyText!);
  await ctx.registry.meta.setLifecyclePolicy(repo.id, input.lifecyclePolicyText!);
  return { registryId: repo.accountId, repositoryName: repo.name, lifecyclePolicyText: input.lifecyclePolicyText };
}

export async function getLifecyclePolicy(ctx: EcrContext, input: GetLifecyclePolicyRequest): Promise<Wire<GetLifecyclePolicyResponse>> {
  const repo = authorizedRepository(ctx);
  if (repo.lifecyclePolicyText === null) throw notFound(repo);
  return {
    registryId: repo.accountId,
    repositoryName: repo.name,
    lifecyclePolicyText: repo.lifecyclePolicyText,
    ...(repo.lifecycleEvaluatedAt !== null ? { lastEvaluatedAt: epochSeconds(repo.lifecycleEvaluatedAt) } : {}),
  };
}

export async function deleteLifecyclePolicy(
  ctx: EcrContext,
  input: DeleteLifecyclePolicyRequest,
): Promise<Wire<DeleteLifecyclePolicyResponse>> {
  const repo = authorizedRepository(ctx);
  if (repo.lifecyclePolicyText === null) throw notFound(repo);
  await ctx.registry.meta.setLifecyclePolicy(repo.id, null);
  return {
    registryId: repo.accountId,
    repositoryName: repo.name,
    lifecyclePolicyText: repo.lifecyclePolicyText,
    ...(repo.lifecycleEvaluatedAt !== null ? { lastEvaluatedAt: epochSeconds(repo.lifecycleEvaluatedAt) } : {}),
  };
}

export async function startLifecyclePolicyPreview(
  ctx: EcrContext,
  input: StartLifecyclePolicyPreviewRequest,
): Promise<Wire<StartLifecyclePolicyPreviewResponse>> {
  const repo = authorizedRepository(ctx);
  const text = input.lifecyclePolicyText ?? repo.lifecyclePolicyText;
  if (text === null || text === undefined) throw notFound(repo);
  validateLifecyclePolicy(text);
  if (!(await ctx.lifecycle.startPreview(repo, text))) {
    throw new EcrError(
      'LifecyclePolicyPreviewInProgressException',
      `The previous lifecycle policy preview request has not completed. Wait and try again.`,
    );
  }
  return { registryId: repo.accountId, repositoryName: repo.name, lifecyclePolicyText: text, status: 'IN_PROGRESS' };
}

export async function getLifecyclePolicyPreview(
  ctx: EcrContext,
  input: GetLifecyclePolicyPreviewRequest,
): Promise<Wire<GetLifecyclePolicyPreviewResponse>> {
  const repo = authorizedRepository(ctx);
  const latest = await ctx.lifecycle.latestPreview(repo.id);
  if (!latest) {
    throw new EcrError(
      'LifecyclePolicyPreviewNotFoundException',
      `There is no dry run for the repository with name '${repo.name}' in the registry with id '${repo.accountId}'`,
    );
  }
  const { preview, results: all } = latest;
  const base = { registryId: repo.accountId, repositoryName: repo.name, lifecyclePolicyText: preview.policyText, status: preview.status };
  if (!all) return { ...base, previewResults: [] };
  let results = all;
  const tagStatus = input.filter?.tagStatus;
  if (tagStatus === 'TAGGED') results = results.filter((r) => r.tags.length > 0);
  if (tagStatus === 'UNTAGGED') results = results.filter((r) => r.tags.length === 0);
  if (input.imageIds) {
    const wanted = input.imageIds;
    results = results.filter((r) =>
      wanted.some(
        (id) =>
          (id.imageDigest === undefined || id.imageDigest === r.digest) && (id.imageTag === undefined || r.tags.includes(id.imageTag)),
      ),
    );
  }
  const transitioning = results.filter((r) => r.action === 'TRANSITION').length;
  const summary = {
    expiringImageTotalCount: results.length - transitioning,
    ...(transitioning > 0
      ? { transitioningImageTotalCounts: [{ targetStorageClass: 'ARCHIVE' as const, imageTotalCount: transitioning }] }
      : {}),
  };
  const after = afterOf(input.nextToken);
  const limit = input.maxResults ?? 100;
  const start = after === undefined ? 0 : results.findIndex((r) => r.digest === after) + 1;
  const { shown, ...next } = pageOf(results.slice(start, start + limit + 1), limit, (r) => r.digest);
  const previewResults: Wire<LifecyclePolicyPreviewResult>[] = shown.map((r) => ({
    imageDigest: r.digest,
    ...(r.tags.length > 0 ? { imageTags: r.tags } : {}),
    imagePushedAt: epochSeconds(r.pushedAt),
    action: r.action === 'TRANSITION' ? { type: 'TRANSITION', targetStorageClass: 'ARCHIVE' } : { type: 'EXPIRE' },
    appliedRulePriority: r.appliedRulePriority,
  }));
  return { ...base, previewResults, summary, ...next };
}
