// IAM policy evaluation as the IAM User Guide documents it ("Policy evaluation logic", "Cross-account policy
// evaluation logic", "AWS JSON policy elements: Principal / NotPrincipal"), for the two policy types Berth has:
// identity-based policies attached to users, and the resource-based policies: the repository's policy and the
// registry's (PutRegistryPolicy), which take part alike (an Allow in either counts, a Deny in either wins).
//
// 1. An explicit Deny in any applicable policy wins.
// 2. The account root user has full access in its own account (its identity side is always allowed).
// 3. Same account: an Allow in an identity-based policy OR in the resource-based policy allows. A resource-based
//    Allow counts on its own only when it names the caller itself ("*", or the caller's user ARN); naming the
//    caller's account delegates to that account ("This delegates authority to the account"), so a user of the
//    account still needs an identity-based Allow.
// 4. Cross-account: the principal's identity side AND the resource-based policy must both allow; the resource
//    policy may name the caller, its account, or "*".
// 5. Anonymous callers have no identity side: only a resource-based Allow to "*" (or {"AWS": "*"}) lets them in.
// 6. Otherwise: implicit deny.
import { conditionHolds, type ContextValue } from './conditions.ts';
import type { PolicyDocument, PrincipalBlock, Statement } from './document.ts';
import { matchTokens, matchWildcard, policyTokens, type VariableResolver } from './wildcard.ts';

export interface RequestContext {
  principal: { arn: string; accountId: string; kind: 'root' | 'user' | 'anonymous'; userName?: string };
  /** The ECR action, e.g. "ecr:BatchGetImage". */
  action: string;
  /** The resource ARN, e.g. "arn:aws:ecr:us-east-1:111122223333:repository/app" (or "*"). */
  resource: string;
  /** The account that owns the resource. */
  resourceAccount: string;
  /**
   * Condition keys (names are case-insensitive): aws:SourceIp, aws:CurrentTime (ISO string), aws:EpochTime,
   * aws:SecureTransport, aws:ResourceTag/<k>, aws:RequestTag/<k>, aws:TagKeys (string[]), ecr:ResourceTag/<k>, ...
   * aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:username and aws:userid default to values
   * derived from the principal; a key given here (even as undefined, meaning absent) takes precedence.
   */
  keys: Record<string, string | string[] | boolean | number | undefined>;
}

export interface Decision {
  allowed: boolean;
  effect: 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
  /** The name of the policy whose statement decided (absent for the root user's implicit permission). */
  policy?: string;
  sid?: string;
  statementIndex?: number;
  reason: string;
}

export interface NamedPolicy {
  name: string;
  document: PolicyDocument;
}

export interface Policies {
  identity: NamedPolicy[];
  /** The repository's policy. */
  resource?: NamedPolicy;
  /** The registry's policy, when its scope covers the action (the authorizer decides: REGISTRY_POLICY_SCOPE). */
  registry?: NamedPolicy;
}

/** A statement that applies to the request. */
interface Match {
  policy: NamedPolicy;
  statement: Statement;
  index: number;
  side: 'identity' | 'resource';
  /** For a resource-based Allow: does it name the caller itself, or only the caller's account? */
  grant?: 'caller' | 'account';
}

