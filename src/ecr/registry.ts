// ECR registry operations: GetAuthorizationToken and DescribeRegistry.
import type {
  DescribeRegistryRequest, DescribeRegistryResponse, GetAuthorizationTokenRequest, GetAuthorizationTokenResponse,
} from '@aws-sdk/client-ecr';
import { registryArn } from '../core/arn.ts';
import { allow, epochSeconds, registryIdOf, type EcrContext, type Wire } from './context.ts';

export async function getAuthorizationToken(ctx: EcrContext, _input: GetAuthorizationTokenRequest): Promise<Wire<GetAuthorizationTokenResponse>> {
  await allow(ctx, { resource: '*', resourceAccount: ctx.principal.accountId });
  const { authorizationToken, expiresAt } = ctx.identity.issueToken(ctx.holder);
  return {
    authorizationData: [{
      authorizationToken,
      expiresAt: epochSeconds(expiresAt),
      proxyEndpoint: `${ctx.publicScheme}://${ctx.publicHost}`,
    }],
  };
}

export async function describeRegistry(ctx: EcrContext, input: DescribeRegistryRequest): Promise<Wire<DescribeRegistryResponse>> {
  const registryId = registryIdOf(ctx, input as { registryId?: string });
  await allow(ctx, { resource: registryArn(ctx.region, registryId), resourceAccount: registryId });
  return { registryId, replicationConfiguration: { rules: [] } };
}
