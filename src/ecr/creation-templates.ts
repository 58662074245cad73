// ECR repository creation templates: CreateRepositoryCreationTemplate, DescribeRepositoryCreationTemplates,
// UpdateRepositoryCreationTemplate, DeleteRepositoryCreationTemplate, on the caller's registry (authorized by the
// dispatcher, src/ecr/operations.ts). What a template applies, and when: src/core/creation-templates.ts.
import type {
  CreateRepositoryCreationTemplateRequest,
  CreateRepositoryCreationTemplateResponse,
  DeleteRepositoryCreationTemplateRequest,
  DeleteRepositoryCreationTemplateResponse,
  DescribeRepositoryCreationTemplatesRequest,
  DescribeRepositoryCreationTemplatesResponse,
  RepositoryCreationTemplate,
  UpdateRepositoryCreationTemplateRequest,
  UpdateRepositoryCreationTemplateResponse,
} from '@aws-sdk/client-ecr';
import { listTemplates, type CreationTemplate, type TemplateSettings, type TemplateUse } from '../core/creation-templates.ts';
import { afterOf, epochSeconds, pageOf, type EcrContext, type Wire } from './context.ts';
import { EcrError, invalidParameter } from './errors.ts';
import { validateLifecyclePolicy } from './lifecycle.ts';
import { validatePolicy } from './policies.ts';
import { checkTags, mutability } from './repositories.ts';

const DEFAULT_PAGE = 100;

type TemplateInput = Omit<UpdateRepositoryCreationTemplateRequest, 'prefix'>;

function wireTemplate(t: CreationTemplate): Wire<RepositoryCreationTemplate> {
  return {
    prefix: t.prefix,
    ...(t.description !== undefined ? { description: t.description } : {}),
    encryptionConfiguration: { encryptionType: t.encryptionType as 'AES256', ...(t.kmsKey ? { kmsKey: t.kmsKey } : {}) },
    resourceTags: t.resourceTags,
    imageTagMutability: t.imageTagMutability,
    ...(t.mutabilityExclusions.length > 0 ? { imageTagMutabilityExclusionFilters: t.mutabilityExclusions } : {}),
    ...(t.repositoryPolicy ? { repositoryPolicy: t.repositoryPolicy } : {}),
    ...(t.lifecyclePolicy ? { lifecyclePolicy: t.lifecyclePolicy } : {}),
    appliedFor: t.appliedFor,
    ...(t.customRoleArn ? { customRoleArn: t.customRoleArn } : {}),
    createdAt: epochSeconds(t.createdAt),
    updatedAt: epochSeconds(t.updatedAt),
  };
}

/** The settings of `base` with what the input gives, checked as ECR checks them. */
function settingsOf(input: TemplateInput, base: TemplateSettings): TemplateSettings {
  const next: TemplateSettings = { ...base };
  if (input.description !== undefined) next.description = input.description;
  if (input.appliedFor !== undefined) {
    if (input.appliedFor.length === 0)
      throw invalidParameter(
        "Invalid parameter at 'appliedFor' failed to satisfy constraint: 'Member must have length greater than or equal to 1'",
      );
    next.appliedFor = [...new Set(input.appliedFor)] as TemplateUse[];
  }
  if (input.imageTagMutability !== undefined || input.imageTagMutabilityExclusionFilters !== undefined) {
    const m = mutability(
      input.imageTagMutability ?? base.imageTagMutability,
      input.imageTagMutabilityExclusionFilters ??
        (input.imageTagMutability === undefined || input.imageTagMutability.endsWith('_WITH_EXCLUSION')
          ? base.mutabilityExclusions
          : undefined),
    );
    next.imageTagMutability = m.imageTagMutability;
    next.mutabilityExclusions = m.mutabilityExclusions;
  }
  if (input.encryptionConfiguration !== undefined) {
    const e = input.encryptionConfiguration;
    if (e.encryptionType !== 'AES256') {
      throw invalidParameter(`encryptionType ${e.encryptionType} needs AWS KMS, which this registry does not have; use AES256`);
    }
    if (e.kmsKey) throw invalidParameter('kmsKey can only be given with the encryptionType KMS or KMS_DSSE');
    next.encryptionType = e.encryptionType;
    delete next.kmsKey;
  }
  if (input.resourceTags !== undefined) next.resourceTags = checkTags(input.resourceTags);
  if (input.repositoryPolicy !== undefined) {
    if (input.repositoryPolicy) validatePolicy(input.repositoryPolicy, 'resource', 'repository');
    next.repositoryPolicy = input.repositoryPolicy || undefined;
  }
  if (input.lifecyclePolicy !== undefined) {
    if (input.lifecyclePolicy) validateLifecyclePolicy(input.lifecyclePolicy);
    next.lifecyclePolicy = input.lifecyclePolicy || undefined;
  }
  if (input.customRoleArn !== undefined) next.customRoleArn = input.customRoleArn || undefined;
  return next;
}

