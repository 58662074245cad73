// Which endpoint a request goes to, by method and path (the route table of ./routes.ts declares what each needs).
// Kept apart from the adapters' route tables, so that the server loads the ECR API, the admin API and the console
// (their modules and the ECR service model) only when a request first needs one of them.
import { TOKEN_PATH } from './token.ts';
import { METRICS_PATH } from './metrics.ts';

export const ADMIN_PREFIX = '/_berth/admin/';
export const CONSOLE_PREFIX = '/console';

/** Where a request goes: an adapter that decides per route, or a public endpoint. */
export type Endpoint = 'oci' | 'ecr' | 'admin' | 'console' | 'token' | 'health' | 'ready' | 'metrics';

export interface EndpointRoute {
  endpoint: Endpoint;
  matches: (method: string, pathname: string) => boolean;
  /** public: answered without an authorization decision; table: the adapter's own table decides per route. */
  access: 'public' | 'table';
}

export const ENDPOINTS: EndpointRoute[] = [
  { endpoint: 'oci', access: 'table', matches: (_m, p) => p === '/v2' || p.startsWith('/v2/') },
  { endpoint: 'ecr', access: 'table', matches: (m, p) => p === '/' && m === 'POST' },
  { endpoint: 'admin', access: 'table', matches: (_m, p) => p.startsWith(ADMIN_PREFIX) },
  { endpoint: 'console', access: 'table', matches: (_m, p) => p === CONSOLE_PREFIX || p.startsWith(`${CONSOLE_PREFIX}/`) },
  { endpoint: 'token', access: 'public', matches: (_m, p) => p === TOKEN_PATH },
  { endpoint: 'health', access: 'public', matches: (_m, p) => p === '/healthz' },
  { endpoint: 'ready', access: 'public', matches: (_m, p) => p === '/readyz' },
  // Public only when BERTH_METRICS_PUBLIC=true; else berth:GetMetrics on the registry (src/server/metrics-route.ts).
  { endpoint: 'metrics', access: 'table', matches: (_m, p) => p === METRICS_PATH },
];

export function endpointFor(method: string, pathname: string): Endpoint | undefined {
  return ENDPOINTS.find((e) => e.matches(method, pathname))?.endpoint;
}
