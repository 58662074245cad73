// IAM policy documents: parsing and validation, following the IAM User Guide's "Grammar of the IAM JSON policy
// language" and its element references. Identity-based policies (attached to users) must not name a principal and
// must name resources; resource-based policies (repository and registry policies) must name a principal, and a
// repository policy may leave out Resource (it then covers the repository it is attached to).
//
// Every problem is reported as a PolicyError whose message says what is wrong and where, e.g.
// "Statement[1]: Effect must be Allow or Deny".
import { checkConditionValues, parseOperator } from './conditions.ts';
import { checkJsonDepth, JsonTooDeepError } from '../../core/json-limits.ts';

export interface PolicyDocument {
  Version?: string;
  Id?: string;
  /** Always an array, whether the document had one statement or a list. */
  Statement: Statement[];
}

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: PrincipalBlock | '*';
  NotPrincipal?: PrincipalBlock | '*';
  Action?: string[];
  NotAction?: string[];
  Resource?: string[];
  NotResource?: string[];
  /** operator → condition key → values (numbers and booleans of the JSON are turned into strings). */
  Condition?: Record<string, Record<string, string[]>>;
}

export type PrincipalBlock = { AWS?: string[]; Service?: string[]; Federated?: string[] };

/** identity: attached to a user (no Principal, Resource required); resource: a repository or registry policy. */
export type PolicyKind = 'identity' | 'resource';

export class PolicyError extends Error {
  override name = 'PolicyError';
}

export const POLICY_VERSIONS = ['2012-10-17', '2008-10-17'] as const;

const TOP_LEVEL_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);
const PRINCIPAL_TYPES = new Set(['AWS', 'Service', 'Federated']);

export const ACTION = /^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$/;
export const ACCOUNT_ID = /^\d{12}$/;
export const PRINCIPAL_ARN = /^arn:aws[a-z-]*:(iam|sts)::\d{12}:[^*?]+$/;
export const SERVICE_PRINCIPAL = /^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/;
/** What an identity policy's Sid may be. */
export const IDENTITY_SID = /^[A-Za-z0-9]*$/;

/** Parses and validates a policy document; throws PolicyError. */
export function parsePolicy(text: string, kind: PolicyKind): PolicyDocument {
  if (typeof text !== 'string' || text.trim() === '') throw new PolicyError('Policy document is empty');
  const root = parseJson(text.replace(/^\uFEFF/, ''));
  if (!isObject(root)) throw new PolicyError('Policy document must be a JSON object');

  for (const key of Object.keys(root)) {
    if (!TOP_LEVEL_KEYS.has(key)) throw new PolicyError(`unknown top-level element '${key}' (allowed: Version, Id, Statement)`);
  }
  const doc: PolicyDocument = { Statement: [] };

  if (root.Version !== undefined) {
    if (typeof root.Version !== 'string' || !(POLICY_VERSIONS as readonly string[]).includes(root.Version)) {
      throw new PolicyError(`Version must be "2012-10-17" or "2008-10-17", not ${JSON.stringify(root.Version)}`);
    }
    doc.Version = root.Version;
  }

  if (root.Id !== undefined) {
    if (kind === 'identity') throw new PolicyError('Id is not allowed in an identity-based policy');
    if (typeof root.Id !== 'string') throw new PolicyError('Id must be a string');
    doc.Id = root.Id;
  }

  if (root.Statement === undefined) throw new PolicyError('Statement is missing');
  const statements = Array.isArray(root.Statement) ? root.Statement : [root.Statement];
  if (statements.length === 0) throw new PolicyError('Statement must contain at least one statement');

  const sids = new Set<string>();
  statements.forEach((raw, index) => {
    const statement = parseStatement(raw, `Statement[${index}]`, kind);
    if (kind === 'identity' && statement.Sid !== undefined && statement.Sid !== '') {
      if (sids.has(statement.Sid))
        throw new PolicyError(`Statement[${index}]: Sid '${statement.Sid}' is used by another statement; Sids must be unique`);
      sids.add(statement.Sid);
    }
    doc.Statement.push(statement);
  });
  return doc;
}

