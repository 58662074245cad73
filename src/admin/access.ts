// The admin API's decision, made through the same authorize() as every other request (DESIGN.md invariant 4):
// each admin action declares its IAM or Berth action(s) and the resource it acts on (src/admin/actions.ts).
// An account's root may do everything in its account (the evaluator grants it); a user may do what its identity
// policies allow. A registry-wide action (garbage collection, fsck, usage, the test clock, creating accounts)
// acts on the default account's registry, so a principal of another account is refused as any cross-account
// request without a resource policy is.
import type { Actions, Authorizer } from '../auth/authorizer.ts';
import { userArn } from '../auth/identity.ts';
import { rootArn, type Principal } from '../auth/principal.ts';
import { registryArn } from '../core/arn.ts';
import type { MetaStore } from '../storage/meta/store.ts';
import type { AdminArgs } from './actions.ts';

export interface AdminAccess {
  actions: Actions;
  /**
   * user: `arn:aws:iam::<account>:user/<user>`; users: `.../user/*`; user-or-root: the user's ARN, or without a
   * user the account's root (whose keys only the root manages, as in IAM); key-owner: the ARN of the user (or root)
   * that holds `accessKeyId`; registry: `arn:aws:ecr:<region>:<account>:registry`.
   */
  resource: 'user' | 'users' | 'user-or-root' | 'key-owner' | 'registry';
  /** Acts on the whole registry, not one account: decided on the default account's registry. */
  registryWide?: boolean | ((args: AdminArgs) => boolean);
  /** Only a root may do it, whatever policies say (creating accounts). */
  rootOnly?: boolean;
}

export interface AdminTarget {
  /** The account the action acts in (its `account` argument, else the caller's). */
  accountId: string;
  resource: string;
  /** The root alone may act on this resource. */
  rootOnly: boolean;
}

/** The resource an admin action acts on, from its arguments. */
export async function adminTarget(
  access: AdminAccess,
  args: AdminArgs,
  caller: Principal,
  env: { meta: MetaStore; region: string; defaultAccountId: string; rootAccessKeyId: string },
): Promise<AdminTarget> {
  const wide = typeof access.registryWide === 'function' ? access.registryWide(args) : (access.registryWide ?? false);
  const accountId = wide ? env.defaultAccountId : (args.account ?? caller.accountId);
  const rootOnly = access.rootOnly ?? false;
  switch (access.resource) {
    case 'registry':
      return { accountId, resource: registryArn(env.region, accountId), rootOnly };
    case 'users':
      return { accountId, resource: userArn(accountId, '*'), rootOnly };
    case 'user':
      return { accountId, resource: userArn(accountId, args.user ?? '*'), rootOnly };
    case 'user-or-root':
      return args.user === undefined
        ? { accountId, resource: rootArn(accountId), rootOnly: true }
        : { accountId, resource: userArn(accountId, args.user), rootOnly };
    case 'key-owner': {
      // A key of this account names its holder; the configured root key and unknown keys name the root (and the
      // action then reports a key it cannot change), so that only a root learns whether a key exists.
      const key = args.accessKeyId && args.accessKeyId !== env.rootAccessKeyId ? await env.meta.getAccessKey(args.accessKeyId) : undefined;
      if (key && key.accountId === accountId && key.userName !== null)
        return { accountId, resource: userArn(accountId, key.userName), rootOnly };
      return { accountId, resource: rootArn(accountId), rootOnly: true };
    }
  }
}

/** The decision: allowed, or the action that was refused. */
export async function authorizeAdmin(
  authorizer: Authorizer,
  access: AdminAccess,
  target: AdminTarget,
  principal: Principal,
  sourceIp: string | undefined,
): Promise<{ allowed: true } | { allowed: false; action: string }> {
  if (target.rootOnly && principal.kind !== 'root') return { allowed: false, action: access.actions[0] };
  const { action, decision } = await authorizer.authorizeEach(
    {
      principal,
      resource: target.resource,
      resourceAccount: target.accountId,
      sourceIp,
      scope: authorizer.scope(),
    },
    access.actions,
  );
  return decision.allowed ? { allowed: true } : { allowed: false, action };
}
