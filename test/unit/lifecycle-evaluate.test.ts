// Lifecycle policy evaluation (src/lifecycle/evaluate.ts), table-driven. Every expectation is worked out by hand from
// the Amazon ECR User Guide, quoted in the group comments: "Automate the cleanup of images by using lifecycle policies
// in Amazon ECR" (section "Lifecycle policy evaluation rules") and "Examples of lifecycle policies in Amazon ECR"
// (whose worked examples are reproduced first, with the results the guide gives).
//
// Conventions of this table:
// - An image is written "NAME:tag1,tag2@DAYS", pushed DAYS days before NOW (fractions allowed); "NAME:@DAYS" is
//   untagged. Suffix "!ref" = referenced by a manifest list; "~D" = last pulled D days before NOW.
//   Its digest is "sha256:NAME".
// - Equal push times are ordered by digest: the greater digest counts as the younger image (Berth's rule, stated in
//   evaluate.ts; ECR's guide does not say).
// - "older than N days" means pushed strictly more than N × 24 h before NOW.
// - The expectation "A=1 B=2" means: A is expired by the rule with rulePriority 1, B by rulePriority 2, nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLifecyclePolicy, type LifecyclePolicy, type LifecycleRule } from '../../src/lifecycle/policy.ts';
import { evaluateLifecycle, type LifecycleImage } from '../../src/lifecycle/evaluate.ts';
import { matchesTagPattern } from '../../src/core/tag-pattern.ts';

const NOW = Date.UTC(2025, 5, 30, 12, 0, 0);
const DAY = 86_400_000;

// --- Images ---------------------------------------------------------------------------------------------------------

function img(spec: string): LifecycleImage {
  const m = /^([^:]+):([^@]*)@(-?[\d.]+)((?:!ref|~[\d.]+)*)$/.exec(spec);
  if (!m) throw new Error(`bad image spec ${spec}`);
  const [, name, tags, days, flags] = m;
  const pulled = /~([\d.]+)/.exec(flags);
  return {
    digest: `sha256:${name}`,
    tags: tags === '' ? [] : tags.split(','),
    pushedAt: NOW - Math.round(Number(days) * DAY),
    lastPulledAt: pulled ? NOW - Math.round(Number(pulled[1]) * DAY) : null,
    referencedByIndex: flags.includes('!ref'),
  };
}
/** An image pushed exactly `ms` milliseconds before NOW. */
const at = (name: string, tags: string[], ms: number): LifecycleImage => ({
  digest: `sha256:${name}`,
  tags,
  pushedAt: NOW - ms,
  lastPulledAt: null,
  referencedByIndex: false,
});

// --- Rules ----------------------------------------------------------------------------------------------------------

type Sel = 'untagged' | 'any' | { tagPrefixList: string[] } | { tagPatternList: string[] };
const P = (...tagPrefixList: string[]): Sel => ({ tagPrefixList });
const T = (...tagPatternList: string[]): Sel => ({ tagPatternList });
const selection = (sel: Sel) => (typeof sel === 'string' ? { tagStatus: sel } : { tagStatus: 'tagged', ...sel });
/** imageCountMoreThan: keep the newest `n` images the rule selects. */
const keep = (rulePriority: number, sel: Sel, n: number) => ({
  rulePriority,
  selection: { ...selection(sel), countType: 'imageCountMoreThan', countNumber: n },
  action: { type: 'expire' },
});
/** sinceImagePushed: expire what the rule selects that was pushed more than `days` days ago. */
const older = (rulePriority: number, sel: Sel, days: number) => ({
  rulePriority,
  selection: { ...selection(sel), countType: 'sinceImagePushed', countUnit: 'days', countNumber: days },
  action: { type: 'expire' },
});
/** sinceImagePulled (evaluated by Berth, though the parser refuses it with "expire" as ECR does): built directly. */
const pulled = (rulePriority: number, sel: Sel, days: number): LifecycleRule => ({
  rulePriority,
  selection: {
    ...(selection(sel) as Pick<LifecycleRule['selection'], 'tagStatus'>),
    countType: 'sinceImagePulled',
    countUnit: 'days',
    countNumber: days,
  },
  action: { type: 'expire' },
});

interface Case {
  name: string;
  /** Rules as written in a policy document (parsed by parseLifecyclePolicy), or a policy built directly. */
  rules: object[] | LifecyclePolicy;
  images: (string | LifecycleImage)[];
  expect: string;
  now?: number;
}
const cases: Case[] = [];
const add = (name: string, rules: object[] | LifecyclePolicy, images: (string | LifecycleImage)[], expect: string, now?: number) =>
  cases.push({ name, rules, images, expect, now });

// ===== 1. The worked examples of "Examples of lifecycle policies in Amazon ECR" =====================================

// "Filtering on image age": "expires images with a tag starting with prod by using a tagPatternList of prod* that
// are also older than 14 days."
add(
  'doc: filtering on image age (prod* older than 14 days)',
  [older(1, T('prod*'), 14)],
  ['A:prod-1@20', 'B:prod@15', 'C:production@14.5', 'D:prod-4@14', 'E:prod-5@3', 'F:dev-1@30', 'G:@40', 'H:preprod@30'],
  'A=1 B=1 C=1',
);
// The older guide's version: "expires untagged images older than 14 days".
add('doc (older guide): untagged images older than 14 days', [older(1, 'untagged', 14)], ['A:@15', 'B:@14', 'C:@13', 'D:v1@30'], 'A=1');
// "Filtering on image count": "keeps only one untagged image and expires all others".
add('doc: keep only one untagged image, expire all others', [keep(1, 'untagged', 1)], ['A:@5', 'B:@4', 'C:@3', 'D:v1@10'], 'A=1 B=1');

const multi = ['A:beta-1,prod-1@10', 'B:beta-2,prod-2@9', 'C:beta-3@8'];
// "Filtering on multiple rules", Example A: "Rule 1 ... marks Image A ... Rule 2 ... marks both Image A and Image B
// for expiration. However, Image A has already been seen by Rule 1 and if Image B were expired it would violate
// Rule 1 and thus is skipped. Result: Image A is expired."
add('doc: multiple rules, example A (tagPatternList)', [keep(1, T('prod*'), 1), keep(2, T('beta*'), 1)], multi, 'A=1');
add('doc (older guide): multiple rules, example A (tagPrefixList)', [keep(1, P('prod'), 1), keep(2, P('beta'), 1)], multi, 'A=1');
// Example B: "Rule 2 ... would see no images because all available images were already seen by Rule 1 ...
// Result: Images A and B are expired."
add('doc: multiple rules, example B (tagPatternList)', [keep(1, T('beta*'), 1), keep(2, T('prod*'), 1)], multi, 'A=1 B=1');
add('doc (older guide): multiple rules, example B (tagPrefixList)', [keep(1, P('beta'), 1), keep(2, P('prod'), 1)], multi, 'A=1 B=1');

