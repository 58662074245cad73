// Configuration: defaults, then a JSON config file, then environment variables (each layer overrides the one
// before). The file is `--config <path>`, else $BERTH_CONFIG, else ./berth.json when it exists.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface Config {
  /** host:port to listen on. */
  listen: string;
  dataDir: string;
  /** The URL users reach the registry at; repository URIs and printed commands use its host. */
  publicUrl?: string;
  region: string;
  /** The default account's 12-digit id; generated and kept in the metadata on first start when not set. */
  accountId?: string;
  rootAccessKeyId?: string;
  rootSecretAccessKey?: string;
  /** base64 of 32 bytes that encrypt secrets at rest; default: <dataDir>/secret.key, generated on first start.
   * With a database URL it is required (here or in secretKeyFile): it encrypts the registry's key in the database. */
  secretKey?: string;
  /** A file holding secretKey (base64), read at start. */
  secretKeyFile?: string;
  /** Whether pushing to a repository that does not exist creates it (ECR refuses such a push: default false). */
  createOnPush: boolean;
  logLevel: string;
  /** Unreferenced blobs are kept this long after their last use (the lease of a push in progress). */
  gcGraceSeconds: number;
  /** Uploads not written to for this long are abandoned and collected. */
  uploadMaxAgeSeconds: number;
  /** Garbage collection runs this often (0: only on demand). */
  gcIntervalSeconds: number;
  /** Lifecycle policies are applied this often (0: only on demand); ECR evaluates them daily. */
  lifecycleIntervalSeconds: number;
  /** Whether upload data is written with O_DIRECT, bypassing the page cache (where the filesystem allows it). */
  directIO: boolean;
  /** Tests only: the clock can be moved forward through the admin action advance-clock. */
  testClock: boolean;
  /** How long a refresh token of the token endpoint lives (docker login's identity token, containerd's grant). */
  refreshTokenTtlSeconds: number;
  /** How long a web console session lives after sign-in. */
  consoleSessionTtlSeconds: number;
  /** A request's headers must arrive within this many seconds of its first byte (slow clients are cut off). */
  headerTimeoutSeconds: number;
  /** A connection with no bytes in either direction for this long is closed (a slow but steady upload is not). */
  idleTimeoutSeconds: number;
  /** Open connections from one source address at most; more are closed at once. */
  maxConnectionsPerAddress: number;
  /** Upload sessions in progress per principal (IAM ARN), across every node sharing the metadata store. */
  maxUploadsPerPrincipal: number;
  /** Requests in flight at once per principal, counted per node. */
  maxRequestsPerPrincipal: number;
  /** Failed logins per source address in a minute; further attempts are refused until the minute is over. */
  maxLoginFailuresPerMinute: number;
  /** PostgreSQL connection URL (postgres://user:password@host:port/database) for the metadata; unset: SQLite in the data dir. */
  databaseUrl?: string;
  /** Where blobs are stored: `s3://bucket/prefix` for S3 (or any S3-compatible store); default the data directory. */
  blobStore?: string;
  /** The S3 endpoint of a non-AWS store (Ceph RGW, MinIO), addressed path-style; default AWS S3. */
  s3Endpoint?: string;
  /** The S3 region; default the AWS chain's (us-east-1 with an endpoint). */
  s3Region?: string;
  /** S3 credentials; without them the standard AWS chain (AWS_* environment, profile, instance role). */
  s3AccessKeyId?: string;
  s3SecretAccessKey?: string;
  /** Whether blob GET answers 307 to a presigned URL of the store; default on when the store can presign (S3). */
  blobRedirect?: boolean;
  /** Audit log of authorization decisions: a file path, "stdout", "off", or "database" (records in the metadata
   * store, every node's in one place); default "database" with a database URL, else <dataDir>/audit.log. */
  auditLog?: string;
  /** TLS: the certificate (PEM, with its chain) and its private key (PEM); both or neither. Reloaded on change. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** How often the certificate files are checked for a change (0: only on SIGHUP). */
  tlsReloadIntervalSeconds: number;
  /** TLS with a self-signed certificate generated (once) in <dataDir>/tls/ (`berth serve --tls-self-signed`). */
  tlsSelfSigned: boolean;
  /** GET /metrics answered without credentials (else it needs an access key allowed berth:GetMetrics). */
  metricsPublic: boolean;
  /** How often webhooks are given the new events (a recurring job). */
  webhookIntervalSeconds: number;
  /** How often the registry's storage is recorded for the usage history (a recurring job; one snapshot a day is
   * kept, the day's last). 0: never. */
  usageSnapshotIntervalSeconds: number;
  /** Days the metadata store keeps audit records (the console's audit search); older ones are deleted by an hourly
   * job. 0: kept for ever. */
  auditRetentionDays: number;
  /** How long a tag pulled through the cache is served before it is checked upstream again (ECR: 24 hours). */
  pullThroughTagTtlSeconds: number;
  /** ENHANCED continuous scanning follows an image this many days after its last push or pull (Amazon Inspector's
   * re-scan duration, 14 days by default); then its status is SCAN_ELIGIBILITY_EXPIRED. 0: for its lifetime. */
  scanEligibilityDays: number;
  /** Where the config came from, for the startup banner. */
  source?: string;
}

