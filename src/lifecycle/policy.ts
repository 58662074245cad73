// ECR lifecycle policy documents: the grammar and validation of PutLifecyclePolicy / StartLifecyclePolicyPreview's
// `lifecyclePolicyText`, as the Amazon ECR User Guide documents it ("Lifecycle policy properties in Amazon ECR",
// "Automate the cleanup of images by using lifecycle policies", "Examples of lifecycle policies") and with the
// InvalidParameterException texts ECR returns.
//
// ECR validates the document in two steps, and so do we (the first failure wins):
//   1. against a JSON schema (ECR's messages are those of a JSON-schema validator: "object has missing required
//      properties (["rules"])", "instance type (null) does not match any allowed primitive type (allowed: ["array"])",
//      "instance failed to match exactly one schema (matched 0 out of 2)", ...);
//   2. against the rules between properties and between rules ("Must specify tagPrefixList or tagPatternList when
//      tagStatus=TAGGED.", "Rule for tagStatus=ANY must have the lowest priority per storage class", "Only one rule
//      can select Untagged images per storage class", ...).
// Where ECR's exact text is not public, the message says precisely what is wrong. Every error also carries `detail`
// (plain words, even when ECR's own text is a generic schema message) and `path` (a JSON pointer).
//
// Archive: `"type": "transition"` with `"targetStorageClass": "archive"` moves images to the archive storage class;
// a rule selects images of one storage class (`storageClass`, `standard` unless given); `sinceImagePulled` only
// transitions and `sinceImageTransitioned` (which needs `"storageClass": "archive"`) only expires, as in ECR.
//
// The length of the text (100 to 30720 characters in ECR's API model) is the API layer's check, not this module's.
import { JsonTooDeepError, parseUntrustedJson } from '../core/json-limits.ts';

export interface LifecycleRule {
  rulePriority: number;
  description?: string;
  selection: {
    tagStatus: 'tagged' | 'untagged' | 'any';
    tagPrefixList?: string[];
    tagPatternList?: string[];
    countType: 'imageCountMoreThan' | 'sinceImagePushed' | 'sinceImagePulled' | 'sinceImageTransitioned';
    countUnit?: 'days';
    countNumber: number;
    /** The storage class of the images the rule selects (absent: standard). */
    storageClass?: 'standard' | 'archive';
  };
  action: { type: 'expire' } | { type: 'transition'; targetStorageClass: 'archive' };
}

export interface LifecyclePolicy {
  rules: LifecycleRule[];
}

/** The member ECR names in its message (with ECR's capitalisation). */
export const LIFECYCLE_POLICY_MEMBER = 'LifecyclePolicyText';

/** At most this many `*` in each string of a tagPatternList ("There is a maximum limit of four wildcards (*) per string"). */
export const MAX_WILDCARDS_PER_PATTERN = 4;

export const TAG_STATUSES = ['tagged', 'untagged', 'any'] as const;
/** Every count type ECR's grammar knows. */
export const COUNT_TYPES = ['imageCountMoreThan', 'sinceImagePushed', 'sinceImagePulled', 'sinceImageTransitioned'] as const;
export const ACTION_TYPES = ['expire', 'transition'] as const;
export const STORAGE_CLASSES = ['standard', 'archive'] as const;

/**
 * A lifecycle policy document ECR would refuse. `message` is the whole InvalidParameterException message;
 * `constraint` is the part after "Lifecycle policy validation failure: ".
 */
export class LifecyclePolicyError extends Error {
  readonly constraint: string;
  /** What is wrong, in plain words (ECR's own text is sometimes a generic schema message). */
  readonly detail: string;
  /** Where: a JSON pointer into the document ('' for the document itself). */
  readonly path: string;
  constructor(constraint: string, detail: string = constraint, path = '') {
    super(
      `Invalid parameter at '${LIFECYCLE_POLICY_MEMBER}' failed to satisfy constraint: 'Lifecycle policy validation failure: ${constraint}'`,
    );
    this.name = 'LifecyclePolicyError';
    this.constraint = constraint;
    this.detail = detail;
    this.path = path;
  }
}

// --- The JSON-schema validator's messages -----------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** The JSON type name a JSON-schema validator reports: an integral number is an "integer", but one beyond the exact
 * integers (`1e300`, which ECR's parser reads as a decimal) is a "number". */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'integer' : 'number';
  return typeof value; // 'boolean' | 'string' | 'object'
}

