// OSV records (schema 1.7): validation against the schema, and the evaluation of `affected[]` for one package
// version (ranges of type ECOSYSTEM and SEMVER, with introduced/fixed/last_affected/limit events, and explicit
// `versions` lists), as the specification's "Evaluation" section describes it. `osv-schema.json` is the official
// JSON schema of OSV 1.7 as published (github.com/ossf/osv-schema, validation/schema.json at tag v1.7.5), unchanged:
// record ids carry a known database prefix, ecosystems are the known ones (with a `:suffix`), no other field is allowed.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import { comparatorFor, ecosystemBase, type Compare } from './versions/index.ts';
import { compareSemver } from './versions/semver.ts';

export interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface OsvRange {
  type: 'GIT' | 'SEMVER' | 'ECOSYSTEM';
  repo?: string;
  events: OsvEvent[];
  database_specific?: Record<string, unknown>;
}

export interface OsvSeverity {
  type: 'CVSS_V2' | 'CVSS_V3' | 'CVSS_V4' | 'Ubuntu';
  score: string;
}

export interface OsvAffected {
  package?: { ecosystem: string; name: string; purl?: string };
  severity?: OsvSeverity[] | null;
  ranges?: OsvRange[];
  versions?: string[];
  ecosystem_specific?: Record<string, unknown>;
  database_specific?: Record<string, unknown>;
}

export interface OsvRecord {
  schema_version?: string;
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  aliases?: string[] | null;
  upstream?: string[] | null;
  related?: string[];
  summary?: string;
  details?: string;
  severity?: OsvSeverity[] | null;
  affected?: OsvAffected[] | null;
  references?: { type: string; url: string }[] | null;
  credits?: { name: string; contact?: string[]; type?: string }[];
  database_specific?: Record<string, unknown>;
}

export class OsvValidationError extends Error {
  readonly errors: string[];
  constructor(message: string, errors: string[]) {
    super(message);
    this.name = 'OsvValidationError';
    this.errors = errors;
  }
}

const schema = JSON.parse(readFileSync(new URL('./osv-schema.json', import.meta.url), 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: false });
// ajv-formats is CommonJS: its plugin is the module itself, typed as the module's `default`.
type FormatsPlugin = (ajv: Ajv2020) => Ajv2020;
const addFormats = ((ajvFormats as unknown as { default?: FormatsPlugin }).default ?? ajvFormats) as unknown as FormatsPlugin;
addFormats(ajv);
const validate = ajv.compile<OsvRecord>(schema);

/** Validates a parsed JSON value against the OSV schema; returns the record or throws an OsvValidationError. */
export function validateOsv(value: unknown, source = 'record'): OsvRecord {
  if (validate(value)) return value;
  const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
  const id = typeof (value as { id?: unknown })?.id === 'string' ? ` ${(value as { id: string }).id}` : '';
  throw new OsvValidationError(`${source}${id} is not a valid OSV record: ${errors.slice(0, 5).join('; ')}`, errors);
}

/** Parses the text of one OSV JSON record and validates it. */
export function parseOsv(text: string, source = 'record'): OsvRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new OsvValidationError(`${source} is not JSON: ${(err as Error).message}`, [(err as Error).message]);
  }
  return validateOsv(value, source);
}

/** Whether a record's package ecosystem applies to the ecosystem of an installed package ("Debian" covers "Debian:12"). */
export function ecosystemMatches(recordEcosystem: string, packageEcosystem: string): boolean {
  if (recordEcosystem === packageEcosystem) return true;
  return recordEcosystem === ecosystemBase(recordEcosystem) && recordEcosystem === ecosystemBase(packageEcosystem);
}

/** What a record says about one version of one package: affected or not, and the version that fixes it. */
export interface Verdict {
  affected: boolean;
  /** The first fixed version above the installed one, in the range that affects it. */
  fixed?: string;
  /** The `affected[]` entry that matched. */
  entry?: OsvAffected;
}

const ZERO = '0';