// "Filtering on multiple tags in a single rule", Example A: "images must match all listed tag patterns ... It sees
// images C and F. It should mark images that are older than five days, which would be Image C."
const difftypeA = ['A:alpha-1@12', 'B:beta-1@11', 'C:alpha-2,beta-2@10', 'D:alpha-3@4', 'E:beta-3@3', 'F:alpha-4,beta-4@2'];
add('doc: multiple tags in a single rule, example A (patterns)', [older(1, T('alpha*', 'beta*'), 5)], difftypeA, 'C=1');
add('doc (older guide): multiple tags in a single rule, example A (prefixes)', [older(1, P('alpha', 'beta'), 5)], difftypeA, 'C=1');
// Example B: "tags are not exclusive ... It sees all images ... It marks image A and B for expiration."
const difftypeB = ['A:alpha-1,beta-1,gamma-1@10', 'B:alpha-2,beta-2@9', 'C:alpha-3,beta-3,gamma-2@8'];
add('doc: multiple tags in a single rule, example B (patterns)', [keep(1, T('alpha*', 'beta*'), 1)], difftypeB, 'A=1 B=1');
add('doc (older guide): multiple tags in a single rule, example B (prefixes)', [keep(1, P('alpha', 'beta'), 1)], difftypeB, 'A=1 B=1');

// "Filtering on all images", Example A: "It sees images A, B, C, and D. It should expire all images other than the
// newest one. It marks images A, B, and C for expiration."
add('doc: all images, example A (any, keep 1)', [keep(1, 'any', 1)], ['A:alpha-1@4', 'B:beta-1@3', 'C:@2', 'D:alpha-2@1'], 'A=1 B=1 C=1');
// Example B: "Rule 1 ... marks image A ... Rule 2 ... marks image B ... Rule 3 ... It should keep the newest image and
// mark the rest for expiration. However, it can't mark images A, B, C, or E because they were identified by higher
// priority rules. It marks image D for expiration. Result: Images A, B, and D are expired." D and E were both pushed
// "1 day ago": with equal push times the greater digest (E) is the younger, which gives the guide's result.
const allB = [keep(1, T('alpha*'), 1), older(2, 'untagged', 1), keep(3, 'any', 1)];
add(
  'doc: all images, example B (D and E pushed at the same time)',
  allB,
  ['A:alpha-1,beta-1@4', 'B:@3', 'C:alpha-2@2', 'D:git hash@1', 'E:@1'],
  'A=1 B=2 D=3',
);
add(
  'doc: all images, example B (E pushed an hour after D)',
  allB,
  ['A:alpha-1,beta-1@4', 'B:@3', 'C:alpha-2@2', 'D:git hash@1', 'E:@0.958'],
  'A=1 B=2 D=3',
);
add(
  'doc (older guide): all images, example B with tagPrefixList',
  [keep(1, P('alpha'), 1), older(2, 'untagged', 1), keep(3, 'any', 1)],
  ['A:alpha-1,beta-1@4', 'B:@3', 'C:alpha-2@2', 'D:git hash@1', 'E:@1'],
  'A=1 B=2 D=3',
);
// Same, with the tie broken the other way: the tagged image (Z) has the greater digest, so it is the newest image and
// rule 3 keeps it; every other image was identified by rule 1 or 2, so rule 3 marks nothing.
add(
  'all images, example B with the tie broken the other way',
  allB,
  ['A:alpha-1,beta-1@4', 'B:@3', 'C:alpha-2@2', 'Z:git hash@1', 'Y:@1'],
  'A=1 B=2',
);

// A question on AWS re:Post ("In ECR I created a lifecycle policy to keep images for 10 years but it deleted them
// instead"): a single tagPatternList ["latest","main","master","cache","20*"] selects only images with ALL five, so
// it protected nothing and the "any" rule expired the images; the accepted fix was one rule per tag.
const repostImages = ['A:latest@100', 'B:main@100', 'C:cache@90', 'D:2023-06-01@400', 'E:feature-x@61', 'F:feature-y@59', 'G:@8', 'H:@6'];
add(
  're:Post: one tagPatternList with five tags protects nothing (AND)',
  [older(1, T('latest', 'main', 'master', 'cache', '20*'), 3650), older(2, 'untagged', 7), older(3, 'any', 60)],
  repostImages,
  'A=3 B=3 C=3 D=3 E=3 G=2',
);
add(
  're:Post fix: one protective rule per tag',
  [
    older(1, T('latest'), 3650),
    older(2, T('main'), 3650),
    older(3, T('cache'), 3650),
    older(4, T('20*'), 3650),
    older(5, 'untagged', 7),
    older(6, 'any', 60),
  ],
  repostImages,
  'E=6 G=5',
);

// ===== 2. The policies of issue 5 ===================================================================================
// "keep the latest 10 v* images, keep 5 dev*/feature*/main* images, expire untagged images after 1 day". A single
// tagPatternList ["dev*","feature*","main*"] would select only images having all three, so the policy needs one rule
// per pattern (5 of each).
const issuePolicy = [
  keep(1, T('v*'), 10),
  keep(2, T('dev*'), 5),
  keep(3, T('feature*'), 5),
  keep(4, T('main*'), 5),
  older(5, 'untagged', 1),
];
const vSeries = (n: number, oldest: number) =>
  Array.from({ length: n }, (_, i) => `V${String(i + 1).padStart(2, '0')}:v${i + 1}@${oldest - i}`);
