// ECR pull through cache rules: CreatePullThroughCacheRule, DescribePullThroughCacheRules, UpdatePullThroughCacheRule,
// DeletePullThroughCacheRule, ValidatePullThroughCacheRule, on the caller's registry (authorized by the dispatcher,
// src/ecr/operations.ts). ECR's known upstreams are checked as ECR checks them (the URL each expects, a secret for
// those that need one, a role only for Amazon ECR); any other OCI registry URL is accepted as a generic upstream
// (Berth's extension), with or without a secret. A `credentialArn` names a secret of Berth's secret store
// (src/core/secret-store.ts). What a rule does to pulls: src/core/pull-through.ts.
import type {
  CreatePullThroughCacheRuleRequest,
  CreatePullThroughCacheRuleResponse,
  DeletePullThroughCacheRuleRequest,
  DeletePullThroughCacheRuleResponse,
  DescribePullThroughCacheRulesRequest,
  DescribePullThroughCacheRulesResponse,
  PullThroughCacheRule as WireRule,
  UpdatePullThroughCacheRuleRequest,
  UpdatePullThroughCacheRuleResponse,
  ValidatePullThroughCacheRuleRequest,
  ValidatePullThroughCacheRuleResponse,
} from '@aws-sdk/client-ecr';
import { MAX_RULES, type PullThroughCache } from '../core/pull-through.ts';
import {
  knownUpstream,
  knownUpstreamOf,
  namespaceOf,
  ROOT_PREFIX,
  ruleOf,
  upstreamEndpoint,
  type PullThroughRule,
  type RuleSettings,
  type UpstreamRegistry,
} from '../core/pull-through-rules.ts';
import { afterOf, epochSeconds, pageOf, type EcrContext, type Wire } from './context.ts';
import { EcrError, invalidParameter } from './errors.ts';

const DEFAULT_PAGE = 100;

function cacheOf(ctx: EcrContext): PullThroughCache {
  const cache = ctx.registry.pullThrough;
  if (!cache) throw new EcrError('ServerException', 'the pull through cache is not available in this process', 500);
  return cache;
}

const notFound = (prefix: string, registryId: string) =>
  new EcrError(
    'PullThroughCacheRuleNotFoundException',
    `The pull through cache rule with prefix '${prefix}' does not exist in the registry with id '${registryId}'`,
  );

/** A prefix as stored: without its optional trailing slash (ECR treats `ecr-public` and `ecr-public/` alike). */
const stored = (prefix: string) => (prefix === ROOT_PREFIX ? prefix : namespaceOf(prefix));

function wireRule(r: PullThroughRule): Wire<WireRule> {
  return {
    ecrRepositoryPrefix: r.prefix,
    upstreamRegistryUrl: r.upstreamRegistryUrl,
    createdAt: epochSeconds(r.createdAt),
    registryId: r.accountId,
    ...(r.credentialArn ? { credentialArn: r.credentialArn } : {}),
    ...(r.customRoleArn ? { customRoleArn: r.customRoleArn } : {}),
    ...(r.upstreamRepositoryPrefix ? { upstreamRepositoryPrefix: r.upstreamRepositoryPrefix } : {}),
    ...(r.upstreamRegistry ? { upstreamRegistry: r.upstreamRegistry } : {}),
    updatedAt: epochSeconds(r.updatedAt),
  };
}

/** Checks that the secret a credentialArn names exists, decrypts and holds credentials, as ECR does when it is given. */
async function checkCredential(ctx: EcrContext, registryId: string, credentialArn: string): Promise<void> {
  const resolved = await cacheOf(ctx).secrets.resolve(registryId, credentialArn);
  if ('problem' in resolved) throw new EcrError(resolved.problem, resolved.message);
}