const list = (names: readonly string[]) => JSON.stringify(names);

export const schemaMessages = {
  unmappable: 'Could not map policyString into LifecyclePolicy.',
  typeMismatch: (found: string, allowed: string) =>
    `instance type (${found}) does not match any allowed primitive type (allowed: ${list([allowed])})`,
  missing: (names: string[]) => `object has missing required properties (${list([...names].sort())})`,
  notAllowed: (names: string[]) => `object instance has properties which are not allowed by the schema: ${list([...names].sort())}`,
  notInEnum: (value: unknown, values: readonly string[]) =>
    `instance value (${JSON.stringify(value)}) not found in enum (possible values: ${list(values)})`,
  tooSmall: (minimum: number, found: number) =>
    `numeric instance is lower than the required minimum (minimum: ${minimum}, found: ${found})`,
  tooLarge: (maximum: number, found: number) =>
    `numeric instance is greater than the required maximum (maximum: ${maximum}, found: ${found})`,
  tooShort: (minimum: number, found: number) =>
    `array is too short: must have at least ${minimum} elements but instance has ${found} elements`,
  noSchemaMatched: 'instance failed to match exactly one schema (matched 0 out of 2)',
};

/** ECR's texts for the rules between properties and between rules. */
export const ruleMessages = {
  taggedNeedsList: 'Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.',
  anyMustBeLast: 'Rule for tagStatus=ANY must have the lowest priority per storage class',
  oneUntaggedRule: 'Only one rule can select Untagged images per storage class',
};

const fail = (constraint: string, detail: string, path: string): never => {
  throw new LifecyclePolicyError(constraint, detail, path);
};

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function expectType(value: unknown, type: 'object' | 'array' | 'string' | 'integer', path: string, what: string): void {
  const found = jsonTypeOf(value);
  if (found === type) return;
  fail(schemaMessages.typeMismatch(found, type), `${what} must be of JSON type ${type}, not ${found}`, path);
}

function expectProperties(obj: JsonObject, required: readonly string[], allowed: readonly string[], path: string, what: string): void {
  const missing = required.filter((k) => !Object.hasOwn(obj, k));
  if (missing.length > 0) fail(schemaMessages.missing(missing), `${what} is missing ${missing.map((k) => `"${k}"`).join(', ')}`, path);
  const extra = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (extra.length > 0)
    fail(
      schemaMessages.notAllowed(extra),
      `${what} has unknown ${extra.length === 1 ? 'property' : 'properties'} ${extra
        .sort()
        .map((k) => `"${k}"`)
        .join(', ')} (allowed: ${allowed.join(', ')})`,
      path,
    );
}

function expectEnum<T extends string>(value: unknown, values: readonly T[], path: string, what: string): T {
  if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as T;
  return fail(
    schemaMessages.notInEnum(value, values),
    `${what} must be one of ${values.map((v) => `"${v}"`).join(', ')}, not ${JSON.stringify(value)}`,
    path,
  );
}

/** The largest countNumber or rulePriority: ECR reads them as 32-bit integers. */
export const MAX_RULE_INTEGER = 2_147_483_647;

function expectPositiveInteger(value: unknown, path: string, what: string): number {
  expectType(value, 'integer', path, what);
  const n = value as number;
  if (n < 1) fail(schemaMessages.tooSmall(1, n), `${what} must be a positive integer (1 or more), not ${n}`, path);
  if (n > MAX_RULE_INTEGER)
    fail(schemaMessages.tooLarge(MAX_RULE_INTEGER, n), `${what} must be an integer from 1 to ${MAX_RULE_INTEGER}, not ${n}`, path);
  return n;
}

function expectStringList(value: unknown, path: string, what: string): string[] {
  expectType(value, 'array', path, what);
  const items = value as Json[];
  if (items.length === 0) fail(schemaMessages.tooShort(1, 0), `${what} must not be empty`, path);
  items.forEach((item, i) => expectType(item, 'string', `${path}/${i}`, `each entry of ${what}`));
  return items as string[];
}

// --- The document -----------------------------------------------------------------------------------------------