const NEW_TEMPLATE: TemplateSettings = {
  encryptionType: 'AES256',
  resourceTags: [],
  imageTagMutability: 'MUTABLE',
  mutabilityExclusions: [],
  appliedFor: [],
};

const notFound = (prefix: string, registryId: string) =>
  new EcrError(
    'TemplateNotFoundException',
    `The repository creation template with prefix '${prefix}' does not exist in the registry with id '${registryId}'`,
  );

const bodyOf = ({
  prefix: _p,
  createdAt: _c,
  updatedAt: _u,
  ...settings
}: CreationTemplate | (TemplateSettings & { prefix?: string; createdAt?: number; updatedAt?: number })) => JSON.stringify(settings);

export async function createRepositoryCreationTemplate(
  ctx: EcrContext,
  input: CreateRepositoryCreationTemplateRequest,
): Promise<Wire<CreateRepositoryCreationTemplateResponse>> {
  const { registryId } = ctx.authorized;
  const prefix = input.prefix!;
  const settings = settingsOf(input, NEW_TEMPLATE);
  const now = Date.now();
  const created = await ctx.registry.meta.createCreationTemplate({
    accountId: registryId,
    prefix,
    body: bodyOf(settings),
    createdAt: now,
    updatedAt: now,
  });
  if (!created) {
    throw new EcrError(
      'TemplateAlreadyExistsException',
      `The repository creation template with prefix '${prefix}' already exists in the registry with id '${registryId}'`,
    );
  }
  return { registryId, repositoryCreationTemplate: wireTemplate({ ...settings, prefix, createdAt: now, updatedAt: now }) };
}

export async function describeRepositoryCreationTemplates(
  ctx: EcrContext,
  input: DescribeRepositoryCreationTemplatesRequest,
): Promise<Wire<DescribeRepositoryCreationTemplatesResponse>> {
  const { registryId } = ctx.authorized;
  const limit = input.maxResults ?? DEFAULT_PAGE;
  const after = afterOf(input.nextToken);
  const wanted = input.prefixes?.length ? new Set(input.prefixes) : undefined;
  const all = (await listTemplates(ctx.registry.meta, registryId))
    .filter((t) => !wanted || wanted.has(t.prefix))
    .filter((t) => after === undefined || t.prefix > after);
  const { shown, ...next } = pageOf(all.slice(0, limit + 1), limit, (t) => t.prefix);
  return { registryId, repositoryCreationTemplates: shown.map(wireTemplate), ...next };
}

export async function updateRepositoryCreationTemplate(
  ctx: EcrContext,
  input: UpdateRepositoryCreationTemplateRequest,
): Promise<Wire<UpdateRepositoryCreationTemplateResponse>> {
  const { registryId } = ctx.authorized;
  const prefix = input.prefix!;
  const current = (await listTemplates(ctx.registry.meta, registryId)).find((t) => t.prefix === prefix);
  if (!current) throw notFound(prefix, registryId);
  const settings = settingsOf(input, current);
  const now = Date.now();
  if (!(await ctx.registry.meta.updateCreationTemplate(registryId, prefix, bodyOf(settings), now))) throw notFound(prefix, registryId);
  return { registryId, repositoryCreationTemplate: wireTemplate({ ...settings, prefix, createdAt: current.createdAt, updatedAt: now }) };
}

export async function deleteRepositoryCreationTemplate(
  ctx: EcrContext,
  input: DeleteRepositoryCreationTemplateRequest,
): Promise<Wire<DeleteRepositoryCreationTemplateResponse>> {
  const { registryId } = ctx.authorized;
  const prefix = input.prefix!;
  const row = await ctx.registry.meta.deleteCreationTemplate(registryId, prefix);
  if (!row) throw notFound(prefix, registryId);
  const t: CreationTemplate = { ...(JSON.parse(row.body) as TemplateSettings), prefix, createdAt: row.createdAt, updatedAt: row.updatedAt };
  return { registryId, repositoryCreationTemplate: wireTemplate(t) };
}
