// Pull through cache rules (ECR's PullThroughCacheRule): per account, an ECR repository prefix (a namespace, or ROOT)
// and the upstream registry whose repositories it caches. Pure: what a rule holds, ECR's known upstreams and what
// each requires, and the mapping of a cache repository's name onto its upstream repository. The ECR adapter writes
// rules (src/ecr/pull-through-cache.ts); the pull path reads them (src/core/pull-through.ts).
import type { PullThroughRuleRow } from '../storage/meta/store.ts';

export const ROOT_PREFIX = 'ROOT';

/** The `upstreamRegistry` values of ECR's model. */
export type UpstreamRegistry =
  | 'ecr'
  | 'ecr-public'
  | 'quay'
  | 'k8s'
  | 'docker-hub'
  | 'github-container-registry'
  | 'azure-container-registry'
  | 'gitlab-container-registry'
  | 'chainguard';

/** What an upstream needs to be reached: nothing, a Secrets Manager secret, or an IAM role (ECR to ECR). */
type Authentication = 'none' | 'optional-secret' | 'secret' | 'role';

interface KnownUpstream {
  name: UpstreamRegistry;
  /** The registry URL ECR expects (`<...>` stands for the part the user chooses). */
  url: string;
  matches: (host: string) => boolean;
  authentication: Authentication;
}

const isLowerAlnum = (s: string) => s.length > 0 && [...s].every((c) => (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
const isDigits = (s: string, n: number) => s.length === n && [...s].every((c) => c >= '0' && c <= '9');

/** ECR's upstream registries, their URLs and their authentication (the CreatePullThroughCacheRule reference). */
export const KNOWN_UPSTREAMS: readonly KnownUpstream[] = [
  { name: 'ecr-public', url: 'public.ecr.aws', matches: (h) => h === 'public.ecr.aws', authentication: 'none' },
  { name: 'k8s', url: 'registry.k8s.io', matches: (h) => h === 'registry.k8s.io', authentication: 'none' },
  { name: 'quay', url: 'quay.io', matches: (h) => h === 'quay.io', authentication: 'optional-secret' },
  { name: 'docker-hub', url: 'registry-1.docker.io', matches: (h) => h === 'registry-1.docker.io', authentication: 'secret' },
  { name: 'github-container-registry', url: 'ghcr.io', matches: (h) => h === 'ghcr.io', authentication: 'secret' },
  { name: 'gitlab-container-registry', url: 'registry.gitlab.com', matches: (h) => h === 'registry.gitlab.com', authentication: 'secret' },
  {
    name: 'azure-container-registry',
    url: '<custom>.azurecr.io',
    authentication: 'secret',
    matches: (h) => h.endsWith('.azurecr.io') && isLowerAlnum(h.slice(0, -'.azurecr.io'.length)),
  },
  { name: 'chainguard', url: 'cgr.dev', matches: (h) => h === 'cgr.dev', authentication: 'secret' },
  {
    name: 'ecr',
    url: '<accountId>.dkr.ecr.<region>.amazonaws.com',
    authentication: 'role',
    matches: (h) => {
      const p = h.split('.');
      return (
        p.length === 6 &&
        isDigits(p[0], 12) &&
        p[1] === 'dkr' &&
        p[2] === 'ecr' &&
        p[3].length > 0 &&
        p[4] === 'amazonaws' &&
        p[5] === 'com'
      );
    },
  },
];

/** A rule's settings, as stored (the row's body). */
export interface RuleSettings {
  upstreamRegistryUrl: string;
  /** ECR's upstream registry; absent for a generic OCI registry (Berth's extension). */
  upstreamRegistry?: UpstreamRegistry;
  credentialArn?: string;
  customRoleArn?: string;
  /** The upstream namespace the prefix maps to (ECR to ECR and generic upstreams); absent: ROOT. */
  upstreamRepositoryPrefix?: string;
}

export interface PullThroughRule extends RuleSettings {
  accountId: string;
  prefix: string;
  createdAt: number;
  updatedAt: number;
}

export const ruleOf = (row: PullThroughRuleRow): PullThroughRule => ({
  ...(JSON.parse(row.body) as RuleSettings),
  accountId: row.accountId,
  prefix: row.prefix,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

/** The namespace a prefix names, without its optional trailing slash (ECR treats `ecr-public` as `ecr-public/`). */
export const namespaceOf = (prefix: string) => (prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);

/** Where an upstream registry is: its base URL (https unless the rule's URL says http) and its host. */
export function upstreamEndpoint(upstreamRegistryUrl: string): { base: string; host: string } | undefined {
  const text = upstreamRegistryUrl.includes('://') ? upstreamRegistryUrl : `https://${upstreamRegistryUrl}`;
  const url = URL.parse(text);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.search || url.hash)
    return undefined;
  if (url.pathname !== '/' && url.pathname !== '') return undefined;
  return { base: `${url.protocol}//${url.host}`, host: url.hostname.toLowerCase() };
}

/** The known upstream a URL names, if any. */
export const knownUpstreamOf = (host: string): KnownUpstream | undefined => KNOWN_UPSTREAMS.find((u) => u.matches(host));
export const knownUpstream = (name: UpstreamRegistry): KnownUpstream => KNOWN_UPSTREAMS.find((u) => u.name === name)!;

/** A cache repository's rule and its upstream repository's name. */
export interface RuleMatch {
  rule: PullThroughRule;
  /** The repository's name in the upstream registry. */
  upstreamName: string;
}

/**
 * The rule covering a repository name: the longest matching prefix, else ROOT; and the upstream repository it maps to
 * (`<prefix>/<rest>` is `<upstreamRepositoryPrefix>/<rest>` upstream, or `<rest>` when that is ROOT or absent).
 */
export function ruleFor(rules: PullThroughRule[], name: string): RuleMatch | undefined {
  let best: PullThroughRule | undefined;
  let rest = '';
  for (const r of rules) {
    if (r.prefix === ROOT_PREFIX) {
      if (!best) {
        best = r;
        rest = name;
      }
      continue;
    }
    const ns = namespaceOf(r.prefix);
    if (!name.startsWith(`${ns}/`) || name.length === ns.length + 1) continue;
    if (!best || best.prefix === ROOT_PREFIX || ns.length > namespaceOf(best.prefix).length) {
      best = r;
      rest = name.slice(ns.length + 1);
    }
  }
  if (!best) return undefined;
  const upstreamPrefix =
    best.upstreamRepositoryPrefix && best.upstreamRepositoryPrefix !== ROOT_PREFIX ? namespaceOf(best.upstreamRepositoryPrefix) : undefined;
  return { rule: best, upstreamName: upstreamPrefix ? `${upstreamPrefix}/${rest}` : rest };
}