/** A new rule's settings, checked as ECR checks them. */
async function settingsOf(ctx: EcrContext, registryId: string, input: CreatePullThroughCacheRuleRequest): Promise<RuleSettings> {
  const url = input.upstreamRegistryUrl!;
  const endpoint = upstreamEndpoint(url);
  if (!endpoint)
    throw invalidParameter(
      `Invalid parameter at 'upstreamRegistryUrl' failed to satisfy constraint: 'must be a registry host, optionally with a port and an http:// or https:// scheme'`,
    );
  const known = input.upstreamRegistry ? knownUpstream(input.upstreamRegistry as UpstreamRegistry) : knownUpstreamOf(endpoint.host);
  if (input.upstreamRegistry && (!known!.matches(endpoint.host) || url.startsWith('http://'))) {
    throw new EcrError(
      'UnsupportedUpstreamRegistryException',
      `The upstream registry URL '${url}' is not the URL of the upstream registry '${input.upstreamRegistry}' (${known!.url})`,
    );
  }
  const settings: RuleSettings = { upstreamRegistryUrl: url };
  if (known) settings.upstreamRegistry = known.name;
  const root = input.ecrRepositoryPrefix === ROOT_PREFIX;
  if (known && known.name !== 'ecr' && (root || input.upstreamRepositoryPrefix !== undefined)) {
    throw invalidParameter(
      `A ${root ? "'ROOT' ecrRepositoryPrefix" : 'upstreamRepositoryPrefix'} is only supported when the upstream registry is Amazon ECR`,
    );
  }
  if (input.upstreamRepositoryPrefix !== undefined) {
    if (root && input.upstreamRepositoryPrefix !== ROOT_PREFIX)
      throw invalidParameter("An upstreamRepositoryPrefix can only be set when the ecrRepositoryPrefix is not 'ROOT'");
    settings.upstreamRepositoryPrefix = input.upstreamRepositoryPrefix;
  }
  const auth = known?.authentication ?? 'optional-secret';
  if (input.customRoleArn !== undefined) {
    if (auth !== 'role') throw invalidParameter(`A customRoleArn is only supported when the upstream registry is Amazon ECR`);
    settings.customRoleArn = input.customRoleArn;
  }
  if (input.credentialArn !== undefined) {
    if (auth === 'none' || auth === 'role') throw invalidParameter(`The upstream registry '${known!.name}' does not take a credentialArn`);
    await checkCredential(ctx, registryId, input.credentialArn);
    settings.credentialArn = input.credentialArn;
  } else if (auth === 'secret') {
    throw new EcrError(
      'UnsupportedUpstreamRegistryException',
      'The specified upstream registry requires authentication. Specify a valid Secrets Manager ARN',
    );
  }
  return settings;
}

const bodyOf = (s: RuleSettings) =>
  JSON.stringify({
    upstreamRegistryUrl: s.upstreamRegistryUrl,
    upstreamRegistry: s.upstreamRegistry,
    credentialArn: s.credentialArn,
    customRoleArn: s.customRoleArn,
    upstreamRepositoryPrefix: s.upstreamRepositoryPrefix,
  } satisfies RuleSettings);

async function ruleOfPrefix(ctx: EcrContext, registryId: string, prefix: string): Promise<PullThroughRule> {
  const rule = (await ctx.registry.meta.listPullThroughRules(registryId)).map(ruleOf).find((r) => r.prefix === stored(prefix));
  if (!rule) throw notFound(prefix, registryId);
  return rule;
}

export async function createPullThroughCacheRule(
  ctx: EcrContext,
  input: CreatePullThroughCacheRuleRequest,
): Promise<Wire<CreatePullThroughCacheRuleResponse>> {
  const { registryId } = ctx.authorized;
  const prefix = stored(input.ecrRepositoryPrefix!);
  const settings = await settingsOf(ctx, registryId, input);
  const now = Date.now();
  const created = await ctx.registry.meta.createPullThroughRule(
    { accountId: registryId, prefix, body: bodyOf(settings), createdAt: now, updatedAt: now },
    MAX_RULES,
  );
  if (created === 'exists') {
    throw new EcrError(
      'PullThroughCacheRuleAlreadyExistsException',
      `A pull through cache rule with prefix '${prefix}' already exists in the registry with id '${registryId}'`,
    );
  }
  if (created === 'limit')
    throw new EcrError(
      'LimitExceededException',
      `The registry with id '${registryId}' has ${MAX_RULES} pull through cache rules, the most it may have`,
    );
  cacheOf(ctx).rulesChanged(registryId);
  const { updatedAt: _u, ...rule } = wireRule({ ...settings, accountId: registryId, prefix, createdAt: now, updatedAt: now });
  return rule;
}

