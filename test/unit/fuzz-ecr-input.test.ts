// Fuzzing the validation of ECR requests against ECR's service model (src/ecr/validate.ts validateInput): for
// every operation, any JSON input is accepted or refused with an EcrError (SerializationException or
// InvalidParameterException, as ECR answers); inputs generated from the model's own shapes (types, lengths,
// ranges, enums, patterns) are accepted; mutated ones never throw anything else. Catastrophic backtracking:
// fuzz-ecr-patterns.test.ts.
import { test } from 'node:test';
import { model } from '../../src/ecr/validate.ts';
import { EcrError } from '../../src/ecr/errors.ts';
import { FUZZ_TEST_TIMEOUT, assertAccepted, assertOwnError, check, fc, mutate, mutation } from '../helpers/fuzz.ts';
import { ecrTypes, operations, valid, validate } from '../helpers/ecr-input.ts';

const operation = fc.constantFrom(...operations);

const validInput = operation.chain((op) => valid(model.operations[op].input!).map((input) => ({ op, input })));

test('any JSON input to any operation is accepted or refused with an ECR exception', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  check(
    fc.property(operation, fc.oneof(fc.jsonValue(), fc.anything(), fc.dictionary(fc.string(), fc.jsonValue())), (op, input) => {
      assertOwnError(validate(op, input), EcrError, ecrTypes);
    }),
  );
});

test('inputs generated from the model are accepted', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  check(
    fc.property(validInput, ({ op, input }) => {
      assertAccepted(validate(op, input), `a valid ${op} input`);
    }),
  );
});

test('mutated valid inputs are accepted or refused with an ECR exception', { timeout: FUZZ_TEST_TIMEOUT }, () => {
  check(
    fc.property(validInput, fc.array(mutation(), { minLength: 1, maxLength: 3 }), ({ op, input }, mutations) => {
      assertOwnError(
        validate(
          op,
          mutations.reduce((d, m) => mutate(d, m), input as any),
        ),
        EcrError,
        ecrTypes,
      );
    }),
  );
});