const RULE_REQUIRED = ['rulePriority', 'selection', 'action'] as const;
const RULE_ALLOWED = ['rulePriority', 'description', 'selection', 'action'] as const;
const SELECTION_REQUIRED = ['tagStatus', 'countType', 'countNumber'] as const;
const SELECTION_ALLOWED = [
  'tagStatus',
  'tagPrefixList',
  'tagPatternList',
  'storageClass',
  'countType',
  'countUnit',
  'countNumber',
] as const;
const ACTION_ALLOWED = ['type', 'targetStorageClass'] as const;

/** ECR: "Archived images have a minimum storage duration of 90 days. You cannot configure lifecycle policies that
 * delete images that have been in archive for less than 90 days." */
export const MIN_ARCHIVE_DAYS = 90;

/** Parses and validates a lifecycle policy document; throws LifecyclePolicyError with ECR's message. */
export function parseLifecyclePolicy(text: string): LifecyclePolicy {
  let doc: unknown;
  try {
    doc = parseUntrustedJson(text);
  } catch (e) {
    if (e instanceof JsonTooDeepError) return fail(schemaMessages.unmappable, `the policy is not valid: ${e.message}`, '');
    return fail(schemaMessages.unmappable, `the policy is not valid JSON (${(e as Error).message})`, '');
  }
  if (!isObject(doc)) return fail(schemaMessages.unmappable, `the policy must be a JSON object, not ${jsonTypeOf(doc)}`, '');
  expectProperties(doc, ['rules'], ['rules'], '', 'the policy');
  const rulesJson = doc.rules;
  expectType(rulesJson, 'array', '/rules', '"rules"');
  const items = rulesJson as Json[];
  if (items.length === 0) fail(schemaMessages.tooShort(1, 0), 'a lifecycle policy needs at least one rule', '/rules');

  // Step 1: the schema, rule by rule, in document order.
  const rules = items.map((item, i) => readRule(item, `/rules/${i}`));
  // Step 2: what ECR checks within each rule beyond the schema.
  rules.forEach((rule, i) => checkRule(rule, `/rules/${i}`));
  // Step 3: what ECR checks between rules.
  checkRuleSet(rules);

  return { rules: [...rules].sort((a, b) => a.rulePriority - b.rulePriority) };
}

function readRule(item: Json, path: string): LifecycleRule {
  expectType(item, 'object', path, 'a rule');
  const rule = item as JsonObject;
  expectProperties(rule, RULE_REQUIRED, RULE_ALLOWED, path, 'a rule');
  const rulePriority = expectPositiveInteger(rule.rulePriority, `${path}/rulePriority`, 'rulePriority');
  if (Object.hasOwn(rule, 'description')) expectType(rule.description, 'string', `${path}/description`, 'description');
  const selection = readSelection(rule.selection, `${path}/selection`);
  const action = readAction(rule.action, `${path}/action`);
  return {
    rulePriority,
    ...(typeof rule.description === 'string' ? { description: rule.description } : {}),
    selection,
    action,
  };
}