export async function describePullThroughCacheRules(
  ctx: EcrContext,
  input: DescribePullThroughCacheRulesRequest,
): Promise<Wire<DescribePullThroughCacheRulesResponse>> {
  const { registryId } = ctx.authorized;
  const limit = input.maxResults ?? DEFAULT_PAGE;
  const after = afterOf(input.nextToken);
  const rules = (await ctx.registry.meta.listPullThroughRules(registryId)).map(ruleOf);
  let chosen = rules;
  if (input.ecrRepositoryPrefixes?.length) {
    // Every prefix named must have a rule, as in ECR.
    const wanted = new Set(input.ecrRepositoryPrefixes.map(stored));
    for (const p of wanted) if (!rules.some((r) => r.prefix === p)) throw notFound(p, registryId);
    chosen = rules.filter((r) => wanted.has(r.prefix));
  }
  const { shown, ...next } = pageOf(
    chosen.filter((r) => after === undefined || r.prefix > after).slice(0, limit + 1),
    limit,
    (r) => r.prefix,
  );
  return { pullThroughCacheRules: shown.map(wireRule), ...next };
}

export async function updatePullThroughCacheRule(
  ctx: EcrContext,
  input: UpdatePullThroughCacheRuleRequest,
): Promise<Wire<UpdatePullThroughCacheRuleResponse>> {
  const { registryId } = ctx.authorized;
  if (input.credentialArn === undefined && input.customRoleArn === undefined) {
    throw invalidParameter('Invalid input: Please set either credential arn or role arn to update the credentials');
  }
  const rule = await ruleOfPrefix(ctx, registryId, input.ecrRepositoryPrefix!);
  const auth = rule.upstreamRegistry ? knownUpstream(rule.upstreamRegistry).authentication : 'optional-secret';
  const next: RuleSettings = { ...rule };
  if (input.customRoleArn !== undefined) {
    if (auth !== 'role') throw invalidParameter('A customRoleArn is only supported when the upstream registry is Amazon ECR');
    next.customRoleArn = input.customRoleArn;
  }
  if (input.credentialArn !== undefined) {
    if (auth === 'none' || auth === 'role')
      throw invalidParameter(`The upstream registry '${rule.upstreamRegistry}' does not take a credentialArn`);
    await checkCredential(ctx, registryId, input.credentialArn);
    next.credentialArn = input.credentialArn;
  }
  const now = Date.now();
  if (!(await ctx.registry.meta.updatePullThroughRule(registryId, rule.prefix, bodyOf(next), now))) throw notFound(rule.prefix, registryId);
  cacheOf(ctx).rulesChanged(registryId);
  return {
    ecrRepositoryPrefix: rule.prefix,
    registryId,
    updatedAt: epochSeconds(now),
    ...(next.credentialArn ? { credentialArn: next.credentialArn } : {}),
    ...(next.customRoleArn ? { customRoleArn: next.customRoleArn } : {}),
    ...(next.upstreamRepositoryPrefix ? { upstreamRepositoryPrefix: next.upstreamRepositoryPrefix } : {}),
  };
}

export async function deletePullThroughCacheRule(
  ctx: EcrContext,
  input: DeletePullThroughCacheRuleRequest,
): Promise<Wire<DeletePullThroughCacheRuleResponse>> {
  const { registryId } = ctx.authorized;
  const row = await ctx.registry.meta.deletePullThroughRule(registryId, stored(input.ecrRepositoryPrefix!));
  if (!row) throw notFound(input.ecrRepositoryPrefix!, registryId);
  cacheOf(ctx).rulesChanged(registryId);
  const { updatedAt: _u, upstreamRegistry: _r, ...rule } = wireRule(ruleOf(row));
  return rule;
}

export async function validatePullThroughCacheRule(
  ctx: EcrContext,
  input: ValidatePullThroughCacheRuleRequest,
): Promise<Wire<ValidatePullThroughCacheRuleResponse>> {
  const { registryId } = ctx.authorized;
  const rule = await ruleOfPrefix(ctx, registryId, input.ecrRepositoryPrefix!);
  const failure = await cacheOf(ctx).validate(rule);
  return {
    ecrRepositoryPrefix: rule.prefix,
    registryId,
    upstreamRegistryUrl: rule.upstreamRegistryUrl,
    ...(rule.credentialArn ? { credentialArn: rule.credentialArn } : {}),
    ...(rule.customRoleArn ? { customRoleArn: rule.customRoleArn } : {}),
    ...(rule.upstreamRepositoryPrefix ? { upstreamRepositoryPrefix: rule.upstreamRepositoryPrefix } : {}),
    isValid: failure === undefined,
    ...(failure !== undefined ? { failure } : {}),
  };
}
