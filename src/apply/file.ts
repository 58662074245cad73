// The registry file: YAML parsed with its positions, so that every problem found in it (a syntax error, a schema
// error, a repository named twice, an answer of the registry about one resource) names the line and column of the
// node it is about, as `file:line:column: message`.
import { readFileSync } from 'node:fs';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

/** Where a value sits in the file's data: keys and indexes from the top. */
export type Path = (string | number)[];

export interface Problem {
  line: number;
  column: number;
  message: string;
}

/** The file cannot be applied: every problem found, each at its line. */
export class RegistryFileError extends Error {
  readonly problems: Problem[];
  constructor(file: string, problems: Problem[]) {
    super(problems.map((p) => `${file}:${p.line}:${p.column}: ${p.message}`).join('\n'));
    this.name = 'RegistryFileError';
    this.problems = problems;
  }
}

export interface RegistryFile {
  name: string;
  /** The data, aliases and merge keys (`<<`) resolved. */
  data: unknown;
  /** The line and column of the node at `path` (of its key, with `key`), or of the nearest node above it. */
  locate(path: Path, key?: boolean): { line: number; column: number };
  /** An error for problems at these paths. */
  error(problems: { path: Path; message: string; key?: boolean }[]): RegistryFileError;
}

export function readRegistryFile(name: string): RegistryFile {
  return parseRegistryFile(name, readFileSync(name, 'utf8'));
}

export function parseRegistryFile(name: string, text: string): RegistryFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, merge: true, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    throw new RegistryFileError(
      name,
      doc.errors.map((e) => ({ ...at(e.pos[0]), message: `YAML: ${e.message.split('\n')[0]}` })),
    );
  }
  const locate = (path: Path, key = false) => at(offsetOf(doc, path, key));
  return {
    name,
    data: doc.toJS({ maxAliasCount: 10_000 }),
    locate,
    error: (problems) =>
      new RegistryFileError(
        name,
        problems.map((p) => ({ ...locate(p.path, p.key), message: p.message })).sort((a, b) => a.line - b.line || a.column - b.column),
      ),
  };
}

/** The start of the node at `path`, following aliases and merge keys; the nearest node above when one is missing. */
function offsetOf(doc: Document, path: Path, key: boolean): number {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const [i, step] of path.entries()) {
    const found = child(doc, resolve(doc, node), step);
    if (!found) break;
    node = found.value;
    // A key's position when asked for (an unknown key), else the value's (a wrong value), else the key's.
    offset = (key && i === path.length - 1 ? rangeStart(found.key) : (rangeStart(node) ?? rangeStart(found.key))) ?? offset;
  }
  return offset;
}

function child(doc: Document, node: unknown, step: string | number): { key?: unknown; value: unknown } | undefined {
  if (isSeq(node) && typeof step === 'number') {
    const value = node.items[step];
    return value === undefined ? undefined : { value };
  }
  if (!isMap(node)) return undefined;
  for (const pair of node.items) {
    if (!isPair(pair)) continue;
    const k = isScalar(pair.key) ? pair.key.value : pair.key;
    if (k === step || String(k) === String(step)) return { key: pair.key, value: pair.value };
  }
  // A key brought in by a merge key (`<<: *base` or `<<: [*a, *b]`).
  for (const pair of node.items) {
    if (!isPair(pair) || !isScalar(pair.key) || !isMergeKey(pair.key.value)) continue;
    const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
    for (const source of sources) {
      const found = child(doc, resolve(doc, source), step);
      if (found) return found;
    }
  }
  return undefined;
}

/** `<<`, which the parser gives as a symbol when merge keys are on. */
const isMergeKey = (v: unknown) => v === '<<' || (typeof v === 'symbol' && v.description === '<<');

const resolve = (doc: Document, node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node);

const rangeStart = (node: unknown): number | undefined => (node as Node | undefined)?.range?.[0];
