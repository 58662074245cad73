// What every data-plane handler gets: the request, the response, who is asking, and the core.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../auth/principal.ts';
import type { Authorizer, AuthzScope, EcrActions } from '../auth/authorizer.ts';
import type { Registry } from '../core/registry.ts';
import type { Repository } from '../storage/meta/store.ts';
import { fail } from '../core/errors.ts';
import { isValidRepositoryName } from '../core/grammar.ts';
import { repositoryArn } from '../core/arn.ts';

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

/**
 * Authorizes every action on the repository (DESIGN.md invariant 4), with its policy when it exists, or throws:
 * DENIED (403) for a known caller, UNAUTHORIZED (401, with the challenge) for an anonymous one.
 */
export async function allow(ctx: OciContext, account: string, name: string, repository: Repository | undefined, ...actions: EcrActions): Promise<void> {
  const { action, decision } = await decide(ctx, account, name, repository, actions);
  if (decision.allowed) return;
  if (ctx.principal.kind === 'anonymous') fail('UNAUTHORIZED', 'authentication required');
  fail('DENIED', `User: ${ctx.principal.arn} is not authorized to perform: ${action} on resource: ${repositoryArn(ctx.region, account, name)}`);
}

/** Whether the caller may describe a repository (for the catalog). */
export async function mayDescribe(ctx: OciContext, repository: Repository): Promise<boolean> {
  return (await decide(ctx, repository.accountId, repository.name, repository, ['ecr:DescribeRepositories'])).decision.allowed;
}


function decide(ctx: OciContext, account: string, name: string, repository: Repository | undefined, actions: EcrActions) {
  return ctx.authorizer.authorizeEach({
    principal: ctx.principal,
    resource: repositoryArn(ctx.region, account, name),
    resourceAccount: account,
    repository,
    sourceIp: ctx.req.socket.remoteAddress,
    scope: ctx.authzScope,
  }, actions);
}

/**
 * Authorizes, then resolves the repository (created on push when configured). A repository of the caller's
 * account is named as it is; another account's as `<account id>/<name>` (where ECR uses that account's
 * registry host), which its repository policy must open to the caller.
 */
export async function repositoryFor(ctx: OciContext, name: string, actions: EcrActions, forPush = false): Promise<Repository> {
  if (!isValidRepositoryName(name)) fail('NAME_INVALID', `invalid repository name "${name}"`, { name });
  const own = ctx.principal.accountId;
  const existing = await ctx.registry.meta.getRepository(own, name);
  const other = existing ? undefined : /^(\d{12})\/(.+)$/.exec(name);
  if (other && other[1] !== own && (await ctx.registry.meta.listAccounts()).includes(other[1])) {
    const [, account, otherName] = other;
    const repo = await ctx.registry.meta.getRepository(account, otherName);
    await allow(ctx, account, otherName, repo, ...actions);
    return repo ?? ctx.registry.repository(account, otherName);
  }
  await allow(ctx, own, name, existing, ...actions);
  return existing ?? ctx.registry.repository(own, name, forPush);
}
