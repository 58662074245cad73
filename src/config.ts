// Configuration: defaults, then a JSON config file, then environment variables (each layer overrides the one
// before). The file is `--config <path>`, else $BERTH_CONFIG, else ./berth.json when it exists.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The settings; each is described (environment variable, default, meaning) in SETTINGS below. */
export interface Config {
  listen: string;
  dataDir: string;
  publicUrl?: string;
  region: string;
  accountId?: string;
  rootAccessKeyId?: string;
  rootSecretAccessKey?: string;
  secretKey?: string;
  secretKeyFile?: string;
  createOnPush: boolean;
  logLevel: string;
  gcGraceSeconds: number;
  uploadMaxAgeSeconds: number;
  gcIntervalSeconds: number;
  lifecycleIntervalSeconds: number;
  directIO: boolean;
  testClock: boolean;
  refreshTokenTtlSeconds: number;
  consoleSessionTtlSeconds: number;
  headerTimeoutSeconds: number;
  idleTimeoutSeconds: number;
  maxConnectionsPerAddress: number;
  maxUploadsPerPrincipal: number;
  maxRequestsPerPrincipal: number;
  maxLoginFailuresPerMinute: number;
  databaseUrl?: string;
  blobStore?: string;
  s3Endpoint?: string;
  s3Region?: string;
  s3AccessKeyId?: string;
  s3SecretAccessKey?: string;
  blobRedirect?: boolean;
  auditLog?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  tlsReloadIntervalSeconds: number;
  tlsSelfSigned: boolean;
  metricsPublic: boolean;
  webhookIntervalSeconds: number;
  usageSnapshotIntervalSeconds: number;
  auditRetentionDays: number;
  pullThroughTagTtlSeconds: number;
  /** ENHANCED continuous scanning follows an image this many days after its last push or pull (Amazon Inspector's
   * re-scan duration, 14 days by default); then its status is SCAN_ELIGIBILITY_EXPIRED. 0: for its lifetime. */
  scanEligibilityDays: number;
  /** Where the config came from, for the startup banner (not a setting). */
  source?: string;
}

/** A setting's type: a limit is a positive number (0 would turn its guard off or lock everyone out). */
export type SettingKind = 'string' | 'boolean' | 'number' | 'limit';

/** One line of the configuration reference (docs/configuration.md is generated from these by
 * scripts/config-reference.ts): the environment variable, the type, the default, what it does. */
export interface Setting {
  env: string;
  kind: SettingKind;
  /** Unset: no default (a boolean without one may stay unset: its default depends on other settings). */
  default?: string | number | boolean;
  /** The default in words, when it is not a constant (generated, derived from other settings). */
  defaultText?: string;
  doc: string;
  /** A credential: give it from a file or the environment, never on a command line. */
  secret?: boolean;
}