add('issue 5: 12 v* images, the 2 oldest go', issuePolicy, vSeries(12, 12), 'V01=1 V02=1');
add('issue 5: exactly 10 v* images, none go', issuePolicy, vSeries(10, 12), '');
add(
  'issue 5: dev, feature, main and untagged images',
  issuePolicy,
  [
    'D1:dev-1@20',
    'D2:dev-2@19',
    'D3:dev-3@18',
    'D4:dev-4@17',
    'D5:dev-5@16',
    'D6:dev-6@15',
    'D7:dev-7@14',
    'F1:feature-a@13',
    'F2:feature-b@12',
    'F3:feature-c@11',
    'M1:main@10',
    'M2:main-2@9',
    'M3:main-3@8',
    'M4:main-4@7',
    'M5:main-5@6',
    'M6:main-6@5',
    'U1:@0.5',
    'U2:@2',
    'U3:@30',
  ],
  'D1=2 D2=2 M1=4 U2=5 U3=5',
);
add(
  'issue 5: one single rule for dev*/feature*/main* selects only images with all three',
  [keep(1, T('v*'), 10), keep(2, T('dev*', 'feature*', 'main*'), 5), older(3, 'untagged', 1)],
  ['D1:dev-1@20', 'D2:dev-2@19', 'D3:dev-3@18', 'D4:dev-4@17', 'D5:dev-5@16', 'D6:dev-6@15', 'D7:dev-7@14', 'X:dev-x,feature-x,main@30'],
  '',
);
// An image tagged v* and dev*: rule 1 expires it as the oldest v* image; rule 2 counts it but cannot mark it again.
add(
  'issue 5: the oldest v* image is also the oldest dev* image',
  issuePolicy,
  [
    'V01:v1,dev-old@30',
    ...Array.from({ length: 10 }, (_, i) => `V${i + 2}:v${i + 2}@${29 - i}`),
    'D1:dev-1@10',
    'D2:dev-2@9',
    'D3:dev-3@8',
    'D4:dev-4@7',
    'D5:dev-5@6',
  ],
  'V01=1',
);
// The newest v* image is also the oldest of six dev* images: rule 1 keeps it, and "an image that matches the tagging
// requirements of a rule cannot be expired by a rule with a lower priority", so rule 2 cannot expire it.
add(
  'issue 5: a v* image kept by rule 1 is safe from rule 2',
  issuePolicy,
  [
    ...Array.from({ length: 10 }, (_, i) => `V${i + 2}:v${i + 2}@${30 - i}`),
    'V01:v1,dev-x@8',
    'D1:dev-1@7',
    'D2:dev-2@6',
    'D3:dev-3@5',
    'D4:dev-4@4',
    'D5:dev-5@3',
  ],
  'V2=1',
);
add('issue 5: untagged images exactly 1 day old stay', issuePolicy, ['U1:@1', 'U2:@1.01', 'U3:@0.99'], 'U2=5');
// "Keep the last N images": one rule, tagStatus any.
add('keep the last 3 images of any kind', [keep(1, 'any', 3)], ['A:v1@5', 'B:@4', 'C:latest@3', 'D:@2', 'E:v2@1'], 'A=1 B=1');
add('keep the last 10 images when there are 5', [keep(1, 'any', 10)], ['A:v1@5', 'B:@4', 'C:latest@3', 'D:@2', 'E:v2@1'], '');
add(
  'keep the last 1 image: children of the newest index stay',
  [keep(1, 'any', 1)],
  ['I:v1@1', 'C1:@1.1!ref', 'C2:@1.1!ref', 'OLD:v0@10'],
  'OLD=1',
);

// ===== 3. imageCountMoreThan ========================================================================================
// "images are sorted from youngest to oldest based on pushed_at_time and then all images greater than the specified
// count are expired."
add('count: empty repository', [keep(1, 'any', 1)], [], '');
add('count: keep 2 of 3 untagged', [keep(1, 'untagged', 2)], ['A:@3', 'B:@2', 'C:@1'], 'A=1');
add('count: keep 3 of 3 untagged', [keep(1, 'untagged', 3)], ['A:@3', 'B:@2', 'C:@1'], '');
add('count: keep 5 of 3 untagged', [keep(1, 'untagged', 5)], ['A:@3', 'B:@2', 'C:@1'], '');
add('count: untagged rule ignores tagged images', [keep(1, 'untagged', 1)], ['A:v1@9', 'B:@8', 'C:v2@7', 'D:@6'], 'B=1');
add('count: input order does not matter', [keep(1, 'any', 2)], ['C:x@2', 'A:y@4', 'D:@1', 'B:@3'], 'A=1 B=1');
add(
  'count: prefix rule counts only its images',
  [keep(1, P('prod'), 2)],
  ['A:prod-1@5', 'B:prod-2@4', 'C:prod-3@3', 'D:dev-1@2', 'E:prod-4@1'],
  'A=1 B=1',
);
add(
  'count: pattern rule counts only its images',
  [keep(1, T('*-rc*'), 1)],
  ['A:1.0-rc1@5', 'B:1.0@4', 'C:1.1-rc2@3', 'D:1.1-rc3,latest@2'],
  'A=1 C=1',
);
add('count: a very large count keeps everything', [keep(1, 'any', 1_000_000)], ['A:@300', 'B:x@200', 'C:@100'], '');
add('count: untagged rule when every image is tagged', [keep(1, 'untagged', 1)], ['A:a@3', 'B:b@2', 'C:c@1'], '');
add('count: tagged rule when no image is tagged', [keep(1, T('*'), 1)], ['A:@3', 'B:@2', 'C:@1'], '');
add('count: keep 1 of 1', [keep(1, 'any', 1)], ['A:@300'], '');
add('count: age does not matter, only order', [keep(1, 'any', 2)], ['A:@0.001', 'B:@0.002', 'C:@0.003'], 'C=1');
add('count: images pushed in the future are the youngest', [keep(1, 'any', 1)], ['A:@-1', 'B:@1'], 'B=1');

// ===== 4. sinceImagePushed ==========================================================================================
// "all images whose pushed_at_time is older than the specified number of days based on countNumber are expired".
add('age: exactly 7 days old stays', [older(1, 'untagged', 7)], [at('A', [], 7 * DAY)], '');
add('age: 7 days and 1 ms old goes', [older(1, 'untagged', 7)], [at('A', [], 7 * DAY + 1)], 'A=1');
add('age: 7 days less 1 ms stays', [older(1, 'untagged', 7)], [at('A', [], 7 * DAY - 1)], '');
add('age: pushed in the future stays', [older(1, 'any', 1)], ['A:@-1'], '');
add('age: 1 day', [older(1, 'untagged', 1)], ['A:@1.5', 'B:@0.5', 'C:@1'], 'A=1');
add('age: any, 30 days', [older(1, 'any', 30)], ['A:v1@31', 'B:@45', 'C:v2@29', 'D:@30'], 'A=1 B=1');
add(
  'age: prefix with several tags, 3 days',
  [older(1, P('feat'), 3)],
  ['A:feat-1,latest@4', 'B:latest@9', 'C:feat-2@2', 'D:x,feat-3@3.5'],
  'A=1 D=1',
);
add('age: nothing that old', [older(1, 'any', 365)], ['A:@364', 'B:x@100'], '');
add('age: pushed at the epoch', [older(1, 'any', 1)], [at('A', ['x'], NOW)], 'A=1');
add(
  'age: no count limit, every old image goes',
  [older(1, 'untagged', 2)],
  ['A:@3', 'B:@4', 'C:@5', 'D:@6', 'E:@7'],
  'A=1 B=1 C=1 D=1 E=1',
);
add('age: measured from the given now', [older(1, 'any', 10)], ['A:@8', 'B:@3'], 'A=1', NOW + 6 * DAY);

