// What every data-plane handler gets: the request, the response, who is asking, and the core; a repository
// route's handler also gets the repository the dispatcher resolved and authorized (src/oci/routes.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../auth/principal.ts';
import type { Authorizer, AuthzScope, EcrActions } from '../auth/authorizer.ts';
import type { Registry } from '../core/registry.ts';
import type { Repository } from '../storage/meta/store.ts';
import { fail } from '../core/errors.ts';
import { isValidRepositoryName } from '../core/grammar.ts';
import { repositoryArn } from '../core/arn.ts';

/** A repository name qualified by another account's id. */
export const ACCOUNT_QUALIFIED_NAME = /^(\d{12})\/(.+)$/;

export interface OciContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  head: boolean;
  principal: Principal;
  registry: Registry;
  authorizer: Authorizer;
  /** This request's authorization scope (`authorizer.scope()`): every decision it makes shares it. */
  authzScope: AuthzScope;
  region: string;
}

/** A repository route's context: the repository the route names, already authorized for the route's actions. */
export interface RepositoryContext extends OciContext {
  repository: Repository;
}

/** A listing route's context: whether the caller may see one repository, decided with the route's actions. */
export interface ListingContext extends OciContext {
  visible: (repository: Repository) => Promise<boolean>;
}

/**
 * Authorizes every action on the repository (DESIGN.md invariant 4), with its policy when it exists, or throws:
 * DENIED (403) for a known caller, UNAUTHORIZED (401, with the challenge) for an anonymous one.
 */
async function allow(
  ctx: OciContext,
  account: string,
  name: string,
  repository: Repository | undefined,
  actions: EcrActions,
): Promise<void> {
  const { action, decision } = await decide(ctx, account, name, repository, actions);
  if (decision.allowed) return;
  if (ctx.principal.kind === 'anonymous') fail('UNAUTHORIZED', 'authentication required');
  fail(
    'DENIED',
    `User: ${ctx.principal.arn} is not authorized to perform: ${action} on resource: ${repositoryArn(ctx.region, account, name)}`,
  );
}

/** Authorizes actions on a repository of an account: a route's second, conditional decision (the pull through cache's
 * import actions, src/oci/pull-through.ts). */
export const authorizeActions = allow;

/** Whether the caller may perform every action on an existing repository (listings filter with it). */
export async function mayPerform(ctx: OciContext, repository: Repository, actions: EcrActions): Promise<boolean> {
  return (await decide(ctx, repository.accountId, repository.name, repository, actions)).decision.allowed;
}

function decide(ctx: OciContext, account: string, name: string, repository: Repository | undefined, actions: EcrActions) {
  return ctx.authorizer.authorizeEach(
    {
      principal: ctx.principal,
      resource: repositoryArn(ctx.region, account, name),
      resourceAccount: account,
      repository,
      sourceIp: ctx.req.socket.remoteAddress,
      scope: ctx.authzScope,
    },
    actions,
  );
}

/**
 * Authorizes the actions on the repository a path names, then resolves it (created on push when configured and
 * `createOnPush`). A repository of the caller's account is named as it is; another account's as
 * `<account id>/<name>` (where ECR uses that account's registry host), which its repository policy must open to
 * the caller. The dispatcher calls it for every repository route; a handler calls it only for a second,
 * optional resource (the source of a cross-repository mount).
 */
export async function authorizeRepository(ctx: OciContext, name: string, actions: EcrActions, createOnPush = false): Promise<Repository> {
  if (!isValidRepositoryName(name)) fail('NAME_INVALID', `invalid repository name "${name}"`, { name });
  const own = ctx.principal.accountId;
  const existing = await ctx.registry.meta.getRepository(own, name);
  const other = existing ? undefined : ACCOUNT_QUALIFIED_NAME.exec(name);
  if (other && other[1] !== own && (await ctx.registry.meta.listAccounts()).includes(other[1])) {
    const [, account, otherName] = other;
    const repo = await ctx.registry.meta.getRepository(account, otherName);
    await allow(ctx, account, otherName, repo, actions);
    return repo ?? ctx.registry.repository(account, otherName);
  }
  await allow(ctx, own, name, existing, actions);
  return existing ?? ctx.registry.repository(own, name, createOnPush);
}
