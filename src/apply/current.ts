// What the registry holds, read through its APIs in the shape of the file's desired state (src/apply/desired.ts):
// the repositories and users the file names, the registry settings it gives, and, for --prune, what an earlier
// apply created that the file no longer names. A section the file leaves out (`repositories:`, `users:`) is not
// read at all: the file does not manage it (and a registry without Berth's admin API, Amazon ECR, is never asked
// about users or webhooks unless the file has some).
import type { Repository as WireRepository, ScanningRepositoryFilter } from '@aws-sdk/client-ecr';
import {
  MANAGED_TAG,
  MANAGED_USER,
  type Desired,
  type JsonObject,
  type RegistrySettings,
  type RepositorySettings,
  type UserSettings,
  type WebhookSettings,
} from './desired.ts';
import { mapLimit, unlessAbsent, type RegistryApi } from './registry-api.ts';

export interface CurrentRepository {
  arn: string;
  settings: RepositorySettings;
}

export interface Current {
  /** The repositories the file names that exist. */
  repositories: Map<string, CurrentRepository>;
  /** With --prune: repositories apply created that the file no longer names. */
  strayRepositories: { name: string; hasImages: boolean }[];
  users: Map<string, { managedBy: string | null; settings: UserSettings }>;
  strayUsers: string[];
  /** The webhooks the file names that exist, by URL (the first, when the registry has several with one URL). */
  webhooks: Map<string, { id: string; settings: WebhookSettings }>;
  /** With --prune: webhooks apply created whose URL the file no longer names. */
  strayWebhooks: { id: string; url: string }[];
  registry: RegistrySettings;
}

const PARALLEL = 8;

export async function currentState(api: RegistryApi, desired: Desired, prune: boolean): Promise<Current> {
  const current: Current = {
    repositories: new Map(),
    strayRepositories: [],
    users: new Map(),
    strayUsers: [],
    webhooks: new Map(),
    strayWebhooks: [],
    registry: {},
  };
  if (desired.sections.repositories) await readRepositories(api, desired, prune, current);
  if (desired.sections.users) await readUsers(api, desired, prune, current);
  if (desired.sections.webhooks) await readWebhooks(api, desired, prune, current);
  if (Object.hasOwn(desired.registry, 'policy')) {
    const answer = await unlessAbsent(
      api.ecr<{ policyText?: string }>('GetRegistryPolicy', {}),
      'RegistryPolicyNotFoundException',
      undefined,
    );
    current.registry.policy = answer?.policyText ? (JSON.parse(answer.policyText) as JsonObject) : null;
  }
  if (desired.registry.scanning) {
    const { scanningConfiguration: c } = await api.ecr<{
      scanningConfiguration?: { scanType?: string; rules?: { scanFrequency: string; repositoryFilters: ScanningRepositoryFilter[] }[] };
    }>('GetRegistryScanningConfiguration', {});
    current.registry.scanning = {
      scanType: c?.scanType ?? 'BASIC',
      rules: (c?.rules ?? []).map((r) => ({
        scanFrequency: r.scanFrequency,
        repositoryFilters: r.repositoryFilters.map((f) => f.filter!),
      })),
    };
  }
  return current;
}

