// The `berth` command.
import { eventEnvelope } from '../core/events.ts';
import { parseArgs } from 'node:util';
import { isAbsolute, relative, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { openStores, startBerth, type Berth } from '../server/app.ts';
import { ADMIN_ACTIONS } from '../admin/actions.ts';
import { IdentityError } from '../auth/identity.ts';
import { JobFailedError } from '../jobs/runner.ts';
import { callServer, RemoteError } from './remote.ts';
import { isStorageFull, STORAGE_FULL_MESSAGE } from '../core/errors.ts';
import { runningServer } from '../server/presence.ts';
import { migrateMetaStore, openMetaStore } from '../storage/meta/open.ts';
// The transfer commands' modules (import, export, apply) are loaded when one of them runs, not by `berth serve`.
import type { Target } from '../transfer/target.ts';

const HELP = `berth: a self-hosted container registry that speaks the OCI Distribution API and the Amazon ECR API

Usage:
  berth serve [--config <file>] [--tls-self-signed]
                                  run the registry (--tls-self-signed: HTTPS with a certificate made for it)
  berth admin <action> [options]  manage accounts, users and access keys (berth admin --help)
  berth gc [--dry-run]            collect unreferenced blobs and abandoned uploads (what would go, and bytes)
  berth fsck                      verify every blob's digest and every manifest's references
  berth usage                     storage per repository, and the registry's deduplicated total
  berth lifecycle run [repo]      apply lifecycle policies now (every repository with one, or repo)
  berth jobs [--status S] [--kind K]  background jobs (gc, lifecycle, previews, image scans): state, attempts, last error
  berth vulndb import <zip|dir|file> [--sha256 HEX] [--source NAME]
                                  import OSV vulnerability data (osv.dev's per-ecosystem all.zip), atomically
  berth vulndb status             the imported vulnerability data: sources, record counts, age
  berth sbom <repo>:<tag>|<repo>@<digest>  print the SBOM (CycloneDX 1.6) the scanner wrote for an image
  berth import <file.tar|dir> [--repository NAME[:TAG]] [--compress] [--url URL]
                                  load a docker save archive or an OCI layout (tar, tar.gz, tar.zst or directory)
  berth export NAME:TAG... -o <file.tar> [--format docker|oci] [--url URL]
                                  write images to an archive for docker load, podman load, skopeo oci-archive:
  berth apply -f <registry.yaml> [--dry-run] [--prune] [--force-delete-images] [--url URL]
                                  make the registry hold the repositories, policies, settings and users the file
                                  describes (docs/apply.md); --dry-run prints the changes, --prune deletes what an
                                  earlier apply created that the file no longer names
  berth migrate                   apply the metadata schema migrations (SQLite or PostgreSQL) and print the version
  berth relocate --to-database postgres://... --to-blob-store s3://bucket/prefix
                                  copy this embedded registry (data dir: metadata, blobs, keys) to PostgreSQL + S3
                                  (resumable, digests verified, idempotent; BERTH_SECRET_KEY[_FILE], BERTH_S3_* set)
  berth backup --to DIR           online backup of an embedded registry (SQLite snapshot, blobs, keys) into DIR,
                                  itself a data dir: restore by serving it (incremental when DIR holds a backup)
  berth audit [--after N]         audit records kept in the database (BERTH_AUDIT_LOG=database), as JSON lines
  berth events [--after N]        the events outbox (pushes, deletes, tag changes, lifecycle expiries, scans), as
                                  JSON lines in EventBridge's shape; "id" is the sequence number to pass as --after
  berth events tail [--after N]   the same, then follows new events as they are written (until interrupted)
  berth --help                    show this help
  berth --version                 show the version

Configuration: a JSON file (--config, $BERTH_CONFIG, or ./berth.json) and environment variables, which win
(every setting: docs/configuration.md):
  BERTH_LISTEN                  host:port to listen on (default 127.0.0.1:5000)
  BERTH_DATA_DIR                data directory: SQLite metadata and blobs (default ./data)
  BERTH_DATABASE_URL            postgres://user:password@host:port/db: metadata in PostgreSQL rather than SQLite
  BERTH_PUBLIC_URL              the URL users reach the registry at (shown in repository URIs and commands)
  BERTH_ROOT_ACCESS_KEY_ID      the root access key id (default: generated on first start, kept in the data dir)
  BERTH_ROOT_SECRET_ACCESS_KEY  the root secret access key
  BERTH_REGION                  the region in ARNs (default us-east-1)
  BERTH_ACCOUNT_ID              the default account's 12-digit id (default: generated on first start)
  BERTH_SECRET_KEY              base64 of 32 bytes that encrypt secrets at rest (default: data/secret.key;
                                required with BERTH_DATABASE_URL, the same on every node)
  BERTH_SECRET_KEY_FILE         a file holding BERTH_SECRET_KEY
  BERTH_CREATE_ON_PUSH          create a repository when an image is pushed to it (default false, as ECR)
  BERTH_LOG_LEVEL               fatal, error, warn, info, debug (default info)
  BERTH_TLS_CERT_FILE           HTTPS (and HTTP/2): the certificate chain, PEM (reloaded on change or SIGHUP)
  BERTH_TLS_KEY_FILE            its private key, PEM
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
      config: { type: 'string', short: 'c' },
      account: { type: 'string' },
      user: { type: 'string' },
      'access-key-id': { type: 'string' },
      'policy-name': { type: 'string' },
      'policy-document': { type: 'string' },
      'dry-run': { type: 'boolean' },
      repository: { type: 'string' },
      seconds: { type: 'string' },
      status: { type: 'string' },
      kind: { type: 'string' },
      sha256: { type: 'string' },
      source: { type: 'string' },
      path: { type: 'string' },
      image: { type: 'string' },
      'tls-self-signed': { type: 'boolean' },
      url: { type: 'string' },
      compress: { type: 'boolean' },
      output: { type: 'string', short: 'o' },
      format: { type: 'string' },
      after: { type: 'string' },
      'to-database': { type: 'string' },
      to: { type: 'string' },
      'to-blob-store': { type: 'string' },
      'event-types': { type: 'string' },
      repositories: { type: 'string' },
      'webhook-id': { type: 'string' },
      contains: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      'before-id': { type: 'string' },
      limit: { type: 'string' },
      days: { type: 'string' },
      region: { type: 'string' },
      'registry-id': { type: 'string' },
      'destination-type': { type: 'string' },
      username: { type: 'string' },
      'password-file': { type: 'string' },
      name: { type: 'string' },
      file: { type: 'string', short: 'f' },
      prune: { type: 'boolean' },
      'force-delete-images': { type: 'boolean' },
      'secret-string': { type: 'string' },
    },
  });
  if (values.version) {
    const pkg = await import('../../package.json', { with: { type: 'json' } });
    console.log(pkg.default.version);
    return 0;
  }
  const command = positionals[0];
  if (command === 'admin') return admin(positionals[1], values);
  // Maintenance commands are admin actions of the same name.
  if (command === 'gc' || command === 'fsck' || command === 'usage') return admin(command, values);
  if (command === 'jobs') return admin('list-jobs', values);
  if (command === 'vulndb' && positionals[1] === 'import')
    return admin('vulndb-import', { ...values, path: positionals[2] ?? values.path });
  if (command === 'vulndb' && positionals[1] === 'status') return admin('vulndb-status', values);
  if (command === 'sbom' && positionals[1]) {
    const ref = positionals[1];
    const at = ref.indexOf('@');
    const colon = ref.lastIndexOf(':');
    const [repository, image] =
      at >= 0
        ? [ref.slice(0, at), ref.slice(at + 1)]
        : colon > ref.lastIndexOf('/')
          ? [ref.slice(0, colon), ref.slice(colon + 1)]
          : [ref, 'latest'];
    return admin('sbom', { ...values, repository, image });
  }
  if (command === 'lifecycle' && positionals[1] === 'run')
    return admin('lifecycle-run', { ...values, repository: positionals[2] ?? values.repository });
  if (values.help || command === undefined || command === 'help') {
    console.log(HELP);
    return command === undefined && !values.help ? 1 : 0;
  }
  if (command === 'import' || command === 'export') {
    return transfer(command, positionals.slice(1), {
      config: values.config,
      url: values.url,
      repository: values.repository,
      compress: values.compress,
      output: values.output,
      format: values.format,
    });
  }
  if (command === 'apply') {
    return apply({
      config: values.config,
      url: values.url,
      file: values.file,
      dryRun: values['dry-run'] === true,
      prune: values.prune === true,
      forceDeleteImages: values['force-delete-images'] === true,
    });
  }
  if (command === 'serve') return serve(values.config, values['tls-self-signed'] === true);
  if (command === 'migrate') {
    console.log(JSON.stringify(await migrateMetaStore(loadConfig(process.env, values.config)), null, 2));
    return 0;
  }
  if (command === 'backup') return backupCommand(values.config, values.to);
  if (command === 'relocate') return relocateCommand(values.config, values['to-database'], values['to-blob-store']);
  if (command === 'audit') return audit(loadConfig(process.env, values.config), Number(values.after ?? 0));
  if (command === 'events' && (positionals[1] === undefined || positionals[1] === 'tail')) {
    return events(loadConfig(process.env, values.config), Number(values.after ?? 0), positionals[1] === 'tail');
  }
  console.error(`berth: unknown command "${command}"\n\n${HELP}`);
  return 2;
}

const ADMIN_HELP = () => `berth admin: manage accounts, users and access keys in the data directory
(the same actions are served as POST /_berth/admin/<action>, to an access key whose holder is allowed the
IAM or berth: action shown: an account's root may do everything in its account)

Usage: berth admin <action> [--account <id>] [--user <name>] [--access-key-id <id>]
                          [--policy-name <name>] [--policy-document <json|file://path>] [--config <file>]

Actions (the default account unless --account):
${Object.entries(ADMIN_ACTIONS)
  .map(([name, a]) => `  ${name.padEnd(22)} ${a.summary}\n  ${''.padEnd(22)} [${a.access.actions.join(', ')}]`)
  .join('\n')}

Output is JSON. Secret access keys are printed once, when created, and kept encrypted.`;

interface AdminFlags {
  help?: boolean;
  region?: string;
  'registry-id'?: string;
  'destination-type'?: string;
  username?: string;
  /** A secret is read from a file, never given on the command line. */
  'password-file'?: string;
  'secret-string'?: string;
  url?: string;
  'webhook-id'?: string;
  name?: string;
  'event-types'?: string;
  repositories?: string;
  config?: string;
  account?: string;
  user?: string;
  'access-key-id'?: string;
  'policy-name'?: string;
  'policy-document'?: string;
  'dry-run'?: boolean;
  repository?: string;
  seconds?: string;
  status?: string;
  kind?: string;
  path?: string;
  sha256?: string;
  source?: string;
  image?: string;
  contains?: string;
  since?: string;
  until?: string;
  'before-id'?: string;
  limit?: string;
  days?: string;
}

async function admin(action: string | undefined, values: AdminFlags): Promise<number> {
  const spec = action ? ADMIN_ACTIONS[action] : undefined;
  if (!spec) {
    if (values.help || !action) {
      console.log(ADMIN_HELP());
      return values.help ? 0 : 1;
    }
    console.error(`berth admin: unknown action "${action}"\n\n${ADMIN_HELP()}`);
    return 2;
  }
  const stores = await openStores(loadConfig(process.env, values.config));
  try {
    const doc = values['policy-document'];
    const policyDocument = doc?.startsWith('file://') ? readFileSync(doc.slice('file://'.length), 'utf8') : doc;
    const secret = values['secret-string'];
    const secretString = secret?.startsWith('file://') ? readFileSync(secret.slice('file://'.length), 'utf8').trim() : secret;
    const args = {
      account: values.account,
      user: values.user,
      accessKeyId: values['access-key-id'],
      policyName: values['policy-name'],
      policyDocument,
      dryRun: values['dry-run'],
      repository: values.repository,
      seconds: values.seconds === undefined ? undefined : Number(values.seconds),
      status: values.status,
      kind: values.kind,
      path: values.path === undefined ? undefined : resolve(values.path),
      sha256: values.sha256,
      source: values.source,
      image: values.image,
      url: values.url,
      webhookId: values['webhook-id'],
      secretString,
      contains: values.contains,
      since: values.since,
      until: values.until,
      beforeId: values['before-id'] === undefined ? undefined : Number(values['before-id']),
      limit: values.limit === undefined ? undefined : Number(values.limit),
      days: values.days === undefined ? undefined : Number(values.days),
      eventTypes: values['event-types']
        ?.split(',')
        .map((x) => x.trim())
        .filter(Boolean),
      repositories: values.repositories
        ?.split(',')
        .map((x) => x.trim())
        .filter(Boolean),
      region: values.region,
      registryId: values['registry-id'],
      destinationType: values['destination-type'],
      username: values.username,
      password: values['password-file'] === undefined ? undefined : readFileSync(values['password-file'], 'utf8').trim(),
      name: values.name,
    };
    const server = spec.inServer ? runningServer(stores.dataDir) : undefined;
    const result = server
      ? await callServer(server, action!, args, stores.rootKey.accessKeyId, stores.rootKey.secretAccessKey)
      : await spec.run(stores, args, stores.accountId);
    console.log(JSON.stringify(result, null, 2));
    // fsck's exit status tells whether it found problems.
    return action === 'fsck' && (result as { problems: unknown[] }).problems.length > 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof IdentityError || e instanceof JobFailedError) {
      console.error(`berth admin ${action}: ${e.message}`);
      return 1;
    }
    if (e instanceof RemoteError) {
      console.error(`berth ${action}: ${e.message}`);
      return 1;
    }
    if (isStorageFull(e)) {
      console.error(`berth ${action}: ${STORAGE_FULL_MESSAGE}: free space on the filesystem of ${stores.dataDir} and run it again`);
      return 1;
    }
    throw e;
  } finally {
    await stores.close();
  }
}

interface TransferFlags {
  config?: string;
  url?: string;
  repository?: string;
  compress?: boolean;
  output?: string;
  format?: string;
}

/** `berth import` and `berth export`, on the data directory (through its server) or a remote Berth (--url). */
async function transfer(command: 'import' | 'export', args: string[], flags: TransferFlags): Promise<number> {
  if (command === 'import' && args.length !== 1) {
    console.error('Usage: berth import <file.tar|dir> [--repository NAME[:TAG]] [--compress] [--url URL]');
    return 2;
  }
  if (command === 'export' && (args.length === 0 || !flags.output)) {
    console.error('Usage: berth export NAME:TAG... -o <file.tar> [--format docker|oci] [--url URL]');
    return 2;
  }
  const format = flags.format ?? 'docker';
  if (format !== 'docker' && format !== 'oci') {
    console.error(`berth export: --format is docker or oci, not "${format}"`);
    return 2;
  }
  const config = loadConfig(process.env, flags.config);
  const { openArchive } = await import('../transfer/archive-source.ts');
  const { ImportError, planImport, runImport } = await import('../transfer/import.ts');
  const { ExportError, runExport } = await import('../transfer/export.ts');
  const { RegistryError } = await import('../transfer/registry-client.ts');
  const { Progress } = await import('../transfer/progress.ts');
  const { openTarget } = await import('../transfer/target.ts');
  const progress = new Progress(process.stderr, command === 'import' ? 'importing' : 'exporting');
  let target: Target | undefined;
  try {
    const source = command === 'import' ? await openArchive(args[0]) : undefined;
    // An archive that cannot be imported is refused before any registry is touched.
    if (source) planImport(source, { repository: flags.repository, compress: flags.compress });
    target = await openTarget(config, flags.url, process.env);
    if (source) {
      const imported = await runImport(source, target.client, { repository: flags.repository, compress: flags.compress }, progress);
      console.log(JSON.stringify({ into: target.describe, images: imported }, null, 2));
    } else {
      const result = await runExport(target.client, args, flags.output!, format, progress);
      console.log(JSON.stringify({ from: target.describe, ...result }, null, 2));
    }
    return 0;
  } catch (e) {
    if (
      e instanceof ImportError ||
      e instanceof ExportError ||
      e instanceof RegistryError ||
      (e as NodeJS.ErrnoException).code === 'ENOENT'
    ) {
      console.error(`berth ${command}: ${(e as Error).message}`);
      return 1;
    }
    if (e instanceof TypeError && (e as { cause?: Error }).cause) {
      console.error(`berth ${command}: ${(e as { cause: Error }).cause.message}`);
      return 1;
    }
    throw e;
  } finally {
    await target?.close();
  }
}

interface ApplyFlags {
  config?: string;
  url?: string;
  file?: string;
  dryRun: boolean;
  prune: boolean;
  forceDeleteImages: boolean;
}

/** `berth apply`: the registry file checked first, then applied to the data directory's registry or a remote one. */
async function apply(flags: ApplyFlags): Promise<number> {
  if (!flags.file) {
    console.error(`Usage: ${APPLY_USAGE}`);
    return 2;
  }
  // Loaded when used: the YAML parser and the schema validator are not needed by the server.
  const { applyFile, loadRegistryFile, ApplyError, RegistryFileError, isApiError } = await import('../apply/apply.ts');
  const { registryApi } = await import('../apply/registry-api.ts');
  const { openTarget } = await import('../transfer/target.ts');
  let target: Target | undefined;
  try {
    const loaded = loadRegistryFile(flags.file);
    target = await openTarget(loadConfig(process.env, flags.config), flags.url, process.env);
    console.log(`# ${flags.file} -> ${target.describe}${flags.dryRun ? ' (dry run)' : ''}`);
    await applyFile(loaded, registryApi(target.endpoint.url, target.endpoint.creds), flags, (line) => console.log(line));
    return 0;
  } catch (e) {
    if (e instanceof RegistryFileError) {
      console.error(e.message);
      return 1;
    }
    if (e instanceof ApplyError || isApiError(e) || (e as NodeJS.ErrnoException).code === 'ENOENT') {
      console.error(`berth apply: ${(e as Error).message}`);
      return 1;
    }
    if (e instanceof TypeError && (e as { cause?: Error }).cause) {
      console.error(`berth apply: ${(e as { cause: Error }).cause.message}`);
      return 1;
    }
    throw e;
  } finally {
    await target?.close();
  }
}

const APPLY_USAGE = 'berth apply -f <registry.yaml> [--dry-run] [--prune] [--force-delete-images] [--url URL]';

/** Copies the embedded registry of the configured data dir to PostgreSQL + S3, with a progress bar on stderr. */
async function relocateCommand(
  configPath: string | undefined,
  toDatabase: string | undefined,
  toBlobStore: string | undefined,
): Promise<number> {
  if (!toDatabase || !toBlobStore)
    throw new ConfigError('relocate needs --to-database postgres://... and --to-blob-store s3://bucket/prefix');
  const source = loadConfig(process.env, configPath);
  if (source.databaseUrl || source.blobStore)
    throw new ConfigError(
      'relocate copies an embedded data dir: unset BERTH_DATABASE_URL and BERTH_BLOB_STORE (the target is given by --to-database and --to-blob-store)',
    );
  if (runningServer(resolve(source.dataDir)))
    throw new ConfigError(`a server is running on ${source.dataDir}: stop it first (what it writes meanwhile would not be copied)`);
  const target = loadConfig({ ...process.env, BERTH_DATABASE_URL: toDatabase, BERTH_BLOB_STORE: toBlobStore }, configPath);
  const { relocate } = await import('../storage/relocate.ts');
  let shown = -1;
  const report = await relocate(source, target, (done, total) => {
    const percent = total.bytes === 0 ? 100 : Math.floor((done.bytes / total.bytes) * 100);
    if (percent === shown && done.blobs !== total.blobs) return;
    shown = percent;
    const bar = '#'.repeat(Math.floor(percent / 5)).padEnd(20, '.');
    const line = `relocate: blobs [${bar}] ${percent}% ${done.blobs}/${total.blobs} (${mib(done.bytes)} of ${mib(total.bytes)} MiB)`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}${done.blobs === total.blobs ? '\n' : ''}`);
    else if (percent % 10 === 0 || done.blobs === total.blobs) process.stderr.write(`${line}\n`);
  });
  console.log(JSON.stringify(report, null, 2));
  return 0;
}

async function backupCommand(configPath: string | undefined, to: string | undefined): Promise<number> {
  if (!to) throw new ConfigError('backup needs --to DIR (a directory outside the data directory)');
  const { backup, BackupError } = await import('../storage/backup.ts');
  try {
    console.log(JSON.stringify(await backup(loadConfig(process.env, configPath), to), null, 2));
    return 0;
  } catch (e) {
    if (!(e instanceof BackupError)) throw e;
    console.error(`berth: ${e.message}`);
    return 1;
  }
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** Prints the audit records kept in the metadata store after the id `after`, one JSON line each (with its id). */
async function audit(config: Config, after: number): Promise<number> {
  if (!Number.isInteger(after) || after < 0) throw new ConfigError('--after must be a record id (a non-negative integer)');
  const meta = await openMetaStore(config);
  try {
    for (let last = after; ; ) {
      const records = await meta.listAuditRecords(last, 1000);
      for (const r of records) process.stdout.write(`${JSON.stringify({ id: r.id, ...JSON.parse(r.record) })}\n`);
      if (records.length < 1000) return 0;
      last = records[records.length - 1].id;
    }
  } finally {
    await meta.close();
  }
}

/** Prints the events of the outbox after the sequence number `after`, one JSON line each (src/core/events.ts). */
async function events(config: Config, after: number, follow: boolean): Promise<number> {
  if (!Number.isInteger(after) || after < 0) throw new ConfigError('--after must be an event sequence number (a non-negative integer)');
  const meta = await openMetaStore(config);
  try {
    for (let last = after; ; ) {
      const page = await meta.listEvents(last, 1000);
      for (const e of page) process.stdout.write(`${JSON.stringify(eventEnvelope(e, config.region))}\n`);
      if (page.length > 0) last = page[page.length - 1].seq;
      if (page.length < 1000) {
        if (!follow) return 0;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await meta.close();
  }
}

async function serve(configPath: string | undefined, tlsSelfSigned: boolean): Promise<number> {
  const config = loadConfig(process.env, configPath);
  if (tlsSelfSigned) {
    if (config.tlsCertFile) throw new ConfigError('--tls-self-signed and BERTH_TLS_CERT_FILE exclude each other');
    config.tlsSelfSigned = true;
  }
  const berth = await startBerth(config);
  console.log(banner(berth));
  // SIGHUP reloads the TLS certificate (as a change of its files does); connections already open keep theirs.
  process.on('SIGHUP', () => {
    berth.tls?.reloader.reload('SIGHUP');
  });
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    berth.log.info({ signal }, 'shutting down');
    berth.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  return new Promise<number>(() => {});
}

function banner(b: Berth): string {
  const host = b.publicHost;
  const key = b.rootKey;
  const shown = key.file ? relative(process.cwd(), key.file) : '';
  const file = !key.file || shown.startsWith('..') || isAbsolute(shown) ? (key.file ?? '') : shown;
  const lines = [
    `Berth listening on ${b.url}`,
    `  account ${b.accountId}, region ${b.config.region}, data in ${b.config.dataDir} (${b.config.databaseUrl ? 'PostgreSQL' : 'SQLite'} metadata, ${b.config.blobStore ? `blobs in ${b.config.blobStore}` : 'filesystem blobs'})`,
    '',
    ...(b.tls?.trust ? [...b.tls.trust, ''] : []),
  ];
  let secret: string;
  if (key.origin === 'generated') {
    lines.push(
      key.file
        ? `Root credentials were generated (shown this once; kept in ${file}, readable by you only):`
        : 'Root credentials were generated (shown this once; kept in the database, the secret encrypted):',
      `  access key id:     ${key.accessKeyId}`,
      `  secret access key: ${key.secretAccessKey}`,
      '',
    );
    secret = `'${key.secretAccessKey}'`;
  } else if (key.origin === 'file') {
    lines.push(`Root access key id ${key.accessKeyId}; its secret is in ${file}.`, '');
    secret = `"$(node -p "require('${isAbsolute(file) ? file : './' + file}').secretAccessKey")"`;
  } else if (key.origin === 'database') {
    lines.push(
      `Root access key id ${key.accessKeyId}; its secret was shown once, by the node that generated it (kept encrypted in the database).`,
      '',
    );
    secret = '"$ROOT_SECRET_ACCESS_KEY"';
  } else {
    lines.push(`Root access key id ${key.accessKeyId} (from configuration).`, '');
    secret = '"$BERTH_ROOT_SECRET_ACCESS_KEY"';
  }
  const endpoint = `--endpoint-url ${b.publicScheme}://${host}`;
  lines.push(
    'With the AWS CLI, as with Amazon ECR:',
    `  export AWS_ACCESS_KEY_ID=${key.accessKeyId} AWS_SECRET_ACCESS_KEY=${secret} AWS_DEFAULT_REGION=${b.config.region}`,
    ...(b.config.createOnPush ? [] : [`  aws ecr create-repository --repository-name my-repo ${endpoint}`]),
    `  aws ecr get-login-password ${endpoint} | docker login --username AWS --password-stdin ${host}`,
    `  docker tag my-image ${host}/my-repo:latest`,
    `  docker push ${host}/my-repo:latest`,
    '',
    'Or log docker in with the access key itself:',
    `  echo ${secret} | docker login ${host} --username ${key.accessKeyId} --password-stdin`,
  );
  if (!b.config.createOnPush) {
    lines.push('(Pushing to a repository that does not exist is refused, as in ECR; BERTH_CREATE_ON_PUSH=true creates it instead.)');
  }
  return lines.join('\n');
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof ConfigError || (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      console.error(`berth: ${(e as Error).message}`);
      process.exitCode = 2;
    } else if (isStorageFull(e)) {
      console.error(`berth: ${STORAGE_FULL_MESSAGE}: free space on the data directory's filesystem`);
      process.exitCode = 1;
    } else {
      console.error(e);
      process.exitCode = 1;
    }
  },
);
