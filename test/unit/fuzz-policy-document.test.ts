// Fuzzing IAM policy documents (src/auth/policy/document.ts), which come from repository and registry policies
// (SetRepositoryPolicy, PutRegistryPolicy) and identity policies (the admin API): any text is either a document or
// a PolicyError; generated valid documents of both kinds parse, and parsing is idempotent on what it returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy, PolicyError, type PolicyKind } from '../../src/auth/policy/document.ts';
import { FUZZ_TEST_TIMEOUT, assertAccepted, assertOwnError, attempt, check, deeplyNested, fc, mutate, mutation } from '../helpers/fuzz.ts';

const kinds = fc.constantFrom<PolicyKind>('identity', 'resource');
const parse = (text: string, kind: PolicyKind) => attempt({ text, kind }, () => parsePolicy(text, kind));

const account = fc.stringMatching(/^\d{12}$/);
const word = fc.stringMatching(/^[A-Za-z0-9]{1,12}$/);
const action = fc.oneof(
  fc.constant('*'),
  fc.tuple(fc.constantFrom('ecr', 'iam', 'berth', 'sts'), fc.stringMatching(/^[A-Za-z0-9*?]{1,24}$/)).map(([s, a]) => `${s}:${a}`),
);
const resource = fc.oneof(
  fc.constant('*'),
  fc
    .tuple(fc.constantFrom('us-east-1', 'eu-west-3', '*', ''), account, fc.stringMatching(/^[a-z0-9._/*-]{1,30}$/))
    .map(([region, id, name]) => `arn:aws:ecr:${region}:${id}:repository/${name}`),
);
const oneOrMany = <T>(a: fc.Arbitrary<T>) => fc.oneof(a, fc.array(a, { minLength: 1, maxLength: 4 }));
const principal = fc.oneof(
  fc.constant('*' as const),
  fc.record({
    AWS: oneOrMany(
      fc.oneof(
        fc.constant('*'),
        account,
        fc.tuple(account, word).map(([id, n]) => `arn:aws:iam::${id}:user/${n}`),
      ),
    ),
  }),
  fc.record({ Service: oneOrMany(fc.constantFrom('ecr.amazonaws.com', 'lambda.amazonaws.com', 'codebuild.amazonaws.com')) }),
);
const isoDate = fc
  .date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2090-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const conditionBlock = fc
  .oneof(
    fc.record({
      key: fc.constantFrom('aws:username', 'aws:PrincipalTag/team', 'ecr:ResourceTag/env'),
      operator: fc.constantFrom('StringEquals', 'StringNotEquals', 'StringLike', 'ForAnyValue:StringEquals', 'StringEqualsIfExists'),
      values: oneOrMany(fc.string({ maxLength: 20 })),
    }),
    fc.record({
      key: fc.constant('aws:EpochTime'),
      operator: fc.constantFrom('NumericLessThan', 'NumericGreaterThanEquals'),
      values: oneOrMany(fc.integer()),
    }),
    fc.record({
      key: fc.constant('aws:CurrentTime'),
      operator: fc.constantFrom('DateGreaterThan', 'DateLessThanEquals'),
      values: oneOrMany(isoDate),
    }),
    fc.record({ key: fc.constant('aws:SecureTransport'), operator: fc.constant('Bool'), values: oneOrMany(fc.boolean()) }),
    fc.record({
      key: fc.constant('aws:SourceIp'),
      operator: fc.constantFrom('IpAddress', 'NotIpAddress'),
      values: oneOrMany(fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, bits]) => `${ip}/${bits}`)),
    }),
  )
  .map(({ key, operator, values }) => ({ [operator]: { [key]: values } }));

/** A valid statement of a policy of `kind`, with Sid `sid` (unique in its document). */
function statement(kind: PolicyKind, sid: string | undefined) {
  return fc
    .record({
      effect: fc.constantFrom('Allow', 'Deny'),
      notAction: fc.boolean(),
      actions: oneOrMany(action),
      resourceKey: fc.constantFrom('Resource', 'NotResource', kind === 'identity' ? 'Resource' : 'none'),
      resources: oneOrMany(resource),
      principal,
      condition: fc.option(conditionBlock, { nil: undefined }),
    })
    .map((s) => {
      const out: Record<string, unknown> = { Effect: s.effect };
      if (sid !== undefined) out.Sid = sid;
      if (kind === 'resource') out.Principal = s.principal;
      out[s.notAction ? 'NotAction' : 'Action'] = s.actions;
      if (s.resourceKey !== 'none') out[s.resourceKey] = s.resources;
      if (s.condition) out.Condition = s.condition;
      return out;
    });
}

const validPolicy = kinds.chain((kind) =>
  fc
    .record({
      kind: fc.constant(kind),
      version: fc.constantFrom(undefined, '2012-10-17', '2008-10-17'),
      single: fc.boolean(),
      // Sids are unique within a document (an identity policy requires it); some statements have none.
      statements: fc
        .uniqueArray(fc.tuple(word, fc.boolean()), { minLength: 1, maxLength: 4, selector: ([sid]) => sid })
        .chain((sids) => fc.tuple(...sids.map(([sid, keep]) => statement(kind, keep ? sid : undefined)))),
    })
    .map(({ kind, version, single, statements }) => {
      const doc: Record<string, unknown> = {};
      if (version) doc.Version = version;
      doc.Statement = single && statements.length === 1 ? statements[0] : statements;
      return { kind, doc };
    }),
);

test('any text is a policy or a PolicyError', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  check(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.json(), fc.json({ depthSize: 'medium' })), kinds, (text, kind) => {
      assertOwnError(parse(text, kind), PolicyError);
    }),
  );
});

test('generated valid policies parse, keep their statements, and parse again to the same document', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  check(
    fc.property(validPolicy, ({ kind, doc }) => {
      const parsed = assertAccepted(parse(JSON.stringify(doc), kind), `a valid ${kind} policy`);
      const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
      assert.equal(parsed.Statement.length, statements.length);
      parsed.Statement.forEach((s, i) => {
        assert.equal(s.Effect, (statements[i] as { Effect: string }).Effect);
        assert.ok(s.Action !== undefined || s.NotAction !== undefined);
      });
      assert.deepEqual(assertAccepted(parse(JSON.stringify(parsed), kind), 'a parsed policy'), parsed);
    }),
  );
});