/** Sorts a range's events by version, "introduced: 0" first (the specification's evaluation order). */
function sortedEvents(events: OsvEvent[], cmp: Compare): OsvEvent[] {
  const version = (e: OsvEvent): string => e.introduced ?? e.fixed ?? e.last_affected ?? e.limit ?? ZERO;
  return events
    .filter((e) => e.limit === undefined)
    .map((e, index) => ({ e, index }))
    .sort((a, b) => {
      const va = version(a.e);
      const vb = version(b.e);
      const za = a.e.introduced === ZERO;
      const zb = b.e.introduced === ZERO;
      if (za || zb) return za === zb ? a.index - b.index : za ? -1 : 1;
      return cmp(va, vb) || a.index - b.index;
    })
    .map(({ e }) => e);
}

/** A range's limits and sorted events, kept with the range: an advisory index evaluates each range again and again. */
const prepared = new WeakMap<OsvRange, { cmp: Compare; limits: string[]; events: OsvEvent[] }>();

function prepare(range: OsvRange, cmp: Compare): { limits: string[]; events: OsvEvent[] } {
  let p = prepared.get(range);
  if (!p || p.cmp !== cmp) {
    p = {
      cmp,
      limits: range.events.filter((e) => e.limit !== undefined).map((e) => e.limit as string),
      events: sortedEvents(range.events, cmp),
    };
    prepared.set(range, p);
  }
  return p;
}

/** Evaluates one range for a version: affected or not, and the next fixed version. */
export function evaluateRange(range: OsvRange, version: string, cmp: Compare): { affected: boolean; fixed?: string } {
  const { limits, events } = prepare(range, cmp);
  if (limits.length > 0 && !limits.some((l) => l === '*' || cmp(version, l) < 0)) return { affected: false };
  let affected = false;
  for (const e of events) {
    if (e.introduced !== undefined && (e.introduced === ZERO || cmp(version, e.introduced) >= 0)) affected = true;
    else if (e.fixed !== undefined && cmp(version, e.fixed) >= 0) affected = false;
    else if (e.last_affected !== undefined && cmp(version, e.last_affected) > 0) affected = false;
  }
  if (!affected) return { affected };
  const fixed = events.find((e) => e.fixed !== undefined && cmp(version, e.fixed) < 0)?.fixed;
  return fixed === undefined ? { affected } : { affected, fixed };
}

/**
 * Whether `record` affects `version` of `packageName` in `ecosystem` ("Debian:12", "npm", ...). Ranges of type GIT
 * are not evaluated (they need the source repository); a withdrawn record affects nothing.
 */
export function affects(record: OsvRecord, ecosystem: string, packageName: string, version: string): Verdict {
  if (record.withdrawn) return { affected: false };
  for (const entry of record.affected ?? []) {
    const pkg = entry.package;
    if (!pkg || pkg.name !== packageName || !ecosystemMatches(pkg.ecosystem, ecosystem)) continue;
    const verdict = affectsEntry(entry, pkg.ecosystem, version);
    if (verdict.affected) return verdict;
  }
  return { affected: false };
}

/** Evaluates one `affected[]` entry whose package is already known to match. */
export function affectsEntry(entry: OsvAffected, ecosystem: string, version: string): Verdict {
  const ecosystemCmp = comparatorFor(ecosystem);
  if (entry.versions?.some((v) => v === version || (ecosystemCmp !== undefined && safeCompare(ecosystemCmp, v, version) === 0))) {
    const fixed = fixedFromRanges(entry, version, ecosystemCmp);
    return fixed === undefined ? { affected: true, entry } : { affected: true, fixed, entry };
  }
  for (const range of entry.ranges ?? []) {
    const cmp = range.type === 'SEMVER' ? compareSemver : range.type === 'ECOSYSTEM' ? ecosystemCmp : undefined;
    if (!cmp) continue;
    const result = evaluateRange(range, version, cmp);
    if (result.affected) return { ...result, entry };
  }
  return { affected: false };
}

function fixedFromRanges(entry: OsvAffected, version: string, ecosystemCmp: Compare | undefined): string | undefined {
  for (const range of entry.ranges ?? []) {
    const cmp = range.type === 'SEMVER' ? compareSemver : range.type === 'ECOSYSTEM' ? ecosystemCmp : undefined;
    if (!cmp) continue;
    const fixed = evaluateRange(range, version, cmp).fixed;
    if (fixed !== undefined) return fixed;
  }
  return undefined;
}

function safeCompare(cmp: Compare, a: string, b: string): number | undefined {
  try {
    return cmp(a, b);
  } catch {
    return undefined;
  }
}