const DEFAULTS: Config = {
  listen: '127.0.0.1:5000',
  dataDir: './data',
  region: 'us-east-1',
  createOnPush: false,
  logLevel: 'info',
  gcGraceSeconds: 3600,
  uploadMaxAgeSeconds: 86400,
  gcIntervalSeconds: 3600,
  lifecycleIntervalSeconds: 86400,
  directIO: true,
  testClock: false,
  refreshTokenTtlSeconds: 30 * 86400,
  consoleSessionTtlSeconds: 12 * 3600,
  headerTimeoutSeconds: 30,
  idleTimeoutSeconds: 120,
  maxConnectionsPerAddress: 1024,
  maxUploadsPerPrincipal: 1000,
  maxRequestsPerPrincipal: 256,
  maxLoginFailuresPerMinute: 60,
  tlsSelfSigned: false,
  tlsReloadIntervalSeconds: 1,
  metricsPublic: false,
  webhookIntervalSeconds: 5,
  usageSnapshotIntervalSeconds: 86400,
  auditRetentionDays: 30,
  pullThroughTagTtlSeconds: 86400,
  scanEligibilityDays: 14,
};

/** Environment variable for each setting. */
const ENV: Record<string, keyof Config> = {
  BERTH_LISTEN: 'listen',
  BERTH_DATA_DIR: 'dataDir',
  BERTH_PUBLIC_URL: 'publicUrl',
  BERTH_REGION: 'region',
  BERTH_ACCOUNT_ID: 'accountId',
  BERTH_ROOT_ACCESS_KEY_ID: 'rootAccessKeyId',
  BERTH_ROOT_SECRET_ACCESS_KEY: 'rootSecretAccessKey',
  BERTH_SECRET_KEY: 'secretKey',
  BERTH_SECRET_KEY_FILE: 'secretKeyFile',
  BERTH_CREATE_ON_PUSH: 'createOnPush',
  BERTH_LOG_LEVEL: 'logLevel',
  BERTH_AUDIT_LOG: 'auditLog',
  BERTH_GC_GRACE_SECONDS: 'gcGraceSeconds',
  BERTH_UPLOAD_MAX_AGE_SECONDS: 'uploadMaxAgeSeconds',
  BERTH_GC_INTERVAL_SECONDS: 'gcIntervalSeconds',
  BERTH_LIFECYCLE_INTERVAL_SECONDS: 'lifecycleIntervalSeconds',
  BERTH_DIRECT_IO: 'directIO',
  BERTH_TEST_CLOCK: 'testClock',
  BERTH_REFRESH_TOKEN_TTL_SECONDS: 'refreshTokenTtlSeconds',
  BERTH_CONSOLE_SESSION_TTL_SECONDS: 'consoleSessionTtlSeconds',
  BERTH_HEADER_TIMEOUT_SECONDS: 'headerTimeoutSeconds',
  BERTH_IDLE_TIMEOUT_SECONDS: 'idleTimeoutSeconds',
  BERTH_MAX_CONNECTIONS_PER_ADDRESS: 'maxConnectionsPerAddress',
  BERTH_MAX_UPLOADS_PER_PRINCIPAL: 'maxUploadsPerPrincipal',
  BERTH_MAX_REQUESTS_PER_PRINCIPAL: 'maxRequestsPerPrincipal',
  BERTH_MAX_LOGIN_FAILURES_PER_MINUTE: 'maxLoginFailuresPerMinute',
  BERTH_DATABASE_URL: 'databaseUrl',
  BERTH_BLOB_STORE: 'blobStore',
  BERTH_S3_ENDPOINT: 's3Endpoint',
  BERTH_S3_REGION: 's3Region',
  BERTH_S3_ACCESS_KEY_ID: 's3AccessKeyId',
  BERTH_S3_SECRET_ACCESS_KEY: 's3SecretAccessKey',
  BERTH_BLOB_REDIRECT: 'blobRedirect',
  BERTH_TLS_CERT_FILE: 'tlsCertFile',
  BERTH_TLS_KEY_FILE: 'tlsKeyFile',
  BERTH_TLS_SELF_SIGNED: 'tlsSelfSigned',
  BERTH_METRICS_PUBLIC: 'metricsPublic',
  BERTH_WEBHOOK_INTERVAL_SECONDS: 'webhookIntervalSeconds',
  BERTH_USAGE_SNAPSHOT_INTERVAL_SECONDS: 'usageSnapshotIntervalSeconds',
  BERTH_AUDIT_RETENTION_DAYS: 'auditRetentionDays',
  BERTH_PULL_THROUGH_TAG_TTL_SECONDS: 'pullThroughTagTtlSeconds',
  BERTH_SCAN_ELIGIBILITY_DAYS: 'scanEligibilityDays',
  BERTH_TLS_RELOAD_INTERVAL_SECONDS: 'tlsReloadIntervalSeconds',
};

