// Property-based fuzzing of the parsers that see untrusted input (test/unit/fuzz-*.test.ts), with fast-check.
// `npm test` runs BERTH_FUZZ_RUNS cases per property (2000 unless told); `npm run fuzz` runs 1,000,000.
// BERTH_FUZZ_SEED replays a reported failure (fast-check prints the seed and path of every counterexample).
//
// Each case is bounded: `attempt` fails a case that takes longer than BERTH_FUZZ_CASE_MS (1000 ms unless told),
// and a watchdog thread kills the test process, printing the case, if one case runs for BERTH_FUZZ_HANG_MS
// (30 s unless told): a catastrophic regex or an endless loop blocks the event loop, so no timer of the test's
// own thread could ever report it.
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';

export { fc };

export const RUNS = positive(process.env.BERTH_FUZZ_RUNS, 2000);
const CASE_MS = positive(process.env.BERTH_FUZZ_CASE_MS, 1000);
const HANG_MS = positive(process.env.BERTH_FUZZ_HANG_MS, 30_000);
const SEED = process.env.BERTH_FUZZ_SEED === undefined ? undefined : Number(process.env.BERTH_FUZZ_SEED);

/** A test's own timeout, long enough for `npm run fuzz` (the runner's default of 10 minutes is for normal runs). */
export const FUZZ_TEST_TIMEOUT = RUNS > 20_000 ? 6 * 60 * 60 * 1000 : 10 * 60 * 1000;

function positive(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

/** Runs a property for RUNS cases (or `runs`); a counterexample fails the test with fast-check's report. */
export function check(property: fc.IProperty<any>, runs = RUNS): void {
  fc.assert(property, { numRuns: runs, ...(SEED !== undefined ? { seed: SEED } : {}) });
}

/** Same, for a property whose cases are asynchronous (requests signed by the SDK, for example). */
export async function checkAsync(property: fc.IAsyncProperty<any>, runs = RUNS): Promise<void> {
  await fc.assert(property, { numRuns: runs, ...(SEED !== undefined ? { seed: SEED } : {}) });
}

// --- The watchdog -----------------------------------------------------------------------------------------------
// The test thread writes, before each case, the case's description into shared memory and a "busy since" time;
// the watchdog thread reads them every 250 ms and, after HANG_MS in one case, prints the case and kills the process.

const DESCRIPTION_BYTES = 4096;
const shared = new SharedArrayBuffer(8 + 4 + DESCRIPTION_BYTES);
const busySince = new Float64Array(shared, 0, 1);
const descriptionLength = new Int32Array(shared, 8, 1);
const description = new Uint8Array(shared, 12, DESCRIPTION_BYTES);
const encoder = new TextEncoder();
let watchdog: Worker | undefined;

function startWatchdog(): void {
  if (watchdog) return;
  watchdog = new Worker(
    `
    const { workerData } = require('node:worker_threads');
    const { writeSync } = require('node:fs');
    const [shared, hangMs] = workerData;
    const busySince = new Float64Array(shared, 0, 1);
    const length = new Int32Array(shared, 8, 1);
    const description = new Uint8Array(shared, 12);
    setInterval(() => {
      const since = busySince[0];
      if (since > 0 && Date.now() - since > hangMs) {
        const text = Buffer.from(description.slice(0, length[0])).toString('utf8');
        writeSync(2, '\\nfuzz: a case has run for more than ' + hangMs + ' ms (a hang); killing the test process. The case:\\n' + text + '\\n');
        process.kill(process.pid, 'SIGKILL');
      }
    }, 250);
  `,
    { eval: true, workerData: [shared, HANG_MS] },
  );
  watchdog.unref();
}

function describeCase(input: unknown): string {
  try {
    const text = JSON.stringify(input, (_k, v: unknown) =>
      Buffer.isBuffer(v) ? { buffer: v.toString('base64') } : v instanceof Uint8Array ? { bytes: Buffer.from(v).toString('base64') } : v,
    );
    return text === undefined ? String(input) : text;
  } catch {
    return String(input);
  }
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Calls `parse()` on one generated `input` under the case bound, and returns what it returned or what it threw.
 * Fails (an assertion, so the property fails and fast-check shrinks the input) when the call took more than
 * BERTH_FUZZ_CASE_MS.
 */
export function attempt<T>(input: unknown, parse: () => T): Outcome<T> {
  startWatchdog();
  const { written } = encoder.encodeInto(describeCase(input).slice(0, DESCRIPTION_BYTES), description);
  descriptionLength[0] = written;
  const start = performance.now();
  busySince[0] = Date.now();
  let outcome: Outcome<T>;
  try {
    outcome = { ok: true, value: parse() };
  } catch (error) {
    outcome = { ok: false, error };
  } finally {
    busySince[0] = 0;
  }
  const ms = performance.now() - start;
  if (ms > CASE_MS) assert.fail(`one case took ${ms.toFixed(0)} ms (bound: ${CASE_MS} ms)`);
  return outcome;
}

/** The same as `attempt`, for a parser that returns a promise. */
export async function attemptAsync<T>(input: unknown, parse: () => Promise<T>): Promise<Outcome<T>> {
  const start = performance.now();
  let outcome: Outcome<T>;
  try {
    outcome = { ok: true, value: await parse() };
  } catch (error) {
    outcome = { ok: false, error };
  }
  const ms = performance.now() - start;
  if (ms > CASE_MS) assert.fail(`one case took ${ms.toFixed(0)} ms (bound: ${CASE_MS} ms)`);
  return outcome;
}

/** Asserts that a parser's failure is its own documented error (not a TypeError, RangeError, ...). */
export function assertOwnError(outcome: Outcome<unknown>, errorClass: new (...args: any[]) => Error, check?: (e: any) => void): void {
  if (outcome.ok) return;
  const e = outcome.error;
  if (!(e instanceof errorClass)) {
    const stack = e instanceof Error ? e.stack : String(e);
    assert.fail(`expected a ${errorClass.name} or a result, got ${stack}`);
  }
  check?.(e);
}

/** Asserts that a parser accepted its input; shows what it threw otherwise. */
export function assertAccepted<T>(outcome: Outcome<T>, what = 'a valid input'): T {
  if (!outcome.ok) {
    const e = outcome.error;
    assert.fail(`${what} was refused: ${e instanceof Error ? e.message : String(e)}`);
  }
  return outcome.value;
}

// --- Mutations of JSON documents ----------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path (list of keys / indexes) inside a JSON value, the root included. */
export function jsonPaths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...jsonPaths(v, [...prefix, i])));
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) out.push(...jsonPaths(v, [...prefix, k]));
  return out;
}