export function evaluate(policies: Policies, ctx: RequestContext): Decision {
  const { principal } = ctx;
  const anonymous = principal.kind === 'anonymous';
  const keys = contextKeys(ctx);
  const matches: Match[] = [];

  // Anonymous callers have no identity side.
  const identityPolicies = anonymous ? [] : policies.identity;
  for (const policy of identityPolicies) {
    policy.document.Statement.forEach((statement, index) => {
      if (statementApplies(statement, policy.document, ctx, keys, 'identity')) matches.push({ policy, statement, index, side: 'identity' });
    });
  }
  for (const policy of [policies.resource, policies.registry]) {
    if (!policy) continue;
    policy.document.Statement.forEach((statement, index) => {
      if (!statementApplies(statement, policy.document, ctx, keys, 'resource')) return;
      const grant =
        statement.Effect === 'Allow' && statement.Principal !== undefined ? principalGrant(statement.Principal, principal) : undefined;
      matches.push({ policy, statement, index, side: 'resource', grant });
    });
  }

  const deny = matches.find((m) => m.statement.Effect === 'Deny');
  if (deny) return decided(false, 'ExplicitDeny', deny, `explicitly denied by ${describe(deny)}`);

  const identityAllow = matches.find((m) => m.side === 'identity' && m.statement.Effect === 'Allow');
  const callerGrant = matches.find((m) => m.side === 'resource' && m.grant === 'caller');
  const accountGrant = matches.find((m) => m.side === 'resource' && m.grant === 'account');
  const who = anonymous ? 'anonymous caller' : principal.arn;

  if (anonymous) {
    if (callerGrant)
      return decided(true, 'Allow', callerGrant, `allowed for an anonymous caller by ${describe(callerGrant)}, which grants "*"`);
    return implicit(
      `an anonymous caller is allowed only by a resource-based policy that grants Principal "*", and none allows ${ctx.action}`,
    );
  }

  const root = principal.kind === 'root';
  const identityAllowed = root || identityAllow !== undefined;
  const identityReason = identityAllow
    ? describe(identityAllow)
    : `the implicit full access of the root user of account ${principal.accountId}`;

  if (principal.accountId === ctx.resourceAccount) {
    if (identityAllow) return decided(true, 'Allow', identityAllow, `allowed by ${describe(identityAllow)}`);
    if (root)
      return {
        allowed: true,
        effect: 'Allow',
        reason: `the root user of account ${principal.accountId} has full access to the account's resources`,
      };
    if (callerGrant) return decided(true, 'Allow', callerGrant, `allowed by ${describe(callerGrant)}`);
    if (accountGrant) {
      return implicit(
        `${describe(accountGrant)} grants account ${principal.accountId}, which delegates to the account's identity-based policies, and none of ${who}'s allows ${ctx.action}`,
      );
    }
    return implicit(`no identity-based or resource-based policy allows ${who} to perform ${ctx.action} on ${ctx.resource}`);
  }

  // Cross-account: both sides must allow.
  const resourceGrant = callerGrant ?? accountGrant;
  if (identityAllowed && resourceGrant) {
    return decided(true, 'Allow', resourceGrant, `cross-account access allowed by ${describe(resourceGrant)} and ${identityReason}`);
  }
  if (!resourceGrant) {
    return implicit(
      `cross-account request: no resource-based policy of account ${ctx.resourceAccount} allows ${who} to perform ${ctx.action} on ${ctx.resource}`,
    );
  }
  return implicit(
    `cross-account request: ${describe(resourceGrant)} allows it, but no identity-based policy of ${who} allows ${ctx.action} on ${ctx.resource}`,
  );
}

function decided(allowed: boolean, effect: Decision['effect'], m: Match, reason: string): Decision {
  const decision: Decision = { allowed, effect, policy: m.policy.name, statementIndex: m.index, reason };
  if (m.statement.Sid !== undefined) decision.sid = m.statement.Sid;
  return decision;
}

function implicit(reason: string): Decision {
  return { allowed: false, effect: 'ImplicitDeny', reason: `implicitly denied: ${reason}` };
}

function describe(m: Match): string {
  const kind = m.side === 'identity' ? 'identity-based policy' : 'resource-based policy';
  const sid = m.statement.Sid ? ` (Sid "${m.statement.Sid}")` : '';
  return `statement ${m.index}${sid} of ${kind} "${m.policy.name}"`;
}

/** Does this statement apply to the request (principal, action, resource and condition all match)? */
export function statementApplies(
  statement: Statement,
  document: PolicyDocument,
  ctx: RequestContext,
  keys: Map<string, ContextValue>,
  side: 'identity' | 'resource',
): boolean {
  if (side === 'resource') {
    if (statement.Principal !== undefined && principalGrant(statement.Principal, ctx.principal) === undefined) return false;
    if (statement.NotPrincipal !== undefined && !notPrincipalApplies(statement.NotPrincipal, ctx.principal)) return false;
  }
  if (statement.Action !== undefined && !statement.Action.some((a) => actionMatches(a, ctx.action))) return false;
  if (statement.NotAction !== undefined && statement.NotAction.some((a) => actionMatches(a, ctx.action))) return false;

  // Policy variables exist only in the 2012-10-17 policy language; otherwise "${...}" is literal text.
  const resolve: VariableResolver | undefined = document.Version === '2012-10-17' ? (name) => variableValue(keys, name) : undefined;
  if (statement.Resource !== undefined || statement.NotResource !== undefined) {
    const listed = (statement.Resource ?? statement.NotResource) as string[];
    let any = false;
    for (const pattern of listed) {
      const tokens = policyTokens(pattern, resolve);
      // "If AWS cannot resolve a variable, this might cause the entire statement to be invalid."
      if (tokens === undefined) return false;
      if (matchTokens(tokens, ctx.resource)) any = true;
    }
    if (statement.Resource !== undefined ? !any : any) return false;
  }
  // No Resource in a resource-based policy: the statement covers the resource the policy is attached to.

  return conditionHolds(statement.Condition, { value: (key) => keys.get(key.toLowerCase()), resolve });
}