// ===== 5. Tag matching ==============================================================================================
// Each case: every image was pushed 10 days ago, one rule expires what it selects (sinceImagePushed 1 day), so the
// expected result is exactly the set of images the rule selects.
const sel = (name: string, s: Sel, tagLists: string[], selected: string) => {
  const images = tagLists.map((tags, i) => `I${i}:${tags}@10`);
  const expect = selected
    .split(' ')
    .filter(Boolean)
    .map((n) => `${n}=1`)
    .join(' ');
  add(`match: ${name}`, [older(1, s, 1)], images, expect);
};
// tagPrefixList: "an image is successfully matched if all of the tags in the tagPrefixList value are matched against
// any of the image's tags"; "if your images are tagged as prod, prod1, prod2, and so on, you would use the tag prefix
// prod to specify all of them".
sel('prefix prod selects prod, prod1, production', P('prod'), ['prod', 'prod1', 'production'], 'I0 I1 I2');
sel('prefix prod does not select preprod', P('prod'), ['preprod', 'pro'], '');
sel('prefix matching is case-sensitive', P('prod'), ['Prod', 'PROD-1', 'prod-1'], 'I2');
sel('prefix: any one tag of the image may match', P('prod'), ['dev,prod-2', 'x,y', 'a,b,prod'], 'I0 I2');
sel('prefix: untagged images are never selected by a tagged rule', P('prod'), ['', 'prod'], 'I1');
sel('two prefixes: the image needs both', P('alpha', 'beta'), ['alpha-1,beta-1', 'alpha-1', 'beta-1', 'beta-alpha,alpha'], 'I0 I3');
sel('two prefixes: one tag starting with one of them is not enough', P('alpha', 'beta'), ['alphabeta', 'betaalpha'], '');
sel('two prefixes: one tag may satisfy both', P('v', 'v1'), ['v1.2', 'v2', 'v2,v1'], 'I0 I2');
sel('prefix with a dot', P('1.'), ['1.0', '10', 'v1.0'], 'I0');
sel('prefix equal to the whole tag', P('latest'), ['latest', 'latest-1', 'late'], 'I0 I1');
sel('the same prefix twice', P('a', 'a'), ['abc', 'b'], 'I0');
sel('three prefixes', P('a', 'b', 'c'), ['a1,b1,c1', 'a1,b1', 'c1,b1,a1,d1', 'abc'], 'I0 I2');
// tagPatternList: "if a filter of prod* is applied, it would match image-tags whose name begins with prod such as
// prod, prod1, or production-team1. Similarly, if a filter of *prod* is applied, it would match image-tags whose name
// contains prod such as repo-production or prod-team."
sel("pattern prod* (the guide's examples)", T('prod*'), ['prod', 'prod1', 'production-team1', 'preprod'], 'I0 I1 I2');
sel("pattern *prod* (the guide's examples)", T('*prod*'), ['repo-production', 'prod-team', 'prod', 'prd'], 'I0 I1 I2');
sel('pattern * selects every tagged image', T('*'), ['a', 'latest', ''], 'I0 I1');
sel('pattern without a wildcard is an exact tag', T('latest'), ['latest', 'latest-1', 'mylatest'], 'I0');
sel('pattern *-rc (suffix)', T('*-rc'), ['1.0-rc', '1.0-rc1', '-rc'], 'I0 I2');
sel('pattern v*.*.*', T('v*.*.*'), ['v1.2.3', 'v1.2', 'v..', 'x1.2.3'], 'I0 I2');
sel('pattern a*b*c', T('a*b*c'), ['abc', 'axbyc', 'acb', 'abcx', 'xabc'], 'I0 I1');
sel('pattern *test*1*2*3 (four wildcards, valid per the guide)', T('*test*1*2*3'), ['mytest-1-2-3', 'test123', 'test1-3-2'], 'I0 I1');
sel('pattern test*1*2*3*', T('test*1*2*3*'), ['test1234', 'test321', 'test-1-2-3'], 'I0 I2');
sel('? is an ordinary character', T('v1.?'), ['v1.?', 'v1.2'], 'I0');
sel('consecutive wildcards', T('a**b'), ['ab', 'axb', 'ba'], 'I0 I1');
sel('the wildcard may match nothing', T('release-*'), ['release-', 'release', 'release-1'], 'I0 I2');
sel('pattern *.*', T('*.*'), ['1.0', '10', '.'], 'I0 I2');
sel('prefix and suffix must not overlap', T('ab*ab'), ['ab', 'abab', 'abxab', 'aba'], 'I1 I2');
sel('pattern *a*a*', T('*a*a*'), ['banana', 'bnn', 'aa', 'a'], 'I0 I2');
sel('pattern matching is case-sensitive', T('PROD*'), ['prod-1', 'PROD-1'], 'I1');
sel('three patterns: the image needs all three', T('dev*', 'feature*', 'main*'), ['dev-1', 'dev-1,feature-x,main', 'feature-x,main'], 'I1');
sel('two patterns satisfied by one tag', T('v*', '*-stable'), ['v1-stable', 'v1', 'v1,x-stable'], 'I0 I2');
sel('regex characters are literal', T('v1.0+build*'), ['v1.0+build7', 'v100+build7', 'v1.0build7'], 'I0');
sel('brackets are literal', T('[a]*'), ['[a]1', 'a1'], 'I0');
sel(
  'pattern with the wildcard in the middle',
  T('feature-*-done'),
  ['feature-x-done', 'feature--done', 'feature-done', 'feature-x-done-1'],
  'I0 I1',
);
sel('untagged image never matches *', T('*'), ['', ''], '');
sel('a long tag', T('*z'), ['a'.repeat(127) + 'z', 'a'.repeat(128)], 'I0');

