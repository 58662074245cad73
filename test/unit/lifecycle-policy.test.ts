// Lifecycle policy documents (src/lifecycle/policy.ts): what ECR accepts, and the InvalidParameterException it
// returns for what it refuses. Sources, quoted in the groups below:
// - Amazon ECR User Guide, "Lifecycle policy properties in Amazon ECR" and "Lifecycle policy evaluation rules";
// - messages ECR returned, as users reported them in public threads: "Invalid parameter at 'LifecyclePolicyText'
//   failed to satisfy constraint: 'Lifecycle policy validation failure: instance failed to match exactly one schema
//   (matched 0 out of 2)" (countUnit null; targetStorageClass null), "... instance type (null) does not match any
//   allowed primitive type (allowed: ["array"])" (tagPatternList null), "Must specify tagPrefixList or tagPatternList
//   when tagStatus=TAGGED.", "Rule for tagStatus=ANY must have the lowest priority per storage class", "Only one rule
//   can select Untagged images per storage class", "Could not map policyString into LifecyclePolicy." (moto's
//   reproduction), and the JSON-schema validator's phrasing of the other schema errors;
// - Berth's own refusals (no archive storage class), which say so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLifecyclePolicy, LifecyclePolicyError, type LifecyclePolicy } from '../../src/lifecycle/policy.ts';

const PREFIX = "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: ";
const full = (constraint: string) => `${PREFIX}${constraint}'`;

type Obj = Record<string, unknown>;
const rule = (rulePriority: unknown, selection: Obj, action: Obj = { type: 'expire' }, extra: Obj = {}): Obj => ({
  rulePriority,
  selection,
  action,
  ...extra,
});
const untaggedCount: Obj = { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 };
const taggedAge = (list: Obj): Obj => ({ tagStatus: 'tagged', ...list, countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 });
const doc = (...rules: unknown[]) => JSON.stringify({ rules });
const withSelection = (selection: Obj) => doc(rule(1, selection));
const withAction = (action: Obj) => doc(rule(1, untaggedCount, action));

// --- Documents ECR accepts -------------------------------------------------------------------------------------------

const valid: [string, string][] = [
  // "Examples of lifecycle policies in Amazon ECR" (the ones that do not archive).
  [
    'doc: filtering on image age',
    doc({
      rulePriority: 1,
      description: 'Expire images older than 14 days',
      selection: { tagStatus: 'tagged', tagPatternList: ['prod*'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 },
      action: { type: 'expire' },
    }),
  ],
  [
    'doc: filtering on image count',
    doc({
      rulePriority: 1,
      description: 'Keep only one untagged image, expire all others',
      selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 },
      action: { type: 'expire' },
    }),
  ],
  [
    'doc: multiple rules',
    doc(
      rule(1, { tagStatus: 'tagged', tagPatternList: ['prod*'], countType: 'imageCountMoreThan', countNumber: 1 }),
      rule(2, { tagStatus: 'tagged', tagPatternList: ['beta*'], countType: 'imageCountMoreThan', countNumber: 1 }),
    ),
  ],
  [
    'doc: multiple tags in a single rule',
    doc(
      rule(1, {
        tagStatus: 'tagged',
        tagPatternList: ['alpha*', 'beta*'],
        countType: 'sinceImagePushed',
        countNumber: 5,
        countUnit: 'days',
      }),
    ),
  ],
  [
    'doc: all rule types in one policy',
    doc(
      rule(1, { tagStatus: 'tagged', tagPatternList: ['alpha*'], countType: 'imageCountMoreThan', countNumber: 1 }),
      rule(2, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 }),
      rule(3, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }),
    ),
  ],
  [
    'doc (older guide): tagPrefixList',
    doc(
      rule(1, { tagStatus: 'tagged', tagPrefixList: ['prod'], countType: 'imageCountMoreThan', countNumber: 1 }),
      rule(2, { tagStatus: 'tagged', tagPrefixList: ['beta'], countType: 'imageCountMoreThan', countNumber: 1 }),
    ),
  ],
  // "There is a maximum limit of four wildcards (*) per string. For example, ["*test*1*2*3", "test*1*2*3*"] is valid"
  ['doc: four wildcards per string is valid', withSelection(taggedAge({ tagPatternList: ['*test*1*2*3', 'test*1*2*3*'] }))],
  // "Values don't need to be sequential across rules in a policy."
  [
    'priorities need not be sequential',
    doc(rule(7, untaggedCount), rule(42, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 100 })),
  ],
  [
    'the any rule may be listed first if its priority is the highest',
    doc(rule(9, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 100 }), rule(1, untaggedCount)),
  ],
  // "A lifecycle policy rule may specify either tagPatternList or tagPrefixList, but not both. However, a lifecycle
  // policy may contain multiple rules where different rules use both pattern and prefix lists."
  [
    'prefix and pattern lists in different rules',
    doc(rule(1, taggedAge({ tagPrefixList: ['prod'] })), rule(2, taggedAge({ tagPatternList: ['prod*'] }))),
  ],
  [
    'two rules sharing one prefix with different sets',
    doc(rule(1, taggedAge({ tagPrefixList: ['a'] })), rule(2, taggedAge({ tagPrefixList: ['a', 'b'] }))),
  ],
  [
    'two rules with the same pattern list',
    doc(
      rule(1, taggedAge({ tagPatternList: ['v*'] })),
      rule(2, { tagStatus: 'tagged', tagPatternList: ['v*'], countType: 'imageCountMoreThan', countNumber: 5 }),
    ),
  ],
  // "If you omit this, the value of standard will be used."
  ['storageClass standard', withSelection({ ...untaggedCount, storageClass: 'standard' })],
  ['a large countNumber', withSelection({ ...untaggedCount, countNumber: 1_000_000_000 })],
  ['an empty description', doc(rule(1, untaggedCount, { type: 'expire' }, { description: '' }))],
  [
    'a rule with tagStatus any alone',
    withSelection({ tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 90 }),
  ],
  ['whitespace around the document', `\n  ${doc(rule(1, untaggedCount))}  \n`],
];

