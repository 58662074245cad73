// A repository that replication creates at a destination takes the destination's REPLICATION creation template, as
// in ECR: the template is read from the destination (DescribeRepositoryCreationTemplates, with the destination's
// credentials), the one that applies is chosen as Berth chooses for its own repositories (the longest matching
// prefix, else ROOT), and the repository is created with its settings and tags, then given its repository and
// lifecycle policies. Without a template (or without the right to read them) the repository gets the defaults.
import type { RepositoryCreationTemplate } from '@aws-sdk/client-ecr';
import { templateFor } from '../core/creation-templates.ts';
import type { Wire } from '../ecr/context.ts';
import { RegistryError, type RegistryClient } from '../transfer/registry-client.ts';

type Template = Wire<RepositoryCreationTemplate> & { prefix: string; appliedFor: string[] };

/** Exceptions that leave the push to tell whether the repository exists (a key that may push but not create). */
const TOLERATED = ['RepositoryAlreadyExistsException', 'AccessDeniedException'];
const typeOf = (answer: { __type?: string }) =>
  String(answer.__type ?? '')
    .split('#')
    .pop()!;

/** The destination's templates (every page); none when it may not be read. */
async function destinationTemplates(client: RegistryClient): Promise<Template[]> {
  const templates: Template[] = [];
  for (let nextToken: string | undefined; ; ) {
    const { status, answer } = await client.ecr('DescribeRepositoryCreationTemplates', nextToken ? { nextToken } : {});
    if (status !== 200) {
      if (typeOf(answer) === 'AccessDeniedException') return [];
      throw new RegistryError(
        `DescribeRepositoryCreationTemplates at ${client.url} answered ${status}: ${typeOf(answer)} ${answer.message ?? ''}`,
      );
    }
    templates.push(...((answer.repositoryCreationTemplates ?? []) as Template[]));
    nextToken = answer.nextToken as string | undefined;
    if (!nextToken) return templates;
  }
}

/** Creates `repo` at the destination with its REPLICATION template, if one applies. */
export async function createReplicatedRepository(client: RegistryClient, repo: string): Promise<void> {
  const t = templateFor(await destinationTemplates(client), repo, 'REPLICATION');
  const create = await client.ecr('CreateRepository', {
    repositoryName: repo,
    ...(t
      ? {
          imageTagMutability: t.imageTagMutability,
          ...(t.imageTagMutabilityExclusionFilters ? { imageTagMutabilityExclusionFilters: t.imageTagMutabilityExclusionFilters } : {}),
          ...(t.encryptionConfiguration ? { encryptionConfiguration: t.encryptionConfiguration } : {}),
          ...(t.resourceTags?.length ? { tags: t.resourceTags } : {}),
        }
      : {}),
  });
  if (create.status !== 200) {
    if (TOLERATED.includes(typeOf(create.answer))) return;
    throw new RegistryError(
      `create repository ${repo}: ${client.url} answered ${create.status}: ${typeOf(create.answer)} ${create.answer.message ?? ''}`,
    );
  }
  const then: [string, object][] = [];
  if (t?.repositoryPolicy) then.push(['SetRepositoryPolicy', { repositoryName: repo, policyText: t.repositoryPolicy }]);
  if (t?.lifecyclePolicy) then.push(['PutLifecyclePolicy', { repositoryName: repo, lifecyclePolicyText: t.lifecyclePolicy }]);
  for (const [operation, input] of then) {
    const r = await client.ecr(operation, input);
    if (r.status !== 200)
      throw new RegistryError(
        `${operation} on ${repo} (its creation template, prefix ${t!.prefix}): ${client.url} answered ${r.status}: ${typeOf(r.answer)} ${r.answer.message ?? ''}`,
      );
  }
}