const BOOLEAN_KEYS = new Set<keyof Config>(['createOnPush', 'directIO', 'testClock', 'blobRedirect', 'tlsSelfSigned', 'metricsPublic']);
/** Boolean settings that may stay unset (their default depends on other settings). */
const OPTIONAL_KEYS = new Set<keyof Config>(['blobRedirect']);
/** Limits: each must be positive (a timeout of 0 or a limit of 0 would turn the guard off or lock everyone out). */
const LIMIT_KEYS = new Set<keyof Config>([
  'headerTimeoutSeconds', 'idleTimeoutSeconds', 'maxConnectionsPerAddress', 'maxUploadsPerPrincipal', 'maxRequestsPerPrincipal',
  'maxLoginFailuresPerMinute', 'consoleSessionTtlSeconds',
]);
const NUMBER_KEYS = new Set<keyof Config>(['tlsReloadIntervalSeconds', 'gcGraceSeconds', 'uploadMaxAgeSeconds', 'gcIntervalSeconds', 'lifecycleIntervalSeconds', 'webhookIntervalSeconds', 'usageSnapshotIntervalSeconds', 'auditRetentionDays', 'pullThroughTagTtlSeconds', 'scanEligibilityDays', 'refreshTokenTtlSeconds', ...LIMIT_KEYS]);

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv, configPath?: string): Config {
  const config: Record<string, unknown> = { ...DEFAULTS };
  const path = configPath ?? env.BERTH_CONFIG ?? (existsSync('berth.json') ? 'berth.json' : undefined);
  if (path) {
    let file: unknown;
    try {
      file = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
    }
    if (typeof file !== 'object' || file === null || Array.isArray(file)) throw new ConfigError(`config file ${path} must hold a JSON object`);
    const known = new Set(Object.values(ENV));
    for (const [key, value] of Object.entries(file)) {
      if (!known.has(key as keyof Config)) throw new ConfigError(`config file ${path}: unknown setting "${key}"`);
      config[key] = value;
    }
    config.source = resolve(path);
  }
  for (const [name, key] of Object.entries(ENV)) {
    const value = env[name];
    if (value !== undefined && value !== '') {
      config[key] = BOOLEAN_KEYS.has(key) ? parseBoolean(name, value) : NUMBER_KEYS.has(key) ? parseNumber(name, value) : value;
    }
  }
  return validate(config as unknown as Config);
}

