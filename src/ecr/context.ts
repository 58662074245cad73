// What every ECR operation gets: the caller, the account the request addresses, the core, and helpers for
// authorization, repository lookup and the wire shapes.
import type { KeyHolder, Identity } from '../auth/identity.ts';
import type { Principal } from '../auth/principal.ts';
import { authorize, type EcrAction } from '../auth/authorize.ts';
import type { Registry } from '../core/registry.ts';
import type { Repositories } from '../core/repositories.ts';
import type { Images } from '../core/images.ts';
import type { Repository } from '../storage/meta/store.ts';
import type { Logger } from '../server/log.ts';
import { EcrError, repositoryNotFound } from './errors.ts';

export interface EcrContext {
  operation: string;
  principal: Principal;
  holder: KeyHolder;
  identity: Identity;
  registry: Registry;
  repositories: Repositories;
  images: Images;
  region: string;
  /** host[:port] users reach the registry at, and its scheme. */
  publicHost: string;
  publicScheme: string;
  log: Logger;
  now: () => number;
}

export const repositoryArn = (ctx: EcrContext, accountId: string, name: string) =>
  `arn:aws:ecr:${ctx.region}:${accountId}:repository/${name}`;

/** The account a request addresses: its registryId, else the caller's own. */
export function registryIdOf(ctx: EcrContext, input: { registryId?: string }): string {
  return input.registryId ?? ctx.principal.accountId;
}

/** Authorizes the operation's action on a resource, or throws AccessDeniedException with AWS's message. */
export function allow(ctx: EcrContext, resource: string, action: EcrAction = `ecr:${ctx.operation}`): void {
  const decision = authorize(ctx.principal, action, resource);
  if (!decision.allowed) {
    ctx.log.info({ audit: true, principal: ctx.principal.arn, action, resource, allowed: false, reason: decision.reason });
    throw new EcrError('AccessDeniedException', `User: ${ctx.principal.arn} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`);
  }
}

/** Authorizes the operation on the named repository and returns it, or RepositoryNotFoundException. */
export async function repositoryFor(ctx: EcrContext, input: { registryId?: string; repositoryName?: string }): Promise<Repository> {
  const registryId = registryIdOf(ctx, input);
  const name = input.repositoryName!;
  allow(ctx, repositoryArn(ctx, registryId, name));
  const repo = await ctx.registry.meta.getRepository(registryId, name);
  if (!repo) throw repositoryNotFound(name, registryId);
  return repo;
}

/** AWS JSON timestamps are epoch seconds. */
export const epochSeconds = (ms: number) => ms / 1000;

/** A wire shape: the SDK's output type with its Date fields as epoch seconds (numbers). */
export type Wire<T> = T extends Date ? number
  : T extends (infer U)[] ? Wire<U>[]
  : T extends object ? { [K in keyof T]: Wire<T[K]> }
  : T;

/** Opaque pagination tokens: the key of the last item returned. */
export function nextTokenOf(after: string): string {
  return Buffer.from(JSON.stringify({ a: after })).toString('base64url');
}

export function afterOf(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { a?: unknown };
    if (typeof parsed.a === 'string') return parsed.a;
  } catch { /* fall through */ }
  throw new EcrError('InvalidParameterException', "Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid NextToken'");
}
