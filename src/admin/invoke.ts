// One admin action called by a principal: its target found, its declared IAM or Berth action(s) authorized
// (src/admin/access.ts), then run. The admin API (src/admin/api.ts) and the web console's users page both call it.
import type { Authorizer } from '../auth/authorizer.ts';
import type { Principal } from '../auth/principal.ts';
import type { Stores } from '../server/app.ts';
import { ADMIN_ACTIONS, type AdminArgs } from './actions.ts';
import { adminTarget, authorizeAdmin } from './access.ts';

/** A refused admin action, with the message the admin API answers. */
export class AdminDenied extends Error {
  constructor(principal: Principal, action: string, resource: string) {
    super(`User: ${principal.arn} is not authorized to perform: ${action} on resource: ${resource}`);
    this.name = 'AdminDenied';
  }
}

export interface AdminCall {
  principal: Principal;
  /** The action's name in ADMIN_ACTIONS (the caller has checked that it is one). */
  name: string;
  args: AdminArgs;
  sourceIp?: string;
}

/** Runs the action when the principal may, else throws AdminDenied; the action's own errors (IdentityError) as they are. */
export async function invokeAdminAction(stores: Stores, authorizer: Authorizer, call: AdminCall): Promise<unknown> {
  const action = ADMIN_ACTIONS[call.name];
  const env = {
    meta: stores.meta,
    region: stores.config.region,
    defaultAccountId: stores.identity.defaultAccountId,
    rootAccessKeyId: stores.rootKey.accessKeyId,
  };
  const target = await adminTarget(action.access, call.args, call.principal, env);
  const decision = await authorizeAdmin(authorizer, action.access, target, call.principal, call.sourceIp);
  if (!decision.allowed) throw new AdminDenied(call.principal, decision.action, target.resource);
  return action.run(stores, call.args, target.accountId);
}