async function readRepositories(api: RegistryApi, desired: Desired, prune: boolean, current: Current): Promise<void> {
  const all: WireRepository[] = [];
  let nextToken: string | undefined;
  do {
    const page = await api.ecr<{ repositories?: WireRepository[]; nextToken?: string }>('DescribeRepositories', {
      maxResults: 1000,
      ...(nextToken ? { nextToken } : {}),
    });
    all.push(...(page.repositories ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const named = all.filter((r) => desired.repositories.has(r.repositoryName!));
  for (const [i, settings] of (await mapLimit(named, PARALLEL, (r) => repositorySettings(api, r))).entries()) {
    current.repositories.set(named[i].repositoryName!, { arn: named[i].repositoryArn!, settings });
  }
  if (!prune) return;
  const others = all.filter((r) => !desired.repositories.has(r.repositoryName!));
  const stray = await mapLimit(others, PARALLEL, async (r) => {
    if ((await tags(api, r.repositoryArn!))[MANAGED_TAG.key] !== MANAGED_TAG.value) return undefined;
    const images = await api.ecr<{ imageIds?: unknown[] }>('ListImages', { repositoryName: r.repositoryName, maxResults: 1 });
    return { name: r.repositoryName!, hasImages: (images.imageIds ?? []).length > 0 };
  });
  current.strayRepositories = stray.filter((s) => s !== undefined);
}

async function repositorySettings(api: RegistryApi, r: WireRepository): Promise<RepositorySettings> {
  const repositoryName = r.repositoryName!;
  const [tagged, policy, lifecycle] = await Promise.all([
    tags(api, r.repositoryArn!),
    unlessAbsent(
      api.ecr<{ policyText?: string }>('GetRepositoryPolicy', { repositoryName }),
      'RepositoryPolicyNotFoundException',
      undefined,
    ),
    unlessAbsent(
      api.ecr<{ lifecyclePolicyText?: string }>('GetLifecyclePolicy', { repositoryName }),
      'LifecyclePolicyNotFoundException',
      undefined,
    ),
  ]);
  const encryption = r.encryptionConfiguration;
  return {
    imageTagMutability: r.imageTagMutability ?? 'MUTABLE',
    imageTagMutabilityExclusionFilters: (r.imageTagMutabilityExclusionFilters ?? []).map((f) => f.filter!),
    scanOnPush: r.imageScanningConfiguration?.scanOnPush ?? false,
    encryption: { type: encryption?.encryptionType ?? 'AES256', ...(encryption?.kmsKey ? { kmsKey: encryption.kmsKey } : {}) },
    tags: tagged,
    policy: policy?.policyText ? (JSON.parse(policy.policyText) as JsonObject) : null,
    lifecyclePolicy: lifecycle?.lifecyclePolicyText ? (JSON.parse(lifecycle.lifecyclePolicyText) as JsonObject) : null,
  };
}

async function tags(api: RegistryApi, resourceArn: string): Promise<Record<string, string>> {
  const { tags: list } = await api.ecr<{ tags?: { Key: string; Value: string }[] }>('ListTagsForResource', { resourceArn });
  return Object.fromEntries((list ?? []).map((t) => [t.Key, t.Value]));
}

async function readUsers(api: RegistryApi, desired: Desired, prune: boolean, current: Current): Promise<void> {
  const { users } = await api.admin<{ users: { name: string; managedBy?: string | null }[] }>('list-users', {});
  const named = users.filter((u) => desired.users.has(u.name));
  const policies = await mapLimit(named, PARALLEL, (u) =>
    api.admin<{ policies: { name: string; document: JsonObject }[] }>('list-user-policies', { user: u.name }),
  );
  for (const [i, u] of named.entries()) {
    current.users.set(u.name, {
      managedBy: u.managedBy ?? null,
      settings: { policies: Object.fromEntries(policies[i].policies.map((p) => [p.name, p.document])) },
    });
  }
  if (prune) current.strayUsers = users.filter((u) => !desired.users.has(u.name) && u.managedBy === MANAGED_USER).map((u) => u.name);
}

async function readWebhooks(api: RegistryApi, desired: Desired, prune: boolean, current: Current): Promise<void> {
  const { webhooks } = await api.admin<{
    webhooks: { id: string; url: string; eventTypes: string[]; repositories: string[]; managedBy?: string | null }[];
  }>('list-webhooks', {});
  for (const w of webhooks) {
    if (desired.webhooks.has(w.url) && !current.webhooks.has(w.url))
      current.webhooks.set(w.url, { id: w.id, settings: { eventTypes: w.eventTypes, repositories: w.repositories } });
  }
  if (prune)
    current.strayWebhooks = webhooks
      .filter((w) => !desired.webhooks.has(w.url) && w.managedBy === MANAGED_USER)
      .map((w) => ({ id: w.id, url: w.url }));
}