for (const [name, text] of valid) {
  test(`accepted: ${name}`, () => {
    assert.doesNotThrow(() => parseLifecyclePolicy(text));
  });
}

test('the parsed policy: rules in priority order, only the documented fields, countUnit only where it applies', () => {
  const text = doc(
    rule(3, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, { type: 'expire' }),
    rule(
      1,
      { countNumber: 10, countType: 'imageCountMoreThan', tagPatternList: ['v*'], tagStatus: 'tagged' },
      { type: 'expire' },
      { description: 'keep 10 v*' },
    ),
    rule(2, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1, storageClass: 'standard' }),
  );
  const expected: LifecyclePolicy = {
    rules: [
      {
        rulePriority: 1,
        description: 'keep 10 v*',
        selection: { tagStatus: 'tagged', tagPatternList: ['v*'], countType: 'imageCountMoreThan', countNumber: 10 },
        action: { type: 'expire' },
      },
      {
        rulePriority: 2,
        selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 },
        action: { type: 'expire' },
      },
      { rulePriority: 3, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } },
    ],
  };
  assert.deepEqual(parseLifecyclePolicy(text), expected);
});

test('the parsed policy keeps prefix lists as given', () => {
  const policy = parseLifecyclePolicy(withSelection(taggedAge({ tagPrefixList: ['b', 'a', 'b'] })));
  assert.deepEqual(policy.rules[0].selection.tagPrefixList, ['b', 'a', 'b']);
  assert.equal(policy.rules[0].selection.tagPatternList, undefined);
});

// --- Documents ECR refuses -------------------------------------------------------------------------------------------

interface Refusal {
  name: string;
  text: string;
  constraint: string;
  path?: string;
}
const refused: Refusal[] = [];
const no = (name: string, text: string, constraint: string, path?: string) => refused.push({ name, text, constraint, path });

const M = {
  unmappable: 'Could not map policyString into LifecyclePolicy.',
  type: (found: string, allowed: string) => `instance type (${found}) does not match any allowed primitive type (allowed: ["${allowed}"])`,
  missing: (...names: string[]) => `object has missing required properties (${JSON.stringify(names)})`,
  notAllowed: (...names: string[]) => `object instance has properties which are not allowed by the schema: ${JSON.stringify(names)}`,
  notInEnum: (value: string, values: string[]) =>
    `instance value (${value}) not found in enum (possible values: ${JSON.stringify(values)})`,
  tooSmall: (found: number) => `numeric instance is lower than the required minimum (minimum: 1, found: ${found})`,
  tooLarge: (found: number) => `numeric instance is greater than the required maximum (maximum: 2147483647, found: ${found})`,
  tooShort: 'array is too short: must have at least 1 elements but instance has 0 elements',
  oneOf: 'instance failed to match exactly one schema (matched 0 out of 2)',
};
const TAG_STATUSES = ['tagged', 'untagged', 'any'];

