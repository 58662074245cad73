// The admin API: POST /_berth/admin/<action> with a JSON body of AdminArgs, authenticated with HTTP Basic as an
// access key and its secret (a registry token from GetAuthorizationToken is for the /v2/ data plane only, as in
// ECR), and authorized through authorize() with the IAM or Berth action the admin action declares
// (src/admin/actions.ts, src/admin/access.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authorizer } from '../auth/authorizer.ts';
import { IdentityError } from '../auth/identity.ts';
import { JobFailedError } from '../jobs/runner.ts';
import { isStorageFull, STORAGE_FULL_MESSAGE } from '../core/errors.ts';
import type { Stores } from '../server/app.ts';
import { sendJson } from '../server/json.ts';
import { closeUnread, readBody } from '../server/body.ts';
import { parseUntrustedJson } from '../core/json-limits.ts';
import type { Principal } from '../auth/principal.ts';
import { ADMIN_ACTIONS, type AdminArgs } from './actions.ts';
import { AdminDenied, invokeAdminAction } from './invoke.ts';

import { ADMIN_PREFIX } from '../server/endpoints.ts';

export { ADMIN_PREFIX };

export function adminHandler(stores: Stores, authorizer: Authorizer) {
  const { identity } = stores;
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    seen: { principal?: Principal; loginFailed?: boolean },
  ): Promise<void> => {
    const send = (status: number, body: object) => sendJson(res, status, body);
    const auth = await identity.accessKeyBasic(req.headers.authorization);
    if (!auth || 'error' in auth) {
      if (auth) seen.loginFailed = true;
      res.setHeader('WWW-Authenticate', 'Basic realm="berth-admin"');
      return send(401, { error: 'Unauthorized', message: auth ? auth.error : 'authentication required' });
    }
    seen.principal = auth.principal;
    const name = url.pathname.slice(ADMIN_PREFIX.length);
    const action = Object.hasOwn(ADMIN_ACTIONS, name) ? ADMIN_ACTIONS[name] : undefined;
    if (!action) return send(404, { error: 'UnknownAction', message: `no admin action "${name}"` });
    if (req.method !== 'POST') return send(405, { error: 'MethodNotAllowed', message: 'admin actions are POST requests' });
    const principal = auth.principal;
    let args: AdminArgs;
    try {
      const { bytes } = await readBody(req, 65536);
      if (!bytes) {
        closeUnread(req, res);
        return send(413, { error: 'RequestTooLarge', message: 'the body is larger than 65536 bytes' });
      }
      args = bytes.length > 0 ? (parseUntrustedJson(bytes) as AdminArgs) : {};
      if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new Error('not an object');
      for (const key of [
        'account',
        'user',
        'accessKeyId',
        'repository',
        'path',
        'sha256',
        'source',
        'image',
        'url',
        'webhookId',
        'contains',
        'since',
        'until',
        'region',
        'registryId',
        'destinationType',
        'username',
        'password',
        'name',
        'managedBy',
        'secretString',
      ] as const) {
        if (args[key] !== undefined && typeof args[key] !== 'string') throw new Error(`${key} is not a string`);
      }
    } catch {
      return send(400, {
        error: 'InvalidRequest',
        message: 'the body must be a JSON object (account, user, accessKeyId and repository are strings)',
      });
    }
    try {
      send(200, (await invokeAdminAction(stores, authorizer, { principal, name, args, sourceIp: req.socket.remoteAddress })) as object);
    } catch (e) {
      if (e instanceof AdminDenied) return send(403, { error: 'AccessDenied', message: e.message });
      if (e instanceof IdentityError) return send(400, { error: 'InvalidRequest', message: e.message });
      if (isStorageFull(e)) return send(503, { error: 'StorageFull', message: STORAGE_FULL_MESSAGE });
      if (e instanceof JobFailedError) return send(500, { error: 'JobFailed', message: e.message });
      throw e;
    }
  };
}
