// Every ECR operation by name, with the authorization it needs (the dispatcher decides before it runs, see
// src/ecr/authorize.ts): the ones Berth implements, and the ones later work fills, which are authorized the same
// way and then answer with a clear error naming what is missing (never a silent success).
import type { EcrActions } from '../auth/authorizer.ts';
import type { EcrAccess } from './authorize.ts';
import type { EcrContext } from './context.ts';
import * as templates from './creation-templates.ts';
import { EcrError } from './errors.ts';
import * as images from './images.ts';
import * as layers from './layers.ts';
import * as policies from './policies.ts';
import * as pullThroughCache from './pull-through-cache.ts';
import * as pullTimeExclusions from './pull-time-exclusions.ts';
import * as lifecycle from './lifecycle.ts';
import * as referrers from './referrers.ts';
import * as registry from './registry.ts';
import * as replication from './replication.ts';
import * as repositories from './repositories.ts';
import * as scanning from './scanning.ts';
import * as settings from './settings.ts';
import * as signing from './signing.ts';
import * as archive from './archive.ts';
import { model } from './validate.ts';

// Each operation takes its SDK input shape; the protocol has validated the input against the model first.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Run = (ctx: EcrContext, input: any) => Promise<object>;

export interface EcrOperation extends EcrAccess {
  run: Run;
}

type Tagged = { tags?: { Key: string; Value: string }[]; tagKeys?: string[] };
const repository = (run: Run): EcrOperation => ({ run, resource: { kind: 'repository' } });
const onRegistry = (run: Run): EcrOperation => ({ run, resource: { kind: 'registry' } });
const requestTags = (input: Tagged) => input.tags?.map((t) => ({ Key: t.Key, Value: t.Value }));

