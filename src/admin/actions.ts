// Administration of identities: accounts, users and access keys. One set of actions for the `berth admin`
// command (on the data directory) and the admin API (POST /_berth/admin/<action>), each with the authorization
// the API decides before it runs: IAM's own action names for identities, on the user's ARN, and `berth:` actions
// for the rest, on the registry's ARN (src/admin/access.ts).
import { IdentityError } from '../auth/identity.ts';
import type { Stores } from '../server/app.ts';
import { GC_JOB, LIFECYCLE_JOB } from '../server/stores.ts';
import type { JobStatus } from '../storage/meta/store.ts';
import type { AdminAccess } from './access.ts';
import { readSbom, RESCAN_JOB } from '../scan/scanner.ts';
import { dayOf } from '../core/usage-history.ts';
/** The import reads and validates OSV archives (a schema validator, a zip reader): loaded when it is used. */
const vulndb = () => import('../scan/vulndb.ts');

export interface AdminArgs {
  account?: string;
  user?: string;
  accessKeyId?: string;
  policyName?: string;
  /** The policy document's JSON text. */
  policyDocument?: string;
  dryRun?: boolean;
  /** A repository name (lifecycle-run). */
  repository?: string;
  /** How far to move the test clock (advance-clock). */
  seconds?: number;
  /** Filters of list-jobs. */
  status?: string;
  kind?: string;
  /** vulndb-import: the OSV data (a zip, a directory or a .json file), its published SHA-256, the source's name. */
  path?: string;
  sha256?: string;
  source?: string;
  /** sbom: the image, `<tag>` or `<digest>` in `repository`. */
  image?: string;
  /** put-webhook: where to deliver, which detail types and repositories (names, or prefixes ending in `*`). */
  url?: string;
  eventTypes?: string[];
  repositories?: string[];
  /** update-webhook, delete-webhook */
  webhookId?: string;
  /** audit-search: text the record contains, a time range (ISO 8601), the id the page goes on before, how many. */
  contains?: string;
  since?: string;
  until?: string;
  beforeId?: number;
  limit?: number;
  /** usage-history: how many days back. */
  days?: number;
  /** put-/delete-replication-destination: the ECR destination (region, registry id); put: where it is (`url`), its
   * type (berth or oci) and the credentials to push there. */
  region?: string;
  registryId?: string;
  destinationType?: string;
  username?: string;
  password?: string;
  /** create-signing-profile, export-signing-certificate: the profile's name. */
  name?: string;
  /** create-user, put-webhook: what manages it ("apply" for `berth apply`, whose --prune may delete it later). */
  managedBy?: string;
  /** put-secret, delete-secret: the secret's value (JSON); its name is `name` (`ecr-pullthroughcache/...`). */
  secretString?: string;
}

type Action = (stores: Stores, args: AdminArgs, callerAccount: string) => Promise<unknown>;

const need = (value: string | undefined, what: string): string => {
  if (!value) throw new IdentityError(`${what} is required`);
  return value;
};

export interface AdminAction {
  summary: string;
  run: Action;
  /** What the admin API authorizes before it runs (the `berth admin` command acts as the operator). */
  access: AdminAccess;
  /** Must run inside the server when one serves the data directory (it coordinates with requests in flight). */
  inServer?: boolean;
}