/** Every setting, in the order the reference lists them. Each key of Config has exactly one. */
export const SETTINGS: { [K in Exclude<keyof Config, 'source'>]-?: Setting } = {
  listen: {
    env: 'BERTH_LISTEN',
    kind: 'string',
    default: '127.0.0.1:5000',
    doc: 'host:port to listen on (`[::]:5000` for IPv6; port 0 picks a free port).',
  },
  dataDir: {
    env: 'BERTH_DATA_DIR',
    kind: 'string',
    default: './data',
    doc: 'The data directory: the SQLite metadata (`meta.db`), the blobs, the keys, the audit log (0700, files 0600).',
  },
  publicUrl: {
    env: 'BERTH_PUBLIC_URL',
    kind: 'string',
    defaultText: 'the listen address',
    doc: 'The URL users reach the registry at; repository URIs, token realms and printed commands use its host.',
  },
  region: {
    env: 'BERTH_REGION',
    kind: 'string',
    default: 'us-east-1',
    doc: 'The region in ARNs and repository URIs (SigV4 signatures name it).',
  },
  accountId: {
    env: 'BERTH_ACCOUNT_ID',
    kind: 'string',
    defaultText: 'generated on first start, kept in the metadata',
    doc: "The default account's 12-digit id.",
  },
  rootAccessKeyId: {
    env: 'BERTH_ROOT_ACCESS_KEY_ID',
    kind: 'string',
    defaultText: 'generated on first start, kept in the data directory (or the database)',
    doc: 'The root access key id (with the secret below: both or neither).',
  },
  rootSecretAccessKey: {
    env: 'BERTH_ROOT_SECRET_ACCESS_KEY',
    kind: 'string',
    defaultText: 'generated with the key id',
    doc: 'The root secret access key.',
    secret: true,
  },
  secretKey: {
    env: 'BERTH_SECRET_KEY',
    kind: 'string',
    defaultText: '`<dataDir>/secret.key`, generated on first start',
    doc: "base64 of 32 bytes that encrypt secrets at rest (access keys' secrets, webhook secrets). Required with a database URL, the same on every node: it encrypts the registry's key in the database.",
    secret: true,
  },
  secretKeyFile: {
    env: 'BERTH_SECRET_KEY_FILE',
    kind: 'string',
    doc: 'A file holding the secret key (base64), read at start; excludes BERTH_SECRET_KEY.',
  },
  createOnPush: {
    env: 'BERTH_CREATE_ON_PUSH',
    kind: 'boolean',
    default: false,
    doc: 'Whether pushing to a repository that does not exist creates it (ECR refuses such a push).',
  },
  logLevel: {
    env: 'BERTH_LOG_LEVEL',
    kind: 'string',
    default: 'info',
    doc: 'fatal, error, warn, info (one access log line per request), debug.',
  },
  auditLog: {
    env: 'BERTH_AUDIT_LOG',
    kind: 'string',
    defaultText: '`database` with a database URL, else `<dataDir>/audit.log`',
    doc: "Audit log of authorization decisions: a file path, `stdout`, `off`, or `database` (records in the metadata store, every node's in one place; `berth audit`).",
  },
  gcGraceSeconds: {
    env: 'BERTH_GC_GRACE_SECONDS',
    kind: 'number',
    default: 3600,
    doc: 'Unreferenced blobs are kept this long after their last use (the lease of a push in progress).',
  },
  uploadMaxAgeSeconds: {
    env: 'BERTH_UPLOAD_MAX_AGE_SECONDS',
    kind: 'number',
    default: 86400,
    doc: 'Uploads not written to for this long are abandoned and collected.',
  },
  gcIntervalSeconds: {
    env: 'BERTH_GC_INTERVAL_SECONDS',
    kind: 'number',
    default: 3600,
    doc: 'Garbage collection runs this often (0: only on demand, `berth gc`).',
  },
  lifecycleIntervalSeconds: {
    env: 'BERTH_LIFECYCLE_INTERVAL_SECONDS',
    kind: 'number',
    default: 86400,
    doc: 'Lifecycle policies are applied this often (0: only on demand, `berth lifecycle run`); ECR evaluates them daily.',
  },
  directIO: {
    env: 'BERTH_DIRECT_IO',
    kind: 'boolean',
    default: true,
    doc: 'Whether upload data is written with O_DIRECT, bypassing the page cache (where the filesystem allows it). On by default: an upload costs no copy into the page cache, which on the test machine keeps uploads at 2.5-4x distribution; the price is that a blob just pushed is read from disk (its first GET reads ahead in parallel, and leaves it in the page cache). Off: uploads go through the page cache with write-behind (a datasync every 16 MiB in the background), so a pull right after a push is served from memory, and uploads are slower (bench/results/RESULTS.md).',
  },
  testClock: {
    env: 'BERTH_TEST_CLOCK',
    kind: 'boolean',
    default: false,
    doc: 'Tests only: the clock can be moved forward through the admin action advance-clock.',
  },
  refreshTokenTtlSeconds: {
    env: 'BERTH_REFRESH_TOKEN_TTL_SECONDS',
    kind: 'number',
    default: 30 * 86400,
    doc: "How long a refresh token of the token endpoint lives (docker login's identity token, containerd's grant).",
  },
  consoleSessionTtlSeconds: {
    env: 'BERTH_CONSOLE_SESSION_TTL_SECONDS',
    kind: 'limit',
    default: 12 * 3600,
    doc: 'How long a web console session lives after sign-in.',
  },
  headerTimeoutSeconds: {
    env: 'BERTH_HEADER_TIMEOUT_SECONDS',
    kind: 'limit',
    default: 30,
    doc: "A request's headers must arrive within this many seconds of its first byte (slow clients are cut off).",
  },
  idleTimeoutSeconds: {
    env: 'BERTH_IDLE_TIMEOUT_SECONDS',
    kind: 'limit',
    default: 120,
    doc: 'A connection with no bytes in either direction for this long is closed (a slow but steady upload is not).',
  },
  maxConnectionsPerAddress: {
    env: 'BERTH_MAX_CONNECTIONS_PER_ADDRESS',
    kind: 'limit',
    default: 1024,
    doc: 'Open connections from one source address at most; more are closed at once.',
  },
  maxUploadsPerPrincipal: {
    env: 'BERTH_MAX_UPLOADS_PER_PRINCIPAL',
    kind: 'limit',
    default: 1000,
    doc: 'Upload sessions in progress per principal (IAM ARN), across every node sharing the metadata store.',
  },
  maxRequestsPerPrincipal: {
    env: 'BERTH_MAX_REQUESTS_PER_PRINCIPAL',
    kind: 'limit',
    default: 256,
    doc: 'Requests in flight at once per principal, counted per node.',
  },
  maxLoginFailuresPerMinute: {
    env: 'BERTH_MAX_LOGIN_FAILURES_PER_MINUTE',
    kind: 'limit',
    default: 60,
    doc: 'Failed logins per source address in a minute; further attempts are refused until the minute is over.',
  },
  databaseUrl: {
    env: 'BERTH_DATABASE_URL',
    kind: 'string',
    defaultText: 'SQLite in the data directory',
    doc: 'PostgreSQL connection URL (`postgres://user:password@host:port/database`) for the metadata.',
    secret: true,
  },
  blobStore: {
    env: 'BERTH_BLOB_STORE',
    kind: 'string',
    defaultText: 'the data directory',
    doc: 'Where blobs are stored: `s3://bucket/prefix` for S3 (or any S3-compatible store).',
  },
  s3Endpoint: {
    env: 'BERTH_S3_ENDPOINT',
    kind: 'string',
    defaultText: 'AWS S3',
    doc: 'The S3 endpoint of a non-AWS store (Ceph RGW, MinIO), addressed path-style.',
  },
  s3Region: { env: 'BERTH_S3_REGION', kind: 'string', defaultText: "the AWS chain's (us-east-1 with an endpoint)", doc: 'The S3 region.' },
  s3AccessKeyId: {
    env: 'BERTH_S3_ACCESS_KEY_ID',
    kind: 'string',
    defaultText: 'the standard AWS chain (AWS_* environment, profile, instance role)',
    doc: 'S3 credentials: the access key id (with the secret: both or neither).',
  },
  s3SecretAccessKey: { env: 'BERTH_S3_SECRET_ACCESS_KEY', kind: 'string', doc: 'S3 credentials: the secret access key.', secret: true },
  blobRedirect: {
    env: 'BERTH_BLOB_REDIRECT',
    kind: 'boolean',
    defaultText: 'on when the store can presign (S3)',
    doc: 'Whether blob GET answers 307 to a presigned URL of the store.',
  },
  tlsCertFile: {
    env: 'BERTH_TLS_CERT_FILE',
    kind: 'string',
    doc: 'HTTPS (and HTTP/2): the certificate (PEM, with its chain). Reloaded on change or SIGHUP without dropping connections.',
  },
  tlsKeyFile: { env: 'BERTH_TLS_KEY_FILE', kind: 'string', doc: 'Its private key (PEM); both or neither.' },
  tlsReloadIntervalSeconds: {
    env: 'BERTH_TLS_RELOAD_INTERVAL_SECONDS',
    kind: 'number',
    default: 1,
    doc: 'How often the certificate files are checked for a change (0: only on SIGHUP).',
  },
  tlsSelfSigned: {
    env: 'BERTH_TLS_SELF_SIGNED',
    kind: 'boolean',
    default: false,
    doc: 'HTTPS with a self-signed certificate generated once in `<dataDir>/tls/` (`berth serve --tls-self-signed`).',
  },
  metricsPublic: {
    env: 'BERTH_METRICS_PUBLIC',
    kind: 'boolean',
    default: false,
    doc: 'GET /metrics answered without credentials (else it needs an access key allowed `berth:GetMetrics`).',
  },
  webhookIntervalSeconds: {
    env: 'BERTH_WEBHOOK_INTERVAL_SECONDS',
    kind: 'number',
    default: 5,
    doc: 'How often webhooks are given the new events (a recurring job).',
  },
  usageSnapshotIntervalSeconds: {
    env: 'BERTH_USAGE_SNAPSHOT_INTERVAL_SECONDS',
    kind: 'number',
    default: 86400,
    doc: "How often the registry's storage is recorded for the usage history (a recurring job; one snapshot a day is kept, the day's last). 0: never.",
  },
  auditRetentionDays: {
    env: 'BERTH_AUDIT_RETENTION_DAYS',
    kind: 'number',
    default: 30,
    doc: "Days the metadata store keeps audit records (the console's audit search); older ones are deleted by an hourly job. 0: kept for ever.",
  },
  pullThroughTagTtlSeconds: {
    env: 'BERTH_PULL_THROUGH_TAG_TTL_SECONDS',
    kind: 'number',
    default: 86400,
    doc: 'How long a tag pulled through the cache is served before it is checked upstream again (ECR: 24 hours).',
  },
  scanEligibilityDays: {
    env: 'BERTH_SCAN_ELIGIBILITY_DAYS',
    kind: 'number',
    default: 14,
    doc: "Under `ENHANCED` continuous scanning, an image not pushed or pulled for this many days is `SCAN_ELIGIBILITY_EXPIRED` and no longer rescanned (Amazon Inspector's default re-scan duration); a pull makes it eligible again. 0: for its lifetime.",
  },
};