export const OPERATIONS: Record<string, EcrOperation> = {
  CreateRepository: {
    run: repositories.createRepository,
    resource: { kind: 'new-repository' },
    // Tag-on-create: tags need ecr:TagResource as well, as in ECR.
    actions: (input: Tagged): EcrActions => (input.tags?.length ? ['ecr:CreateRepository', 'ecr:TagResource'] : ['ecr:CreateRepository']),
    requestTags,
  },
  DescribeRepositories: { run: repositories.describeRepositories, resource: { kind: 'repositories' } },
  DeleteRepository: repository(repositories.deleteRepository),
  PutImageTagMutability: repository(repositories.putImageTagMutability),
  PutImageScanningConfiguration: repository(repositories.putImageScanningConfiguration),
  TagResource: { run: repositories.tagResource, resource: { kind: 'tagged-resource' }, requestTags },
  UntagResource: { run: repositories.untagResource, resource: { kind: 'tagged-resource' }, tagKeys: (input: Tagged) => input.tagKeys },
  ListTagsForResource: { run: repositories.listTagsForResource, resource: { kind: 'tagged-resource' } },
  ListImages: repository(images.listImages),
  DescribeImages: repository(images.describeImages),
  BatchGetImage: repository(images.batchGetImage),
  BatchDeleteImage: repository(images.batchDeleteImage),
  PutImage: repository(images.putImage),
  BatchCheckLayerAvailability: repository(layers.batchCheckLayerAvailability),
  GetDownloadUrlForLayer: repository(layers.getDownloadUrlForLayer),
  InitiateLayerUpload: repository(layers.initiateLayerUpload),
  UploadLayerPart: repository(layers.uploadLayerPart),
  CompleteLayerUpload: repository(layers.completeLayerUpload),
  SetRepositoryPolicy: repository(policies.setRepositoryPolicy),
  GetRepositoryPolicy: repository(policies.getRepositoryPolicy),
  DeleteRepositoryPolicy: repository(policies.deleteRepositoryPolicy),
  PutRegistryPolicy: onRegistry(policies.putRegistryPolicy),
  GetRegistryPolicy: onRegistry(policies.getRegistryPolicy),
  DeleteRegistryPolicy: onRegistry(policies.deleteRegistryPolicy),
  PutLifecyclePolicy: repository(lifecycle.putLifecyclePolicy),
  GetLifecyclePolicy: repository(lifecycle.getLifecyclePolicy),
  DeleteLifecyclePolicy: repository(lifecycle.deleteLifecyclePolicy),
  StartLifecyclePolicyPreview: repository(lifecycle.startLifecyclePolicyPreview),
  GetLifecyclePolicyPreview: repository(lifecycle.getLifecyclePolicyPreview),
  GetAuthorizationToken: { run: registry.getAuthorizationToken, resource: { kind: 'none' } },
  DescribeRegistry: onRegistry(registry.describeRegistry),
  GetAccountSetting: onRegistry(settings.getAccountSetting),
  PutAccountSetting: onRegistry(settings.putAccountSetting),
  PutRegistryScanningConfiguration: onRegistry(scanning.putRegistryScanningConfiguration),
  GetRegistryScanningConfiguration: onRegistry(scanning.getRegistryScanningConfiguration),
  BatchGetRepositoryScanningConfiguration: { run: scanning.batchGetRepositoryScanningConfiguration, resource: { kind: 'repositories' } },
  StartImageScan: repository(scanning.startImageScan),
  DescribeImageScanFindings: repository(scanning.describeImageScanFindings),
  ListImageReferrers: repository(referrers.listImageReferrers),
  CreateRepositoryCreationTemplate: onRegistry(templates.createRepositoryCreationTemplate),
  DescribeRepositoryCreationTemplates: onRegistry(templates.describeRepositoryCreationTemplates),
  UpdateRepositoryCreationTemplate: onRegistry(templates.updateRepositoryCreationTemplate),
  DeleteRepositoryCreationTemplate: onRegistry(templates.deleteRepositoryCreationTemplate),
  RegisterPullTimeUpdateExclusion: onRegistry(pullTimeExclusions.registerPullTimeUpdateExclusion),
  DeregisterPullTimeUpdateExclusion: onRegistry(pullTimeExclusions.deregisterPullTimeUpdateExclusion),
  ListPullTimeUpdateExclusions: onRegistry(pullTimeExclusions.listPullTimeUpdateExclusions),
  // Replication (src/ecr/replication.ts); the backfill operations are hand-written into the model (model-extra.ts).
  PutReplicationConfiguration: onRegistry(replication.putReplicationConfiguration),
  DescribeImageReplicationStatus: repository(replication.describeImageReplicationStatus),
  StartReplicationBackfill: onRegistry(replication.startReplicationBackfill),
  StopReplicationBackfill: onRegistry(replication.stopReplicationBackfill),
  ListReplicationBackfills: onRegistry(replication.listReplicationBackfills),
  DescribeReplicationBackfillResults: onRegistry(replication.describeReplicationBackfillResults),
  PutSigningConfiguration: onRegistry(signing.putSigningConfiguration),
  GetSigningConfiguration: onRegistry(signing.getSigningConfiguration),
  DeleteSigningConfiguration: onRegistry(signing.deleteSigningConfiguration),
  DescribeImageSigningStatus: repository(signing.describeImageSigningStatus),
  UpdateImageStorageClass: repository(archive.updateImageStorageClass),
  CreatePullThroughCacheRule: onRegistry(pullThroughCache.createPullThroughCacheRule),
  DescribePullThroughCacheRules: onRegistry(pullThroughCache.describePullThroughCacheRules),
  UpdatePullThroughCacheRule: onRegistry(pullThroughCache.updatePullThroughCacheRule),
  DeletePullThroughCacheRule: onRegistry(pullThroughCache.deletePullThroughCacheRule),
  ValidatePullThroughCacheRule: onRegistry(pullThroughCache.validatePullThroughCacheRule),
};

/** What each not-yet-implemented group of operations is waiting for. */
const PENDING: [RegExp, string][] = [
];

/**
 * The table entry of an operation of ECR's model, or undefined for a name the model does not know. An operation
 * not implemented yet is decided like the rest (`ecr:<Operation>` on the repository its input names, else on the
 * registry) before it answers UnsupportedOperationException.
 */
export function operationFor(name: string): EcrOperation | undefined {
  if (Object.hasOwn(OPERATIONS, name)) return OPERATIONS[name];
  const spec = Object.hasOwn(model.operations, name) ? model.operations[name] : undefined;
  if (!spec) return undefined;
  const what = PENDING.find(([re]) => re.test(name))?.[1] ?? 'this operation';
  const names = spec.input ? model.shapes[spec.input].members ?? {} : {};
  return {
    resource: 'repositoryName' in names ? { kind: 'repository', mayBeMissing: true } : { kind: 'registry' },
    run: async () => {
      throw new EcrError('UnsupportedOperationException', `${name} is not implemented by Berth yet: ${what} is not available in this version`);
    },
  };
}

/** Every operation of ECR's model with its table entry (for the test that walks the table). */
export function allOperations(): [string, EcrOperation][] {
  return Object.keys(model.operations).map((name) => [name, operationFor(name)!]);
}
