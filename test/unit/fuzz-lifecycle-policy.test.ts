// Fuzzing lifecycle policy documents (src/lifecycle/policy.ts), the text of PutLifecyclePolicy and
// StartLifecyclePolicyPreview: any text is a policy or a LifecyclePolicyError with ECR's message; generated valid
// policies parse to their rules in priority order; what is accepted is always a policy the evaluator can run
// (positive safe-integer priorities and counts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LifecyclePolicyError, parseLifecyclePolicy } from '../../src/lifecycle/policy.ts';
import { FUZZ_TEST_TIMEOUT, assertAccepted, assertOwnError, attempt, check, deeplyNested, fc, mutate, mutation } from '../helpers/fuzz.ts';

const parse = (text: string) => attempt(text, () => parseLifecyclePolicy(text));
const withEcrMessage = (e: LifecyclePolicyError) =>
  assert.match(
    e.message,
    /^Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: /,
  );

const tagPattern = fc.stringMatching(/^[a-z0-9*._-]{1,12}$/).filter((p) => p.split('*').length - 1 <= 4);
const count = fc.oneof(
  fc.record({ countType: fc.constant('imageCountMoreThan'), countNumber: fc.integer({ min: 1, max: 1000 }) }),
  fc.record({ countType: fc.constant('sinceImagePushed'), countUnit: fc.constant('days'), countNumber: fc.integer({ min: 1, max: 3650 }) }),
);

/** A valid policy: unique priorities, the "any" rule last, at most one "untagged" rule, distinct prefix lists. */
const validPolicy = fc
  .record({
    tagged: fc.uniqueArray(fc.tuple(fc.boolean(), fc.uniqueArray(tagPattern, { minLength: 1, maxLength: 3 })), {
      maxLength: 4,
      selector: ([, l]) => JSON.stringify([...l].sort()),
    }),
    untagged: fc.boolean(),
    any: fc.boolean(),
    counts: fc.array(count, { minLength: 6, maxLength: 6 }),
    priorities: fc.uniqueArray(fc.integer({ min: 1, max: 10_000 }), { minLength: 6, maxLength: 6 }),
    descriptions: fc.array(fc.option(fc.string({ maxLength: 30 }), { nil: undefined }), { minLength: 6, maxLength: 6 }),
  })
  .map(({ tagged, untagged, any, counts, priorities, descriptions }) => {
    const sorted = [...priorities].sort((a, b) => a - b);
    const selections: Record<string, unknown>[] = tagged.map(([prefix, list]) => ({
      tagStatus: 'tagged',
      [prefix ? 'tagPrefixList' : 'tagPatternList']: list,
    }));
    if (untagged) selections.push({ tagStatus: 'untagged' });
    if (any) selections.push({ tagStatus: 'any' });
    if (selections.length === 0) selections.push({ tagStatus: 'untagged' });
    const rules = selections.map((selection, i) => ({
      rulePriority: sorted[i],
      ...(descriptions[i] !== undefined ? { description: descriptions[i] } : {}),
      selection: { ...selection, ...counts[i] },
      action: { type: 'expire' },
    }));
    return { rules: rules.reverse() }; // in the document in any order; the parser sorts by priority
  });

test("any text is a lifecycle policy or a LifecyclePolicyError with ECR's message", { timeout: FUZZ_TEST_TIMEOUT }, () => {
  check(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.json()), (text) => {
      assertOwnError(parse(text), LifecyclePolicyError, withEcrMessage);
    }),
  );
});

test('generated valid policies parse to their rules in priority order', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  check(
    fc.property(validPolicy, (doc) => {
      const policy = assertAccepted(parse(JSON.stringify(doc)), 'a valid lifecycle policy');
      assert.deepEqual(
        policy.rules.map((r) => r.rulePriority),
        doc.rules.map((r) => r.rulePriority).sort((a, b) => a - b),
      );
      for (const rule of policy.rules) {
        const source = doc.rules.find((r) => r.rulePriority === rule.rulePriority)!;
        assert.equal(rule.selection.countNumber, (source.selection as { countNumber: number }).countNumber);
        assert.equal(rule.selection.tagStatus, (source.selection as unknown as { tagStatus: string }).tagStatus);
        assert.equal(rule.description, source.description);
      }
    }),
  );
});

test("mutated valid policies: refused with ECR's message, or accepted as a policy the evaluator can run", {
  timeout: FUZZ_TEST_TIMEOUT,
}, () => {
  const leaf = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.double(),
    fc.constantFrom(0, -1, 0.5, 1e300, 2 ** 53, Number.MAX_VALUE, 'any', 'tagged', 'untagged', 'days'),
  ) as fc.Arbitrary<any>;
  check(
    fc.property(validPolicy, fc.array(mutation(leaf), { minLength: 1, maxLength: 3 }), (doc, mutations) => {
      const outcome = parse(JSON.stringify(mutations.reduce((d, m) => mutate(d, m), doc as any)));
      assertOwnError(outcome, LifecyclePolicyError, withEcrMessage);
      if (!outcome.ok) return;
      for (const rule of outcome.value.rules) {
        assert.ok(Number.isSafeInteger(rule.rulePriority) && rule.rulePriority >= 1, `accepted rulePriority ${rule.rulePriority}`);
        assert.ok(
          Number.isSafeInteger(rule.selection.countNumber) && rule.selection.countNumber >= 1,
          `accepted countNumber ${rule.selection.countNumber}`,
        );
      }
    }),
  );
});

test("deeply nested documents are refused with ECR's message, never a crash", () => {
  check(
    fc.property(fc.integer({ min: 1, max: 20_000 }), fc.boolean(), (depth, objects) => {
      assertOwnError(
        parse(`{"rules":[{"rulePriority":1,"selection":${deeplyNested(depth, '{}', objects)},"action":{"type":"expire"}}]}`),
        LifecyclePolicyError,
        withEcrMessage,
      );
    }),
    100,
  );
});