function readSelection(value: Json, path: string): LifecycleRule['selection'] {
  expectType(value, 'object', path, '"selection"');
  const sel = value as JsonObject;
  expectProperties(sel, SELECTION_REQUIRED, SELECTION_ALLOWED, path, '"selection"');
  const tagStatus = expectEnum(sel.tagStatus, TAG_STATUSES, `${path}/tagStatus`, 'tagStatus');
  const tagPrefixList = Object.hasOwn(sel, 'tagPrefixList')
    ? expectStringList(sel.tagPrefixList, `${path}/tagPrefixList`, 'tagPrefixList')
    : undefined;
  const tagPatternList = Object.hasOwn(sel, 'tagPatternList')
    ? expectStringList(sel.tagPatternList, `${path}/tagPatternList`, 'tagPatternList')
    : undefined;
  const storageClass = Object.hasOwn(sel, 'storageClass')
    ? expectEnum(sel.storageClass, STORAGE_CLASSES, `${path}/storageClass`, 'storageClass')
    : undefined;
  // countType and countUnit: ECR's schema has one branch per count type, so a wrong combination fails them all.
  const countType = sel.countType;
  if (typeof countType !== 'string' || !(COUNT_TYPES as readonly string[]).includes(countType)) {
    fail(
      schemaMessages.noSchemaMatched,
      `countType must be one of ${COUNT_TYPES.join(', ')}, not ${JSON.stringify(countType)}`,
      `${path}/countType`,
    );
  }
  if (countType === 'imageCountMoreThan') {
    if (Object.hasOwn(sel, 'countUnit'))
      fail(schemaMessages.noSchemaMatched, 'countUnit must be omitted when countType is imageCountMoreThan', `${path}/countUnit`);
  } else if (!Object.hasOwn(sel, 'countUnit')) {
    fail(schemaMessages.noSchemaMatched, `countUnit "days" is required when countType is ${countType as string}`, `${path}/countUnit`);
  } else if (sel.countUnit !== 'days') {
    fail(schemaMessages.noSchemaMatched, `countUnit must be "days", not ${JSON.stringify(sel.countUnit)}`, `${path}/countUnit`);
  }
  const countNumber = expectPositiveInteger(sel.countNumber, `${path}/countNumber`, 'countNumber');

  if (countType === 'sinceImageTransitioned' && storageClass !== 'archive') {
    fail(
      'storageClass "archive" is required when countType is sinceImageTransitioned',
      'sinceImageTransitioned counts days since an image was archived: the rule must select "storageClass": "archive"',
      `${path}/storageClass`,
    );
  }
  if (countType !== 'sinceImageTransitioned' && storageClass === 'archive') {
    fail(
      `storageClass "archive" can only be used with countType sinceImageTransitioned; with ${countType as string} the only supported value is "standard"`,
      `a ${countType as string} rule selects images of the "standard" storage class`,
      `${path}/storageClass`,
    );
  }
  if (countType === 'sinceImageTransitioned' && countNumber < MIN_ARCHIVE_DAYS) {
    fail(
      `countNumber must be at least ${MIN_ARCHIVE_DAYS} when countType is sinceImageTransitioned: archived images have a minimum storage duration of ${MIN_ARCHIVE_DAYS} days`,
      `an archived image may not be expired by a lifecycle policy before it has been in the archive ${MIN_ARCHIVE_DAYS} days`,
      `${path}/countNumber`,
    );
  }
  return {
    tagStatus,
    ...(tagPrefixList ? { tagPrefixList: [...tagPrefixList] } : {}),
    ...(tagPatternList ? { tagPatternList: [...tagPatternList] } : {}),
    countType: countType as LifecycleRule['selection']['countType'],
    ...(countType !== 'imageCountMoreThan' ? { countUnit: 'days' as const } : {}),
    countNumber,
    ...(storageClass === 'archive' ? { storageClass } : {}),
  };
}

function readAction(value: Json, path: string): LifecycleRule['action'] {
  expectType(value, 'object', path, '"action"');
  const action = value as JsonObject;
  expectProperties(action, ['type'], ACTION_ALLOWED, path, '"action"');
  const type = expectEnum(action.type, ACTION_TYPES, `${path}/type`, 'the action type');
  if (type === 'transition') {
    if (!Object.hasOwn(action, 'targetStorageClass'))
      fail(
        schemaMessages.noSchemaMatched,
        'targetStorageClass "archive" is required when the action type is "transition"',
        `${path}/targetStorageClass`,
      );
    expectEnum(action.targetStorageClass, ['archive'] as const, `${path}/targetStorageClass`, 'targetStorageClass');
    return { type: 'transition', targetStorageClass: 'archive' };
  }
  if (Object.hasOwn(action, 'targetStorageClass')) {
    fail(schemaMessages.noSchemaMatched, 'targetStorageClass is only allowed with "type": "transition"', `${path}/targetStorageClass`);
  }
  return { type: 'expire' };
}

