// The admin API: POST /_berth/admin/<action> with a JSON body of AdminArgs, authenticated with HTTP Basic as an
// account's root (its access key and secret). A root manages its own account only; creating accounts is for the
// default account's root.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { IdentityError } from '../auth/identity.ts';
import { isStorageFull, STORAGE_FULL_MESSAGE } from '../core/errors.ts';
import type { Stores } from '../server/app.ts';
import { sendJson } from '../server/json.ts';
import { readBody } from '../server/body.ts';
import type { Principal } from '../auth/principal.ts';
import { ADMIN_ACTIONS, type AdminArgs } from './actions.ts';

export const ADMIN_PREFIX = '/_berth/admin/';

export function adminHandler(stores: Stores) {
  const { identity } = stores;
  return async (req: IncomingMessage, res: ServerResponse, url: URL, seen: { principal?: Principal }): Promise<void> => {
    const send = (status: number, body: object) => sendJson(res, status, body);
    const auth = await identity.basic(req.headers.authorization);
    if (!auth || 'error' in auth) {
      res.setHeader('WWW-Authenticate', 'Basic realm="berth-admin"');
      return send(401, { error: 'Unauthorized', message: auth ? auth.error : 'authentication required' });
    }
    seen.principal = auth.principal;
    const name = url.pathname.slice(ADMIN_PREFIX.length);
    const action = ADMIN_ACTIONS[name];
    if (!action) return send(404, { error: 'UnknownAction', message: `no admin action "${name}"` });
    if (req.method !== 'POST') return send(405, { error: 'MethodNotAllowed', message: 'admin actions are POST requests' });
    const principal = auth.principal;
    let args: AdminArgs;
    try {
      const { bytes } = await readBody(req, 65536);
      if (!bytes) throw new Error('too large');
      const text = bytes.toString('utf8');
      args = text ? JSON.parse(text) : {};
      if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new Error('not an object');
    } catch {
      return send(400, { error: 'InvalidRequest', message: 'the body must be a JSON object' });
    }
    const denied = principal.kind !== 'root'
      || (args.account !== undefined && args.account !== principal.accountId)
      || (action.rootOfDefaultOnly && principal.accountId !== identity.defaultAccountId);
    if (denied) {
      return send(403, { error: 'AccessDenied', message: `User: ${principal.arn} is not authorized to perform admin action ${name}` });
    }
    try {
      send(200, (await action.run(stores, args, principal.accountId)) as object);
    } catch (e) {
      if (e instanceof IdentityError) return send(400, { error: 'InvalidRequest', message: e.message });
      if (isStorageFull(e)) return send(503, { error: 'StorageFull', message: STORAGE_FULL_MESSAGE });
      throw e;
    }
  };
}
