// The registry file's JSON Schema (schemas/registry.schema.json, which editors validate the file with too), checked
// with ajv; each error is turned into a sentence at the line of the node it is about.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import type { Path, RegistryFile } from './file.ts';

/** The schema: schemas/ at the repository's root, or its copy in dist/schemas/ (scripts/build.js). */
export const REGISTRY_SCHEMA = JSON.parse(readFileSync(new URL('../../schemas/registry.schema.json', import.meta.url), 'utf8')) as object;

const validate = new Ajv({ allErrors: true, strict: false, verbose: true }).compile(REGISTRY_SCHEMA);

/** Throws a RegistryFileError listing every schema error (at most 20), each at its line. */
export function checkSchema(file: RegistryFile): void {
  if (validate(file.data)) return;
  // An error in a node that an alias (*name) brings into several places is told once, where the node is written.
  const unique = new Map<string, { problem: ReturnType<typeof describe>; more: number }>();
  for (const e of relevant(validate.errors ?? [])) {
    const problem = describe(file, e);
    const { line, column } = file.locate(problem.path, problem.key);
    const id = `${line}:${column}:${e.keyword}:${JSON.stringify(e.params)}`;
    const seen = unique.get(id);
    if (seen) seen.more++;
    else unique.set(id, { problem, more: 0 });
  }
  throw file.error(
    [...unique.values()]
      .slice(0, 20)
      .map(({ problem, more }) =>
        more === 0
          ? problem
          : { ...problem, message: `${problem.message} (and in ${more} more place${more === 1 ? '' : 's'} that use it)` },
      ),
  );
}

/**
 * Without the errors that only say that an alternative failed (anyOf, if/then, not), and without "must be <type>"
 * when the value has errors of its own (or its members have): that alternative was the one meant.
 */
function relevant(errors: ErrorObject[]): ErrorObject[] {
  const combinators = new Set(['anyOf', 'oneOf', 'if']);
  // An error inside propertyNames is told by the propertyNames error itself.
  const own = errors.filter((e) => !combinators.has(e.keyword) && e.propertyName === undefined);
  const typeOnly = (e: ErrorObject) => e.keyword === 'type' || e.keyword === 'const';
  const kept = own.filter(
    (e) =>
      !typeOnly(e) ||
      !own.some((o) => !typeOnly(o) && (o.instancePath === e.instancePath || o.instancePath.startsWith(`${e.instancePath}/`))),
  );
  return kept.length > 0 ? kept : errors;
}

function describe(file: RegistryFile, e: ErrorObject): { path: Path; key?: boolean; message: string } {
  const path = pathOf(e.instancePath);
  const where = shown(path);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return {
        path: [...path, String(p.additionalProperty)],
        key: true,
        message: `${shown([...path, String(p.additionalProperty)])}: unknown key "${p.additionalProperty}"${known(e)}`,
      };
    case 'required':
      return { path, message: `${where || 'the file'}: "${p.missingProperty}" is required` };
    case 'enum':
      return {
        path,
        message: `${where}: must be one of ${(p.allowedValues as unknown[]).join(', ')}, not ${JSON.stringify(valueAt(file.data, path))}`,
      };
    case 'const':
      return { path, message: `${where}: must be ${JSON.stringify(p.allowedValue)}` };
    case 'propertyNames':
      return {
        path: [...path, String(p.propertyName)],
        key: true,
        message: `${shown([...path, String(p.propertyName)])}: ${(e.schema as { description?: string }).description ?? `the key "${p.propertyName}" is not allowed here`}`,
      };
    case 'pattern': {
      const about = (e.parentSchema as { description?: string } | undefined)?.description;
      return { path, message: `${where}: ${JSON.stringify(valueAt(file.data, path))} ${about ? `is not valid: ${about}` : e.message}` };
    }
    case 'not':
      return { path, message: `${where}: ${e.parentSchema?.description ?? 'is not allowed here'}` };
    default:
      return { path, message: `${where || 'the file'}: ${e.message}` };
  }
}

function known(e: ErrorObject): string {
  const properties = (e.parentSchema as { properties?: object } | undefined)?.properties;
  return properties ? ` (known keys: ${Object.keys(properties).join(', ')})` : '';
}

const pathOf = (pointer: string): Path =>
  pointer === ''
    ? []
    : pointer
        .slice(1)
        .split('/')
        .map((s) => {
          const key = s.replaceAll('~1', '/').replaceAll('~0', '~');
          const index = Number(key);
          return key !== '' && Number.isSafeInteger(index) && String(index) === key ? index : key;
        });

/** `repositories[2].lifecyclePolicy.rules[0]`: a path as the file's reader sees it. */
export function shown(path: Path): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

function valueAt(data: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, s) => (v as Record<string | number, unknown> | undefined)?.[s], data);
}