function checkRule(rule: LifecycleRule, path: string): void {
  const sel = rule.selection;
  if (sel.countType === 'sinceImagePulled' && rule.action.type === 'expire') {
    fail(
      'countType "sinceImagePulled" must be used with the "transition" action and cannot be used with "expire"',
      'ECR allows sinceImagePulled only with "type": "transition" (archive images not pulled for a while, then expire them with sinceImageTransitioned)',
      `${path}/selection/countType`,
    );
  }
  if (sel.storageClass === 'archive' && rule.action.type === 'transition') {
    fail(
      'a rule that selects archived images (storageClass "archive") can only expire them',
      'images in the archive storage class can only be expired ("type": "expire")',
      `${path}/action/type`,
    );
  }
  const hasPrefixes = sel.tagPrefixList !== undefined;
  const hasPatterns = sel.tagPatternList !== undefined;
  if (sel.tagStatus === 'tagged') {
    if (!hasPrefixes && !hasPatterns)
      fail(ruleMessages.taggedNeedsList, 'a rule with tagStatus "tagged" needs a tagPrefixList or a tagPatternList', `${path}/selection`);
    if (hasPrefixes && hasPatterns) {
      fail(
        'Must not specify both tagPrefixList and tagPatternList in the same rule.',
        'a rule may specify either tagPatternList or tagPrefixList, but not both',
        `${path}/selection`,
      );
    }
  } else if (hasPrefixes || hasPatterns) {
    const which = hasPrefixes && hasPatterns ? 'tagPrefixList or tagPatternList' : hasPrefixes ? 'tagPrefixList' : 'tagPatternList';
    fail(
      `Must not specify ${which} when tagStatus=${sel.tagStatus.toUpperCase()}.`,
      `tagPrefixList and tagPatternList may only be used when tagStatus is "tagged"`,
      `${path}/selection`,
    );
  }
  sel.tagPatternList?.forEach((pattern, i) => {
    const wildcards = pattern.split('*').length - 1;
    if (wildcards > MAX_WILDCARDS_PER_PATTERN) {
      fail(
        `tagPatternList entry ${JSON.stringify(pattern)} has ${wildcards} wildcards (*); there is a maximum limit of ${MAX_WILDCARDS_PER_PATTERN} wildcards per string.`,
        `each tagPatternList string may contain at most ${MAX_WILDCARDS_PER_PATTERN} "*"`,
        `${path}/selection/tagPatternList/${i}`,
      );
    }
  });
}

function checkRuleSet(rules: LifecycleRule[]): void {
  const at = (rule: LifecycleRule) => `/rules/${rules.indexOf(rule)}`;
  const byPriority = new Map<number, LifecycleRule>();
  for (const rule of rules) {
    const other = byPriority.get(rule.rulePriority);
    if (other) {
      fail(
        `rulePriority must be unique: ${rule.rulePriority} is used by more than one rule.`,
        `two rules (${at(other)} and ${at(rule)}) have rulePriority ${rule.rulePriority}; each rule needs its own`,
        `${at(rule)}/rulePriority`,
      );
    }
    byPriority.set(rule.rulePriority, rule);
  }
  // Each storage class has its rules: the tagStatus "any" and "untagged" rules are checked within one class.
  for (const storageClass of STORAGE_CLASSES) {
    const ofClass = rules.filter((r) => (r.selection.storageClass ?? 'standard') === storageClass);
    if (ofClass.length === 0) continue;
    const highest = Math.max(...ofClass.map((r) => r.rulePriority));
    for (const rule of ofClass) {
      if (rule.selection.tagStatus === 'any' && rule.rulePriority !== highest) {
        fail(
          ruleMessages.anyMustBeLast,
          `the rule with tagStatus "any" (rulePriority ${rule.rulePriority}) must have the highest rulePriority value of the ${storageClass} storage class's rules (${highest} is higher) and be evaluated last`,
          `${at(rule)}/rulePriority`,
        );
      }
    }
    const untagged = ofClass.filter((r) => r.selection.tagStatus === 'untagged');
    if (untagged.length > 1) {
      fail(
        ruleMessages.oneUntaggedRule,
        `only one rule of the ${storageClass} storage class may have tagStatus "untagged" (rulePriority ${untagged.map((r) => r.rulePriority).join(' and ')} both do)`,
        `${at(untagged[1])}/selection/tagStatus`,
      );
    }
  }
  const prefixSets = new Map<string, LifecycleRule>();
  for (const rule of rules) {
    if (!rule.selection.tagPrefixList) continue;
    const key = JSON.stringify([...new Set(rule.selection.tagPrefixList)].sort());
    const other = prefixSets.get(key);
    if (other) {
      fail(
        `The set of rules must contain a unique set of tag prefixes: rulePriority ${other.rulePriority} and ${rule.rulePriority} have the same tagPrefixList.`,
        `two rules select the same tag prefixes ${key}; the one with the higher rulePriority value could never expire anything`,
        `${at(rule)}/selection/tagPrefixList`,
      );
    }
    prefixSets.set(key, rule);
  }
}
