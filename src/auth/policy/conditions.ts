// The Condition element of an IAM policy statement: condition operators, the `...IfExists` suffix, the
// `ForAnyValue:`/`ForAllValues:` set qualifiers and the Null check, evaluated as the IAM User Guide documents them
// ("IAM JSON policy elements: Condition operators", "Conditions with multiple context keys or values").
//
// - Several operators in a block, and several keys under one operator, are ANDed.
// - Several policy values for one key are ORed; for a negated operator (StringNotEquals, NotIpAddress, ...) NORed.
// - "If the key that you specify in a policy condition is not present in the request context, the values do not
//   match and the condition is false. If the policy condition requires that the key is not matched, such as
//   StringNotLike or ArnNotLike, and the right key is not present, the condition is true." (not for IfExists/Null)
// - `...IfExists`: "If the key is not present, evaluate the condition element as true."
// - ForAllValues returns true when the key is missing or resolves to an empty data set; ForAnyValue returns false.
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { literalText, matchArnPieces, matchTokens, substitute, tokenize, type Piece, type VariableResolver } from './wildcard.ts';

/** A Bool condition's value. */
export const BOOLEAN_TEXT = /^(true|false)$/i;
/** A BinaryEquals condition's value. */
export const BASE64_TEXT = /^[A-Za-z0-9+/]*={0,2}$/;
/** A CIDR prefix length. */
export const PREFIX_LENGTH = /^\d{1,3}$/;
/** An IPv4 address as an IPv6 socket reports it. */
export const MAPPED_IPV4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** A value of a condition key in the request context; an array for a multivalued key such as aws:TagKeys. */
export type ContextValue = string | number | boolean | readonly string[];

export interface ConditionEnv {
  /** The value of a condition key (names are case-insensitive; the caller resolves that), undefined when absent. */
  value(key: string): ContextValue | undefined;
  /** Resolves policy variables; undefined when the policy language version does not support them. */
  resolve: VariableResolver | undefined;
}

type Category = 'String' | 'Numeric' | 'Date' | 'Bool' | 'Binary' | 'IpAddress' | 'Arn' | 'Null';

interface BaseOperator {
  category: Category;
  /** Negated matching (StringNotEquals, NotIpAddress, ArnNotLike, ...): the values are NORed. */
  negated: boolean;
  /** Compares one request value with one (prepared) policy value; for a negated operator, the positive test. */
  test: (request: string, policy: Prepared) => boolean;
}

type Prepared = Piece[] | number | IpRange | string;

interface IpRange {
  family: 'ipv4' | 'ipv6';
  list: BlockList;
}

const str = (test: (request: string, policy: Piece[]) => boolean) => (r: string, p: Prepared) => test(r, p as Piece[]);
const num = (test: (request: number, policy: number) => boolean) => (r: string, p: Prepared) => {
  const n = parseNumber(r);
  return n !== undefined && test(n, p as number);
};
const date = (test: (request: number, policy: number) => boolean) => (r: string, p: Prepared) => {
  const d = parseDate(r);
  return d !== undefined && test(d, p as number);
};

const stringEquals = str((r, p) => r === literalText(p));
const stringEqualsIgnoreCase = str((r, p) => r.toLowerCase() === literalText(p).toLowerCase());
const stringLike = str((r, p) => matchTokens(tokenize(p), r));
const arnLike = str((r, p) => matchArnPieces(p, r));
const numericEquals = num((r, p) => r === p);
const dateEquals = date((r, p) => r === p);
const ipAddress = (r: string, p: Prepared) => inRange(r, p as IpRange);

