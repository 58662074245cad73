// What every data-plane handler gets: the request, the response, who is asking, and the core.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../auth/principal.ts';
import { authorize, type EcrAction } from '../auth/authorize.ts';
import type { Registry } from '../core/registry.ts';
import type { Repository } from '../storage/meta/store.ts';
import { fail } from '../core/errors.ts';
import type { Logger } from '../server/log.ts';

export interface OciContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  head: boolean;
  principal: Principal;
  registry: Registry;
  region: string;
  log: Logger;
}

export const repositoryArn = (region: string, accountId: string, name: string) =>
  `arn:aws:ecr:${region}:${accountId}:repository/${name}`;

/** Authorizes every action for the repository (DESIGN.md invariant 4) or throws DENIED. */
export function allow(ctx: OciContext, name: string, ...actions: EcrAction[]): void {
  const arn = repositoryArn(ctx.region, ctx.principal.accountId, name);
  for (const action of actions) {
    const decision = authorize(ctx.principal, action, arn);
    if (!decision.allowed) {
      ctx.log.info({ audit: true, principal: ctx.principal.arn, action, resource: arn, allowed: false, reason: decision.reason });
      fail('DENIED', `User: ${ctx.principal.arn} is not authorized to perform: ${action} on resource: ${arn}`);
    }
  }
}

/** Authorizes, then resolves the repository (created on push when configured). */
export async function repositoryFor(ctx: OciContext, name: string, actions: EcrAction[], forPush = false): Promise<Repository> {
  allow(ctx, name, ...actions);
  return ctx.registry.repository(ctx.principal.accountId, name, forPush);
}
