// Fuzzing the patterns of ECR's model as validateInput applies them (src/ecr/validate.ts): in every patterned member
// of every operation, a complete valid input whose member is a pumped near-valid string (a valid prefix repeated,
// then a stranger: the shape of a catastrophic-backtracking input) is decided within the case bound. A hang is
// reported by the fuzz watchdog, which kills this file's process (so it has a file of its own).
import { test } from 'node:test';
import { model } from '../../src/ecr/validate.ts';
import { EcrError } from '../../src/ecr/errors.ts';
import { FUZZ_TEST_TIMEOUT, RUNS, assertOwnError, check, fc } from '../helpers/fuzz.ts';
import { ecrTypes, operations, valid, validate } from '../helpers/ecr-input.ts';

/** Every string member of every operation's input, with the path that reaches it from the input. */
function stringMembers(): { op: string; path: string[]; shape: string }[] {
  const out: { op: string; path: string[]; shape: string }[] = [];
  const walk = (op: string, shapeName: string, path: string[], depth: number) => {
    const shape = model.shapes[shapeName] as any;
    if (depth > 6) return;
    if (shape.type === 'string' && shape.pattern) out.push({ op, path, shape: shapeName });
    if (shape.type === 'structure')
      for (const [name, member] of Object.entries(shape.members ?? {})) walk(op, member as string, [...path, name], depth + 1);
    if (shape.type === 'list') walk(op, shape.member, [...path, '0'], depth + 1);
  };
  for (const op of operations) walk(op, model.operations[op].input!, [], 0);
  return out;
}

test('pumped near-valid strings in every patterned member are decided within the case bound', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  const members = stringMembers();
  const pumped = fc.constantFrom(...members).chain((m) =>
    fc.record({
      member: fc.constant(m),
      // A complete valid input (every member present), so that validation reaches the member under test.
      input: valid(model.operations[m.op].input!, true),
      unit: valid(m.shape).filter((s) => (s as string).length > 0),
      unitLength: fc.integer({ min: 1, max: 4 }),
      times: fc.integer({ min: 8, max: 64 }),
      stranger: fc.constantFrom('!', ' ', 'A', '\u0000', '/', '..', '--'),
    }),
  );
  check(
    fc.property(pumped, ({ member, input, unit, unitLength, times, stranger }) => {
      const value = String(unit).slice(0, unitLength).repeat(times) + stranger;
      let at: any = input;
      member.path.slice(0, -1).forEach((key) => {
        at = at[key];
      });
      at[member.path[member.path.length - 1]] = value;
      assertOwnError(validate(member.op, input), EcrError, ecrTypes);
    }),
    Math.min(RUNS, 2000),
  );
});