function parseBoolean(name: string, value: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be true or false, not "${value}"`);
}

function parseNumber(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(`${name} must be a non-negative number, not "${value}"`);
  return n;
}

function validate(c: Config): Config {
  for (const key of NUMBER_KEYS) {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(`${key} must be a non-negative number`);
  }
  for (const key of LIMIT_KEYS) {
    const v = c[key] as number;
    if (v <= 0 || (key.startsWith('max') && !Number.isInteger(v))) {
      throw new ConfigError(`${key} must be a positive ${key.startsWith('max') ? 'integer' : 'number'}, not ${v}`);
    }
  }
  parseListen(c.listen);
  if (c.secretKeyFile !== undefined) {
    if (c.secretKey !== undefined) throw new ConfigError('set BERTH_SECRET_KEY or BERTH_SECRET_KEY_FILE, not both');
    try {
      c.secretKey = readFileSync(c.secretKeyFile, 'utf8').trim();
    } catch (e) {
      throw new ConfigError(`cannot read the secret key file ${c.secretKeyFile}: ${(e as Error).message}`);
    }
  }
  if (c.accountId !== undefined && !/^\d{12}$/.test(String(c.accountId))) throw new ConfigError(`accountId must be 12 digits, not "${c.accountId}"`);
  if ((c.rootAccessKeyId === undefined) !== (c.rootSecretAccessKey === undefined)) {
    throw new ConfigError('set both BERTH_ROOT_ACCESS_KEY_ID and BERTH_ROOT_SECRET_ACCESS_KEY, or neither');
  }
  if (c.publicUrl !== undefined) {
    try {
      new URL(c.publicUrl.includes('://') ? c.publicUrl : `http://${c.publicUrl}`);
    } catch {
      throw new ConfigError(`publicUrl "${c.publicUrl}" is not a URL`);
    }
  }
  if ((c.tlsCertFile === undefined) !== (c.tlsKeyFile === undefined)) {
    throw new ConfigError('set both BERTH_TLS_CERT_FILE and BERTH_TLS_KEY_FILE, or neither');
  }
  if (c.tlsSelfSigned && c.tlsCertFile !== undefined) {
    throw new ConfigError('--tls-self-signed (BERTH_TLS_SELF_SIGNED) and BERTH_TLS_CERT_FILE exclude each other');
  }
  if (c.databaseUrl !== undefined && !/^postgres(ql)?:\/\/./.test(String(c.databaseUrl))) {
    throw new ConfigError('databaseUrl must be a postgres:// or postgresql:// URL');
  }
  if (c.blobStore !== undefined && !/^s3:\/\/[^/]+/.test(c.blobStore)) {
    throw new ConfigError(`blobStore must be s3://bucket/prefix (or unset for the data directory), not "${c.blobStore}"`);
  }
  if ((c.s3AccessKeyId === undefined) !== (c.s3SecretAccessKey === undefined)) {
    throw new ConfigError('set both BERTH_S3_ACCESS_KEY_ID and BERTH_S3_SECRET_ACCESS_KEY, or neither');
  }
  if (c.s3Endpoint !== undefined && !/^https?:\/\/[^/]/.test(c.s3Endpoint)) throw new ConfigError(`s3Endpoint must be an http(s) URL, not "${c.s3Endpoint}"`);
  for (const key of BOOLEAN_KEYS) {
    if (OPTIONAL_KEYS.has(key) && c[key] === undefined) continue;
    if (typeof c[key] !== 'boolean') throw new ConfigError(`${key} must be true or false`);
  }
  return c;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(listen);
  if (!m || Number(m[2]) > 65535) throw new ConfigError(`listen must be host:port, not "${listen}"`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}