/** Actions are case-insensitive and may use * and ?. */
export function actionMatches(pattern: string, action: string): boolean {
  return matchWildcard(pattern, action, true);
}

/** A bare account id as a principal. */
export const ACCOUNT_NUMBER = /^\d{12}$/;

export const ROOT_ARN = /^arn:[^:]+:iam::(\d{12}):root$/;

/** The account named by an AWS principal entry (an account id or an account root ARN), if it names one. */
function principalAccount(id: string): string | undefined {
  if (ACCOUNT_NUMBER.test(id)) return id;
  return ROOT_ARN.exec(id)?.[1];
}

/**
 * Does a Principal element name this caller, and how? 'caller' for "*", {"AWS": "*"} or the caller's own ARN;
 * 'account' for the caller's account (id or root ARN: "Using the account ARN in the Principal element does not limit
 * permissions to only the root user of the account"). Anonymous callers match only "*".
 */
export function principalGrant(block: PrincipalBlock | '*', principal: RequestContext['principal']): 'caller' | 'account' | undefined {
  if (block === '*') return 'caller';
  const ids = block.AWS ?? [];
  if (ids.includes('*')) return 'caller';
  if (principal.kind === 'anonymous') return undefined;
  if (ids.includes(principal.arn)) return principal.kind === 'root' ? 'account' : 'caller';
  if (ids.some((id) => principalAccount(id) === principal.accountId)) return 'account';
  return undefined;
}

/**
 * Does a Deny statement with NotPrincipal apply to this caller? AWS evaluates a caller through each of its
 * identities ("AWS might validate the account first and then the user"): a user of an account is the account and
 * the user, so it escapes the Deny only when NotPrincipal lists both ("you must also specify the account ARN of the
 * not-denied principal. Otherwise, the policy might deny access to the entire account containing the principal").
 * The root user is the account alone; an anonymous caller escapes only a NotPrincipal of "*".
 */
export function notPrincipalApplies(block: PrincipalBlock | '*', principal: RequestContext['principal']): boolean {
  if (block === '*') return false;
  const ids = block.AWS ?? [];
  if (ids.includes('*')) return false;
  if (principal.kind === 'anonymous') return true;
  const accountListed = ids.some((id) => principalAccount(id) === principal.accountId);
  if (principal.kind === 'root') return !accountListed;
  return !(accountListed && ids.includes(principal.arn));
}

/** The request's condition keys by lower-cased name, with the principal's keys filled in. */
export function contextKeys(ctx: RequestContext): Map<string, ContextValue> {
  const keys = new Map<string, ContextValue>();
  const { principal } = ctx;
  if (principal.kind !== 'anonymous') {
    keys.set('aws:principalarn', principal.arn);
    keys.set('aws:principalaccount', principal.accountId);
  }
  keys.set('aws:principaltype', principal.kind === 'root' ? 'Account' : principal.kind === 'user' ? 'User' : 'Anonymous');
  if (principal.kind === 'user' && principal.userName !== undefined) keys.set('aws:username', principal.userName);
  if (principal.kind === 'root') keys.set('aws:userid', principal.accountId);

  const given = new Set<string>();
  for (const [name, value] of Object.entries(ctx.keys)) {
    const key = name.toLowerCase();
    given.add(key);
    if (value === undefined) keys.delete(key);
    else keys.set(key, value);
  }
  // aws:CurrentTime and aws:EpochTime describe the same instant.
  const current = keys.get('aws:currenttime');
  const epoch = keys.get('aws:epochtime');
  if (!given.has('aws:epochtime') && typeof current === 'string' && !Number.isNaN(Date.parse(current))) {
    keys.set('aws:epochtime', String(Math.floor(Date.parse(current) / 1000)));
  }
  if (!given.has('aws:currenttime') && epoch !== undefined && !Array.isArray(epoch) && Number.isFinite(Number(epoch))) {
    keys.set('aws:currenttime', new Date(Number(epoch) * 1000).toISOString());
  }
  return keys;
}

/** "You can use any available single-valued context key as a policy variable" (not a multivalued one). */
function variableValue(keys: Map<string, ContextValue>, name: string): string | undefined {
  const value = keys.get(name.toLowerCase());
  if (value === undefined || Array.isArray(value)) return undefined;
  return String(value);
}
