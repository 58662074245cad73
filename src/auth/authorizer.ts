// The one authorization decision every adapter asks for (DESIGN.md invariant 4): may this principal perform
// this action (ECR's, IAM's or Berth's) on this resource? The dispatchers ask it for what the route table
// declares (src/server/routes.ts). Gathers the policies that apply (the user's identity policies, the
// repository's policy, the registry's policy when its scope covers the action) and the request's condition keys, evaluates them as AWS does (src/auth/policy/), and
// writes the decision to the audit log.
import type { Logger } from '../server/log.ts';
import type { MetaStore, Repository, ResourceTag } from '../storage/meta/store.ts';
import { parsePolicy, type PolicyDocument, type PolicyKind } from './policy/document.ts';
import { evaluate, type Decision, type NamedPolicy, type Policies, type RequestContext } from './policy/evaluate.ts';
import type { Principal } from './principal.ts';
import { getAccountSetting } from '../core/account-settings.ts';

/** The actions a registry policy of scope V1 covers (ECR's "Private registry permissions"): replication and
 * pull-through cache. Under V2, ECR's default, it covers every ECR action. */
const REGISTRY_POLICY_V1_ACTIONS = new Set(['ecr:ReplicateImage', 'ecr:BatchImportUpstreamImage', 'ecr:CreateRepository']);

/** How long a node keeps an account's registry policy before reading it again (milliseconds). A change made
 * through this node is seen at once; one made through another node sharing the database within this time, as
 * IAM's own policy changes take a few seconds to apply everywhere. */
export const REGISTRY_POLICY_TTL_MS = 1000;

export type EcrAction = `ecr:${string}`;
/** One action or more. */
export type EcrActions = [EcrAction, ...EcrAction[]];
/** Every action Berth decides: ECR's own, IAM's for identities (the admin API), and Berth's for the rest of the
 * admin API (garbage collection, fsck, ...). */
export type Action = EcrAction | `iam:${string}` | `berth:${string}`;
export type Actions = [Action, ...Action[]];

export interface AuthzRequest {
  principal: Principal;
  action: Action;
  /** The resource ARN, or "*" for actions on no resource (GetAuthorizationToken). */
  resource: string;
  resourceAccount: string;
  /** The repository acted on, when it exists: its policy and tags take part. */
  repository?: Repository;
  /** Tags a request sets (CreateRepository, TagResource): aws:RequestTag/..., aws:TagKeys. */
  requestTags?: ResourceTag[];
  /** Tag keys a request names without values (UntagResource): aws:TagKeys. */
  tagKeys?: string[];
  sourceIp?: string;
  secureTransport?: boolean;
  /** Shared by the decisions of one request (`Authorizer.scope`): the caller's policies are read once for it. */
  scope?: AuthzScope;
}

/** What a run of decisions for one request has already read (from `Authorizer.scope`). */
export interface AuthzScope {
  identity?: Promise<Parsed[]>;
}

export { type Decision };

export class Authorizer {
  private readonly meta: MetaStore;
  private readonly audit: Logger;
  private readonly now: () => number;
  private readonly parsed = new Map<string, { document: PolicyDocument; usesResourceTags: boolean }>();
  /** Per account: the registry policy as read (parsed once per read, with its scope), and when. */
  private readonly registryPolicies = new Map<
    string,
    { at: number; policy: Promise<RegistryPolicy | undefined>; read?: { policy: RegistryPolicy | undefined } }
  >();

  constructor(meta: MetaStore, audit: Logger, now: () => number = Date.now) {
    this.meta = meta;
    this.audit = audit;
    this.now = now;
  }

  /** A scope for the decisions of one request (a listing makes one per repository): pass it with each
   * (`AuthzRequest.scope`), and drop it with the request. */
  scope(): AuthzScope {
    return {};
  }

  async authorize(req: AuthzRequest): Promise<Decision> {
    return (await this.authorizeEach(req, [req.action])).decision;
  }

  /**
   * Decides several actions of one request (a push needs three) from one gathering of its policies and
   * condition keys: the first denied action's decision, else the last one's.
   */
  async authorizeEach(req: Omit<AuthzRequest, 'action'>, actions: Actions): Promise<{ action: Action; decision: Decision }> {
    const { principal } = req;
    const { policies, keys } = await this.gather(req);
    let result: { action: Action; decision: Decision } | undefined;
    for (const action of actions) {
      const registry = policies.registry && registryCovers(policies.registry.scope, action) ? policies.registry : undefined;
      const decision = evaluate(
        { ...policies, registry },
        {
          principal: { arn: principal.arn, accountId: principal.accountId, kind: principal.kind, userName: principal.userName },
          action,
          resource: req.resource,
          resourceAccount: req.resourceAccount,
          keys,
        },
      );
      this.audit.info({
        principal: principal.arn,
        action,
        resource: req.resource,
        allowed: decision.allowed,
        effect: decision.effect,
        ...(decision.policy ? { policy: decision.policy } : {}),
        ...(decision.sid ? { sid: decision.sid } : {}),
        ...(decision.statementIndex !== undefined ? { statement: decision.statementIndex } : {}),
        reason: decision.reason,
        ...(req.sourceIp ? { sourceIp: req.sourceIp } : {}),
      });
      result = { action, decision };
      if (!decision.allowed) break;
    }
    return result!;
  }