// The document itself.
no('not JSON', 'this is not json', M.unmappable, '');
no('empty text', '', M.unmappable, '');
no('truncated JSON', doc(rule(1, untaggedCount)).slice(0, -1), M.unmappable, '');
no('a JSON array', JSON.stringify([rule(1, untaggedCount)]), M.unmappable, '');
no('a JSON string', JSON.stringify('rules'), M.unmappable, '');
no('JSON null', 'null', M.unmappable, '');
no('no rules', JSON.stringify({}), M.missing('rules'), '');
no('rules misspelt', JSON.stringify({ rule: [rule(1, untaggedCount)] }), M.missing('rules'), '');
no('another top-level property', JSON.stringify({ rules: [rule(1, untaggedCount)], version: 1 }), M.notAllowed('version'), '');
no('rules is an object', JSON.stringify({ rules: rule(1, untaggedCount) }), M.type('object', 'array'), '/rules');
no('rules is null', JSON.stringify({ rules: null }), M.type('null', 'array'), '/rules');
no('no rule at all', doc(), M.tooShort, '/rules');

// A rule.
no('a rule that is a string', doc('not_dict'), M.type('string', 'object'), '/rules/0');
no('a rule that is null', doc(null), M.type('null', 'object'), '/rules/0');
no('rulePriority missing', doc({ selection: untaggedCount, action: { type: 'expire' } }), M.missing('rulePriority'), '/rules/0');
no('selection and action missing', doc({ rulePriority: 1 }), M.missing('action', 'selection'), '/rules/0');
no('an unknown rule property', doc(rule(1, untaggedCount, { type: 'expire' }, { unknown: 123 })), M.notAllowed('unknown'), '/rules/0');
no(
  'two unknown rule properties',
  doc(rule(1, untaggedCount, { type: 'expire' }, { zeta: 1, alpha: 2 })),
  M.notAllowed('alpha', 'zeta'),
  '/rules/0',
);
no('rulePriority as a string', doc(rule('1', untaggedCount)), M.type('string', 'integer'), '/rules/0/rulePriority');
no('rulePriority with a fraction', doc(rule(1.5, untaggedCount)), M.type('number', 'integer'), '/rules/0/rulePriority');
no('rulePriority null', doc(rule(null, untaggedCount)), M.type('null', 'integer'), '/rules/0/rulePriority');
no('rulePriority 0', doc(rule(0, untaggedCount)), M.tooSmall(0), '/rules/0/rulePriority');
no('rulePriority negative', doc(rule(-3, untaggedCount)), M.tooSmall(-3), '/rules/0/rulePriority');
no(
  'description as a number',
  doc(rule(1, untaggedCount, { type: 'expire' }, { description: 5 })),
  M.type('integer', 'string'),
  '/rules/0/description',
);
no('selection as an array', doc(rule(1, [] as unknown as Obj)), M.type('array', 'object'), '/rules/0/selection');