const OPERATORS: Record<string, BaseOperator> = {
  StringEquals: { category: 'String', negated: false, test: stringEquals },
  StringNotEquals: { category: 'String', negated: true, test: stringEquals },
  StringEqualsIgnoreCase: { category: 'String', negated: false, test: stringEqualsIgnoreCase },
  StringNotEqualsIgnoreCase: { category: 'String', negated: true, test: stringEqualsIgnoreCase },
  StringLike: { category: 'String', negated: false, test: stringLike },
  StringNotLike: { category: 'String', negated: true, test: stringLike },
  NumericEquals: { category: 'Numeric', negated: false, test: numericEquals },
  NumericNotEquals: { category: 'Numeric', negated: true, test: numericEquals },
  NumericLessThan: { category: 'Numeric', negated: false, test: num((r, p) => r < p) },
  NumericLessThanEquals: { category: 'Numeric', negated: false, test: num((r, p) => r <= p) },
  NumericGreaterThan: { category: 'Numeric', negated: false, test: num((r, p) => r > p) },
  NumericGreaterThanEquals: { category: 'Numeric', negated: false, test: num((r, p) => r >= p) },
  DateEquals: { category: 'Date', negated: false, test: dateEquals },
  DateNotEquals: { category: 'Date', negated: true, test: dateEquals },
  DateLessThan: { category: 'Date', negated: false, test: date((r, p) => r < p) },
  DateLessThanEquals: { category: 'Date', negated: false, test: date((r, p) => r <= p) },
  DateGreaterThan: { category: 'Date', negated: false, test: date((r, p) => r > p) },
  DateGreaterThanEquals: { category: 'Date', negated: false, test: date((r, p) => r >= p) },
  Bool: { category: 'Bool', negated: false, test: str((r, p) => r.toLowerCase() === literalText(p).toLowerCase()) },
  BinaryEquals: { category: 'Binary', negated: false, test: (r, p) => r === p },
  IpAddress: { category: 'IpAddress', negated: false, test: ipAddress },
  NotIpAddress: { category: 'IpAddress', negated: true, test: ipAddress },
  // "The ArnEquals and ArnLike condition operators behave identically."
  ArnEquals: { category: 'Arn', negated: false, test: arnLike },
  ArnLike: { category: 'Arn', negated: false, test: arnLike },
  ArnNotEquals: { category: 'Arn', negated: true, test: arnLike },
  ArnNotLike: { category: 'Arn', negated: true, test: arnLike },
  Null: { category: 'Null', negated: false, test: () => false },
};

export interface Operator {
  name: string;
  base: string;
  set?: 'ForAnyValue' | 'ForAllValues';
  ifExists: boolean;
}

/** Parses a condition operator name such as `ForAllValues:StringLikeIfExists`; a string is an error message. */
export function parseOperator(name: string): Operator | string {
  let rest = name;
  let set: Operator['set'];
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    const qualifier = rest.slice(0, colon);
    if (qualifier !== 'ForAnyValue' && qualifier !== 'ForAllValues') {
      return `unknown condition set operator '${qualifier}' in '${name}' (use ForAnyValue or ForAllValues)`;
    }
    set = qualifier;
    rest = rest.slice(colon + 1);
  }
  let ifExists = false;
  if (!Object.hasOwn(OPERATORS, rest) && rest.endsWith('IfExists')) {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  if (!Object.hasOwn(OPERATORS, rest)) return `unknown condition operator '${name}'`;
  if (rest === 'Null' && ifExists) return `condition operator '${name}' is not allowed: IfExists cannot be added to Null`;
  if (rest === 'Null' && set) return `condition operator '${name}' is not allowed: Null takes no set operator`;
  return { name, base: rest, set, ifExists };
}

/** Checks the values of one condition key at parse time; returns an error message or undefined. */
export function checkConditionValues(operator: Operator, values: string[]): string | undefined {
  const { category } = OPERATORS[operator.base];
  for (const value of values) {
    const bad = (what: string) => `${operator.name} value '${value}' is not ${what}`;
    switch (category) {
      case 'Null':
      case 'Bool':
        if (category === 'Bool' && value.includes('${')) break;
        if (!BOOLEAN_TEXT.test(value)) return bad('true or false');
        break;
      case 'Numeric':
        if (parseNumber(value) === undefined) return bad('a number');
        break;
      case 'Date':
        if (parseDate(value) === undefined) return bad('an ISO 8601 date or an epoch time in seconds');
        break;
      case 'IpAddress':
        if (parseIpRange(value) === undefined) return bad('an IPv4 or IPv6 address or CIDR range');
        break;
      case 'Binary':
        if (!BASE64_TEXT.test(value)) return bad('base64');
        break;
      default:
        break;
    }
  }
  return undefined;
}

/** Does the whole Condition block hold? (operators ANDed, keys ANDed) */
export function conditionHolds(condition: Record<string, Record<string, string[]>> | undefined, env: ConditionEnv): boolean {
  if (condition === undefined) return true;
  for (const [name, keys] of Object.entries(condition)) {
    const operator = parseOperator(name);
    if (typeof operator === 'string') return false; // refused by parsePolicy; never matches if it gets here
    for (const [key, values] of Object.entries(keys)) {
      if (!keyHolds(operator, values, env.value(key), env)) return false;
    }
  }
  return true;
}

