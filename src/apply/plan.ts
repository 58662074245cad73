// The plan: what apply changes to make the registry hold what the file says, resource by resource, each with its
// field-level changes (what --dry-run prints) and the API calls that make them (what apply then runs, in order).
import type { Current, CurrentRepository } from './current.ts';
import { diffJson, sameJson, type FieldChange } from './diff.ts';
import {
  MANAGED_TAG,
  MANAGED_USER,
  type Desired,
  type Json,
  type RegistrySettings,
  type RepositorySettings,
  type UserSettings,
  type WebhookSettings,
} from './desired.ts';
import type { Path } from './file.ts';

/** One call: an ECR operation or a Berth admin action, with its input; `reveal`: a line to print from its answer. */
export interface Step {
  api: 'ecr' | 'admin';
  operation: string;
  input: Record<string, unknown>;
  reveal?: (answer: Record<string, unknown>) => string;
}

export interface Change {
  resource: 'repository' | 'user' | 'webhook' | 'registry';
  name: string;
  /** `kept`: --prune would delete it, but it holds images and --force-delete-images was not given. */
  action: 'create' | 'update' | 'delete' | 'kept';
  fields: FieldChange[];
  steps: Step[];
  /** Where the file names it (none for a deletion). */
  path?: Path;
  note?: string;
}

export interface PlanOptions {
  prune: boolean;
  forceDeleteImages: boolean;
}

/** A change the ECR API cannot make (a repository's encryption is fixed when it is created): at the file's line. */
export interface Conflict {
  path: Path;
  message: string;
}

export function plan(desired: Desired, current: Current, options: PlanOptions): { changes: Change[]; conflicts: Conflict[] } {
  const changes: Change[] = [];
  const conflicts: Conflict[] = [];
  for (const [name, { settings, path }] of desired.repositories) {
    const existing = current.repositories.get(name);
    if (!existing) changes.push(createRepository(name, settings, path));
    else {
      const change = updateRepository(name, settings, existing, path, conflicts);
      if (change) changes.push(change);
    }
  }
  const registry = updateRegistry(desired.registry, current.registry, desired.registryPath);
  if (registry) changes.push(registry);
  for (const [name, { settings, path }] of desired.users) {
    const existing = current.users.get(name);
    const change = existing ? updateUser(name, settings, existing.settings, path) : createUser(name, settings, path);
    if (change) changes.push(change);
  }
  for (const [url, { settings, path }] of desired.webhooks) {
    const existing = current.webhooks.get(url);
    const change = existing ? updateWebhook(url, settings, existing, path) : createWebhook(url, settings, path);
    if (change) changes.push(change);
  }
  if (options.prune) {
    for (const stray of current.strayRepositories) {
      if (stray.hasImages && !options.forceDeleteImages) {
        changes.push({
          resource: 'repository',
          name: stray.name,
          action: 'kept',
          fields: [],
          steps: [],
          note: 'it holds images: --force-delete-images deletes it with them',
        });
      } else {
        changes.push({
          resource: 'repository',
          name: stray.name,
          action: 'delete',
          fields: [],
          steps: [ecr('DeleteRepository', { repositoryName: stray.name, ...(stray.hasImages ? { force: true } : {}) })],
          ...(stray.hasImages ? { note: 'with its images (--force-delete-images)' } : {}),
        });
      }
    }
    for (const name of current.strayUsers) {
      changes.push({ resource: 'user', name, action: 'delete', fields: [], steps: [admin('delete-user', { user: name })] });
    }
    for (const { id, url } of current.strayWebhooks) {
      changes.push({ resource: 'webhook', name: url, action: 'delete', fields: [], steps: [admin('delete-webhook', { webhookId: id })] });
    }
  }
  return { changes, conflicts };
}

const ecr = (operation: string, input: Record<string, unknown>): Step => ({ api: 'ecr', operation, input });
const admin = (operation: string, input: Record<string, unknown>): Step => ({ api: 'admin', operation, input });
const text = (document: Json) => JSON.stringify(document);
const exclusionFilters = (filters: string[]) => filters.map((filter) => ({ filterType: 'WILDCARD', filter }));
const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** What a repository ECR creates with no settings has: a new repository's fields are shown against it. */
const DEFAULT_REPOSITORY: RepositorySettings = {
  imageTagMutability: 'MUTABLE',
  imageTagMutabilityExclusionFilters: [],
  scanOnPush: false,
  encryption: { type: 'AES256' },
  tags: {},
  policy: null,
  lifecyclePolicy: null,
};