test('mutated valid policies parse or fail with a PolicyError', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  check(
    fc.property(validPolicy, fc.array(mutation(), { minLength: 1, maxLength: 3 }), ({ kind, doc }, mutations) => {
      const text = JSON.stringify(mutations.reduce((d, m) => mutate(d, m), doc as any));
      const outcome = parse(text, kind);
      assertOwnError(outcome, PolicyError);
      // What is accepted is a well-formed document whatever the mutation did.
      if (outcome.ok) for (const s of outcome.value.Statement) assert.ok(s.Effect === 'Allow' || s.Effect === 'Deny');
    }),
  );
});

test('a duplicate key is refused with a PolicyError', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  check(
    fc.property(validPolicy, fc.nat(), fc.boolean(), ({ kind, doc }, pick, top) => {
      const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
      const text = JSON.stringify({ ...doc, Statement: statements });
      let duplicated: string;
      if (top) {
        duplicated = text.replace(/^\{/, '{"Statement":[],');
      } else {
        // Every generated statement is serialized with Effect first: repeat the Effect of one of them.
        const at = [...text.matchAll(/\{"Effect":"(Allow|Deny)"/g)];
        const m = at[pick % at.length];
        duplicated = text.slice(0, m.index) + `${m[0]},"Effect":"${m[1]}"` + text.slice(m.index + m[0].length);
      }
      const outcome = parse(duplicated, kind);
      assert.equal(outcome.ok, false, `a document with a duplicate key was accepted: ${duplicated}`);
      assertOwnError(outcome, PolicyError, (e: PolicyError) => assert.match(e.message, /duplicate key/));
    }),
  );
});

test('deep nesting is refused with a PolicyError, not a stack overflow', () => {
  for (const depth of [65, 1000, 10_000, 100_000]) {
    for (const objects of [false, true]) {
      const outcome = parse(`{"Statement":${deeplyNested(depth, '1', objects)}}`, 'resource');
      assert.equal(outcome.ok, false);
      assertOwnError(outcome, PolicyError);
    }
  }
  check(
    fc.property(fc.integer({ min: 1, max: 20_000 }), fc.boolean(), kinds, (depth, objects, kind) => {
      assertOwnError(
        parse(`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":${deeplyNested(depth, '{}', objects)}}]}`, kind),
        PolicyError,
      );
    }),
    200,
  );
});
