// ECR pull time update exclusions: RegisterPullTimeUpdateExclusion, DeregisterPullTimeUpdateExclusion,
// ListPullTimeUpdateExclusions, on the caller's registry (authorized by the dispatcher, src/ecr/operations.ts). A
// pull by an excluded principal does not update the image's last-pull time (Registry.recordPull), so scanners and
// other automation do not keep images alive for lifecycle's "since image pulled" rules.
import type {
  DeregisterPullTimeUpdateExclusionRequest,
  DeregisterPullTimeUpdateExclusionResponse,
  ListPullTimeUpdateExclusionsRequest,
  ListPullTimeUpdateExclusionsResponse,
  RegisterPullTimeUpdateExclusionRequest,
  RegisterPullTimeUpdateExclusionResponse,
} from '@aws-sdk/client-ecr';
import { afterOf, epochSeconds, pageOf, type EcrContext, type Wire } from './context.ts';
import { EcrError } from './errors.ts';

const DEFAULT_PAGE = 100;

export async function registerPullTimeUpdateExclusion(
  ctx: EcrContext,
  input: RegisterPullTimeUpdateExclusionRequest,
): Promise<Wire<RegisterPullTimeUpdateExclusionResponse>> {
  const { registryId } = ctx.authorized;
  const principalArn = input.principalArn!;
  const now = Date.now();
  if (!(await ctx.registry.meta.addPullTimeExclusion(registryId, principalArn, now))) {
    throw new EcrError(
      'ExclusionAlreadyExistsException',
      `The principal '${principalArn}' is already excluded from pull time updates in the registry with id '${registryId}'`,
    );
  }
  return { principalArn, createdAt: epochSeconds(now) };
}

export async function deregisterPullTimeUpdateExclusion(
  ctx: EcrContext,
  input: DeregisterPullTimeUpdateExclusionRequest,
): Promise<Wire<DeregisterPullTimeUpdateExclusionResponse>> {
  const { registryId } = ctx.authorized;
  const principalArn = input.principalArn!;
  if (!(await ctx.registry.meta.removePullTimeExclusion(registryId, principalArn))) {
    throw new EcrError(
      'ExclusionNotFoundException',
      `The principal '${principalArn}' is not excluded from pull time updates in the registry with id '${registryId}'`,
    );
  }
  return { principalArn };
}

export async function listPullTimeUpdateExclusions(
  ctx: EcrContext,
  input: ListPullTimeUpdateExclusionsRequest,
): Promise<Wire<ListPullTimeUpdateExclusionsResponse>> {
  const { registryId } = ctx.authorized;
  const limit = input.maxResults ?? DEFAULT_PAGE;
  const after = afterOf(input.nextToken);
  const all = (await ctx.registry.meta.listPullTimeExclusions(registryId))
    .map((e) => e.principalArn)
    .filter((a) => after === undefined || a > after);
  const { shown, ...next } = pageOf(all.slice(0, limit + 1), limit, (a) => a);
  return { pullTimeUpdateExclusions: shown, ...next };
}