function createRepository(name: string, s: RepositorySettings, path: Path): Change {
  const repositoryName = name;
  const steps = [
    ecr('CreateRepository', {
      repositoryName,
      imageTagMutability: s.imageTagMutability,
      ...(s.imageTagMutabilityExclusionFilters.length > 0
        ? { imageTagMutabilityExclusionFilters: exclusionFilters(s.imageTagMutabilityExclusionFilters) }
        : {}),
      imageScanningConfiguration: { scanOnPush: s.scanOnPush },
      encryptionConfiguration: { encryptionType: s.encryption.type, ...(s.encryption.kmsKey ? { kmsKey: s.encryption.kmsKey } : {}) },
      tags: tagList({ ...s.tags, [MANAGED_TAG.key]: MANAGED_TAG.value }),
    }),
  ];
  if (s.policy) steps.push(ecr('SetRepositoryPolicy', { repositoryName, policyText: text(s.policy) }));
  if (s.lifecyclePolicy) steps.push(ecr('PutLifecyclePolicy', { repositoryName, lifecyclePolicyText: text(s.lifecyclePolicy) }));
  return { resource: 'repository', name, action: 'create', fields: added(DEFAULT_REPOSITORY, s), steps, path };
}

/** The settings that differ from the defaults, each shown as added. */
function added<T extends object>(defaults: T, settings: T): FieldChange[] {
  return Object.entries(settings)
    .filter(([k, v]) => !sameJson(v as Json, defaults[k as keyof T] as Json))
    .map(([path, after]) => ({ path, after: after as Json }));
}

function updateRepository(
  name: string,
  wanted: RepositorySettings,
  existing: CurrentRepository,
  path: Path,
  conflicts: Conflict[],
): Change | undefined {
  const now = existing.settings;
  // apply's mark stays on what it created, and is never put on a repository it found.
  const marked = now.tags[MANAGED_TAG.key] === undefined ? {} : { [MANAGED_TAG.key]: now.tags[MANAGED_TAG.key] };
  const s: RepositorySettings = { ...wanted, tags: { ...wanted.tags, ...marked } };
  // The encryption is the repository's from its creation: a key of its own is compared only when the file gives one.
  const encryption = {
    type: now.encryption.type,
    ...(s.encryption.kmsKey && now.encryption.kmsKey ? { kmsKey: now.encryption.kmsKey } : {}),
  };
  if (!sameJson(encryption, s.encryption)) {
    conflicts.push({
      path: [...path, 'encryption'],
      message: `repository ${name}: its encryption is ${JSON.stringify(now.encryption)} and cannot be changed after creation (delete the repository and apply again to create it anew)`,
    });
  }
  const fields = diffJson({ ...now, encryption } as unknown as Json, s as unknown as Json);
  if (fields.length === 0) return undefined;
  const repositoryName = name;
  const steps: Step[] = [];
  if (
    now.imageTagMutability !== s.imageTagMutability ||
    !sameJson(now.imageTagMutabilityExclusionFilters, s.imageTagMutabilityExclusionFilters)
  ) {
    steps.push(
      ecr('PutImageTagMutability', {
        repositoryName,
        imageTagMutability: s.imageTagMutability,
        ...(s.imageTagMutabilityExclusionFilters.length > 0
          ? { imageTagMutabilityExclusionFilters: exclusionFilters(s.imageTagMutabilityExclusionFilters) }
          : {}),
      }),
    );
  }
  if (now.scanOnPush !== s.scanOnPush)
    steps.push(ecr('PutImageScanningConfiguration', { repositoryName, imageScanningConfiguration: { scanOnPush: s.scanOnPush } }));
  const tagged = Object.fromEntries(Object.entries(s.tags).filter(([k, v]) => now.tags[k] !== v));
  if (Object.keys(tagged).length > 0) steps.push(ecr('TagResource', { resourceArn: existing.arn, tags: tagList(tagged) }));
  const untagged = Object.keys(now.tags).filter((k) => !Object.hasOwn(s.tags, k));
  if (untagged.length > 0) steps.push(ecr('UntagResource', { resourceArn: existing.arn, tagKeys: untagged }));
  if (!sameJson(now.policy, s.policy)) {
    steps.push(
      s.policy
        ? ecr('SetRepositoryPolicy', { repositoryName, policyText: text(s.policy) })
        : ecr('DeleteRepositoryPolicy', { repositoryName }),
    );
  }
  if (!sameJson(now.lifecyclePolicy, s.lifecyclePolicy)) {
    steps.push(
      s.lifecyclePolicy
        ? ecr('PutLifecyclePolicy', { repositoryName, lifecyclePolicyText: text(s.lifecyclePolicy) })
        : ecr('DeleteLifecyclePolicy', { repositoryName }),
    );
  }
  return { resource: 'repository', name, action: 'update', fields, steps, path };
}

