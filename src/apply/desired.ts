// What the registry file asks for, in the shape apply compares with what the registry holds: every field of a
// repository and of a user given its value (the file's, or ECR's default when the file leaves it out), so that a
// field removed from the file goes back to the default. The file has passed the schema (src/apply/schema.ts).
import type { Path, RegistryFile } from './file.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** The tag apply puts on the repositories it creates: what --prune may delete. */
export const MANAGED_TAG = { key: 'berth:managed-by', value: 'apply' };
/** The marker on the users and webhooks it creates. */
export const MANAGED_USER = 'apply';

export interface RepositorySettings {
  imageTagMutability: string;
  imageTagMutabilityExclusionFilters: string[];
  scanOnPush: boolean;
  encryption: { type: string; kmsKey?: string };
  tags: Record<string, string>;
  policy: JsonObject | null;
  lifecyclePolicy: JsonObject | null;
}

export interface ScanningConfiguration {
  scanType: string;
  rules: { scanFrequency: string; repositoryFilters: string[] }[];
}

/** Registry-wide settings: only the keys the file gives are managed. */
export interface RegistrySettings {
  policy?: JsonObject | null;
  scanning?: ScanningConfiguration;
}

export interface UserSettings {
  policies: Record<string, JsonObject>;
}

/** A webhook's filters (its URL identifies it; its secret is the registry's, never the file's). */
export interface WebhookSettings {
  eventTypes: string[];
  repositories: string[];
}

export interface Desired {
  repositories: Map<string, { settings: RepositorySettings; path: Path }>;
  users: Map<string, { settings: UserSettings; path: Path }>;
  /** By URL, as the registry writes it (`new URL(url).href`). */
  webhooks: Map<string, { settings: WebhookSettings; path: Path }>;
  registry: RegistrySettings;
  registryPath: Path;
  /** The sections the file has (even empty): a section left out is not managed, and --prune leaves it alone. */
  sections: { repositories: boolean; users: boolean; webhooks: boolean };
}

interface FileData {
  registry?: { policy?: JsonObject | null; scanning?: { scanType: string; rules?: ScanningConfiguration['rules'] } };
  repositories?: ({ name: string } & Partial<Omit<RepositorySettings, 'encryption'>> & {
      encryption?: { type: string; kmsKey?: string };
    })[];
  users?: { name: string; policies?: Record<string, JsonObject> }[];
  webhooks?: { url: string; eventTypes?: string[]; repositories?: string[] }[];
}

export function desiredState(file: RegistryFile): Desired {
  const data = file.data as FileData;
  const problems: { path: Path; message: string }[] = [];
  const repositories: Desired['repositories'] = new Map();
  for (const [i, r] of (data.repositories ?? []).entries()) {
    const path = ['repositories', i];
    const first = repositories.get(r.name);
    if (first)
      problems.push({
        path: [...path, 'name'],
        message: `repository ${r.name} is named twice (first at line ${file.locate(first.path).line})`,
      });
    else repositories.set(r.name, { path, settings: repositorySettings(r) });
  }
  const users: Desired['users'] = new Map();
  for (const [i, u] of (data.users ?? []).entries()) {
    const path = ['users', i];
    const first = users.get(u.name);
    if (first)
      problems.push({ path: [...path, 'name'], message: `user ${u.name} is named twice (first at line ${file.locate(first.path).line})` });
    else users.set(u.name, { path, settings: { policies: u.policies ?? {} } });
  }
  const webhooks: Desired['webhooks'] = new Map();
  for (const [i, w] of (data.webhooks ?? []).entries()) {
    const path = ['webhooks', i];
    const url = URL.parse(w.url)?.href;
    if (url === undefined) {
      problems.push({ path: [...path, 'url'], message: `${w.url} is not a URL` });
      continue;
    }
    const first = webhooks.get(url);
    if (first)
      problems.push({ path: [...path, 'url'], message: `webhook ${w.url} is named twice (first at line ${file.locate(first.path).line})` });
    else webhooks.set(url, { path, settings: { eventTypes: w.eventTypes ?? [], repositories: w.repositories ?? [] } });
  }
  if (problems.length > 0) throw file.error(problems);
  const registry: RegistrySettings = {};
  if (data.registry && Object.hasOwn(data.registry, 'policy')) registry.policy = data.registry.policy ?? null;
  if (data.registry?.scanning) registry.scanning = { scanType: data.registry.scanning.scanType, rules: data.registry.scanning.rules ?? [] };
  const sections = {
    repositories: Object.hasOwn(data, 'repositories'),
    users: Object.hasOwn(data, 'users'),
    webhooks: Object.hasOwn(data, 'webhooks'),
  };
  return { repositories, users, webhooks, registry, registryPath: ['registry'], sections };
}

function repositorySettings(r: NonNullable<FileData['repositories']>[number]): RepositorySettings {
  return {
    imageTagMutability: r.imageTagMutability ?? 'MUTABLE',
    imageTagMutabilityExclusionFilters: r.imageTagMutabilityExclusionFilters ?? [],
    scanOnPush: r.scanOnPush ?? false,
    encryption: r.encryption
      ? { type: r.encryption.type, ...(r.encryption.kmsKey ? { kmsKey: r.encryption.kmsKey } : {}) }
      : { type: 'AES256' },
    tags: r.tags ?? {},
    policy: r.policy ?? null,
    lifecyclePolicy: r.lifecyclePolicy ?? null,
  };
}