// ===== 6. Priority interplay ========================================================================================
// "An image that matches the tagging requirements of a rule cannot be expired by a rule with a lower priority."
// "Rules can never mark images that are marked by higher priority rules, but can still identify them as if they
// haven't been expired." "An image is expired by exactly one or zero rules."
add(
  'priority: young prod images are protected from the any rule',
  [older(1, T('prod*'), 30), older(2, 'any', 7)],
  ['A:prod-1@40', 'B:prod-2@10', 'C:dev@10', 'D:@10', 'E:@3'],
  'A=1 C=2 D=2',
);
add(
  'priority: a protective rule that keeps everything',
  [keep(1, P('release'), 9999), keep(2, 'any', 2)],
  ['R1:release-1@10', 'R2:release-2@9', 'X:x@8', 'Y:y@7', 'Z:@6', 'W:w@5'],
  'X=2 Y=2',
);
add(
  'priority: the same rules the other way round do not protect',
  [keep(1, T('*'), 2), keep(2, P('release'), 9999)],
  ['R1:release-1@10', 'R2:release-2@9', 'X:x@8', 'Y:y@7', 'Z:@6', 'W:w@5'],
  'R1=1 R2=1 X=1',
);
add(
  'priority: non-sequential priorities, listed out of order',
  [keep(30, 'any', 1), older(20, 'untagged', 5), keep(10, P('v'), 1)],
  ['A:v1@10', 'B:v2@9', 'C:@8', 'D:@2', 'E:x@1'],
  'A=10 C=20',
);
add('priority: a rule that selects nothing protects nothing', [keep(1, P('nomatch'), 1), keep(2, 'any', 1)], ['A:x@2', 'B:y@1'], 'A=2');
add(
  'priority: an age rule protects the images it keeps',
  [older(1, 'untagged', 30), keep(2, 'any', 1)],
  ['A:@10', 'B:@40', 'C:v@5', 'D:v@1'],
  'B=1 C=2',
);
add(
  'priority: overlapping patterns',
  [keep(1, T('*-stable'), 1), older(2, T('v*'), 7)],
  ['A:v1-stable@20', 'B:v2-stable@10', 'C:v3@10', 'D:v4@3'],
  'A=1 C=2',
);
add(
  'priority: untagged, tagged, then any',
  [keep(1, 'untagged', 1), keep(2, T('*'), 2), keep(3, 'any', 1)],
  ['U1:@5', 'U2:@4', 'U3:@1', 'T1:a@6', 'T2:b@3', 'T3:c@2'],
  'U1=1 U2=1 T1=2',
);
// Like the guide's "all images, example B": the images a higher rule identified still count for a lower rule.
add(
  'priority: kept images of a higher rule still count for a lower rule',
  [older(1, 'untagged', 5), keep(2, 'any', 2)],
  ['A:x@10', 'B:y@9', 'C:z@8', 'U:@1'],
  'A=2 B=2',
);
add(
  'priority: expired images of a higher rule still count for a lower rule',
  [older(1, 'untagged', 5), keep(2, 'any', 3)],
  ['A:@10', 'B:@9', 'C:x@8', 'D:y@7', 'E:z@1'],
  'A=1 B=1',
);
add(
  'priority: a lower rule may leave more images than its count',
  [keep(1, P('prod'), 3), keep(2, 'any', 3)],
  ['P1:prod-1@10', 'P2:prod-2@9', 'P3:prod-3@8', 'P4:prod-4@7', 'P5:prod-5@6', 'X:x@5', 'Y:y@4', 'Z:z@3'],
  'P1=1 P2=1',
);
add(
  'priority: tagged rule then untagged rule are independent',
  [keep(1, T('*'), 1), keep(2, 'untagged', 1)],
  ['A:a@4', 'B:@3', 'C:c@2', 'D:@1'],
  'A=1 B=2',
);
add(
  'priority: the lowest number wins even if listed last',
  [keep(2, P('a'), 5), keep(1, P('a', 'b'), 1)],
  ['X:a1,b1@3', 'Y:a2,b2@2', 'Z:a3@1'],
  'X=1',
);
add(
  'priority: an age rule and a count rule on the same tags',
  [older(1, T('v*'), 30), keep(2, T('v*', '*'), 2)],
  ['A:v1@40', 'B:v2@20', 'C:v3@10', 'D:v4@5'],
  'A=1',
);
add(
  'priority: a count rule before an age rule on the same images',
  [keep(1, T('v*'), 2), older(2, T('*'), 1)],
  ['A:v1@40', 'B:v2@20', 'C:v3@10', 'D:v4@5', 'E:x@3', 'F:y@0.5'],
  'A=1 B=1 E=2',
);
add(
  'priority: five rules, each taking its share',
  [keep(1, P('a'), 1), keep(2, P('b'), 1), keep(3, P('c'), 1), older(4, 'untagged', 2), keep(5, 'any', 2)],
  ['A1:a1@9', 'A2:a2@8', 'B1:b1@7', 'B2:b2@6', 'C1:c1@5', 'C2:c2@4', 'U1:@3', 'U2:@1', 'X:x@2', 'Y:y@1.5'],
  'A1=1 B1=2 C1=3 U1=4 X=5',
);
add(
  'priority: the any rule takes what no rule selected',
  [keep(1, P('a'), 1), keep(5, 'any', 1)],
  ['A1:a1@9', 'A2:a2@8', 'X:x@7', 'Y:y@6', 'Z:z@5'],
  'A1=1 X=5 Y=5',
);
add(
  'priority: an image with tags for two rules belongs to the first',
  [older(1, P('keep'), 1000), older(2, P('tmp'), 1)],
  ['A:keep-1,tmp-1@10', 'B:tmp-2@10'],
  'B=2',
);
add(
  'priority: two tagged rules with disjoint images',
  [older(1, T('pr-*'), 3), keep(2, T('v*'), 1)],
  ['A:pr-1@4', 'B:pr-2@2', 'C:v1@9', 'D:v2@8'],
  'A=1 C=2',
);

// ===== 7. Equal push times ==========================================================================================
// Berth orders equal push times by digest (the greater digest is the younger image), whatever the input order.
add('ties: three untagged images pushed at once, keep 1', [keep(1, 'untagged', 1)], ['a:@2', 'b:@2', 'c:@2'], 'a=1 b=1');
add('ties: the same, listed in reverse', [keep(1, 'untagged', 1)], ['c:@2', 'b:@2', 'a:@2'], 'a=1 b=1');
add('ties: at the count boundary', [keep(1, 'any', 1)], ['A:@5', 'B:x@3', 'C:@3'], 'A=1 B=1');
add('ties: digests compare by code unit (B before a)', [keep(1, 'any', 1)], ['a:@3', 'B:@3'], 'B=1');
add('ties: keep 2 of 4 pushed at once', [keep(1, 'any', 2)], ['d:@1', 'a:@1', 'c:@1', 'b:@1'], 'a=1 b=1');
add('ties: age rules do not depend on order', [older(1, 'any', 1)], ['b:@2', 'a:@2'], 'a=1 b=1');
add('ties: a tie among older images only', [keep(1, 'any', 1)], ['N:@1', 'b:@5', 'a:@5'], 'a=1 b=1');