function updateRegistry(wanted: RegistrySettings, now: RegistrySettings, path: Path): Change | undefined {
  const steps: Step[] = [];
  if (Object.hasOwn(wanted, 'policy') && !sameJson(now.policy, wanted.policy)) {
    steps.push(wanted.policy ? ecr('PutRegistryPolicy', { policyText: text(wanted.policy) }) : ecr('DeleteRegistryPolicy', {}));
  }
  if (wanted.scanning && !sameJson(now.scanning as unknown as Json, wanted.scanning as unknown as Json)) {
    steps.push(
      ecr('PutRegistryScanningConfiguration', {
        scanType: wanted.scanning.scanType,
        rules: wanted.scanning.rules.map((r) => ({
          scanFrequency: r.scanFrequency,
          repositoryFilters: r.repositoryFilters.map((filter) => ({ filter, filterType: 'WILDCARD' })),
        })),
      }),
    );
  }
  if (steps.length === 0) return undefined;
  return {
    resource: 'registry',
    name: '',
    action: 'update',
    fields: diffJson(now as unknown as Json, wanted as unknown as Json),
    steps,
    path,
  };
}

function createUser(name: string, s: UserSettings, path: Path): Change {
  const steps = [admin('create-user', { user: name, managedBy: MANAGED_USER })];
  for (const [policyName, document] of Object.entries(s.policies))
    steps.push(admin('put-user-policy', { user: name, policyName, policyDocument: text(document) }));
  return { resource: 'user', name, action: 'create', fields: diffJson({ policies: {} }, s as unknown as Json), steps, path };
}

function updateUser(name: string, s: UserSettings, now: UserSettings, path: Path): Change | undefined {
  const fields = diffJson(now as unknown as Json, s as unknown as Json);
  if (fields.length === 0) return undefined;
  const steps: Step[] = [];
  for (const [policyName, document] of Object.entries(s.policies)) {
    if (!sameJson(now.policies[policyName], document))
      steps.push(admin('put-user-policy', { user: name, policyName, policyDocument: text(document) }));
  }
  for (const policyName of Object.keys(now.policies)) {
    if (!Object.hasOwn(s.policies, policyName)) steps.push(admin('delete-user-policy', { user: name, policyName }));
  }
  return { resource: 'user', name, action: 'update', fields, steps, path };
}

function createWebhook(url: string, s: WebhookSettings, path: Path): Change {
  const step: Step = {
    ...admin('put-webhook', { url, eventTypes: s.eventTypes, repositories: s.repositories, managedBy: MANAGED_USER }),
    // As put-webhook shows it: once, now; the registry keeps it encrypted and never shows it again.
    reveal: (answer) => `secret of webhook ${url} (shown once, keep it now: it signs the deliveries): ${String(answer.secret)}`,
  };
  return { resource: 'webhook', name: url, action: 'create', fields: added({ eventTypes: [], repositories: [] }, s), steps: [step], path };
}

function updateWebhook(url: string, s: WebhookSettings, now: { id: string; settings: WebhookSettings }, path: Path): Change | undefined {
  const fields = diffJson(now.settings as unknown as Json, s as unknown as Json);
  if (fields.length === 0) return undefined;
  // update-webhook keeps the webhook's secret and where its delivery stands.
  const steps = [admin('update-webhook', { webhookId: now.id, eventTypes: s.eventTypes, repositories: s.repositories })];
  return { resource: 'webhook', name: url, action: 'update', fields, steps, path };
}
