// Field-level differences between two JSON values, named by their path (`lifecyclePolicy.rules[0].selection.
// countNumber`), and JSON equality that ignores the order of an object's keys (a policy the registry gives back
// reformatted is the same policy).
import type { Json } from './desired.ts';

/** A field added (no `before`), removed (no `after`) or changed. */
export interface FieldChange {
  path: string;
  before?: Json;
  after?: Json;
}

const isObject = (v: unknown): v is { [key: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);

export function sameJson(a: Json | undefined, b: Json | undefined): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
  }
  return a === b;
}

/** The changes that turn `before` into `after`: objects key by key, lists of the same length item by item. */
export function diffJson(before: Json | undefined, after: Json | undefined, path = ''): FieldChange[] {
  if (sameJson(before, after)) return [];
  if (isObject(before) && isObject(after)) {
    const keys = [...Object.keys(after), ...Object.keys(before).filter((k) => !Object.hasOwn(after, k))];
    return keys.flatMap((k) => diffJson(before[k], after[k], member(path, k)));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((b, i) => diffJson(b, after[i], `${path}[${i}]`));
  }
  // A null (no policy) shows as absent: the field is added or removed.
  const present = (v: Json | undefined): v is Json => v !== undefined && v !== null;
  return [{ path, ...(present(before) ? { before } : {}), ...(present(after) ? { after } : {}) }];
}

/** `a.b`, or `a["b:c"]` for a key that is not a plain name. */
function member(path: string, key: string): string {
  const plain = [...key].every((c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_' || c === '-');
  if (!plain || key === '') return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}