export const ADMIN_ACTIONS: Record<string, AdminAction> = {
  'create-account': {
    access: { actions: ['berth:CreateAccount'], resource: 'registry', registryWide: true, rootOnly: true },
    summary: 'create an account (--account <12 digits>, optional) and its root access key',
    run: ({ identity: id }, a) => id.createAccount(a.account),
  },
  'create-user': {
    access: { actions: ['iam:CreateUser'], resource: 'user' },
    summary: 'create a user (--user <name>) in an account',
    run: async ({ identity: id }, a, acct) => ({ arn: await id.createUser(a.account ?? acct, need(a.user, '--user'), a.managedBy) }),
  },
  'delete-user': {
    access: { actions: ['iam:DeleteUser'], resource: 'user' },
    summary: 'delete a user (--user <name>) and its access keys',
    run: async ({ identity: id }, a, acct) => {
      await id.deleteUser(a.account ?? acct, need(a.user, '--user'));
      return { deleted: a.user };
    },
  },
  'list-users': {
    access: { actions: ['iam:ListUsers'], resource: 'users' },
    summary: 'list the users of an account',
    run: async ({ identity: id }, a, acct) => ({ users: await id.listUsers(a.account ?? acct) }),
  },
  'create-access-key': {
    access: { actions: ['iam:CreateAccessKey'], resource: 'user-or-root' },
    summary: "create an access key for a user (--user), or for the account's root without --user",
    run: ({ identity: id }, a, acct) => id.createAccessKey(a.account ?? acct, a.user ?? null),
  },
  'list-access-keys': {
    access: { actions: ['iam:ListAccessKeys'], resource: 'user-or-root' },
    summary: "list a user's access keys (--user), or the root's without --user",
    run: async ({ identity: id }, a, acct) => ({ accessKeys: await id.listAccessKeys(a.account ?? acct, a.user ?? null) }),
  },
  'deactivate-access-key': {
    access: { actions: ['iam:UpdateAccessKey'], resource: 'key-owner' },
    summary: 'deactivate an access key (--access-key-id)',
    run: async ({ identity: id }, a, acct) => {
      await id.setAccessKeyStatus(a.account ?? acct, need(a.accessKeyId, '--access-key-id'), 'Inactive');
      return { accessKeyId: a.accessKeyId, status: 'Inactive' };
    },
  },
  'activate-access-key': {
    access: { actions: ['iam:UpdateAccessKey'], resource: 'key-owner' },
    summary: 'activate an access key again (--access-key-id)',
    run: async ({ identity: id }, a, acct) => {
      await id.setAccessKeyStatus(a.account ?? acct, need(a.accessKeyId, '--access-key-id'), 'Active');
      return { accessKeyId: a.accessKeyId, status: 'Active' };
    },
  },
  gc: {
    access: { actions: ['berth:RunGarbageCollection'], resource: 'registry', registryWide: true },
    summary: 'collect unreferenced blobs and abandoned uploads now (--dry-run: only report what would go)',
    inServer: true,
    run: (stores, a) => stores.jobs.run(GC_JOB, { dryRun: a.dryRun ?? false }),
  },
  fsck: {
    access: { actions: ['berth:RunFsck'], resource: 'registry', registryWide: true },
    summary: "verify every blob's digest and every manifest's references; report problems",
    run: (stores) => stores.fsck(),
  },
  'lifecycle-run': {
    // Without --repository it runs every account's policies: a registry-wide action.
    access: { actions: ['berth:RunLifecycle'], resource: 'registry', registryWide: (a) => !a.repository },
    summary: "apply lifecycle policies now: every repository's, or one (--repository <name>)",
    inServer: true,
    run: (stores, a, acct) =>
      stores.jobs.run(LIFECYCLE_JOB, a.repository ? { repository: { accountId: a.account ?? acct, name: a.repository } } : {}),
  },
  'advance-clock': {
    access: { actions: ['berth:AdvanceClock'], resource: 'registry', registryWide: true },
    summary: 'tests only (BERTH_TEST_CLOCK=1): move the registry clock forward (--seconds <n>)',
    inServer: true,
    run: async (stores, a) => {
      const seconds = Number(a.seconds);
      if (!Number.isFinite(seconds) || seconds < 0) throw new IdentityError('--seconds must be a non-negative number');
      try {
        stores.clock.advance(seconds * 1000);
      } catch (e) {
        throw new IdentityError((e as Error).message);
      }
      return { now: new Date(stores.clock.now()).toISOString() };
    },
  },
  'list-jobs': {
    access: { actions: ['berth:ListJobs'], resource: 'registry', registryWide: true },
    summary: 'background jobs, newest first (--status queued|running|succeeded|dead, --kind gc|lifecycle|...)',
    run: async (stores, a) => {
      const statuses = ['queued', 'running', 'succeeded', 'dead'];
      if (a.status !== undefined && !statuses.includes(a.status)) throw new IdentityError(`--status must be one of ${statuses.join(', ')}`);
      const jobs = await stores.meta.listJobs({ status: a.status as JobStatus | undefined, kind: a.kind }, undefined, 100);
      return {
        jobs: jobs.map(({ payload, result, ...j }) => ({
          ...j,
          payload: JSON.parse(payload),
          runAt: iso(j.runAt),
          createdAt: iso(j.createdAt),
          updatedAt: iso(j.updatedAt),
          leaseUntil: j.leaseUntil === null ? null : iso(j.leaseUntil),
        })),
      };
    },
  },
  'vulndb-import': {
    access: { actions: ['berth:ImportVulnerabilityData'], resource: 'registry', registryWide: true },
    summary: 'import OSV vulnerability data (--path <all.zip|dir|file.json>, --sha256 <hex> to check the file): atomic',
    run: async (stores, a) => {
      const { importVulnData, VulnImportError } = await vulndb();
      try {
        return await importVulnData(stores.meta, need(a.path, '--path'), {
          sha256: a.sha256,
          source: a.source,
          now: stores.clock.now(),
          job: { kind: RESCAN_JOB, payload: '{}', runAt: Date.now(), maxAttempts: 3 },
        });
      } catch (e) {
        if (e instanceof VulnImportError) throw new IdentityError(e.message);
        throw e;
      }
    },
  },
  'vulndb-status': {
    access: { actions: ['berth:GetVulnerabilityDataStatus'], resource: 'registry', registryWide: true },
    summary: 'the imported vulnerability data: sources, record counts, import time and age',
    run: async (stores) => (await vulndb()).vulnStatus(stores.meta, stores.clock.now()),
  },
  sbom: {
    access: { actions: ['berth:GetSbom'], resource: 'registry' },
    summary: 'print the SBOM (CycloneDX) the scanner wrote for an image (--repository <name>, --image <tag|digest>)',
    run: async (stores, a, acct) => {
      const name = need(a.repository, '--repository');
      const repo = await stores.meta.getRepository(a.account ?? acct, name);
      if (!repo) throw new IdentityError(`repository ${name} does not exist`);
      const image = need(a.image, '--image');
      const digest = image.includes(':') ? image : await stores.meta.getTag(repo.id, image);
      if (!digest || !(await stores.meta.getManifest(repo.id, digest))) throw new IdentityError(`image ${image} does not exist in ${name}`);
      const sbom = await readSbom(stores.registry, repo, digest);
      if (sbom === undefined) throw new IdentityError(`image ${image} of ${name} has no SBOM: it has not been scanned`);
      return sbom;
    },
  },
  usage: {
    access: { actions: ['berth:GetUsage'], resource: 'registry', registryWide: true },
    summary: 'storage used: per repository, referenced (deduplicated) and stored bytes, the 20 largest images',
    run: async (stores) => ({ ...(await stores.meta.usage()), largestImages: await stores.meta.largestImages(20) }),
  },
  'usage-history': {
    access: { actions: ['berth:GetUsage'], resource: 'registry', registryWide: true },
    summary: 'storage over time: the daily usage snapshots of the last --days (default 90)',
    run: async (stores, a) => {
      const days = a.days === undefined ? 90 : Number(a.days);
      if (!Number.isInteger(days) || days < 1 || days > 3660) throw new IdentityError('--days must be a whole number from 1 to 3660');
      const since = dayOf(stores.clock.now() - (days - 1) * 86_400_000);
      return { snapshots: await stores.meta.listUsageSnapshots(since, days) };
    },
  },
  'audit-search': {
    access: { actions: ['berth:SearchAuditRecords'], resource: 'registry', registryWide: true },
    summary:
      'audit records kept in the metadata store, newest first (--contains <text>, --since/--until <ISO time>, --before-id <id>, --limit <n>)',
    run: async (stores, a) => {
      const time = (v: string | undefined, what: string) => {
        if (v === undefined || v === '') return undefined;
        const ms = Date.parse(v);
        if (Number.isNaN(ms)) throw new IdentityError(`${what} must be a date and time (ISO 8601), not ${v}`);
        return ms;
      };
      const limit = a.limit === undefined ? 100 : Number(a.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new IdentityError('--limit must be a whole number from 1 to 1000');
      const beforeId = a.beforeId === undefined ? undefined : Number(a.beforeId);
      if (beforeId !== undefined && !Number.isSafeInteger(beforeId)) throw new IdentityError('--before-id must be a whole number');
      const records = await stores.meta.searchAuditRecords({
        contains: a.contains || undefined,
        since: time(a.since, '--since'),
        until: time(a.until, '--until'),
        beforeId,
        limit,
      });
      return { records: records.map((r) => ({ id: r.id, at: iso(r.at), record: JSON.parse(r.record) as unknown })) };
    },
  },
  'put-webhook': {
    access: { actions: ['berth:PutWebhook'], resource: 'registry' },
    summary:
      'add a webhook (--url, optional --event-types "ECR Image Action,ECR Image Scan", --repositories "app,team/*"); prints its secret once',
    run: ({ webhooks }, a, acct) => webhooks.create(a.account ?? acct, a),
  },
  'update-webhook': {
    access: { actions: ['berth:PutWebhook'], resource: 'registry' },
    summary:
      "change a webhook's filters (--webhook-id, --event-types, --repositories: each given replaces the webhook's); its secret and delivery cursor are kept",
    run: ({ webhooks }, a, acct) => webhooks.update(a.account ?? acct, a.webhookId, a),
  },
  'list-webhooks': {
    access: { actions: ['berth:ListWebhooks'], resource: 'registry' },
    summary: "list an account's webhooks and where their delivery stands",
    run: async ({ webhooks }, a, acct) => ({ webhooks: await webhooks.list(a.account ?? acct) }),
  },
  'delete-webhook': {
    access: { actions: ['berth:DeleteWebhook'], resource: 'registry' },
    summary: 'delete a webhook (--webhook-id)',
    run: ({ webhooks }, a, acct) => webhooks.delete(a.account ?? acct, a.webhookId),
  },
  'put-user-policy': {
    access: { actions: ['iam:PutUserPolicy'], resource: 'user' },
    summary: 'attach an inline identity policy to a user (--user, --policy-name, --policy-document <json|file://path>)',
    run: async ({ identity: id }, a, acct) => {
      await id.putUserPolicy(
        a.account ?? acct,
        need(a.user, '--user'),
        need(a.policyName, '--policy-name'),
        need(a.policyDocument, '--policy-document'),
      );
      return { user: a.user, policyName: a.policyName };
    },
  },
  'list-user-policies': {
    // It returns the documents too: IAM's ListUserPolicies and GetUserPolicy.
    access: { actions: ['iam:ListUserPolicies', 'iam:GetUserPolicy'], resource: 'user' },
    summary: "list a user's policies with their documents (--user)",
    run: async ({ identity: id }, a, acct) => ({ policies: await id.listUserPolicies(a.account ?? acct, need(a.user, '--user')) }),
  },
  'delete-user-policy': {
    access: { actions: ['iam:DeleteUserPolicy'], resource: 'user' },
    summary: "remove a user's policy (--user, --policy-name)",
    run: async ({ identity: id }, a, acct) => {
      await id.deleteUserPolicy(a.account ?? acct, need(a.user, '--user'), need(a.policyName, '--policy-name'));
      return { deleted: a.policyName };
    },
  },
  'delete-access-key': {
    access: { actions: ['iam:DeleteAccessKey'], resource: 'key-owner' },
    summary: 'delete an access key (--access-key-id)',
    run: async ({ identity: id }, a, acct) => {
      await id.deleteAccessKey(a.account ?? acct, need(a.accessKeyId, '--access-key-id'));
      return { deleted: a.accessKeyId };
    },
  },
  // Replication destinations (src/replication/destinations.ts).
  'put-replication-destination': {
    access: { actions: ['berth:PutReplicationDestination'], resource: 'registry' },
    summary:
      'say where a replication destination is (--region, --registry-id, --url, --destination-type berth|oci, --username, --password-file)',
    run: ({ replicationDestinations }, a, acct) => replicationDestinations.put(a.account ?? acct, a),
  },
  'list-replication-destinations': {
    access: { actions: ['berth:ListReplicationDestinations'], resource: 'registry' },
    summary: "list an account's replication destinations (without their secrets)",
    run: async ({ replicationDestinations }, a, acct) => ({ destinations: await replicationDestinations.list(a.account ?? acct) }),
  },
  'delete-replication-destination': {
    access: { actions: ['berth:DeleteReplicationDestination'], resource: 'registry' },
    summary: 'delete a replication destination (--region, --registry-id)',
    run: ({ replicationDestinations }, a, acct) => replicationDestinations.delete(a.account ?? acct, a),
  },
  'create-signing-profile': {
    access: { actions: ['berth:CreateSigningProfile'], resource: 'registry' },
    summary:
      'create a signing profile (--name): a new ECDSA P-256 key, kept encrypted, and its self-signed certificate; rotate by creating another',
    run: ({ signingProfiles }, a, acct) => signingProfiles.create(a.account ?? acct, a.name),
  },
  'list-signing-profiles': {
    access: { actions: ['berth:ListSigningProfiles'], resource: 'registry' },
    summary: "list an account's signing profiles (name, signingProfileArn, certificate fingerprint and expiry)",
    run: async ({ signingProfiles }, a, acct) => ({ signingProfiles: await signingProfiles.list(a.account ?? acct) }),
  },
  'export-signing-certificate': {
    access: { actions: ['berth:GetSigningCertificate'], resource: 'registry' },
    summary: "print a signing profile's certificate (--name), PEM: what verifiers (notation) trust",
    run: async ({ signingProfiles }, a, acct) => ({
      name: a.name,
      certificate: await signingProfiles.certificate(a.account ?? acct, a.name),
    }),
  },
  // The secret store of pull through cache rules' upstream credentials (src/core/secret-store.ts), with Secrets
  // Manager's action names.
  'put-secret': {
    access: { actions: ['berth:PutSecretValue'], resource: 'registry' },
    summary:
      'store upstream credentials for pull through cache rules (--name ecr-pullthroughcache/<name>, --secret-string \'{"username":"..","accessToken":".."}\' or file://path); prints the ARN a rule\'s credentialArn names',
    run: ({ pullThrough }, a, acct) => pullThrough.secrets.put(a.account ?? acct, a.name, a.secretString),
  },
  'list-secrets': {
    access: { actions: ['berth:ListSecrets'], resource: 'registry' },
    summary: "list an account's secrets: names and ARNs, never their values",
    run: async ({ pullThrough }, a, acct) => ({ secrets: await pullThrough.secrets.list(a.account ?? acct) }),
  },
  'delete-secret': {
    access: { actions: ['berth:DeleteSecret'], resource: 'registry' },
    summary: 'delete a secret (--name)',
    run: ({ pullThrough }, a, acct) => pullThrough.secrets.delete(a.account ?? acct, a.name),
  },
};

const iso = (ms: number) => new Date(ms).toISOString();