// The selection.
no('tagStatus missing', withSelection({ countType: 'imageCountMoreThan', countNumber: 30 }), M.missing('tagStatus'), '/rules/0/selection');
no('countType missing', withSelection({ tagStatus: 'untagged', countNumber: 30 }), M.missing('countType'), '/rules/0/selection');
no(
  'countNumber missing',
  withSelection({ tagStatus: 'untagged', countType: 'imageCountMoreThan' }),
  M.missing('countNumber'),
  '/rules/0/selection',
);
no(
  'an unknown selection property',
  withSelection({ ...untaggedCount, tagSuffixList: ['x'] }),
  M.notAllowed('tagSuffixList'),
  '/rules/0/selection',
);
no(
  'tagStatus in capitals',
  withSelection({ ...untaggedCount, tagStatus: 'TAGGED' }),
  M.notInEnum('"TAGGED"', TAG_STATUSES),
  '/rules/0/selection/tagStatus',
);
no(
  'an unknown tagStatus',
  withSelection({ ...untaggedCount, tagStatus: 'unknown' }),
  M.notInEnum('"unknown"', TAG_STATUSES),
  '/rules/0/selection/tagStatus',
);
no(
  'tagStatus as a number',
  withSelection({ ...untaggedCount, tagStatus: 1 }),
  M.notInEnum('1', TAG_STATUSES),
  '/rules/0/selection/tagStatus',
);
no('an unknown countType', withSelection({ ...untaggedCount, countType: 'imageCountLessThan' }), M.oneOf, '/rules/0/selection/countType');
// "countUnit ... should only be specified when countType is sinceImagePushed ...; an error will occur if you specify
// a count unit when countType is any other value."
no('countUnit with imageCountMoreThan', withSelection({ ...untaggedCount, countUnit: 'days' }), M.oneOf, '/rules/0/selection/countUnit');
no(
  'countUnit null with imageCountMoreThan (reported)',
  withSelection({ ...untaggedCount, countUnit: null }),
  M.oneOf,
  '/rules/0/selection/countUnit',
);
// "countUnit ... Required: yes, only if countType is set to sinceImagePushed, sinceImagePulled, or sinceImageTransitioned"
no(
  'sinceImagePushed without countUnit',
  withSelection({ tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: 14 }),
  M.oneOf,
  '/rules/0/selection/countUnit',
);
no(
  'countUnit hours',
  withSelection({ tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'hours', countNumber: 14 }),
  M.oneOf,
  '/rules/0/selection/countUnit',
);
no(
  'countUnit in capitals',
  withSelection({ tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'DAYS', countNumber: 14 }),
  M.oneOf,
  '/rules/0/selection/countUnit',
);
// "Acceptable values are positive integers (0 is not an accepted value)."
no('countNumber 0', withSelection({ ...untaggedCount, countNumber: 0 }), M.tooSmall(0), '/rules/0/selection/countNumber');
no('countNumber negative', withSelection({ ...untaggedCount, countNumber: -1 }), M.tooSmall(-1), '/rules/0/selection/countNumber');
no(
  'countNumber as a string',
  withSelection({ ...untaggedCount, countNumber: '5' }),
  M.type('string', 'integer'),
  '/rules/0/selection/countNumber',
);
no(
  'countNumber with a fraction',
  withSelection({ ...untaggedCount, countNumber: 2.5 }),
  M.type('number', 'integer'),
  '/rules/0/selection/countNumber',
);
// Issue 16: 1e300 was taken for an integer. Beyond the exact integers a number is a decimal to ECR's parser, and
// ECR reads countNumber and rulePriority as 32-bit integers.
no(
  'countNumber 1e300',
  withSelection({ ...untaggedCount, countNumber: 1e300 }),
  M.type('number', 'integer'),
  '/rules/0/selection/countNumber',
);
no(
  'countNumber 1e300 in exponent notation',
  '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1e300},"action":{"type":"expire"}}]}',
  M.type('number', 'integer'),
  '/rules/0/selection/countNumber',
);
no(
  'countNumber beyond 32 bits',
  withSelection({ ...untaggedCount, countNumber: 2_147_483_648 }),
  M.tooLarge(2_147_483_648),
  '/rules/0/selection/countNumber',
);
no(
  'sinceImagePushed countNumber 1e300',
  withSelection({ tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1e300 }),
  M.type('number', 'integer'),
  '/rules/0/selection/countNumber',
);
no('rulePriority 1e300', doc(rule(1e300, untaggedCount)), M.type('number', 'integer'), '/rules/0/rulePriority');
no('rulePriority beyond 32 bits', doc(rule(2 ** 40, untaggedCount)), M.tooLarge(2 ** 40), '/rules/0/rulePriority');
no(
  'tagPrefixList as a string',
  withSelection(taggedAge({ tagPrefixList: 'prod' })),
  M.type('string', 'array'),
  '/rules/0/selection/tagPrefixList',
);
no(
  'tagPatternList null (reported)',
  withSelection(taggedAge({ tagPatternList: null })),
  M.type('null', 'array'),
  '/rules/0/selection/tagPatternList',
);
no('an empty tagPrefixList', withSelection(taggedAge({ tagPrefixList: [] })), M.tooShort, '/rules/0/selection/tagPrefixList');
no('an empty tagPatternList', withSelection(taggedAge({ tagPatternList: [] })), M.tooShort, '/rules/0/selection/tagPatternList');
no(
  'a number in tagPatternList',
  withSelection(taggedAge({ tagPatternList: ['v*', 1] })),
  M.type('integer', 'string'),
  '/rules/0/selection/tagPatternList/1',
);
no(
  'an unknown storageClass',
  withSelection({ ...untaggedCount, storageClass: 'glacier' }),
  M.notInEnum('"glacier"', ['standard', 'archive']),
  '/rules/0/selection/storageClass',
);

