// Every route Berth serves, with the authorization it needs, in one place: the data plane's routes
// (src/oci/routes.ts), the ECR operations (src/ecr/operations.ts), the admin actions (src/admin/actions.ts) and the
// console's pages (src/console/routes.ts) each declare their action(s) and resource, and each adapter's dispatcher decides before any handler runs. The
// few routes that need no decision are marked public here and in the OCI table (DESIGN.md: the `/v2/`
// challenge, the token endpoint, `/healthz`, `/readyz`, `/metrics` when configured public, the console's sign-in page and static assets), never by omission. test/integration/route-authz.test.ts walks
// this table. Which endpoint a request goes to is in ./endpoints.ts, which the server loads without these tables.
import { ADMIN_ACTIONS, type AdminAction } from '../admin/actions.ts';
import { allOperations, type EcrOperation } from '../ecr/operations.ts';
import { OCI_ROUTES, type OciRoute } from '../oci/routes.ts';
import { TOKEN_PATH } from './token.ts';
import type { Endpoint } from './endpoints.ts';

export { ENDPOINTS, endpointFor, type Endpoint, type EndpointRoute } from './endpoints.ts';
import { CONSOLE_ROUTES, type ConsoleRoute } from '../console/routes.ts';
import type { AdminAccess } from '../admin/access.ts';
import { METRICS_PATH } from './metrics.ts';
import { METRICS_ACCESS } from './metrics-route.ts';

/** The whole table, as a test walks it. */
export interface RouteTable {
  oci: OciRoute[];
  ecr: [string, EcrOperation][];
  admin: [string, AdminAction][];
  /** The web console's pages: public (sign-in, static assets) or needing a session, with the ECR operations each
   * may call (each authorized as over the ECR API). */
  console: ConsoleRoute[];
  /** GET /metrics: the action it needs, on the default account's registry (unless configured public). */
  metrics: { method: string; path: string; access: AdminAccess };
  /** Public endpoints outside the adapters, with a path to request. */
  public: { endpoint: Endpoint; method: string; path: string }[];
}

export function routeTable(): RouteTable {
  return {
    oci: OCI_ROUTES,
    ecr: allOperations(),
    admin: Object.entries(ADMIN_ACTIONS),
    console: CONSOLE_ROUTES,
    metrics: { method: 'GET', path: METRICS_PATH, access: METRICS_ACCESS },
    public: [
      { endpoint: 'token', method: 'GET', path: TOKEN_PATH },
      { endpoint: 'health', method: 'GET', path: '/healthz' },
      { endpoint: 'ready', method: 'GET', path: '/readyz' },
    ],
  };
}