// ===== 8. Images referenced by a manifest list ======================================================================
// "If an image is referenced by a manifest list, it cannot be expired or archived without the manifest list being
// deleted or archived first."
add('index: referenced untagged children are not expired', [older(1, 'untagged', 1)], ['C1:@5!ref', 'C2:@5!ref', 'U:@5'], 'U=1');
add(
  'index: the index goes, its children stay for now',
  [keep(1, T('v*'), 1), older(2, 'untagged', 1)],
  ['I1:v1@10', 'I1a:@10.1!ref', 'I1b:@10.1!ref', 'I2:v2@2', 'I2a:@2.1!ref'],
  'I1=1',
);
add(
  'index: the next run, once the index is gone, expires the children',
  [keep(1, T('v*'), 1), older(2, 'untagged', 1)],
  ['I1a:@10.1', 'I1b:@10.1', 'I2:v2@2', 'I2a:@2.1!ref'],
  'I1a=2 I1b=2',
);
add('index: referenced images still take a place in the count', [keep(1, 'untagged', 2)], ['A:@5!ref', 'B:@4', 'C:@3', 'D:@2!ref'], 'B=1');
add(
  'index: a referenced image selected by a rule is safe from later rules',
  [keep(1, 'untagged', 1), keep(2, 'any', 1)],
  ['A:@5!ref', 'B:@1', 'C:x@3'],
  'C=2',
);
add('index: a referenced tagged image is not expired', [keep(1, 'any', 1)], ['X:a@3!ref', 'Y:b@2', 'Z:c@1'], 'Y=1');
add('index: everything referenced, nothing expired', [older(1, 'any', 1)], ['A:@3!ref', 'B:x@4!ref'], '');
add('index: referenced images and sinceImagePushed on tagged images', [older(1, T('*'), 1)], ['A:a@3!ref', 'B:b@3'], 'B=1');
add('index: the index itself is expired even with referenced children', [keep(1, 'any', 1)], ['I:v1@5', 'C:@5.1!ref', 'J:v2@1'], 'I=1');

// ===== 9. sinceImagePulled (a policy built directly: the parser refuses it with "expire", as ECR does) ============
// "all images whose last_recorded_pulltime is older than the specified number of days ... If an image was never
// pulled, the image's pushed_at_time is used instead".
const direct = (...rules: LifecycleRule[]): LifecyclePolicy => ({ rules });
add(
  'pulled: last pull time, or push time if never pulled',
  direct(pulled(1, 'any', 30)),
  ['A:x@100~40', 'B:y@100~10', 'C:@50', 'D:@10'],
  'A=1 C=1',
);
add('pulled: exactly 30 days since the last pull stays', direct(pulled(1, 'any', 30)), ['A:x@100~30'], '');
add('pulled: referenced images stay', direct(pulled(1, 'untagged', 1)), ['A:@10~5!ref', 'B:@10~5'], 'B=1');
add(
  'pulled: a pull rule protects recently pulled images from a later rule',
  direct(pulled(1, T('*'), 30), {
    ...pulled(2, 'any', 1),
    selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 },
  }),
  ['A:a@100~5', 'B:b@100~50', 'C:@3', 'D:@2'],
  'B=1 C=2',
);
add('pulled: a pull time newer than the push time', direct(pulled(1, P('v'), 7)), ['A:v1@8~1', 'B:v2@8', 'C:v3@6'], 'B=1');

// ===== 10. More mixed cases =========================================================================================
add('mixed: keep one untagged among tagged images', [keep(1, 'untagged', 1)], ['A:@5', 'B:latest@4', 'C:@1'], 'A=1');
add(
  'mixed: prefix count among images with several tags',
  [keep(1, P('rel'), 1)],
  ['A:rel-1,latest@9', 'B:x,rel-2@5', 'C:rel-3@1'],
  'A=1 B=1',
);
add(
  'mixed: pattern *-beta, keep 2',
  [keep(1, T('*-beta'), 2)],
  ['A:1-beta@4', 'B:2-beta@3', 'C:3-beta@2', 'D:4-beta@1', 'E:5@0.5'],
  'A=1 B=1',
);
add('mixed: pattern * with an age leaves untagged images alone', [older(1, T('*'), 14)], ['A:a@15', 'B:@30', 'C:c@13'], 'A=1');
add('mixed: half-day-old images and a 1-day rule', [older(1, 'any', 1)], ['A:@0.5', 'B:b@0.5'], '');
add(
  'mixed: untagged count, then any by age',
  [keep(1, 'untagged', 2), older(2, 'any', 10)],
  ['U1:@20', 'U2:@15', 'U3:@12', 'T1:t@20', 'T2:t2@5'],
  'U1=1 T1=2',
);
add(
  'mixed: a protective rule with a very long age',
  [older(1, T('prod-*'), 100_000), keep(2, 'any', 1)],
  ['P:prod-1@400', 'X:x@2', 'Y:y@1'],
  'X=2',
);
add('mixed: a tagged rule never selects untagged images', [older(1, T('*'), 1), older(2, 'untagged', 5)], ['A:@10', 'B:b@10'], 'A=2 B=1');
add('mixed: three images exactly at the age limit', [older(1, 'any', 7)], ['a:@7', 'b:x@7', 'c:@7'], '');
add('mixed: a referenced image older than the rest still counts', [keep(1, 'any', 2)], ['R:@10!ref', 'A:a@5', 'B:b@3', 'C:c@1'], 'A=1');
add('mixed: an old index goes, its old children stay', [older(1, 'any', 7)], ['I:v1@10', 'C1:@10.1!ref', 'C2:@10.1!ref'], 'I=1');
add(
  'mixed: one tag of several matches the pattern',
  [keep(1, T('sha-*'), 1)],
  ['A:latest,sha-aaa@5', 'B:sha-bbb@3', 'C:main,sha-ccc@1'],
  'A=1 B=1',
);
add('mixed: a latest tag does not protect from a v* count', [keep(1, T('v*'), 1)], ['A:v1,latest@5', 'B:v2@3'], 'A=1');
add(
  'mixed: two patterns matched by different tags or by one',
  [older(1, T('app-*', '*-arm64'), 1)],
  ['A:app-1,x-arm64@2', 'B:app-1-arm64@2', 'C:app-1@2'],
  'A=1 B=1',
);
add('mixed: never pulled, pushed long ago', direct(pulled(1, 'untagged', 90)), ['A:@91', 'B:@89'], 'A=1');
add('mixed: pull times do not matter to sinceImagePushed', [older(1, 'any', 30)], ['A:x@40~1'], 'A=1');
add('mixed: the two newest tagged images pushed at once, keep 1', [keep(1, T('*'), 1)], ['a:x@1', 'b:y@1', 'c:z@2'], 'a=1 c=1');
add(
  'mixed: nothing left for the any rule',
  [keep(1, P('a'), 5), keep(2, 'untagged', 5), keep(3, 'any', 1)],
  ['A1:a1@3', 'U1:@2', 'A2:a2@1'],
  '',
);
add('mixed: fractions of a day', [older(1, 'any', 2)], ['A:@2.0001', 'B:@1.9999'], 'A=1');
add('mixed: priorities 5 and 100', [keep(5, 'untagged', 1), keep(100, 'any', 2)], ['U1:@4', 'U2:@3', 'T1:t@2', 'T2:t@1'], 'U1=5');
add('mixed: an untagged count with a tagged image newest', [keep(1, 'untagged', 1)], ['U1:@3', 'U2:@2', 'T:t@1'], 'U1=1');
add('mixed: same age, one referenced', [older(1, 'any', 1)], ['A:@2!ref', 'B:@2'], 'B=1');
add(
  'mixed: the any rule counts an image a tagged rule expired',
  [keep(1, T('old-*'), 1), keep(2, 'any', 2)],
  ['O1:old-1@10', 'O2:old-2@1', 'X:x@5', 'Y:y@3'],
  'O1=1 X=2',
);

