// The Berth server: opens the stores, and answers HTTP: /v2/ goes to the OCI adapter, POST / to the ECR API,
// /_berth/token to the token endpoint, /_berth/admin/ to the admin API. Runs garbage collection and lifecycle
// policies on their schedules.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Config } from '../config.ts';
import { parseListen } from '../config.ts';
import type { RootKey } from '../auth/credentials.ts';
import type { Principal } from '../auth/principal.ts';
import { Authorizer } from '../auth/authorizer.ts';
import { ociHandler } from '../oci/router.ts';
import { ecrHandler } from '../ecr/protocol.ts';
import { ADMIN_PREFIX, adminHandler } from '../admin/api.ts';
import { createLogger, type Logger } from './log.ts';
import { announceServer } from './presence.ts';
import { openStores } from './stores.ts';
import { TOKEN_PATH, tokenHandler } from './token.ts';
import { sendJson } from './json.ts';

export interface Berth {
  server: Server;
  /** http://host:port actually listened on. */
  url: string;
  /** What users type: host[:port] from BERTH_PUBLIC_URL, else the listen address. */
  publicHost: string;
  publicScheme: string;
  accountId: string;
  rootKey: RootKey;
  config: Config;
  log: Logger;
  close(): Promise<void>;
}

export { openStores, type Stores } from './stores.ts';

export async function startBerth(config: Config): Promise<Berth> {
  const log = createLogger(config.logLevel);
  const stores = await openStores(config);
  const { dataDir, meta, accountId, rootKey, identity, registry, repositories, images, lifecycle, audit, clock } = stores;

  const { host, port } = parseListen(config.listen);
  // Listen first: the host users see (repository URIs, token endpoints) needs the port actually bound.
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolveListen());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  const publicHost = config.publicUrl ? hostOf(config.publicUrl) : url.replace('http://', '');
  const publicScheme = config.publicUrl?.startsWith('https://') ? 'https' : 'http';
  const authorizer = new Authorizer(meta, audit, clock.now);
  const oci = ociHandler({
    registry, identity, authorizer, region: config.region, defaultAccountId: accountId, realm: publicHost,
    tokenRealm: `${publicScheme}://${publicHost}${TOKEN_PATH}`,
  });
  const token = tokenHandler({ identity, realm: publicHost, audit, refreshTokenTtlMs: config.refreshTokenTtlSeconds * 1000, now: clock.now });
  const admin = adminHandler(stores);
  const ecr = ecrHandler({ identity, authorizer, registry, repositories, images, lifecycle, region: config.region, publicHost, publicScheme, log, now: clock.now });

  // Attached before any I/O can run (this continues in the microtask after listening), so no request is missed.
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const seen: { principal?: Principal; operation?: string } = {};
    // The Date header tells clients the server's time (the AWS SDKs correct their clock skew from it): it comes
    // from the clock that SigV4 and tokens are checked against, the test clock included.
    if (clock.adjustable) res.setHeader('Date', new Date(clock.now()).toUTCString());
    res.once('finish', () => accessLog(log, req, res, seen, started));
    handle(req, res, seen).catch((e: unknown) => {
      // A client that goes away mid-request is an ordinary event, not a server error.
      const aborted = req.destroyed || (e as NodeJS.ErrnoException).code === 'ECONNRESET' || (e as Error).message === 'aborted';
      if (aborted) log.info({ method: req.method, path: pathOf(req) }, 'client went away');
      else log.error({ err: e, method: req.method, path: pathOf(req) }, 'request failed');
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader('Content-Type', 'application/json');
        res.setHeader('Connection', 'close');
        res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'internal error', detail: null }] }));
      } else {
        res.destroy();
      }
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, seen: { principal?: Principal; operation?: string }): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://berth');
    if (url.pathname === '/v2' || url.pathname.startsWith('/v2/')) return oci(req, res, url, seen);
    if (url.pathname === '/' && req.method === 'POST') return ecr(req, res, url, seen);
    if (url.pathname.startsWith(ADMIN_PREFIX)) return admin(req, res, url, seen);
    if (url.pathname === TOKEN_PATH) return token(req, res, url, seen);
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    sendJson(res, 404, { message: `no route for ${req.method} ${url.pathname}` });
  }

  const unannounce = announceServer(dataDir, url);
  // Garbage collection on a schedule (and on demand through `berth gc` / the admin API).
  const gcTimer = config.gcIntervalSeconds > 0 ? setInterval(() => {
    stores.gc(false).then(
      (r) => log.info({ gc: { blobs: r.blobsDeleted, bytes: r.bytesDeleted, orphans: r.orphanFilesDeleted, uploads: r.uploadsDeleted, ms: r.durationMs } }, 'garbage collection'),
      (e: unknown) => log.error({ err: e }, 'garbage collection failed'),
    );
  }, config.gcIntervalSeconds * 1000) : undefined;
  gcTimer?.unref();
  // Lifecycle policies on a schedule (daily by default, as ECR), and on demand (`berth lifecycle run`).
  const lifecycleTimer = config.lifecycleIntervalSeconds > 0 ? setInterval(() => {
    lifecycle.runAll().then(
      (reports) => log.info({ lifecycle: reports.map((r) => ({ repository: r.repositoryName, expired: r.expired.length })) }, 'lifecycle policies applied'),
      (e: unknown) => log.error({ err: e }, 'lifecycle run failed'),
    );
  }, config.lifecycleIntervalSeconds * 1000) : undefined;
  lifecycleTimer?.unref();

  return {
    server, url, publicHost, publicScheme, accountId, rootKey, config, log,
    async close() {
      if (gcTimer) clearInterval(gcTimer);
      if (lifecycleTimer) clearInterval(lifecycleTimer);
      unannounce();
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      audit.flush();
      await meta.close();
    },
  };
}


function hostOf(publicUrl: string): string {
  return new URL(publicUrl.includes('://') ? publicUrl : `http://${publicUrl}`).host;
}

/** The path without its query string: signed URLs carry secrets in the query, and logs never hold secrets. */
function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0];
}

function accessLog(log: Logger, req: IncomingMessage, res: ServerResponse, seen: { principal?: Principal; operation?: string }, started: bigint): void {
  if (!log.isLevelEnabled('info')) return;
  log.info({
    method: req.method,
    path: pathOf(req),
    ...(seen.operation ? { operation: seen.operation } : {}),
    status: res.statusCode,
    ms: Number(process.hrtime.bigint() - started) / 1e6,
    principal: seen.principal?.arn,
    remote: req.socket.remoteAddress,
  });
}