function keyHolds(operator: Operator, policyValues: string[], raw: ContextValue | undefined, env: ConditionEnv): boolean {
  const base = OPERATORS[operator.base];
  const requestValues = raw === undefined ? undefined : Array.isArray(raw) ? [...(raw as readonly string[])] : [String(raw)];

  if (base.category === 'Null') {
    // "true (the key doesn't exist — it is null) or false (the key exists and its value is not null)"
    const absent = requestValues === undefined || requestValues.length === 0;
    return policyValues.some((v) => (v.toLowerCase() === 'true') === absent);
  }

  const prepared: Prepared[] = [];
  for (const value of policyValues) {
    const p = prepare(base.category, value, env.resolve);
    // A policy variable without a value: "any attempt to match it fails and causes the statement to be invalid".
    if (p === undefined) return false;
    prepared.push(p);
  }
  const matchesAny = (request: string) => prepared.some((p) => base.test(request, p));

  if (operator.set === undefined) {
    if (requestValues === undefined || requestValues.length === 0) return operator.ifExists || base.negated;
    // A multivalued key without a set operator: true when any of its values matches (negated: when none does).
    const any = requestValues.some(matchesAny);
    return base.negated ? !any : any;
  }

  if (requestValues === undefined && operator.ifExists) return true;
  const emptySet = requestValues === undefined || requestValues.length === 0 || (requestValues.length === 1 && requestValues[0] === '');
  if (emptySet) return operator.set === 'ForAllValues';
  // Each request value is tested against the policy values (ORed, or NORed for a negated operator).
  const valueHolds = (request: string) => (base.negated ? !matchesAny(request) : matchesAny(request));
  return operator.set === 'ForAllValues' ? requestValues.every(valueHolds) : requestValues.some(valueHolds);
}

function prepare(category: Category, value: string, resolve: VariableResolver | undefined): Prepared | undefined {
  switch (category) {
    // Policy variables work with the String, ARN and Boolean operators only.
    case 'String':
    case 'Arn':
    case 'Bool':
      return substitute(value, resolve);
    case 'Numeric':
      return parseNumber(value) ?? Number.NaN;
    case 'Date':
      return parseDate(value) ?? Number.NaN;
    case 'IpAddress':
      return parseIpRange(value) ?? { family: 'ipv4', list: new BlockList() };
    default:
      return value;
  }
}

export const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function parseNumber(value: string): number | undefined {
  const s = value.trim();
  return NUMBER.test(s) ? Number(s) : undefined;
}

export const EPOCH = /^-?\d+(\.\d+)?$/;
// W3C profile of ISO 8601: YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mm[:ss[.s]]TZD
export const ISO = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/i;

/** Milliseconds since the epoch of an ISO 8601 date (W3C profile) or of an epoch time in seconds. */
export function parseDate(value: string): number | undefined {
  const s = value.trim();
  if (EPOCH.test(s)) return Number(s) * 1000;
  const m = ISO.exec(s);
  if (!m) return undefined;
  const [, year, month = '01', day = '01', hour = '00', minute = '00', second = '00', fraction = '0', zone = 'Z'] = m;
  const iso = `${year}-${month}-${day}T${hour}:${minute}:${second}.${fraction.slice(0, 3).padEnd(3, '0')}${zone.toUpperCase()}`;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

const ipRanges = new Map<string, IpRange | undefined>();

/** An IP range from a policy: CIDR notation, or a bare address (IAM uses /32, and /128 for IPv6). */
export function parseIpRange(value: string): IpRange | undefined {
  if (ipRanges.has(value)) return ipRanges.get(value);
  const range = computeIpRange(value.trim());
  if (ipRanges.size > 10_000) ipRanges.clear();
  ipRanges.set(value, range);
  return range;
}

function computeIpRange(value: string): IpRange | undefined {
  const slash = value.indexOf('/');
  const address = slash < 0 ? value : value.slice(0, slash);
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (family === undefined) return undefined;
  const max = family === 'ipv4' ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : value.slice(slash + 1);
  if (!PREFIX_LENGTH.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > max) return undefined;
  const list = new BlockList();
  list.addSubnet(address, prefix, family);
  return { family, list };
}

function inRange(request: string, range: IpRange): boolean {
  let address = request.trim();
  const mapped = MAPPED_IPV4.exec(address); // an IPv4 client seen through an IPv6 socket
  if (mapped) address = mapped[1];
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  return family === range.family && range.list.check(address, family);
}
