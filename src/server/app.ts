// The Berth server: opens the stores, builds the core, and answers HTTP. /v2/ goes to the OCI adapter; the ECR
// API (POST /) and the console join here in later issues.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config.ts';
import { parseListen } from '../config.ts';
import { loadRootKey, type RootKey } from '../auth/credentials.ts';
import { Identity, newAccountId } from '../auth/identity.ts';
import { SecretBox } from '../auth/secrets.ts';
import type { Principal } from '../auth/principal.ts';
import { Registry } from '../core/registry.ts';
import { FilesystemBlobStore } from '../storage/blobs/fs.ts';
import { SqliteMetaStore } from '../storage/meta/sqlite.ts';
import type { MetaStore } from '../storage/meta/store.ts';
import { ociHandler } from '../oci/router.ts';
import { ecrHandler } from '../ecr/protocol.ts';
import { ADMIN_PREFIX, adminHandler } from '../admin/api.ts';
import { Repositories } from '../core/repositories.ts';
import { Images } from '../core/images.ts';
import { createAuditLogger, createLogger, type Logger } from './log.ts';
import { Authorizer } from '../auth/authorizer.ts';
import { Collector, type GcReport } from '../gc/collector.ts';
import { fsck, type FsckReport } from '../gc/fsck.ts';
import { announceServer } from './presence.ts';
import { TOKEN_PATH, tokenHandler } from './token.ts';

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

export interface Stores {
  dataDir: string;
  meta: MetaStore;
  blobs: FilesystemBlobStore;
  accountId: string;
  rootKey: RootKey;
  identity: Identity;
  registry: Registry;
  collector: Collector;
  /** Garbage collection with the configured grace period and upload age limit. */
  gc(dryRun: boolean): Promise<GcReport>;
  fsck(): Promise<FsckReport>;
}

/** Opens the data directory: metadata, blobs, the default account and its root key, identities. */
export async function openStores(config: Config): Promise<Stores> {
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const meta = new SqliteMetaStore(join(dataDir, 'meta.db'));
  const blobs = new FilesystemBlobStore(dataDir);
  await blobs.init();
  const accountId = await defaultAccount(meta, config.accountId);
  await meta.ensureAccount(accountId, Date.now());
  const rootKey = loadRootKey(dataDir, { accessKeyId: config.rootAccessKeyId, secretAccessKey: config.rootSecretAccessKey });
  const identity = new Identity(meta, SecretBox.load(dataDir, config.secretKey), rootKey, accountId);
  const registry = new Registry(meta, blobs, { createOnPush: config.createOnPush, gcGraceMs: config.gcGraceSeconds * 1000 });
  const collector = new Collector(meta, blobs, registry.digestLocks);
  return {
    dataDir, meta, blobs, accountId, rootKey, identity, registry, collector,
    gc: (dryRun) => collector.run({ graceMs: config.gcGraceSeconds * 1000, uploadMaxAgeMs: config.uploadMaxAgeSeconds * 1000, dryRun }),
    fsck: () => fsck(meta, blobs),
  };
}

export async function startBerth(config: Config): Promise<Berth> {
  const log = createLogger(config.logLevel);
  const stores = await openStores(config);
  const { dataDir, meta, accountId, rootKey, identity, registry } = stores;
  const repositories = new Repositories(meta);
  const images = new Images(meta);

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
  const audit = createAuditLogger(config.auditLog ?? join(dataDir, 'audit.log'));
  const authorizer = new Authorizer(meta, audit);
  const oci = ociHandler({
    registry, identity, authorizer, region: config.region, defaultAccountId: accountId, realm: publicHost,
    tokenRealm: `${publicScheme}://${publicHost}${TOKEN_PATH}`,
  });
  const token = tokenHandler(identity, publicHost);
  const admin = adminHandler(stores);
  const ecr = ecrHandler({ identity, authorizer, registry, repositories, images, region: config.region, publicHost, publicScheme, log });

  // Attached before any I/O can run (this continues in the microtask after listening), so no request is missed.
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const seen: { principal?: Principal; operation?: string } = {};
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
    if (url.pathname === '/healthz') {
      res.setHeader('Content-Type', 'application/json');
      res.end('{"status":"ok"}');
      return;
    }
    res.statusCode = 404;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ message: `no route for ${req.method} ${url.pathname}` }));
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

  return {
    server, url, publicHost, publicScheme, accountId, rootKey, config, log,
    async close() {
      if (gcTimer) clearInterval(gcTimer);
      unannounce();
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      audit.flush();
      await meta.close();
    },
  };
}

/** The default account's id: configured, else generated once and kept in the metadata. */
async function defaultAccount(meta: MetaStore, configured: string | undefined): Promise<string> {
  const saved = await meta.getSetting('default_account_id');
  if (configured) {
    if (saved !== configured) await meta.setSetting('default_account_id', configured);
    return configured;
  }
  if (saved) return saved;
  const id = newAccountId();
  await meta.setSetting('default_account_id', id);
  return id;
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
