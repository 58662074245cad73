// Repository administration: create, describe, update settings, resource tags, delete. The ECR adapter's
// repository operations call these; the data plane only resolves repositories (Registry.repository).
import { fail } from './errors.ts';
import { isValidRepositoryName } from './grammar.ts';
import type { MetaStore, Repository, RepositorySettings, ResourceTag } from '../storage/meta/store.ts';

export const DEFAULT_SETTINGS: RepositorySettings = {
  imageTagMutability: 'MUTABLE',
  mutabilityExclusions: [],
  scanOnPush: false,
  encryptionType: 'AES256',
  kmsKey: null,
};

/**
 * Repositories of an account in name order after `last` that `visible` accepts, read on until `limit + 1` are
 * found (the extra one tells that there is a next page) or there are no more. The catalog and
 * DescribeRepositories both list only what the caller may see.
 */
export async function listVisible(
  meta: MetaStore,
  accountId: string,
  last: string | undefined,
  limit: number,
  visible: (repo: Repository) => Promise<boolean>,
): Promise<Repository[]> {
  const found: Repository[] = [];
  while (limit > 0) {
    const batch = await meta.listRepositories(accountId, { last, limit: limit + 1 });
    for (const repo of batch) {
      if (await visible(repo)) found.push(repo);
      if (found.length > limit) return found;
    }
    if (batch.length < limit + 1) break;
    last = batch[batch.length - 1].name;
  }
  return found;
}

export class Repositories {
  private readonly meta: MetaStore;
  private readonly now: () => number;

  constructor(meta: MetaStore, now: () => number = Date.now) {
    this.meta = meta;
    this.now = now;
  }

  async create(accountId: string, name: string, settings: RepositorySettings, tags: ResourceTag[]): Promise<Repository> {
    if (!isValidRepositoryName(name)) return fail('NAME_INVALID', `invalid repository name "${name}"`, { name });
    const repo = await this.meta.createRepository(accountId, name, settings, tags, this.now());
    return (
      repo ??
      fail('REPOSITORY_EXISTS', `The repository with name '${name}' already exists in the registry with id '${accountId}'`, { name })
    );
  }

  async update(repo: Repository, settings: Partial<RepositorySettings>): Promise<Repository> {
    await this.meta.updateRepository(repo.id, settings);
    return { ...repo, ...settings };
  }

  /** Deletes the repository; with images in it only when `force` (its images go with it). */
  async delete(repo: Repository, force: boolean): Promise<void> {
    if (!force && (await this.meta.countImages(repo.id)) > 0) {
      fail(
        'REPOSITORY_NOT_EMPTY',
        `The repository with name '${repo.name}' in registry with id '${repo.accountId}' cannot be deleted because it still contains images`,
        { name: repo.name },
      );
    }
    await this.meta.deleteRepository(repo.id);
  }

  async tags(repo: Repository): Promise<ResourceTag[]> {
    return this.meta.getResourceTags(repo.id);
  }

  async tag(repo: Repository, tags: ResourceTag[]): Promise<void> {
    await this.meta.putResourceTags(repo.id, tags);
  }

  async untag(repo: Repository, keys: string[]): Promise<void> {
    await this.meta.deleteResourceTags(repo.id, keys);
  }
}