// ===== 11. Families: simple rules over series of images =============================================================
// keep k of n untagged images pushed 1..n days ago: the n - k oldest go.
for (let n = 1; n <= 6; n++) {
  for (let k = 1; k <= 6; k++) {
    const images = Array.from({ length: n }, (_, i) => `U${i + 1}:@${n - i}`); // U1 is the oldest
    const expect = Array.from({ length: Math.max(0, n - k) }, (_, i) => `U${i + 1}=1`).join(' ');
    add(`family: keep ${k} of ${n} untagged`, [keep(1, 'untagged', k)], images, expect);
  }
}
// 20 images pushed 1..20 days ago, expire those older than d days: those pushed d+1..20 days ago.
for (const d of [1, 2, 3, 5, 8, 13, 19, 20]) {
  const images = Array.from({ length: 20 }, (_, i) => `A${i + 1}:@${i + 1}`); // A1 pushed 1 day ago
  const expect = Array.from({ length: 20 - d }, (_, i) => `A${d + i + 1}=1`).join(' ');
  add(`family: older than ${d} days among 20`, [older(1, 'any', d)], images, expect);
}
// n images pushed at the same instant, keep 1: all but the greatest digest go.
for (let n = 2; n <= 6; n++) {
  const names = 'abcdef'.slice(0, n).split('');
  add(
    `family: ${n} images pushed at once, keep 1`,
    [keep(1, 'any', 1)],
    [...names].reverse().map((c) => `${c}:@1`),
    names
      .slice(0, -1)
      .map((c) => `${c}=1`)
      .join(' '),
  );
}
// Every subset of the tags a1, b1, c1 against tagPrefixList [a, b, c]: only the full set is selected.
for (let mask = 0; mask < 8; mask++) {
  const tags = ['a1', 'b1', 'c1'].filter((_, i) => mask & (1 << i));
  add(
    `family: tags {${tags.join(',')}} against prefixes a, b, c`,
    [older(1, P('a', 'b', 'c'), 1)],
    [`X:${tags.join(',')}@2`],
    mask === 7 ? 'X=1' : '',
  );
}

// ===== Running the table ============================================================================================

const run = (c: Case) => {
  const policy = Array.isArray(c.rules) ? parseLifecyclePolicy(JSON.stringify({ rules: c.rules })) : c.rules;
  const images = c.images.map((i) => (typeof i === 'string' ? img(i) : i));
  return evaluateLifecycle(policy, images, c.now ?? NOW);
};
const pairs = (s: string) => s.split(' ').filter(Boolean).sort();

test('the evaluation table has at least 200 cases', () => {
  assert.ok(cases.length >= 200, `only ${cases.length} cases`);
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length, 'case names are unique');
});

for (const c of cases) {
  test(c.name, () => {
    const got = run(c).map((r) => `${r.digest.slice('sha256:'.length)}=${r.appliedRulePriority}`);
    assert.deepEqual(got.sort(), pairs(c.expect));
  });
}

// ===== The result itself ============================================================================================

test('results are listed oldest first (push time, then digest) with the image and the rule', () => {
  const policy = parseLifecyclePolicy(JSON.stringify({ rules: [older(1, 'untagged', 1), keep(2, 'any', 1)] }));
  const images = ['N:new@0.5', 'b:@3', 'a:@3', 'T:x@9', 'M:y@2'].map(img);
  const got = evaluateLifecycle(policy, images, NOW);
  assert.deepEqual(got, [
    { digest: 'sha256:T', tags: ['x'], pushedAt: NOW - 9 * DAY, appliedRulePriority: 2, action: 'EXPIRE' },
    { digest: 'sha256:a', tags: [], pushedAt: NOW - 3 * DAY, appliedRulePriority: 1, action: 'EXPIRE' },
    { digest: 'sha256:b', tags: [], pushedAt: NOW - 3 * DAY, appliedRulePriority: 1, action: 'EXPIRE' },
    { digest: 'sha256:M', tags: ['y'], pushedAt: NOW - 2 * DAY, appliedRulePriority: 2, action: 'EXPIRE' },
  ]);
});

test('the evaluation neither changes its inputs nor shares arrays with them', () => {
  const policy = parseLifecyclePolicy(JSON.stringify({ rules: [keep(1, 'any', 1)] }));
  const images = ['A:x,y@3', 'B:@2', 'C:z@1'].map(img);
  const before = JSON.stringify({ policy, images });
  const got = evaluateLifecycle(policy, images, NOW);
  assert.equal(JSON.stringify({ policy, images }), before);
  assert.notEqual(got[0].tags, images[0].tags);
  assert.deepEqual(got[0].tags, ['x', 'y']);
});

test('rules are applied by priority even when the policy lists them out of order', () => {
  const policy: LifecyclePolicy = { rules: [keep(2, 'any', 1) as LifecycleRule, keep(1, P('a'), 1) as LifecycleRule] };
  const got = evaluateLifecycle(policy, ['A1:a1@3', 'A2:a2@2', 'X:x@1'].map(img), NOW);
  assert.deepEqual(
    got.map((r) => [r.digest, r.appliedRulePriority]),
    [['sha256:A1', 1]],
  );
});

