// The Berth server: opens the stores, and answers HTTP: /v2/ goes to the OCI adapter, POST / to the ECR API,
// /_berth/token to the token endpoint, /_berth/admin/ to the admin API, /console/ to the web console. Runs garbage collection and lifecycle
// policies on their schedules.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { Http2SecureServer } from 'node:http2';
import type { Config } from '../config.ts';
import { parseListen } from '../config.ts';
import type { RootKey } from '../auth/credentials.ts';
import type { Principal } from '../auth/principal.ts';
import { Authorizer } from '../auth/authorizer.ts';
import { ociHandler } from '../oci/router.ts';
import { endpointFor } from './endpoints.ts';
import { createLogger, type Logger } from './log.ts';
import { announceServer } from './presence.ts';
import { GC_JOB, LIFECYCLE_JOB, openStores } from './stores.ts';
import { TOKEN_PATH, tokenHandler } from './token.ts';
import { sendJson } from './json.ts';
import { limitConnections, limitHttp1OverTls, serverTimeouts } from './connection-limits.ts';
import { PrincipalRequests } from './request-limits.ts';
import { LoginFailures, refuseBlockedLogin } from './login-failures.ts';
import { isNoSpace, isStorageFull, STORAGE_FULL_MESSAGE } from '../core/errors.ts';
import type { TlsFiles, TlsReloader } from './tls.ts';
import { Metrics } from './metrics.ts';
import { WEBHOOK_JOB } from '../core/webhooks.ts';
import { USAGE_SNAPSHOT_JOB } from '../core/usage-history.ts';
import { AUDIT_RETENTION_JOB } from './audit-table.ts';
import { metricsHandler } from './metrics-route.ts';
import { Readiness } from './readiness.ts';
import { ADMIN_ACTIONS } from '../admin/actions.ts';

export interface Berth {
  server: Server | Http2SecureServer;
  /** http(s)://host:port actually listened on. */
  url: string;
  /** With TLS: the certificate files, and how to reload them (SIGHUP); lines telling how to trust a self-signed one. */
  tls?: TlsFiles & { reloader: TlsReloader; trust?: string[] };
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

/** What a request's handler tells the server about it: who asked, the ECR operation, whether a login failed. */
interface Seen {
  principal?: Principal;
  operation?: string;
  loginFailed?: boolean;
  endpoint?: string;
  route?: string;
}

// node:http through require, not an ES import: an ES import of a built-in module reads every export to make its
// namespace, and node:http's lazy WebSocket, CloseEvent and MessageEvent getters then load undici (about 4 MiB of
// resident memory at start, for a client that the server never uses).
const { createServer } = createRequire(import.meta.url)('node:http') as typeof import('node:http');

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, seen: Seen) => Promise<void>;

/** A handler made on its first request: the web console, the ECR API and the admin API (their modules, the ECR
 * service model among them, and what they build) are loaded only when they are first used, which keeps them out of
 * an idle server's memory and its start time. */
function onFirstUse(make: () => Promise<Handler>): Handler {
  let made: Promise<Handler> | undefined;
  return async (req, res, url, seen) => {
    made ??= make().catch((e: unknown) => {
      made = undefined;
      throw e;
    });
    return (await made)(req, res, url, seen);
  };
}