const SETTING_ENTRIES = Object.entries(SETTINGS) as [keyof Config, Setting][];
const DEFAULTS = Object.fromEntries(
  SETTING_ENTRIES.filter(([, s]) => s.default !== undefined).map(([key, s]) => [key, s.default]),
) as unknown as Config;
/** Environment variable for each setting. */
const ENV: Record<string, keyof Config> = Object.fromEntries(SETTING_ENTRIES.map(([key, s]) => [s.env, key]));
const keysOf = (...kinds: SettingKind[]) => new Set(SETTING_ENTRIES.filter(([, s]) => kinds.includes(s.kind)).map(([key]) => key));
const BOOLEAN_KEYS = keysOf('boolean');
/** Boolean settings that may stay unset (their default depends on other settings). */
const OPTIONAL_KEYS = new Set([...BOOLEAN_KEYS].filter((key) => SETTINGS[key as Exclude<keyof Config, 'source'>].default === undefined));
/** Limits: each must be positive (a timeout of 0 or a limit of 0 would turn the guard off or lock everyone out). */
const LIMIT_KEYS = keysOf('limit');
const NUMBER_KEYS = keysOf('number', 'limit');

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
    if (typeof file !== 'object' || file === null || Array.isArray(file))
      throw new ConfigError(`config file ${path} must hold a JSON object`);
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
  if (c.accountId !== undefined && !/^\d{12}$/.test(String(c.accountId)))
    throw new ConfigError(`accountId must be 12 digits, not "${c.accountId}"`);
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
  if (c.s3Endpoint !== undefined && !/^https?:\/\/[^/]/.test(c.s3Endpoint))
    throw new ConfigError(`s3Endpoint must be an http(s) URL, not "${c.s3Endpoint}"`);
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
