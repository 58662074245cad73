// What every ECR operation gets: the caller, the account the request addresses, the core, and helpers for
// authorization, repository lookup and the wire shapes.
import type { KeyHolder, Identity } from '../auth/identity.ts';
import type { Principal } from '../auth/principal.ts';
import type { Authorizer, AuthzScope, EcrAction } from '../auth/authorizer.ts';
import type { Registry } from '../core/registry.ts';
import type { Repositories } from '../core/repositories.ts';
import type { Images } from '../core/images.ts';
import type { Lifecycle } from '../lifecycle/worker.ts';
import type { Repository } from '../storage/meta/store.ts';
import { EcrError, repositoryNotFound } from './errors.ts';
import { repositoryArn } from '../core/arn.ts';
import { parseUntrustedJson } from '../core/json-limits.ts';

export interface EcrContext {
  operation: string;
  principal: Principal;
  holder: KeyHolder;
  identity: Identity;
  authorizer: Authorizer;
  /** This request's authorization scope (`authorizer.scope()`): every decision it makes shares it. */
  authzScope: AuthzScope;
  /** The caller's address (aws:SourceIp). */
  sourceIp?: string;
  registry: Registry;
  repositories: Repositories;
  images: Images;
  lifecycle: Lifecycle;
  region: string;
  /** host[:port] users reach the registry at, and its scheme. */
  publicHost: string;
  publicScheme: string;
  /** Part sizes of the ECR layer uploads in progress (parts but the last must be 5 MiB or more). */
  layerParts: LayerParts;
}

/** Per ECR layer upload: its last part's size, and whether an earlier part was under the minimum. Bounded;
 * lost on restart, when the 5 MiB rule goes unenforced for uploads in progress. */
export class LayerParts {
  private readonly parts = new Map<string, { last: number; small: boolean }>();

  add(id: string, size: number, minimum: number): void {
    const previous = this.parts.get(id);
    this.parts.delete(id);
    this.parts.set(id, { last: size, small: (previous?.small ?? false) || (previous !== undefined && previous.last < minimum) });
    if (this.parts.size > 100_000) this.parts.delete(this.parts.keys().next().value!);
  }

  smallBeforeLast(id: string): boolean {
    return this.parts.get(id)?.small ?? false;
  }

  delete(id: string): void {
    this.parts.delete(id);
  }
}


/** The account a request addresses: its registryId, else the caller's own. */
export function registryIdOf(ctx: EcrContext, input: { registryId?: string }): string {
  return input.registryId ?? ctx.principal.accountId;
}

export interface Target {
  resource: string;
  resourceAccount: string;
  repository?: Repository;
  requestTags?: { Key: string; Value: string }[];
}

/** Authorizes the operation's action on a resource, or throws AccessDeniedException with AWS's message. */
export async function allow(ctx: EcrContext, target: Target, action: EcrAction = `ecr:${ctx.operation}`): Promise<void> {
  const decision = await decide(ctx, target, action);
  if (decision.allowed) return;
  const why = decision.effect === 'ExplicitDeny'
    ? `with an explicit deny in ${decision.policy?.startsWith('repository/') ? 'a resource-based policy' : 'an identity-based policy'}`
    : target.resourceAccount !== ctx.principal.accountId || decision.policy?.startsWith('repository/')
      ? 'because no resource-based policy allows the ' + action + ' action'
      : 'because no identity-based policy allows the ' + action + ' action';
  throw new EcrError('AccessDeniedException', `User: ${ctx.principal.arn} is not authorized to perform: ${action} on resource: ${target.resource} ${why}`);
}

/** Whether the operation's action is allowed on a resource (for listings that show only what the caller may see). */
export async function allowed(ctx: EcrContext, target: Target, action: EcrAction = `ecr:${ctx.operation}`): Promise<boolean> {
  return (await decide(ctx, target, action)).allowed;
}

function decide(ctx: EcrContext, target: Target, action: EcrAction) {
  return ctx.authorizer.authorize({ principal: ctx.principal, action, sourceIp: ctx.sourceIp, scope: ctx.authzScope, ...target });
}

/** Authorizes the operation on the named repository and returns it, or RepositoryNotFoundException. */
export async function repositoryFor(ctx: EcrContext, input: { registryId?: string; repositoryName?: string }): Promise<Repository> {
  const registryId = registryIdOf(ctx, input);
  const name = input.repositoryName!;
  const repo = await ctx.registry.meta.getRepository(registryId, name);
  await allow(ctx, { resource: repositoryArn(ctx.region, registryId, name), resourceAccount: registryId, repository: repo });
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
function nextTokenOf(after: string): string {
  return Buffer.from(JSON.stringify({ a: after })).toString('base64url');
}

/** A page from the `limit + 1` items read past the cursor: the first `limit`, and a token when more follow. */
export function pageOf<T>(items: T[], limit: number, keyOf: (item: T) => string): { shown: T[]; nextToken?: string } {
  if (items.length <= limit) return { shown: items };
  const shown = items.slice(0, limit);
  return { shown, nextToken: nextTokenOf(keyOf(shown[shown.length - 1])) };
}

export function afterOf(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  try {
    const parsed = parseUntrustedJson(Buffer.from(token, 'base64url')) as { a?: unknown };
    if (typeof parsed.a === 'string') return parsed.a;
  } catch { /* fall through */ }
  throw new EcrError('InvalidParameterException', "Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid NextToken'");
}
