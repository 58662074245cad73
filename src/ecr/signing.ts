// ECR's managed signing operations: PutSigningConfiguration, GetSigningConfiguration, DeleteSigningConfiguration
// and DescribeImageSigningStatus. A rule's signingProfileArn names a Berth signing profile of the registry's account
// (`berth admin create-signing-profile`, in the form of an AWS Signer profile ARN). The signing itself is
// src/signing/ (jobs, off the request path).
import type {
  DeleteSigningConfigurationResponse,
  DescribeImageSigningStatusRequest,
  DescribeImageSigningStatusResponse,
  GetSigningConfigurationResponse,
  PutSigningConfigurationRequest,
  PutSigningConfigurationResponse,
} from '@aws-sdk/client-ecr';
import * as signing from '../core/signing.ts';
import type { SigningConfiguration } from '../core/signing.ts';
import { authorizedRepository, type EcrContext, type Wire } from './context.ts';
import { EcrError, invalidParameter } from './errors.ts';
import { resolveImage } from './images.ts';

const notFound = (registryId: string) =>
  new EcrError('SigningConfigurationNotFoundException', `Signing configuration does not exist for the registry with id '${registryId}'`);

export async function putSigningConfiguration(
  ctx: EcrContext,
  input: PutSigningConfigurationRequest,
): Promise<Wire<PutSigningConfigurationResponse>> {
  const { registryId } = ctx.authorized;
  const config: SigningConfiguration = {
    rules: input.signingConfiguration!.rules!.map((r) => ({
      signingProfileArn: r.signingProfileArn!,
      ...(r.repositoryFilters
        ? { repositoryFilters: r.repositoryFilters.map((f) => ({ filter: f.filter!, filterType: 'WILDCARD_MATCH' as const })) }
        : {}),
    })),
  };
  for (const rule of config.rules) {
    const arn = signing.parseSigningProfileArn(rule.signingProfileArn);
    if (
      !arn ||
      arn.accountId !== registryId ||
      arn.region !== ctx.region ||
      !(await ctx.registry.meta.getSigningProfile(arn.accountId, arn.name))
    ) {
      throw invalidParameter(
        `Invalid parameter at 'signingProfileArn' failed to satisfy constraint: 'The signing profile ${rule.signingProfileArn} does not exist in the registry with id '${registryId}' in region '${ctx.region}''`,
      );
    }
  }
  await signing.putSigningConfiguration(ctx.registry.meta, registryId, config);
  return { signingConfiguration: config };
}

export async function getSigningConfiguration(ctx: EcrContext): Promise<Wire<GetSigningConfigurationResponse>> {
  const { registryId } = ctx.authorized;
  const config = await signing.getSigningConfiguration(ctx.registry.meta, registryId);
  if (!config) throw notFound(registryId);
  return { registryId, signingConfiguration: config };
}

export async function deleteSigningConfiguration(ctx: EcrContext): Promise<Wire<DeleteSigningConfigurationResponse>> {
  const { registryId } = ctx.authorized;
  const config = await signing.getSigningConfiguration(ctx.registry.meta, registryId);
  if (!config) throw notFound(registryId);
  await signing.putSigningConfiguration(ctx.registry.meta, registryId, undefined);
  return { registryId, signingConfiguration: config };
}

export async function describeImageSigningStatus(
  ctx: EcrContext,
  input: DescribeImageSigningStatusRequest,
): Promise<Wire<DescribeImageSigningStatusResponse>> {
  const repo = authorizedRepository(ctx);
  const resolved = await resolveImage(ctx, repo, input.imageId!);
  const statuses = await ctx.registry.meta.listImageSigning(repo.id, resolved.digest);
  return {
    repositoryName: repo.name,
    imageId: { imageDigest: resolved.digest, ...(resolved.tag !== undefined ? { imageTag: resolved.tag } : {}) },
    registryId: repo.accountId,
    signingStatuses: statuses.map((s) => ({
      signingProfileArn: s.signingProfileArn,
      status: s.status,
      ...(s.status === 'FAILED' ? { failureCode: s.failureCode ?? undefined, failureReason: s.failureReason ?? undefined } : {}),
    })),
  };
}
