// ECR registry operations: GetAuthorizationToken and DescribeRegistry.
import type {
  DescribeRegistryRequest,
  DescribeRegistryResponse,
  GetAuthorizationTokenRequest,
  GetAuthorizationTokenResponse,
} from '@aws-sdk/client-ecr';
import { epochSeconds, type EcrContext, type Wire } from './context.ts';
import { replicationConfigurationOf } from './replication.ts';

export async function getAuthorizationToken(
  ctx: EcrContext,
  _input: GetAuthorizationTokenRequest,
): Promise<Wire<GetAuthorizationTokenResponse>> {
  const { authorizationToken, expiresAt } = ctx.identity.issueToken(ctx.holder);
  return {
    authorizationData: [
      {
        authorizationToken,
        expiresAt: epochSeconds(expiresAt),
        proxyEndpoint: `${ctx.publicScheme}://${ctx.publicHost}`,
      },
    ],
  };
}

export async function describeRegistry(ctx: EcrContext, _input: DescribeRegistryRequest): Promise<Wire<DescribeRegistryResponse>> {
  const { registryId } = ctx.authorized;
  return { registryId, replicationConfiguration: await replicationConfigurationOf(ctx, registryId) };
}
