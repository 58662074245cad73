// Repository and registry policies: SetRepositoryPolicy (with ECR's lock-out guard and `force`),
// GetRepositoryPolicy, DeleteRepositoryPolicy, PutRegistryPolicy, GetRegistryPolicy, DeleteRegistryPolicy.
// Policies are validated before anything is stored.
import type {
  DeleteRegistryPolicyRequest,
  DeleteRegistryPolicyResponse,
  DeleteRepositoryPolicyRequest,
  DeleteRepositoryPolicyResponse,
  GetRegistryPolicyRequest,
  GetRegistryPolicyResponse,
  GetRepositoryPolicyRequest,
  GetRepositoryPolicyResponse,
  PutRegistryPolicyRequest,
  PutRegistryPolicyResponse,
  SetRepositoryPolicyRequest,
  SetRepositoryPolicyResponse,
} from '@aws-sdk/client-ecr';
import { parsePolicy, PolicyError, type PolicyKind } from '../auth/policy/document.ts';
import { authorizedRepository, type EcrContext, type Wire } from './context.ts';
import { wouldStillAllow } from './authorize.ts';
import { EcrError, invalidParameter } from './errors.ts';

export function validatePolicy(text: string, kind: PolicyKind, what: string): void {
  try {
    parsePolicy(text, kind);
  } catch (e) {
    if (e instanceof PolicyError)
      throw invalidParameter(
        `Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid ${what} policy provided: ${e.message}'`,
      );
    throw e;
  }
}

export async function setRepositoryPolicy(ctx: EcrContext, input: SetRepositoryPolicyRequest): Promise<Wire<SetRepositoryPolicyResponse>> {
  const repo = authorizedRepository(ctx);
  const text = input.policyText!;
  validatePolicy(text, 'resource', 'repository');
  if (!input.force) {
    // ECR's guard against lock-out: a policy that would stop the caller from setting the next one needs force.
    const mayStill = await wouldStillAllow(ctx, { ...repo, policyText: text }, 'ecr:SetRepositoryPolicy');
    if (!mayStill) {
      throw invalidParameter(
        `Invalid parameter at 'PolicyText' failed to satisfy constraint: 'The repository policy would prevent ${ctx.principal.arn} from setting future repository policies; set force to true to apply it anyway'`,
      );
    }
  }
  await ctx.registry.meta.setRepositoryPolicy(repo.id, text);
  return { registryId: repo.accountId, repositoryName: repo.name, policyText: text };
}

function noRepositoryPolicy(name: string, registryId: string) {
  return new EcrError(
    'RepositoryPolicyNotFoundException',
    `Repository policy does not exist for the repository with name '${name}' in the registry with id '${registryId}'`,
  );
}

export async function getRepositoryPolicy(ctx: EcrContext, input: GetRepositoryPolicyRequest): Promise<Wire<GetRepositoryPolicyResponse>> {
  const repo = authorizedRepository(ctx);
  if (repo.policyText === null) throw noRepositoryPolicy(repo.name, repo.accountId);
  return { registryId: repo.accountId, repositoryName: repo.name, policyText: repo.policyText };
}

export async function deleteRepositoryPolicy(
  ctx: EcrContext,
  input: DeleteRepositoryPolicyRequest,
): Promise<Wire<DeleteRepositoryPolicyResponse>> {
  const repo = authorizedRepository(ctx);
  if (repo.policyText === null) throw noRepositoryPolicy(repo.name, repo.accountId);
  await ctx.registry.meta.setRepositoryPolicy(repo.id, null);
  return { registryId: repo.accountId, repositoryName: repo.name, policyText: repo.policyText };
}

function noRegistryPolicy(registryId: string) {
  return new EcrError('RegistryPolicyNotFoundException', `Registry policy does not exist in the registry with id '${registryId}'`);
}

export async function putRegistryPolicy(ctx: EcrContext, input: PutRegistryPolicyRequest): Promise<Wire<PutRegistryPolicyResponse>> {
  const { registryId } = ctx.authorized;
  validatePolicy(input.policyText!, 'resource', 'registry');
  await ctx.registry.meta.setRegistryPolicy(registryId, input.policyText!);
  ctx.authorizer.forgetRegistryPolicy(registryId);
  return { registryId, policyText: input.policyText };
}

export async function getRegistryPolicy(ctx: EcrContext, input: GetRegistryPolicyRequest): Promise<Wire<GetRegistryPolicyResponse>> {
  const { registryId } = ctx.authorized;
  const text = await ctx.registry.meta.getRegistryPolicy(registryId);
  if (text === undefined) throw noRegistryPolicy(registryId);
  return { registryId, policyText: text };
}

export async function deleteRegistryPolicy(
  ctx: EcrContext,
  input: DeleteRegistryPolicyRequest,
): Promise<Wire<DeleteRegistryPolicyResponse>> {
  const { registryId } = ctx.authorized;
  const text = await ctx.registry.meta.getRegistryPolicy(registryId);
  if (text === undefined) throw noRegistryPolicy(registryId);
  await ctx.registry.meta.setRegistryPolicy(registryId, null);
  ctx.authorizer.forgetRegistryPolicy(registryId);
  return { registryId, policyText: text };
}
