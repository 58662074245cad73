// Validation of ECR requests against the constraints of ECR's service model (src/ecr/model.json, extracted from
// botocore by scripts/ecr-model.py): required members, types, lengths, ranges, patterns and enums, reported as
// ECR reports them. Lengths are checked before patterns, and the model's patterns run on RE2's linear-time engine
// (re2js): several of them backtrack catastrophically in a backtracking engine such as V8's.
import { createRequire } from 'node:module';
import { RE2JS } from 're2js';
import { isBase64 } from './base64.ts';
import { EcrError, constraintFailed } from './errors.ts';
import { EXTRA_OPERATIONS, EXTRA_SHAPES } from './model-extra.ts';

interface Shape {
  type: string;
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  required?: string[];
  members?: Record<string, string>;
  member?: string;
  key?: string;
  value?: string;
}

interface Model {
  source: string;
  targetPrefix: string;
  operations: Record<string, { input?: string; errors: string[] }>;
  shapes: Record<string, Shape>;
}

export const model = createRequire(import.meta.url)('./model.json') as Model;
// The operations botocore's model lacks, written by hand (src/ecr/model-extra.ts), join it here.
Object.assign(model.operations, EXTRA_OPERATIONS);
Object.assign(model.shapes, EXTRA_SHAPES);

const patterns = new Map<string, RE2JS>();
/** A model pattern compiled once for RE2 (linear time in the input's length whatever the pattern). */
export function modelPattern(pattern: string): RE2JS {
  let re = patterns.get(pattern);
  if (!re) {
    re = RE2JS.compile(pattern);
    patterns.set(pattern, re);
  }
  return re;
}

/** Every pattern of the model, with the shapes that use it. */
export function modelPatterns(): { pattern: string; shapes: string[] }[] {
  const byPattern = new Map<string, string[]>();
  for (const [name, shape] of Object.entries(model.shapes)) {
    if (shape.pattern) byPattern.set(shape.pattern, [...(byPattern.get(shape.pattern) ?? []), name]);
  }
  return [...byPattern].map(([pattern, shapes]) => ({ pattern, shapes }));
}

/** A whole string matches a model pattern (botocore's patterns are meant for the whole value). */
export const matchesModelPattern = (pattern: string, value: string): boolean => modelPattern(pattern).matches(value);

export { BASE64 } from './base64.ts';

/** Validates an operation's input; throws the EcrError ECR would answer with. */
export function validateInput(operation: string, input: unknown): void {
  const shapeName = model.operations[operation]?.input;
  if (!shapeName) return;
  check(input, shapeName, '');
}

function check(value: unknown, shapeName: string, path: string): void {
  const shape = model.shapes[shapeName];
  const at = path || shapeName;
  switch (shape.type) {
    case 'structure': {
      if (!isObject(value)) throw serialization(at, 'structure');
      for (const req of shape.required ?? []) {
        if (value[req] === undefined || value[req] === null) throw constraintFailed(join(path, req), 'Member must not be null');
      }
      for (const [name, member] of Object.entries(shape.members ?? {})) {
        const v = value[name];
        if (v !== undefined && v !== null) check(v, member, join(path, name));
      }
      return;
    }
    case 'list': {
      if (!Array.isArray(value)) throw serialization(at, 'list');
      length(value.length, shape, at, 'length');
      value.forEach((v, i) => check(v, shape.member!, `${at}.${i + 1}.member`));
      return;
    }
    case 'map': {
      if (!isObject(value)) throw serialization(at, 'map');
      length(Object.keys(value).length, shape, at, 'length');
      for (const [k, v] of Object.entries(value)) {
        check(k, shape.key!, `${at}.key`);
        check(v, shape.value!, `${at}.${k}`);
      }
      return;
    }
    case 'string': {
      if (typeof value !== 'string') throw serialization(at, 'string');
      length(codePoints(value), shape, at, 'length');
      if (shape.enum && !shape.enum.includes(value))
        throw constraintFailed(at, `Member must satisfy enum value set: [${shape.enum.join(', ')}]`);
      if (shape.pattern && !matchesModelPattern(shape.pattern, value))
        throw constraintFailed(at, `must satisfy regular expression '${shape.pattern}'`);
      return;
    }
    case 'integer':
    case 'long': {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw serialization(at, shape.type);
      if (shape.min !== undefined && value < shape.min)
        throw constraintFailed(at, `Member must have value greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && value > shape.max)
        throw constraintFailed(at, `Member must have value less than or equal to ${shape.max}`);
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw serialization(at, 'boolean');
      return;
    case 'blob': {
      // A large layer part arrives decoded already (src/ecr/input.ts): its bytes.
      if (value instanceof Uint8Array) {
        length(value.length, shape, at, 'length');
        return;
      }
      if (typeof value !== 'string' || !isBase64(value)) throw serialization(at, 'base64-encoded blob');
      length(Buffer.byteLength(value, 'base64'), shape, at, 'length');
      return;
    }
    case 'timestamp':
      if (typeof value !== 'number' && typeof value !== 'string') throw serialization(at, 'timestamp');
      return;
    default:
      return;
  }
}

/** The length ECR counts, in code points, without building an array of them. */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

function length(n: number, shape: Shape, at: string, what: string): void {
  if (shape.min !== undefined && n < shape.min)
    throw constraintFailed(at, `Member must have ${what} greater than or equal to ${shape.min}`);
  if (shape.max !== undefined && n > shape.max) throw constraintFailed(at, `Member must have ${what} less than or equal to ${shape.max}`);
}

function serialization(at: string, expected: string): EcrError {
  return new EcrError('SerializationException', `Unexpected value at '${at}': expected a ${expected}`);
}

const join = (path: string, member: string) => (path ? `${path}.${member}` : member);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