// The action.
no('action type missing', withAction({}), M.missing('type'), '/rules/0/action');
no('an unknown action property', withAction({ type: 'expire', unknown: 123 }), M.notAllowed('unknown'), '/rules/0/action');
no('an unknown action type', withAction({ type: 'keep' }), M.notInEnum('"keep"', ['expire', 'transition']), '/rules/0/action/type');
no('action type in capitals', withAction({ type: 'EXPIRE' }), M.notInEnum('"EXPIRE"', ['expire', 'transition']), '/rules/0/action/type');
no('action as a string', doc(rule(1, untaggedCount, 'expire' as unknown as Obj)), M.type('string', 'object'), '/rules/0/action');
// "targetStorageClass ... Required: yes, if type is transition"; with expire it matches no branch (reported for null).
no(
  'targetStorageClass with expire',
  withAction({ type: 'expire', targetStorageClass: 'archive' }),
  M.oneOf,
  '/rules/0/action/targetStorageClass',
);
no(
  'targetStorageClass null with expire (reported)',
  withAction({ type: 'expire', targetStorageClass: null }),
  M.oneOf,
  '/rules/0/action/targetStorageClass',
);

// The archive storage class ("Lifecycle policy properties": storageClass, countType, targetStorageClass).
const TRANSITION = { type: 'transition', targetStorageClass: 'archive' };
no('a transition action without targetStorageClass', withAction({ type: 'transition' }), M.oneOf, '/rules/0/action/targetStorageClass');
no(
  'a transition to another storage class',
  withAction({ type: 'transition', targetStorageClass: 'standard' }),
  M.notInEnum('"standard"', ['archive']),
  '/rules/0/action/targetStorageClass',
);
no(
  'sinceImageTransitioned without storageClass archive',
  withSelection({ tagStatus: 'any', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 365 }),
  'storageClass "archive" is required when countType is sinceImageTransitioned',
  '/rules/0/selection/storageClass',
);
no(
  'storageClass archive with sinceImagePushed',
  withSelection({ tagStatus: 'any', storageClass: 'archive', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 365 }),
  'storageClass "archive" can only be used with countType sinceImageTransitioned; with sinceImagePushed the only supported value is "standard"',
  '/rules/0/selection/storageClass',
);
no(
  'sinceImageTransitioned under 90 days',
  withSelection({ tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 30 }),
  'countNumber must be at least 90 when countType is sinceImageTransitioned: archived images have a minimum storage duration of 90 days',
  '/rules/0/selection/countNumber',
);
no(
  'archived images transitioned again',
  doc(
    rule(
      1,
      { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 365 },
      TRANSITION,
    ),
  ),
  'a rule that selects archived images (storageClass "archive") can only expire them',
  '/rules/0/action/type',
);
// "The sinceImagePulled count type must be used with the transition action. It cannot be used with the expire action."
no(
  'sinceImagePulled with expire',
  withSelection({ tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 90 }),
  'countType "sinceImagePulled" must be used with the "transition" action and cannot be used with "expire"',
  '/rules/0/selection/countType',
);
test('accepted: doc: archive images not pulled in 90 days, expire those archived for 365 days', () => {
  const policy = parseLifecyclePolicy(
    doc(
      rule(1, { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 90 }, TRANSITION),
      rule(2, { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 365 }),
    ),
  );
  assert.deepEqual(
    policy.rules.map((r) => [r.action, r.selection.storageClass ?? 'standard']),
    [
      [{ type: 'transition', targetStorageClass: 'archive' }, 'standard'],
      [{ type: 'expire' }, 'archive'],
    ],
  );
});
test('accepted: the "any" and "untagged" rules are checked per storage class', () => {
  assert.doesNotThrow(() =>
    parseLifecyclePolicy(
      doc(
        rule(1, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }, TRANSITION),
        rule(2, {
          tagStatus: 'untagged',
          storageClass: 'archive',
          countType: 'sinceImageTransitioned',
          countUnit: 'days',
          countNumber: 90,
        }),
        rule(3, { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 365 }),
        rule(4, { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 400 }, TRANSITION),
      ),
    ),
  );
});