test('matchesTagPattern: a few more edges', () => {
  assert.equal(matchesTagPattern('', ''), true);
  assert.equal(matchesTagPattern('', 'a'), false);
  assert.equal(matchesTagPattern('****', ''), true);
  assert.equal(matchesTagPattern('a*', 'a'), true);
  assert.equal(matchesTagPattern('*a', 'ba'), true);
  assert.equal(matchesTagPattern('a*b*a', 'aba'), true);
  assert.equal(matchesTagPattern('a*b*a', 'ab'), false);
  assert.equal(matchesTagPattern('*ab*ab*', 'aabab'), true);
  assert.equal(matchesTagPattern('x*yz*yz', 'xyzyzyz'), true);
});

// ===== 100,000 images ===============================================================================================

test('100,000 images: counts match the rules', () => {
  // Image i was pushed i minutes before NOW (image 0 is the newest). i % 3 == 0: untagged; == 1: "v<i>";
  // == 2: "dev-<i>". Every 50th untagged image is referenced by a manifest list.
  const N = 100_000;
  const MIN = 60_000;
  const images: LifecycleImage[] = [];
  for (let i = 0; i < N; i++) {
    const tags = i % 3 === 0 ? [] : i % 3 === 1 ? [`v${i}`] : [`dev-${i}`];
    images.push({
      digest: `sha256:${String(i).padStart(64, '0')}`,
      tags,
      pushedAt: NOW - i * MIN,
      lastPulledAt: null,
      referencedByIndex: i % 150 === 0,
    });
  }
  // Shuffle deterministically, so that the input order is not the push order.
  let seed = 42;
  for (let i = N - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const j = seed % (i + 1);
    [images[i], images[j]] = [images[j], images[i]];
  }
  const policy = parseLifecyclePolicy(
    JSON.stringify({ rules: [keep(1, T('v*'), 1000), keep(2, P('dev'), 500), older(3, 'untagged', 7), keep(4, 'any', 10)] }),
  );
  const got = evaluateLifecycle(policy, images, NOW);

  // Independent counts: 33,333 v* images (i % 3 == 1), of which all but the 1,000 newest go; 33,333 dev images,
  // all but 500 go; untagged images (i % 3 == 0) pushed more than 7 days (10,080 minutes) ago go unless referenced
  // (i % 150 == 0); the any rule keeps the 10 newest images, all selected by a higher rule already, so takes nothing.
  let v = 0,
    dev = 0,
    untaggedOld = 0;
  for (let i = 0; i < N; i++) {
    if (i % 3 === 1) v++;
    else if (i % 3 === 2) dev++;
    else if (i * MIN > 7 * DAY && i % 150 !== 0) untaggedOld++;
  }
  const byRule = new Map<number, number>();
  for (const r of got) byRule.set(r.appliedRulePriority, (byRule.get(r.appliedRulePriority) ?? 0) + 1);
  assert.equal(v, 33_333);
  assert.equal(byRule.get(1), v - 1000);
  assert.equal(byRule.get(2), dev - 500);
  assert.equal(byRule.get(3), untaggedOld);
  assert.equal(byRule.get(4), undefined);
  assert.equal(got.length, v - 1000 + dev - 500 + untaggedOld);

  // The v* images kept are the 1,000 newest: image indices 1, 4, ..., 2998; so every expired one has i >= 3001.
  const index = (d: string) => Number(d.slice('sha256:'.length));
  for (const r of got) {
    const i = index(r.digest);
    if (r.appliedRulePriority === 1) assert.ok(i % 3 === 1 && i >= 3001);
    if (r.appliedRulePriority === 2) assert.ok(i % 3 === 2 && i >= 1502);
    if (r.appliedRulePriority === 3) assert.ok(i % 3 === 0 && i > 10_080 && i % 150 !== 0);
  }
  // Oldest first.
  for (let k = 1; k < got.length; k++) assert.ok(got[k - 1].pushedAt <= got[k].pushedAt);
});

// ===== The archive storage class: transition rules, archived images, sinceImageTransitioned ======================

test('transition rules archive standard images; archive rules expire archived images by time in the archive; each class sees its own', () => {
  const policy = parseLifecyclePolicy(
    JSON.stringify({
      rules: [
        {
          rulePriority: 1,
          selection: { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 30 },
          action: { type: 'transition', targetStorageClass: 'archive' },
        },
        {
          rulePriority: 2,
          selection: { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 90 },
          action: { type: 'expire' },
        },
      ],
    }),
  );
  const images: LifecycleImage[] = [
    // Pushed 40 days ago, never pulled: archived.
    { ...at('stale', ['a'], 40 * DAY) },
    // Pulled 10 days ago: kept.
    { ...at('pulled', ['b'], 40 * DAY), lastPulledAt: NOW - 10 * DAY },
    // Restored 5 days ago and not pulled since: counts from the restore, kept.
    { ...at('restored', ['c'], 400 * DAY), lastPulledAt: NOW - 300 * DAY, lastArchivedAt: NOW - 200 * DAY, lastActivatedAt: NOW - 5 * DAY },
    // Archived 100 days ago: expired; archived 50 days ago: kept.
    { ...at('old-archive', ['d'], 400 * DAY), storageClass: 'ARCHIVE', lastArchivedAt: NOW - 100 * DAY },
    { ...at('new-archive', ['e'], 400 * DAY), storageClass: 'ARCHIVE', lastArchivedAt: NOW - 50 * DAY },
    // Referenced by an index: never archived on its own.
    { ...at('child', [], 400 * DAY), referencedByIndex: true },
  ];
  const got = evaluateLifecycle(policy, images, NOW);
  assert.deepEqual(
    got.map((r) => [r.digest, r.action, r.targetStorageClass, r.appliedRulePriority]),
    [
      ['sha256:old-archive', 'EXPIRE', undefined, 2],
      ['sha256:stale', 'TRANSITION', 'ARCHIVE', 1],
    ],
  );
});

test('an imageCountMoreThan rule counts only the images of its storage class', () => {
  const policy = parseLifecyclePolicy(
    JSON.stringify({
      rules: [
        {
          rulePriority: 1,
          selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 },
          action: { type: 'transition', targetStorageClass: 'archive' },
        },
      ],
    }),
  );
  const images: LifecycleImage[] = [
    at('a', ['a'], 3 * DAY),
    at('b', ['b'], 2 * DAY),
    at('c', ['c'], 1 * DAY),
    { ...at('archived', ['z'], 0), storageClass: 'ARCHIVE', lastArchivedAt: NOW },
  ];
  assert.deepEqual(
    evaluateLifecycle(policy, images, NOW).map((r) => [r.digest, r.action]),
    [
      ['sha256:a', 'TRANSITION'],
      ['sha256:b', 'TRANSITION'],
    ],
  );
});