export type Mutation =
  | { kind: 'replace'; pick: number; with: Json }
  | { kind: 'delete'; pick: number }
  | { kind: 'add'; pick: number; key: string; with: Json }
  | { kind: 'wrap'; pick: number };

/** A structure-aware mutation: replace, delete, add beside or wrap in a list one node of a document. */
export const mutation = (leaf: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.record({ kind: fc.constant('replace' as const), pick: fc.nat(), with: leaf }),
    fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant('add' as const), pick: fc.nat(), key: fc.string({ maxLength: 12 }), with: leaf }),
    fc.record({ kind: fc.constant('wrap' as const), pick: fc.nat() }),
  );

/** `doc` (not changed) with one mutation applied. */
export function mutate(doc: Json, m: Mutation): Json {
  const copy = structuredClone(doc);
  const paths = jsonPaths(copy);
  const path = paths[m.pick % paths.length];
  if (path.length === 0) {
    if (m.kind === 'replace') return m.with;
    if (m.kind === 'wrap') return [copy];
    return copy;
  }
  let parent: any = copy;
  for (const k of path.slice(0, -1)) parent = parent[k];
  const last = path[path.length - 1];
  switch (m.kind) {
    case 'replace':
      parent[last] = m.with;
      break;
    case 'wrap':
      parent[last] = [parent[last]];
      break;
    case 'delete':
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
      break;
    case 'add': {
      const node = parent[last];
      if (Array.isArray(node)) node.push(m.with);
      else if (node !== null && typeof node === 'object') node[m.key] = m.with;
      else parent[last] = m.with;
      break;
    }
  }
  return copy;
}

/** JSON text nested `depth` levels deep (arrays, or objects when `objects`), around `inner`. */
export function deeplyNested(depth: number, inner = '1', objects = false): string {
  return objects ? '{"a":'.repeat(depth) + inner + '}'.repeat(depth) : '['.repeat(depth) + inner + ']'.repeat(depth);
}