export async function startBerth(config: Config): Promise<Berth> {
  const log = createLogger(config.logLevel);
  const stores = await openStores(config, log);
  const { dataDir, meta, accountId, rootKey, identity, registry, repositories, images, lifecycle, scanner, audit, clock, jobs, space } =
    stores;

  const { host, port } = parseListen(config.listen);
  // Listen first: the host users see (repository URIs, token endpoints) needs the port actually bound.
  // With TLS: HTTP/2 for clients that offer it (ALPN), HTTP/1.1 for the others, on the same port.
  // The certificate generator (node-forge) is loaded only to make a self-signed certificate.
  const selfSigned = config.tlsSelfSigned && !(config.tlsCertFile && config.tlsKeyFile) ? await import('./self-signed.ts') : undefined;
  const tlsFiles: (TlsFiles & { created?: boolean }) | undefined =
    config.tlsCertFile && config.tlsKeyFile
      ? { certFile: config.tlsCertFile, keyFile: config.tlsKeyFile }
      : selfSigned
        ? selfSigned.selfSignedCertificate(dataDir, [
            host,
            ...(config.publicUrl
              ? [
                  new URL(config.publicUrl.includes('://') ? config.publicUrl : `https://${config.publicUrl}`).hostname.replace(
                    /^\[|\]$/g,
                    '',
                  ),
                ]
              : []),
          ])
        : undefined;
  const timeouts = serverTimeouts(config);
  // node:http2 and node:tls (about 9 MiB resident between them) are loaded only to serve TLS.
  const tlsModule = tlsFiles ? await import('./tls.ts') : undefined;
  const { createSecureServer } = tlsFiles ? await import('node:http2') : { createSecureServer: undefined };
  const server: Server = tlsFiles
    ? (Object.assign(createSecureServer!({ allowHTTP1: true, ...tlsModule!.readTls(tlsFiles) }), {
        keepAliveTimeout: 65_000,
        ...timeouts,
      }) as unknown as Server)
    : createServer({ keepAliveTimeout: 65_000, ...timeouts });
  limitConnections(server, config);
  if (tlsFiles) limitHttp1OverTls(server, config);
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolveListen());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const scheme = tlsFiles ? 'https' : 'http';
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  const publicHost = config.publicUrl ? hostOf(config.publicUrl) : url.replace(`${scheme}://`, '');
  const publicScheme = config.publicUrl ? (config.publicUrl.startsWith('https://') ? 'https' : 'http') : scheme;
  const tls = tlsFiles && {
    certFile: tlsFiles.certFile,
    keyFile: tlsFiles.keyFile,
    reloader: tlsModule!.watchTls(server as unknown as Http2SecureServer, tlsFiles, log, config.tlsReloadIntervalSeconds * 1000),
    trust: selfSigned ? selfSigned.trustInstructions(tlsFiles.certFile, publicHost) : undefined,
  };
  const authorizer = new Authorizer(meta, audit, clock.now);
  const requests = new PrincipalRequests(config.maxRequestsPerPrincipal);
  const logins = new LoginFailures(config.maxLoginFailuresPerMinute, clock.now);
  const oci = ociHandler({
    registry,
    identity,
    authorizer,
    requests,
    region: config.region,
    defaultAccountId: accountId,
    realm: publicHost,
    tokenRealm: `${publicScheme}://${publicHost}${TOKEN_PATH}`,
  });
  const token = tokenHandler({
    identity,
    realm: publicHost,
    audit,
    refreshTokenTtlMs: config.refreshTokenTtlSeconds * 1000,
    now: clock.now,
  });
  const admin = onFirstUse(async () => (await import('../admin/api.ts')).adminHandler(stores, authorizer));
  const webConsole = onFirstUse(async () =>
    (await import('../console/handler.ts')).consoleHandler({
      stores,
      meta,
      identity,
      authorizer,
      registry,
      repositories,
      images,
      lifecycle,
      scanner,
      region: config.region,
      publicHost,
      publicScheme,
      layerParts: new (await import('../ecr/context.ts')).LayerParts(meta),
      secureCookies: publicScheme === 'https',
      sessionTtlMs: config.consoleSessionTtlSeconds * 1000,
      loginBlockedFor: (address) => logins.blockedFor(address),
    }),
  );
  const metrics = new Metrics({
    uploadsInProgress: async () => (await meta.listUploads()).length,
    storage: () => space.status(),
    usage: () => meta.usage(),
  });
  registry.uploadedBytes = (bytes) => metrics.uploaded(bytes);
  jobs.observe((kind, outcome, result) => metrics.job(kind, outcome, result));
  const metricsEndpoint = metricsHandler(stores, authorizer, metrics);
  const readiness = new Readiness({ metadata: () => meta.getSetting('default_account_id'), blobs: () => stores.blobs.probe() }, log);
  const ecr = onFirstUse(async () => {
    ecrOperations = (await import('../ecr/operations.ts')).OPERATIONS;
    return (await import('../ecr/protocol.ts')).ecrHandler({
      identity,
      authorizer,
      requests,
      registry,
      repositories,
      images,
      lifecycle,
      scanner,
      region: config.region,
      publicHost,
      publicScheme,
      log,
      now: clock.now,
    });
  });

  // Requests starting and ending tell garbage collection the registry is busy: it then leaves them more of the
  // event loop (gc/collector.ts, pace()).
  let lastRequestActivity = 0;
  stores.collector.busy = () => performance.now() - lastRequestActivity < 50;

  // Attached before any I/O can run (this continues in the microtask after listening), so no request is missed.
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    lastRequestActivity = performance.now();
    const seen: Seen = {};
    const address = req.socket.remoteAddress;
    res.once('close', () => {
      lastRequestActivity = performance.now();
      if (seen.loginFailed) logins.failed(address);
    });
    // The Date header tells clients the server's time (the AWS SDKs correct their clock skew from it): it comes
    // from the clock that SigV4 and tokens are checked against, the test clock included.
    if (clock.adjustable) res.setHeader('Date', new Date(clock.now()).toUTCString());
    res.once('finish', () => {
      const ns = process.hrtime.bigint() - started;
      accessLog(log, req, res, seen, ns);
      observe(metrics, req, res, seen, ns);
    });
    handle(req, res, seen).catch((e: unknown) => {
      // A full disk is told once by the stores (StorageSpace), not per request, and is no client going away.
      const full = isStorageFull(e) || isNoSpace(e);
      if (full && !isStorageFull(e)) space.ranOut('data directory');
      // A client that goes away mid-request is an ordinary event, not a server error.
      const aborted = !full && (req.destroyed || (e as NodeJS.ErrnoException).code === 'ECONNRESET' || (e as Error).message === 'aborted');
      if (aborted) log.info({ method: req.method, path: pathOf(req) }, 'client went away');
      else if (!full) log.error({ err: e, method: req.method, path: pathOf(req) }, 'request failed');
      if (!res.headersSent) {
        res.statusCode = full ? 503 : 500;
        res.setHeader('Content-Type', 'application/json');
        // HTTP/2 has no Connection header (setting one throws): the stream ends alone.
        if (req.httpVersionMajor < 2) res.setHeader('Connection', 'close');
        res.end(
          JSON.stringify({
            errors: [
              full
                ? { code: 'UNAVAILABLE', message: STORAGE_FULL_MESSAGE, detail: null }
                : { code: 'UNKNOWN', message: 'internal error', detail: null },
            ],
          }),
        );
      } else {
        res.destroy();
      }
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, seen: Seen): Promise<void> {
    // A request target URL parsing refuses (`//`, `//[`) is the client's error, not the server's.
    const url = URL.parse(req.url ?? '/', 'http://berth');
    if (!url) return sendJson(res, 400, { message: `malformed request target ${JSON.stringify(req.url)}` });
    if (refuseBlockedLogin(logins, req, res, url)) return;
    // The route table (src/server/routes.ts): each adapter authorizes what its routes declare.
    const endpoint = endpointFor(req.method ?? '', url.pathname);
    seen.endpoint = endpoint;
    switch (endpoint) {
      case 'oci':
        return oci(req, res, url, seen);
      case 'ecr':
        return ecr(req, res, url, seen);
      case 'admin':
        return admin(req, res, url, seen);
      case 'console':
        return webConsole(req, res, url, seen);
      case 'token':
        return token(req, res, url, seen);
      case 'metrics':
        return metricsEndpoint(req, res, url, seen);
      // Alive and serving reads even on a full disk (an orchestrator must not restart it for that): the storage
      // state and the audit lines dropped are told in the body.
      case 'health':
        return sendJson(res, 200, { status: 'ok', storage: space.status() });
      // Ready when the metadata and blob stores answer (src/server/readiness.ts); a load balancer stops sending here while not.
      case 'ready': {
        const report = await readiness.report();
        res.setHeader('Cache-Control', 'no-store');
        return sendJson(res, report.status === 'ready' ? 200 : 503, report);
      }
      default:
        sendJson(res, 404, { message: `no route for ${req.method} ${url.pathname}` });
    }
  }

  const unannounce = announceServer(dataDir, url);
  // Background work: garbage collection and lifecycle policies (daily by default, as ECR) are recurring jobs that
  // one node runs each time they are due; `berth gc` and `berth lifecycle run` enqueue one and wait for it.
  jobs.useLog(log);
  await jobs.schedule(GC_JOB, config.gcIntervalSeconds * 1000);
  await jobs.schedule(LIFECYCLE_JOB, config.lifecycleIntervalSeconds * 1000);
  await jobs.schedule(WEBHOOK_JOB, config.webhookIntervalSeconds * 1000);
  await jobs.schedule(USAGE_SNAPSHOT_JOB, config.usageSnapshotIntervalSeconds * 1000);
  await jobs.schedule(AUDIT_RETENTION_JOB, config.auditRetentionDays > 0 ? 3_600_000 : 0);
  jobs.start();

  return {
    server,
    url,
    tls,
    publicHost,
    publicScheme,
    accountId,
    rootKey,
    config,
    log,
    async close() {
      await jobs.stop();
      unannounce();
      tls?.reloader.stop();
      await new Promise<void>((r) => server.close(() => r()));
      // An http2 server has no closeAllConnections (and closes once its sessions have).
      server.closeAllConnections?.();
      await stores.close();
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

/** The ECR API's operations, once its handler has been loaded (no request names one before). */
let ecrOperations: Record<string, unknown> | undefined;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The request in the metrics: every label from a closed set (the route tables), never from the client's text. */
function observe(metrics: Metrics, req: IncomingMessage, res: ServerResponse, seen: Seen, ns: bigint): void {
  const method = req.method && METHODS.has(req.method) ? req.method : 'other';
  const protocol = seen.endpoint ?? 'none';
  let operation = 'none';
  if (protocol === 'oci') operation = seen.route ?? 'none';
  else if (protocol === 'ecr' && seen.operation && ecrOperations && Object.hasOwn(ecrOperations, seen.operation))
    operation = seen.operation;
  else if (protocol === 'admin') {
    const name = (req.url ?? '').split('?')[0].slice('/_berth/admin/'.length);
    if (Object.hasOwn(ADMIN_ACTIONS, name)) operation = name;
  }
  metrics.request(protocol, method, operation, res.statusCode, Number(ns) / 1e9);
  // The data plane's downloads: a GET's body is its Content-Length (blobs and manifests always send one).
  if (protocol === 'oci' && method === 'GET' && (res.statusCode === 200 || res.statusCode === 206))
    metrics.downloaded(Number(res.getHeader('content-length') ?? 0));
}

function accessLog(log: Logger, req: IncomingMessage, res: ServerResponse, seen: Seen, ns: bigint): void {
  if (!log.isLevelEnabled('info')) return;
  log.info({
    method: req.method,
    path: pathOf(req),
    ...(seen.operation ? { operation: seen.operation } : {}),
    status: res.statusCode,
    ms: Number(ns) / 1e6,
    principal: seen.principal?.arn,
    remote: req.socket.remoteAddress,
  });
}
