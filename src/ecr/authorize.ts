// The ECR dispatcher's decision: what each operation declares in the table (src/ecr/operations.ts), authorized
// before the operation runs, with AWS's AccessDeniedException when it is not. The operation then finds what was
// authorized in its context: the repository, the repositories named, or the filter of a listing.
import { REPOSITORY_ARN } from './repositories.ts';
import type { EcrActions } from '../auth/authorizer.ts';
import { registryArn, repositoryArn } from '../core/arn.ts';
import type { Repository, ResourceTag } from '../storage/meta/store.ts';
import type { EcrContext } from './context.ts';
import { EcrError, invalidParameter, repositoryNotFound } from './errors.ts';

/** The resource an operation acts on, named by its input. */
export type EcrResource =
  /** `repositoryName` in `registryId` (else the caller's registry); it must exist unless `mayBeMissing`. */
  | { kind: 'repository'; mayBeMissing?: boolean }
  /** A repository the operation creates (CreateRepository). */
  | { kind: 'new-repository' }
  /** `repositoryNames`, each decided; without names, a listing that shows what the caller may see. */
  | { kind: 'repositories' }
  /** The repository `resourceArn` names (the tag operations). */
  | { kind: 'tagged-resource' }
  /** The registry of `registryId` (else the caller's). */
  | { kind: 'registry' }
  /** No resource ("*"): GetAuthorizationToken. */
  | { kind: 'none' };

export interface EcrAccess {
  resource: EcrResource;
  /** The actions, when more than `ecr:<Operation>` (tag-on-create); the first denied one is reported. */
  actions?: (input: any) => EcrActions; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Tags the request sets (aws:RequestTag/<key>, aws:TagKeys). */
  requestTags?: (input: any) => ResourceTag[] | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Tag keys the request names without values (aws:TagKeys). */
  tagKeys?: (input: any) => string[] | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** What was authorized, for the operation to use. */
export interface Authorized {
  /** The account the request addresses: its registryId, else the caller's own. */
  registryId: string;
  /** kind repository (when it exists) and tagged-resource. */
  repository?: Repository;
  /** kind repositories with names: each, in the order named. */
  repositories?: Repository[];
  /** kind repositories without names: whether the caller may see one, and the refusal when it may see none. */
  listing?: { visible: (repository: Repository) => Promise<boolean>; refuse: () => Promise<void> };
}

interface Target {
  resource: string;
  resourceAccount: string;
  repository?: Repository;
}

/** Authorizes an operation as its table entry declares, or throws (AccessDeniedException, RepositoryNotFoundException). */
export async function authorizeOperation(ctx: EcrContext, access: EcrAccess, input: Record<string, unknown>): Promise<Authorized> {
  const actions = access.actions?.(input) ?? ([`ecr:${ctx.operation}`] as EcrActions);
  const tags = { requestTags: access.requestTags?.(input), tagKeys: access.tagKeys?.(input) };
  const registryId = typeof input.registryId === 'string' ? input.registryId : ctx.principal.accountId;
  const repositoryTarget = async (accountId: string, name: string): Promise<Target> => ({
    resource: repositoryArn(ctx.region, accountId, name),
    resourceAccount: accountId,
    repository: await ctx.registry.meta.getRepository(accountId, name),
  });
  const resource = access.resource;
  switch (resource.kind) {
    case 'none':
      await allow(ctx, { resource: '*', resourceAccount: ctx.principal.accountId }, actions, tags);
      return { registryId };
    case 'registry':
      await allow(ctx, { resource: registryArn(ctx.region, registryId), resourceAccount: registryId }, actions, tags);
      return { registryId };
    case 'new-repository':
      await allow(
        ctx,
        { resource: repositoryArn(ctx.region, registryId, input.repositoryName as string), resourceAccount: registryId },
        actions,
        tags,
      );
      return { registryId };
    case 'repository': {
      const target = await repositoryTarget(registryId, input.repositoryName as string);
      await allow(ctx, target, actions, tags);
      if (!target.repository && !resource.mayBeMissing) throw repositoryNotFound(input.repositoryName as string, registryId);
      return { registryId, repository: target.repository };
    }
    case 'tagged-resource': {
      const arn = input.resourceArn as string;
      const m = REPOSITORY_ARN.exec(arn);
      if (!m) throw invalidParameter(`Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN: ${arn}'`);
      const [, , accountId, name] = m;
      const target = await repositoryTarget(accountId, name);
      await allow(ctx, target, actions, tags);
      if (!target.repository) throw repositoryNotFound(name, accountId);
      return { registryId: accountId, repository: target.repository };
    }
    case 'repositories': {
      const names = input.repositoryNames as string[] | undefined;
      if (names) {
        // Several resources: each is decided, and the first refused or missing one fails the request, as in ECR.
        const repositories: Repository[] = [];
        for (const name of names) {
          const target = await repositoryTarget(registryId, name);
          await allow(ctx, target, actions, tags);
          if (!target.repository) throw repositoryNotFound(name, registryId);
          repositories.push(target.repository);
        }
        return { registryId, repositories };
      }
      return {
        registryId,
        listing: {
          visible: async (repository) =>
            (
              await decide(
                ctx,
                { resource: repositoryArn(ctx.region, registryId, repository.name), resourceAccount: registryId, repository },
                actions,
                tags,
              )
            ).decision.allowed,
          // Nothing visible: a caller with no right to list repositories at all is refused, as in ECR.
          refuse: () => allow(ctx, { resource: repositoryArn(ctx.region, registryId, '*'), resourceAccount: registryId }, actions, tags),
        },
      };
    }
  }
}

type TagKeys = { requestTags?: ResourceTag[]; tagKeys?: string[] };

function decide(ctx: EcrContext, target: Target, actions: EcrActions, tags: TagKeys) {
  return ctx.authorizer.authorizeEach(
    { principal: ctx.principal, sourceIp: ctx.sourceIp, scope: ctx.authzScope, ...target, ...tags },
    actions,
  );
}

/** Authorizes every action on a resource, or throws AccessDeniedException with AWS's message. */
async function allow(ctx: EcrContext, target: Target, actions: EcrActions, tags: TagKeys = {}): Promise<void> {
  const { action, decision } = await decide(ctx, target, actions, tags);
  if (decision.allowed) return;
  const why =
    decision.effect === 'ExplicitDeny'
      ? `with an explicit deny in ${decision.policy?.startsWith('repository/') ? 'a resource-based policy' : 'an identity-based policy'}`
      : target.resourceAccount !== ctx.principal.accountId || decision.policy?.startsWith('repository/')
        ? 'because no resource-based policy allows the ' + action + ' action'
        : 'because no identity-based policy allows the ' + action + ' action';
  throw new EcrError(
    'AccessDeniedException',
    `User: ${ctx.principal.arn} is not authorized to perform: ${action} on resource: ${target.resource} ${why}`,
  );
}

/**
 * Whether the caller would still be allowed an action with a repository's policy replaced: SetRepositoryPolicy's
 * guard against lock-out. A check of the new policy, not an access decision (the table made that one).
 */
export async function wouldStillAllow(ctx: EcrContext, repository: Repository, action: EcrActions[0]): Promise<boolean> {
  const target = {
    resource: repositoryArn(ctx.region, repository.accountId, repository.name),
    resourceAccount: repository.accountId,
    repository,
  };
  return (await decide(ctx, target, [action], {})).decision.allowed;
}
