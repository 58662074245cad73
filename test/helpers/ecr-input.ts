// Generating ECR requests from ECR's service model (src/ecr/model.json), for the fuzz tests of validateInput.
import assert from 'node:assert/strict';
import { model, validateInput } from '../../src/ecr/validate.ts';
import type { EcrError } from '../../src/ecr/errors.ts';
import { attempt, fc } from './fuzz.ts';

export const operations = Object.keys(model.operations).filter((op) => model.operations[op].input);
export const validate = (op: string, input: unknown) => attempt({ op, input }, () => validateInput(op, input));
export const ecrTypes = (e: EcrError) =>
  assert.ok(['SerializationException', 'InvalidParameterException'].includes(e.type), `${e.type}: ${e.message}`);

const cap = (n: number | undefined, fallback: number) => Math.min(n ?? fallback, fallback);
const codePoints = (s: string) => [...s].length;

/** An arbitrary for the values of a shape of the model; only valid ones. `full`: every member of every structure
 * present, every list at least one long (so that any member can be reached). */
const arbitraries = new Map<string, fc.Arbitrary<unknown>>();
export function valid(shapeName: string, full = false): fc.Arbitrary<unknown> {
  const known = arbitraries.get(`${shapeName}:${full}`);
  if (known) return known;
  const shape = model.shapes[shapeName] as any;
  let arb: fc.Arbitrary<unknown>;
  switch (shape.type) {
    case 'structure': {
      const members = Object.entries(shape.members ?? {}) as [string, string][];
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, member] of members) record[name] = valid(member, full);
      arb = fc.record(record, { requiredKeys: full ? members.map(([name]) => name) : (shape.required ?? []) });
      break;
    }
    case 'list':
      arb = fc.array(valid(shape.member, full), {
        minLength: Math.max(shape.min ?? 0, full ? 1 : 0),
        maxLength: Math.max(shape.min ?? 0, cap(shape.max, 3)),
      });
      break;
    case 'map':
      arb = fc
        .uniqueArray(fc.tuple(valid(shape.key, full), valid(shape.value, full)), {
          minLength: shape.min ?? 0,
          maxLength: Math.max(shape.min ?? 0, cap(shape.max, 3)),
          selector: ([k]) => k,
        })
        .map((entries) => Object.fromEntries(entries as [string, unknown][]));
      break;
    case 'string': {
      const min = shape.min ?? 0;
      const max = cap(shape.max, 300);
      if (shape.enum) arb = fc.constantFrom(...(shape.enum as string[]));
      else if (shape.pattern) {
        arb = fc
          .stringMatching(new RegExp(`^(?:${shape.pattern})$`), { size: 'small' })
          .filter((s) => codePoints(s) >= min && codePoints(s) <= max);
      } else arb = fc.string({ minLength: min, maxLength: Math.max(min, cap(shape.max, 40)) });
      break;
    }
    case 'integer':
    case 'long':
      arb = fc.integer({ min: Math.max(shape.min ?? -(2 ** 31), -(2 ** 31)), max: Math.min(shape.max ?? 2 ** 31 - 1, 2 ** 31 - 1) });
      break;
    case 'boolean':
      arb = fc.boolean();
      break;
    case 'blob':
      arb = fc
        .uint8Array({ minLength: shape.min ?? 0, maxLength: Math.max(shape.min ?? 0, cap(shape.max, 64)) })
        .map((b) => Buffer.from(b).toString('base64'));
      break;
    case 'timestamp':
      arb = fc.integer({ min: 0, max: 2 ** 31 });
      break;
    default:
      arb = fc.constant(undefined);
  }
  arbitraries.set(`${shapeName}:${full}`, arb);
  return arb;
}
