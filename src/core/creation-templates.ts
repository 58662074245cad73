// Repository creation templates (ECR's RepositoryCreationTemplate): per account and prefix, the settings a
// repository that Berth creates for the caller takes (tag mutability and exclusions, encryption, resource tags,
// repository policy, lifecycle policy), for the uses in `appliedFor`. A prefix is a namespace: `prod` applies to
// `prod/...` and `prod/team` to `prod/team/...`; the longest matching prefix wins, then `ROOT`, the template of
// every repository. Create-on-push (a push to a missing repository) is the use Berth has today.
import type { MetaStore, MutabilityExclusion, Repository, ResourceTag, TagMutability } from '../storage/meta/store.ts';
import { DEFAULT_SETTINGS } from './repositories.ts';

export type TemplateUse = 'CREATE_ON_PUSH' | 'REPLICATION' | 'PULL_THROUGH_CACHE';

export const ROOT_PREFIX = 'ROOT';

/** A template's settings, as stored (the row's body). */
export interface TemplateSettings {
  description?: string;
  encryptionType: string;
  kmsKey?: string;
  resourceTags: ResourceTag[];
  imageTagMutability: TagMutability;
  mutabilityExclusions: MutabilityExclusion[];
  repositoryPolicy?: string;
  lifecyclePolicy?: string;
  appliedFor: TemplateUse[];
  customRoleArn?: string;
}

export interface CreationTemplate extends TemplateSettings {
  prefix: string;
  createdAt: number;
  updatedAt: number;
}

export async function listTemplates(meta: MetaStore, accountId: string): Promise<CreationTemplate[]> {
  return (await meta.listCreationTemplates(accountId)).map((r) => ({
    ...(JSON.parse(r.body) as TemplateSettings),
    prefix: r.prefix,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  }));
}

/** The namespace a prefix names, without its optional trailing slash. */
const namespace = (prefix: string) => (prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);

/** The template that applies to a new repository `name` for `use`: the longest matching prefix, else ROOT. */
export function templateFor<T extends { prefix: string; appliedFor: readonly string[] }>(
  templates: T[],
  name: string,
  use: TemplateUse,
): T | undefined {
  let best: T | undefined;
  for (const t of templates) {
    if (!t.appliedFor.includes(use)) continue;
    if (t.prefix === ROOT_PREFIX) {
      best ??= t;
      continue;
    }
    const ns = namespace(t.prefix);
    if (!name.startsWith(`${ns}/`)) continue;
    if (!best || best.prefix === ROOT_PREFIX || ns.length > namespace(best.prefix).length) best = t;
  }
  return best;
}

/**
 * Creates the repository with the template's settings, tags and policies; when another request created it first,
 * that one is answered (as a concurrent create-on-push is).
 */
export async function createFromTemplate(
  meta: MetaStore,
  accountId: string,
  name: string,
  t: CreationTemplate,
  now: number,
): Promise<Repository> {
  const created = await meta.createRepository(
    accountId,
    name,
    {
      ...DEFAULT_SETTINGS,
      imageTagMutability: t.imageTagMutability,
      mutabilityExclusions: t.mutabilityExclusions,
      encryptionType: t.encryptionType,
      kmsKey: t.kmsKey ?? null,
    },
    t.resourceTags,
    now,
  );
  if (!created) return (await meta.getRepository(accountId, name)) ?? meta.ensureRepository(accountId, name, now);
  if (t.repositoryPolicy) await meta.setRepositoryPolicy(created.id, t.repositoryPolicy);
  if (t.lifecyclePolicy) await meta.setLifecyclePolicy(created.id, t.lifecyclePolicy);
  return (await meta.getRepository(accountId, name)) ?? created;
}