function parseStatement(raw: unknown, at: string, kind: PolicyKind): Statement {
  const fail = (message: string): never => {
    throw new PolicyError(`${at}: ${message}`);
  };
  if (!isObject(raw)) fail('must be a JSON object');
  const s = raw as Record<string, unknown>;
  for (const key of Object.keys(s)) {
    if (!STATEMENT_KEYS.has(key)) {
      fail(`unknown element '${key}' (allowed: ${[...STATEMENT_KEYS].join(', ')})`);
    }
  }

  let sid: string | undefined;
  if (s.Sid !== undefined) {
    if (typeof s.Sid !== 'string') fail('Sid must be a string');
    sid = s.Sid as string;
    // "For IAM policies, basic alphanumeric characters (A-Z,a-z,0-9) are the only allowed characters in the Sid"
    if (kind === 'identity' && !IDENTITY_SID.test(sid)) fail(`Sid '${sid}' may contain only letters and digits`);
  }

  if (s.Effect === undefined) fail('Effect is missing');
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') fail(`Effect must be Allow or Deny, not ${JSON.stringify(s.Effect)}`);
  const statement: Statement = { Effect: s.Effect as 'Allow' | 'Deny' };
  if (sid !== undefined) statement.Sid = sid;

  // Principal / NotPrincipal
  const hasPrincipal = s.Principal !== undefined;
  const hasNotPrincipal = s.NotPrincipal !== undefined;
  if (kind === 'identity') {
    if (hasPrincipal) fail('Principal is not allowed in an identity-based policy (the principal is the identity it is attached to)');
    if (hasNotPrincipal) fail('NotPrincipal is not allowed in an identity-based policy');
  } else {
    if (hasPrincipal && hasNotPrincipal) fail('has both Principal and NotPrincipal; use one');
    if (!hasPrincipal && !hasNotPrincipal) fail('Principal is missing (a resource-based policy must name a Principal)');
    // "NotPrincipal must be used with "Effect":"Deny". Using it with "Effect":"Allow" is not supported."
    if (hasNotPrincipal && statement.Effect === 'Allow') fail('NotPrincipal can only be used with "Effect": "Deny"');
    if (hasPrincipal) statement.Principal = parsePrincipal(s.Principal, 'Principal', fail);
    else statement.NotPrincipal = parsePrincipal(s.NotPrincipal, 'NotPrincipal', fail);
  }

  // Action / NotAction
  if (s.Action !== undefined && s.NotAction !== undefined) fail('has both Action and NotAction; use one');
  if (s.Action === undefined && s.NotAction === undefined) fail('Action or NotAction is missing');
  const actionKey = s.Action !== undefined ? 'Action' : 'NotAction';
  const actions = stringList(s[actionKey], actionKey, fail);
  for (const action of actions) {
    if (action !== '*' && !ACTION.test(action))
      fail(`${actionKey} '${action}' must be '*' or '<service>:<action>', such as 'ecr:BatchGetImage'`);
  }
  statement[actionKey] = actions;

  // Resource / NotResource
  if (s.Resource !== undefined && s.NotResource !== undefined) fail('has both Resource and NotResource; use one');
  if (s.Resource === undefined && s.NotResource === undefined) {
    if (kind === 'identity') fail('Resource or NotResource is missing');
  } else {
    const resourceKey = s.Resource !== undefined ? 'Resource' : 'NotResource';
    const resources = stringList(s[resourceKey], resourceKey, fail);
    for (const resource of resources) {
      if (resource !== '*' && !isArnPattern(resource)) {
        fail(`${resourceKey} '${resource}' must be '*' or an ARN such as 'arn:aws:ecr:us-east-1:111122223333:repository/name'`);
      }
    }
    statement[resourceKey] = resources;
  }

  if (s.Condition !== undefined) statement.Condition = parseCondition(s.Condition, fail);
  return statement;
}

function parsePrincipal(raw: unknown, name: string, fail: (m: string) => never): PrincipalBlock | '*' {
  if (raw === '*') return '*';
  if (typeof raw === 'string') fail(`${name} must be "*" or an object such as {"AWS": "111122223333"}, not "${raw}"`);
  if (!isObject(raw)) fail(`${name} must be "*" or an object such as {"AWS": "111122223333"}`);
  const block: PrincipalBlock = {};
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length === 0) fail(`${name} must name at least one principal`);
  for (const [type, value] of entries) {
    if (!PRINCIPAL_TYPES.has(type)) fail(`${name} type '${type}' is not supported (use AWS, Service or Federated)`);
    const ids = stringList(value, `${name}.${type}`, fail);
    for (const id of ids) {
      if (type === 'AWS' && id !== '*' && !ACCOUNT_ID.test(id) && !PRINCIPAL_ARN.test(id)) {
        fail(
          `${name}.AWS '${id}' must be "*", a 12-digit account id or an IAM ARN such as 'arn:aws:iam::111122223333:user/name' (no wildcards)`,
        );
      }
      if (type === 'Service' && !SERVICE_PRINCIPAL.test(id))
        fail(`${name}.Service '${id}' must be a service principal such as 'ecr.amazonaws.com'`);
      if (type === 'Federated' && id.trim() === '') fail(`${name}.Federated must not be empty`);
    }
    block[type as keyof PrincipalBlock] = ids;
  }
  return block;
}