// Within a rule. "If you specify tagged, then you must also specify a tagPrefixList value or a tagPatternList value.
// If you specify untagged, then you must omit both tagPrefixList and tagPatternList." "A lifecycle policy rule may
// specify either tagPatternList or tagPrefixList, but not both." "The tagPatternList or tagPrefixList parameters may
// only used if the tagStatus is tagged."
no(
  'tagged without a list (reported)',
  withSelection({ tagStatus: 'tagged', countType: 'imageCountMoreThan', countNumber: 10 }),
  'Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.',
  '/rules/0/selection',
);
no(
  'tagged with both lists',
  withSelection(taggedAge({ tagPrefixList: ['prod'], tagPatternList: ['prod*'] })),
  'Must not specify both tagPrefixList and tagPatternList in the same rule.',
  '/rules/0/selection',
);
no(
  'untagged with a tagPrefixList',
  withSelection({ ...untaggedCount, tagPrefixList: ['prod'] }),
  'Must not specify tagPrefixList when tagStatus=UNTAGGED.',
  '/rules/0/selection',
);
no(
  'untagged with a tagPatternList',
  withSelection({ ...untaggedCount, tagPatternList: ['prod*'] }),
  'Must not specify tagPatternList when tagStatus=UNTAGGED.',
  '/rules/0/selection',
);
no(
  'any with a tagPatternList',
  withSelection({ tagStatus: 'any', tagPatternList: ['*'], countType: 'imageCountMoreThan', countNumber: 3 }),
  'Must not specify tagPatternList when tagStatus=ANY.',
  '/rules/0/selection',
);
no(
  'any with both lists',
  withSelection({ tagStatus: 'any', tagPrefixList: ['a'], tagPatternList: ['*'], countType: 'imageCountMoreThan', countNumber: 3 }),
  'Must not specify tagPrefixList or tagPatternList when tagStatus=ANY.',
  '/rules/0/selection',
);
// "There is a maximum limit of four wildcards (*) per string. For example, ... ["test*1*2*3*4*5*6"] is invalid."
no(
  'doc: six wildcards in one string',
  withSelection(taggedAge({ tagPatternList: ['test*1*2*3*4*5*6'] })),
  'tagPatternList entry "test*1*2*3*4*5*6" has 6 wildcards (*); there is a maximum limit of 4 wildcards per string.',
  '/rules/0/selection/tagPatternList/0',
);
no(
  'five wildcards in the second string',
  withSelection(taggedAge({ tagPatternList: ['v*', '*a*b*c*d*'] })),
  'tagPatternList entry "*a*b*c*d*" has 5 wildcards (*); there is a maximum limit of 4 wildcards per string.',
  '/rules/0/selection/tagPatternList/1',
);

// Between rules. "you must give them each a unique value for rulePriority"; "A rule with a tagStatus value of any
// must have the highest value for rulePriority and be evaluated last"; "Only one rule selecting a specific storage
// class is allowed to select untagged images"; "The set of all rules selecting a specific storage class must contain a
// unique set of prefixes".
no(
  'two rules with the same priority',
  doc(rule(1, untaggedCount), rule(1, taggedAge({ tagPrefixList: ['v'] }))),
  'rulePriority must be unique: 1 is used by more than one rule.',
  '/rules/1/rulePriority',
);
no(
  'the any rule before another (reported)',
  doc(rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 }), rule(2, untaggedCount)),
  'Rule for tagStatus=ANY must have the lowest priority per storage class',
  '/rules/0/rulePriority',
);
no(
  'two any rules',
  doc(
    rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 }),
    rule(2, { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 10 }),
  ),
  'Rule for tagStatus=ANY must have the lowest priority per storage class',
  '/rules/0/rulePriority',
);
no(
  'two untagged rules (reported)',
  doc(rule(1, untaggedCount), rule(2, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 5 })),
  'Only one rule can select Untagged images per storage class',
  '/rules/1/selection/tagStatus',
);
no(
  'two rules with the same prefixes',
  doc(
    rule(1, taggedAge({ tagPrefixList: ['prod'] })),
    rule(2, { tagStatus: 'tagged', tagPrefixList: ['prod'], countType: 'imageCountMoreThan', countNumber: 3 }),
  ),
  'The set of rules must contain a unique set of tag prefixes: rulePriority 1 and 2 have the same tagPrefixList.',
  '/rules/1/selection/tagPrefixList',
);
no(
  'two rules with the same prefixes in another order',
  doc(rule(1, taggedAge({ tagPrefixList: ['a', 'b'] })), rule(2, taggedAge({ tagPrefixList: ['b', 'a', 'a'] }))),
  'The set of rules must contain a unique set of tag prefixes: rulePriority 1 and 2 have the same tagPrefixList.',
  '/rules/1/selection/tagPrefixList',
);

