// Every ECR operation by name: the ones Berth implements, and the ones later work fills, which answer with a
// clear error naming what is missing (never a silent success).
import type { EcrContext } from './context.ts';
import { EcrError } from './errors.ts';
import * as images from './images.ts';
import * as layers from './layers.ts';
import * as policies from './policies.ts';
import * as lifecycle from './lifecycle.ts';
import * as registry from './registry.ts';
import * as repositories from './repositories.ts';
import * as settings from './settings.ts';
import { model } from './validate.ts';

// Each operation takes its SDK input shape; the protocol has validated the input against the model first.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Operation = (ctx: EcrContext, input: any) => Promise<object>;

export const OPERATIONS: Record<string, Operation> = {
  CreateRepository: repositories.createRepository,
  DescribeRepositories: repositories.describeRepositories,
  DeleteRepository: repositories.deleteRepository,
  PutImageTagMutability: repositories.putImageTagMutability,
  PutImageScanningConfiguration: repositories.putImageScanningConfiguration,
  TagResource: repositories.tagResource,
  UntagResource: repositories.untagResource,
  ListTagsForResource: repositories.listTagsForResource,
  ListImages: images.listImages,
  DescribeImages: images.describeImages,
  BatchGetImage: images.batchGetImage,
  BatchDeleteImage: images.batchDeleteImage,
  PutImage: images.putImage,
  BatchCheckLayerAvailability: layers.batchCheckLayerAvailability,
  GetDownloadUrlForLayer: layers.getDownloadUrlForLayer,
  InitiateLayerUpload: layers.initiateLayerUpload,
  UploadLayerPart: layers.uploadLayerPart,
  CompleteLayerUpload: layers.completeLayerUpload,
  SetRepositoryPolicy: policies.setRepositoryPolicy,
  GetRepositoryPolicy: policies.getRepositoryPolicy,
  DeleteRepositoryPolicy: policies.deleteRepositoryPolicy,
  PutRegistryPolicy: policies.putRegistryPolicy,
  GetRegistryPolicy: policies.getRegistryPolicy,
  DeleteRegistryPolicy: policies.deleteRegistryPolicy,
  PutLifecyclePolicy: lifecycle.putLifecyclePolicy,
  GetLifecyclePolicy: lifecycle.getLifecyclePolicy,
  DeleteLifecyclePolicy: lifecycle.deleteLifecyclePolicy,
  StartLifecyclePolicyPreview: lifecycle.startLifecyclePolicyPreview,
  GetLifecyclePolicyPreview: lifecycle.getLifecyclePolicyPreview,
  GetAuthorizationToken: registry.getAuthorizationToken,
  DescribeRegistry: registry.describeRegistry,
  GetAccountSetting: settings.getAccountSetting,
  PutAccountSetting: settings.putAccountSetting,
};

/** What each not-yet-implemented group of operations is waiting for. */
const PENDING: [RegExp, string][] = [
  [/Scan|ScanningConfiguration/, 'vulnerability scanning'],
  [/Replication/, 'replication'],
  [/PullThroughCache/, 'pull-through cache'],
  [/RepositoryCreationTemplate/, 'repository creation templates'],
  [/Signing/, 'image signing'],
  [/PullTimeUpdateExclusion|ImageStorageClass|ImageReferrers/, 'this feature'],
];

export function operationFor(name: string): Operation | undefined {
  const op = OPERATIONS[name];
  if (op) return op;
  if (!model.operations[name]) return undefined;
  const what = PENDING.find(([re]) => re.test(name))?.[1] ?? 'this operation';
  return async () => {
    throw new EcrError('UnsupportedOperationException', `${name} is not implemented by Berth yet: ${what} is not available in this version`);
  };
}