  /**
   * Decides an action of a principal against a resource-based policy kept outside this registry: a replication
   * destination's registry policy, read from it (ECR requires that it allow `ecr:ReplicateImage` to the source
   * account). Evaluated and audited as every other decision; the principal's identity side is its own account's.
   */
  async authorizeByResourcePolicy(
    req: { principal: Principal; resource: string; resourceAccount: string; policyName: string; policyText: string },
    action: Action,
  ): Promise<Decision> {
    const { principal } = req;
    const resource = this.parse(req.policyName, req.policyText, 'resource');
    const identity = await this.identityPolicies(principal);
    const decision = evaluate(
      { identity, resource },
      {
        principal: { arn: principal.arn, accountId: principal.accountId, kind: principal.kind, userName: principal.userName },
        action,
        resource: req.resource,
        resourceAccount: req.resourceAccount,
        keys: { 'aws:CurrentTime': new Date(this.now()).toISOString() },
      },
    );
    this.audit.info({
      principal: principal.arn,
      action,
      resource: req.resource,
      allowed: decision.allowed,
      effect: decision.effect,
      ...(decision.policy ? { policy: decision.policy } : {}),
      reason: decision.reason,
    });
    return decision;
  }

  /** The policies that apply to the request, and its condition keys. */
  private async gather(
    req: Omit<AuthzRequest, 'action'>,
  ): Promise<{ policies: Policies & { registry?: RegistryPolicy }; keys: RequestContext['keys'] }> {
    const { principal, repository, scope } = req;
    const identity = await (scope ? (scope.identity ??= this.identityPolicies(principal)) : this.identityPolicies(principal));
    const resource = repository?.policyText ? this.parse(`repository/${repository.name}`, repository.policyText, 'resource') : undefined;
    const read = this.registryPolicy(req.resourceAccount);
    const registry = read instanceof Promise ? await read : read;
    const now = this.now();
    const keys: RequestContext['keys'] = {
      'aws:CurrentTime': new Date(now).toISOString(),
      'aws:EpochTime': Math.floor(now / 1000),
      'aws:SecureTransport': req.secureTransport ?? false,
      ...(req.sourceIp ? { 'aws:SourceIp': req.sourceIp } : {}),
    };
    // Resource tags are read only when a policy that applies can look at them.
    if (repository && (resource?.usesResourceTags || registry?.usesResourceTags || identity.some((p) => p.usesResourceTags))) {
      for (const t of await this.meta.getResourceTags(repository.id)) {
        keys[`aws:ResourceTag/${t.Key}`] = t.Value;
        keys[`ecr:ResourceTag/${t.Key}`] = t.Value;
      }
    }
    if (req.requestTags) {
      for (const t of req.requestTags) keys[`aws:RequestTag/${t.Key}`] = t.Value;
    }
    const tagKeys = req.tagKeys ?? req.requestTags?.map((t) => t.Key);
    if (tagKeys) keys['aws:TagKeys'] = tagKeys;
    return { policies: { identity, resource, registry }, keys };
  }

  /**
   * The account's registry policy as it applies to a decision (undefined when none is set). Which actions it
   * covers depends on REGISTRY_POLICY_SCOPE, so this returns the parsed policy with its scope, and
   * `registryFor` picks per action.
   */
  private registryPolicy(accountId: string): RegistryPolicy | undefined | Promise<RegistryPolicy | undefined> {
    const now = performance.now();
    let cached = this.registryPolicies.get(accountId);
    if (!cached || now - cached.at > REGISTRY_POLICY_TTL_MS) {
      const policy = Promise.all([
        this.meta.getRegistryPolicy(accountId),
        getAccountSetting(this.meta, accountId, 'REGISTRY_POLICY_SCOPE'),
      ]).then(([text, scope]): RegistryPolicy | undefined => (text ? { ...this.parse('registry', text, 'resource'), scope } : undefined));
      const entry: { at: number; policy: typeof policy; read?: { policy: RegistryPolicy | undefined } } = { at: now, policy };
      cached = entry;
      this.registryPolicies.set(accountId, entry);
      policy.then(
        (read) => {
          entry.read = { policy: read };
        },
        () => this.registryPolicies.delete(accountId),
      );
    }
    // Once read, answered without waiting (a decision on the hot path, a blob HEAD, does not yield for it).
    return cached.read ? cached.read.policy : cached.policy;
  }

  /** Forgets what this node read of the account's registry policy and its scope (after a change through it). */
  forgetRegistryPolicy(accountId: string): void {
    this.registryPolicies.delete(accountId);
  }

  /** The identity-based policies attached to the principal (only users have them). */
  private async identityPolicies(principal: Principal): Promise<Parsed[]> {
    if (principal.kind !== 'user' || !principal.userName) return [];
    const stored = await this.meta.listUserPolicies(principal.accountId, principal.userName);
    return stored.map((p) => this.parse(`user/${principal.userName}/${p.name}`, p.text, 'identity'));
  }

  /** Parsed policies, cached by their text (stored policies were validated when they were set). */
  private parse(name: string, text: string, kind: PolicyKind): Parsed {
    const key = `${kind}\n${text}`;
    let cached = this.parsed.get(key);
    if (!cached) {
      const document = parsePolicy(text, kind);
      // Condition keys are case-insensitive, and the text may spell them with JSON escapes: look in the parsed
      // document, ignoring case.
      cached = { document, usesResourceTags: /resourcetag/i.test(JSON.stringify(document)) };
      if (this.parsed.size > 10_000) this.parsed.clear();
      this.parsed.set(key, cached);
    }
    return { name, ...cached };
  }
}

/** Does a registry policy of this scope take part in decisions on this action? */
function registryCovers(scope: string, action: Action): boolean {
  if (!action.startsWith('ecr:')) return false;
  return scope === 'V1' ? REGISTRY_POLICY_V1_ACTIONS.has(action) : true;
}

interface RegistryPolicy extends Parsed {
  scope: string;
}

/** A policy as evaluated, with whether its conditions can read resource tags (decided once, when parsed). */
interface Parsed extends NamedPolicy {
  usesResourceTags: boolean;
}
