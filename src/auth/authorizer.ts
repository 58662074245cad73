// The one authorization decision every adapter asks for (DESIGN.md invariant 4): may this principal perform
// this ECR action on this resource? Gathers the policies that apply (the user's identity policies, the
// repository's policy) and the request's condition keys, evaluates them as AWS does (src/auth/policy/), and
// writes the decision to the audit log.
import type { Logger } from '../server/log.ts';
import type { MetaStore, Repository, ResourceTag } from '../storage/meta/store.ts';
import { parsePolicy, type PolicyDocument, type PolicyKind } from './policy/document.ts';
import { evaluate, type Decision, type NamedPolicy, type RequestContext } from './policy/evaluate.ts';
import type { Principal } from './principal.ts';

export type EcrAction = `ecr:${string}`;

export interface AuthzRequest {
  principal: Principal;
  action: EcrAction;
  /** The resource ARN, or "*" for actions on no resource (GetAuthorizationToken). */
  resource: string;
  resourceAccount: string;
  /** The repository acted on, when it exists: its policy and tags take part. */
  repository?: Repository;
  /** Tags a request sets (CreateRepository, TagResource): aws:RequestTag/..., aws:TagKeys. */
  requestTags?: ResourceTag[];
  sourceIp?: string;
  secureTransport?: boolean;
}

export { type Decision };

export class Authorizer {
  private readonly meta: MetaStore;
  private readonly audit: Logger;
  private readonly now: () => number;
  private readonly parsed = new Map<string, PolicyDocument>();

  constructor(meta: MetaStore, audit: Logger, now: () => number = Date.now) {
    this.meta = meta;
    this.audit = audit;
    this.now = now;
  }

  async authorize(req: AuthzRequest): Promise<Decision> {
    const { principal, repository } = req;
    const identity: NamedPolicy[] = [];
    if (principal.kind === 'user' && principal.userName) {
      for (const p of await this.meta.listUserPolicies(principal.accountId, principal.userName)) {
        identity.push({ name: `user/${principal.userName}/${p.name}`, document: this.parse(p.text, 'identity') });
      }
    }
    const resource = repository?.policyText
      ? { name: `repository/${repository.name}`, document: this.parse(repository.policyText, 'resource') }
      : undefined;
    const keys: RequestContext['keys'] = {
      'aws:CurrentTime': new Date(this.now()).toISOString(),
      'aws:EpochTime': Math.floor(this.now() / 1000),
      'aws:SecureTransport': req.secureTransport ?? false,
      ...(req.sourceIp ? { 'aws:SourceIp': req.sourceIp } : {}),
    };
    if (repository && [...identity, ...(resource ? [resource] : [])].some((p) => JSON.stringify(p.document).includes('ResourceTag'))) {
      for (const t of await this.meta.getResourceTags(repository.id)) {
        keys[`aws:ResourceTag/${t.Key}`] = t.Value;
        keys[`ecr:ResourceTag/${t.Key}`] = t.Value;
      }
    }
    if (req.requestTags) {
      for (const t of req.requestTags) keys[`aws:RequestTag/${t.Key}`] = t.Value;
      keys['aws:TagKeys'] = req.requestTags.map((t) => t.Key);
    }
    const decision = evaluate({ identity, resource }, {
      principal: { arn: principal.arn, accountId: principal.accountId, kind: principal.kind, userName: principal.userName },
      action: req.action,
      resource: req.resource,
      resourceAccount: req.resourceAccount,
      keys,
    });
    this.audit.info({
      principal: principal.arn,
      action: req.action,
      resource: req.resource,
      allowed: decision.allowed,
      effect: decision.effect,
      ...(decision.policy ? { policy: decision.policy } : {}),
      ...(decision.sid ? { sid: decision.sid } : {}),
      ...(decision.statementIndex !== undefined ? { statement: decision.statementIndex } : {}),
      reason: decision.reason,
      ...(req.sourceIp ? { sourceIp: req.sourceIp } : {}),
    });
    return decision;
  }

  /** Parsed policies, cached by their text (stored policies were validated when they were set). */
  private parse(text: string, kind: PolicyKind): PolicyDocument {
    const key = `${kind}\n${text}`;
    let doc = this.parsed.get(key);
    if (!doc) {
      doc = parsePolicy(text, kind);
      if (this.parsed.size > 10_000) this.parsed.clear();
      this.parsed.set(key, doc);
    }
    return doc;
  }
}
