// The registry file of `berth apply` without a registry: examples/registry.yaml validates against
// schemas/registry.schema.json (with a validator of its own, as an editor's), problems are found at their line, and
// the field-level differences that --dry-run prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { loadRegistryFile } from '../../src/apply/apply.ts';
import { diffJson } from '../../src/apply/diff.ts';
import { parseRegistryFile, RegistryFileError } from '../../src/apply/file.ts';
import { checkSchema } from '../../src/apply/schema.ts';
import { desiredState } from '../../src/apply/desired.ts';

const root = join(import.meta.dirname, '..', '..');
const EXAMPLE = join(root, 'examples', 'registry.yaml');

test('examples/registry.yaml validates against schemas/registry.schema.json, which is a valid draft-07 schema', () => {
  const schema = JSON.parse(readFileSync(join(root, 'schemas', 'registry.schema.json'), 'utf8'));
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, validateSchema: true });
  const validate = ajv.compile(schema);
  const data = parse(readFileSync(EXAMPLE, 'utf8'), { merge: true });
  assert.equal(validate(data), true, JSON.stringify(validate.errors, null, 1));
  assert.match(
    readFileSync(EXAMPLE, 'utf8'),
    /^# yaml-language-server: \$schema=\.\.\/schemas\/registry\.schema\.json\n/,
    'editors find the schema',
  );
  const { desired } = loadRegistryFile(EXAMPLE);
  assert.equal(desired.repositories.size, 12);
  assert.deepEqual([...desired.users.keys()], ['sagemaker-training', 'acme-sm-ci']);
});

const problems = (text: string): string[] => {
  try {
    const file = parseRegistryFile('f.yaml', text);
    checkSchema(file);
    desiredState(file);
  } catch (e) {
    assert.ok(e instanceof RegistryFileError, String(e));
    return e.message.split('\n');
  }
  return [];
};

test('each problem of a file is told at its line and column', () => {
  assert.deepEqual(problems('version: 1\nrepositories:\n  - name: a/b\n    tags: { "aws:x": y }\n'), [
    "f.yaml:4:13: repositories[0].tags.aws:x: a tag key is 1 to 128 characters; keys starting with aws: are reserved, and berth:managed-by is apply's own",
  ]);
  assert.deepEqual(problems('version: 1\nrepositories:\n  - name: a/b\n  - name: cc\n  - name: a/b\n'), [
    'f.yaml:5:11: repository a/b is named twice (first at line 3)',
  ]);
  assert.deepEqual(problems('version: 1\nrepositories:\n  - name: Upper\n'), [
    'f.yaml:3:11: repositories[0].name: "Upper" is not valid: The repository\'s name (ECR\'s grammar: lowercase components separated by /).',
  ]);
  assert.deepEqual(problems('version: 1\nrepositories:\n  - name: a/b\n    imageTagMutability: MUTABLE_WITH_EXCLUSION\n'), [
    'f.yaml:3:5: repositories[0]: "imageTagMutabilityExclusionFilters" is required',
  ]);
  assert.deepEqual(problems('version: 1\nrepositories:\n  - name: a/b\n    imageTagMutabilityExclusionFilters: [x]\n'), [
    'f.yaml:3:5: repositories[0]: imageTagMutabilityExclusionFilters go with imageTagMutability MUTABLE_WITH_EXCLUSION or IMMUTABLE_WITH_EXCLUSION',
  ]);
  assert.deepEqual(problems('version: 1\nusers:\n  - name: ci\n    policies:\n      p:\n        Statement: { Effect: Maybe }\n'), [
    'f.yaml:6:30: users[0].policies.p.Statement.Effect: must be one of Allow, Deny, not "Maybe"',
  ]);
  // Webhooks: identified by their URL as the registry writes it.
  assert.deepEqual(
    problems(
      'version: 1\nwebhooks:\n  - url: https://hooks.example/a\n  - url: https://HOOKS.example/a\n    eventTypes: [ECR Image Push]\n',
    ),
    ['f.yaml:5:18: webhooks[1].eventTypes[0]: must be one of ECR Image Action, ECR Image Scan, not "ECR Image Push"'],
  );
  assert.deepEqual(problems('version: 1\nwebhooks:\n  - url: https://hooks.example/a\n  - url: https://HOOKS.example/a\n    secret: x\n'), [
    'f.yaml:5:5: webhooks[1].secret: unknown key "secret" (known keys: url, eventTypes, repositories)',
  ]);
  assert.deepEqual(problems('version: 1\nwebhooks:\n  - url: https://hooks.example/a\n  - url: https://HOOKS.example/a\n'), [
    'f.yaml:4:10: webhook https://HOOKS.example/a is named twice (first at line 3)',
  ]);
  assert.deepEqual(problems('repositories: []\n'), ['f.yaml:1:1: the file: "version" is required']);
  assert.deepEqual(problems('version: 1\nrepositories: [\n'), [
    'f.yaml:3:1: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
  ]);
  assert.deepEqual(problems('version: 1\nversion: 1\n'), ['f.yaml:2:1: YAML: Map keys must be unique']);
  // A merge key's values are found where they are written.
  assert.deepEqual(problems('version: 1\nx-base: &base\n  scanOnPush: yes-please\nrepositories:\n  - <<: *base\n    name: a/b\n'), [
    'f.yaml:3:15: repositories[0].scanOnPush: must be boolean',
  ]);
});

test('the differences --dry-run prints: per field, lists of the same length item by item, key order ignored', () => {
  assert.deepEqual(diffJson({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }), []);
  assert.deepEqual(diffJson({ a: 1, b: { c: [1, 2], 'd:e': 'x' } }, { a: 2, b: { c: [1, 3] } }), [
    { path: 'a', before: 1, after: 2 },
    { path: 'b.c[1]', before: 2, after: 3 },
    { path: 'b["d:e"]', before: 'x' },
  ]);
  assert.deepEqual(diffJson({ l: [1] }, { l: [1, 2] }), [{ path: 'l', before: [1], after: [1, 2] }]);
  assert.deepEqual(diffJson({ policy: null }, { policy: { S: 1 } }), [{ path: 'policy', after: { S: 1 } }]);
});
