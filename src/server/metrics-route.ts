// GET /metrics: the one observability route that needs a credential (DESIGN.md): an access key (HTTP Basic, as
// Prometheus sends it) whose principal is allowed `berth:GetMetrics` on the default account's registry ARN, decided
// through the same authorize() as the admin API (src/admin/access.ts). With BERTH_METRICS_PUBLIC=true it answers
// without credentials.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authorizer } from '../auth/authorizer.ts';
import type { Principal } from '../auth/principal.ts';
import { adminTarget, authorizeAdmin, type AdminAccess } from '../admin/access.ts';
import { AdminDenied } from '../admin/invoke.ts';
import type { Stores } from './stores.ts';
import { sendJson } from './json.ts';
import type { Metrics } from './metrics.ts';

export const METRICS_ACCESS: AdminAccess = { actions: ['berth:GetMetrics'], resource: 'registry', registryWide: true };

export function metricsHandler(stores: Stores, authorizer: Authorizer, metrics: Metrics) {
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    _url: URL,
    seen: { principal?: Principal; loginFailed?: boolean },
  ): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendJson(res, 405, { error: 'MethodNotAllowed', message: 'GET /metrics' });
    }
    if (!stores.config.metricsPublic) {
      const auth = await stores.identity.accessKeyBasic(req.headers.authorization);
      if (!auth || 'error' in auth) {
        if (auth) seen.loginFailed = true;
        res.setHeader('WWW-Authenticate', 'Basic realm="berth-metrics"');
        return sendJson(res, 401, { error: 'Unauthorized', message: auth ? auth.error : 'authentication required' });
      }
      const principal = auth.principal;
      seen.principal = principal;
      const env = {
        meta: stores.meta,
        region: stores.config.region,
        defaultAccountId: stores.identity.defaultAccountId,
        rootAccessKeyId: stores.rootKey.accessKeyId,
      };
      const target = await adminTarget(METRICS_ACCESS, {}, principal, env);
      const decision = await authorizeAdmin(authorizer, METRICS_ACCESS, target, principal, req.socket.remoteAddress);
      if (!decision.allowed)
        return sendJson(res, 403, { error: 'AccessDenied', message: new AdminDenied(principal, decision.action, target.resource).message });
    }
    const { contentType, body } = await metrics.text();
    res.statusCode = 200;
    res.setHeader('Content-Type', contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