function parseCondition(raw: unknown, fail: (m: string) => never): Record<string, Record<string, string[]>> {
  if (!isObject(raw)) fail('Condition must be an object such as {"StringEquals": {"aws:username": "ci"}}');
  const condition: Record<string, Record<string, string[]>> = {};
  const operators = Object.entries(raw as Record<string, unknown>);
  if (operators.length === 0) fail('Condition must contain at least one condition operator');
  for (const [name, block] of operators) {
    const operator = parseOperator(name);
    if (typeof operator === 'string') fail(`Condition: ${operator}`);
    if (!isObject(block)) fail(`Condition.${name} must be an object of condition keys and values`);
    const keys = Object.entries(block as Record<string, unknown>);
    if (keys.length === 0) fail(`Condition.${name} must contain at least one condition key`);
    const parsed: Record<string, string[]> = {};
    for (const [key, value] of keys) {
      if (key.trim() === '') fail(`Condition.${name} has an empty condition key`);
      const list = Array.isArray(value) ? value : [value];
      if (list.length === 0) fail(`Condition.${name}.${key} must have at least one value`);
      const values = list.map((v) => {
        // "condition_value = ("string" | "number" | "Boolean")"
        if (typeof v === 'string') return v;
        if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') return String(v);
        return fail(`Condition.${name}.${key} values must be strings, numbers or booleans, not ${describe(v)}`);
      });
      const problem = checkConditionValues(operator as Exclude<typeof operator, string>, values);
      if (problem !== undefined) fail(`Condition.${name}.${key}: ${problem}`);
      parsed[key] = values;
    }
    condition[name] = parsed;
  }
  return condition;
}

function stringList(raw: unknown, name: string, fail: (m: string) => never): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) fail(`${name} must not be an empty list`);
  return list.map((v) => {
    if (typeof v !== 'string') return fail(`${name} must be a string or a list of strings, not ${describe(v)}`);
    if (v === '') return fail(`${name} must not contain an empty string`);
    return v;
  });
}

/** "arn:partition:service:region:account:resource", the six colon-separated components, the last not empty. */
function isArnPattern(value: string): boolean {
  const parts = value.split(':');
  return parts.length >= 6 && parts[0] === 'arn' && parts.slice(5).join(':') !== '';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

// --- JSON with duplicate-key detection ------------------------------------------------------------------------
// The grammar notes say "Individual elements must not contain multiple instances of the same key", which
// JSON.parse silently accepts (the last one wins). JSON.parse validates the syntax first (with its own message);
// this small parser then builds the value and refuses duplicate keys. It recurses, so the nesting it follows is
// bounded (a valid policy nests 5 levels deep; without a bound, deep nesting overflowed the stack).

/** How deeply a policy document's JSON may nest (the bound Berth puts on every JSON body). */
export const MAX_POLICY_DEPTH = 64;

function parseJson(text: string): unknown {
  try {
    // Bounded nesting first: the parser below recurses once per level.
    checkJsonDepth(text);
    JSON.parse(text);
  } catch (err) {
    if (err instanceof JsonTooDeepError) throw new PolicyError(`Policy document is not valid: ${err.message}`);
    throw new PolicyError(`Policy document is not valid JSON: ${(err as Error).message}`);
  }
  let i = 0;
  const skip = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const string = (): string => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string, depth = 1): unknown => {
    if (depth > MAX_POLICY_DEPTH) throw new PolicyError(`Policy document nests deeper than ${MAX_POLICY_DEPTH} levels`);
    skip();
    const ch = text[i];
    if (ch === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      skip();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        skip();
        const key = string();
        if (Object.hasOwn(obj, key)) {
          throw new PolicyError(`duplicate key '${key}' ${path === '' ? 'at the top level' : `in ${path}`} of the policy document`);
        }
        skip();
        i++; // ':'
        const v = value(path === '' ? key : `${path}.${key}`, depth + 1);
        Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
        skip();
        if (text[i++] === '}') return obj;
      }
    }
    if (ch === '[') {
      i++;
      const arr: unknown[] = [];
      skip();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(`${path}[${arr.length}]`, depth + 1));
        skip();
        if (text[i++] === ']') return arr;
      }
    }
    if (ch === '"') return string();
    const start = i;
    while (i < text.length && !',}] \t\n\r'.includes(text[i])) i++;
    return JSON.parse(text.slice(start, i));
  };
  return value('');
}