// Which error comes first: the schema for the whole document, then each rule, then between rules.
no(
  'a schema error in rule 2 comes before a rule error in rule 1',
  doc(rule(1, { tagStatus: 'tagged', countType: 'imageCountMoreThan', countNumber: 10 }), rule(2, { ...untaggedCount, countNumber: 0 })),
  M.tooSmall(0),
  '/rules/1/selection/countNumber',
);
no(
  'a rule error comes before an error between rules',
  doc(rule(1, untaggedCount), rule(1, { ...untaggedCount, tagPrefixList: ['x'] })),
  'Must not specify tagPrefixList when tagStatus=UNTAGGED.',
  '/rules/1/selection',
);
no(
  'missing properties are reported before unknown ones',
  doc({ rulePriority: 1, selection: untaggedCount, extra: true }),
  M.missing('action'),
  '/rules/0',
);
no(
  'the first rule in the document is checked first',
  doc(rule(2, { ...untaggedCount, countNumber: -1 }), rule(1, { ...untaggedCount, countNumber: 0 })),
  M.tooSmall(-1),
  '/rules/0/selection/countNumber',
);

test('the validation table has at least 50 refusals', () => {
  assert.ok(refused.length >= 50, `only ${refused.length}`);
  assert.equal(new Set(refused.map((r) => r.name)).size, refused.length, 'case names are unique');
});

for (const r of refused) {
  test(`refused: ${r.name}`, () => {
    assert.throws(
      () => parseLifecyclePolicy(r.text),
      (e: unknown) => {
        assert.ok(e instanceof LifecyclePolicyError, `not a LifecyclePolicyError: ${String(e)}`);
        assert.equal(e.message, full(r.constraint));
        assert.equal(e.constraint, r.constraint);
        if (r.path !== undefined) assert.equal(e.path, r.path);
        assert.ok(e.detail.length > 0);
        return true;
      },
    );
  });
}

test('the error: an Error named LifecyclePolicyError, with a plain-words detail', () => {
  try {
    parseLifecyclePolicy(withSelection({ ...untaggedCount, countUnit: 'days' }));
    assert.fail('accepted');
  } catch (e) {
    assert.ok(e instanceof Error);
    assert.ok(e instanceof LifecyclePolicyError);
    assert.equal(e.name, 'LifecyclePolicyError');
    assert.equal(e.message, full(M.oneOf));
    assert.equal(e.detail, 'countUnit must be omitted when countType is imageCountMoreThan');
  }
});

test("ECR's reported message, verbatim", () => {
  // From a public report (terraform-aws-ecr PR 132): countUnit null in a selection.
  assert.throws(
    () => parseLifecyclePolicy(withSelection({ tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10, countUnit: null })),
    {
      message:
        "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: instance failed to match exactly one schema (matched 0 out of 2)'",
    },
  );
});

test('countNumber: the largest 32-bit integer is accepted, the next one is refused', () => {
  assert.equal(
    parseLifecyclePolicy(withSelection({ ...untaggedCount, countNumber: 2_147_483_647 })).rules[0].selection.countNumber,
    2_147_483_647,
  );
  assert.throws(() => parseLifecyclePolicy(withSelection({ ...untaggedCount, countNumber: 2_147_483_648 })), {
    name: 'LifecyclePolicyError',
  });
});
