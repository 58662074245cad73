// An ECR request body as JSON: nesting bounded before it is parsed (src/core/json-limits.ts), errors as the
// AWS JSON protocol reports a body it cannot read (SerializationException).
//
// A layer part (UploadLayerPart) is up to 20 MiB sent as base64 in a JSON string: a 27 MB body. Decoding all of it
// as UTF-8, having JSON.parse copy the string, and checking it against the base64 pattern cost several times what
// storing the part does. So a large body of an operation with a blob member takes a faster road that gives the
// same result: the large string values of the operation's top-level blob members are found in the bytes, checked
// to be base64 and decoded natively (src/ecr/base64.ts), and the rest of the body (each such value replaced by
// `null`) is parsed as before. The member then holds the decoded bytes (a Buffer, the Uint8Array the SDKs' types
// say it is), which validation (src/ecr/validate.ts) and the operation take as they are. Whenever anything is out
// of the ordinary (a value that is not plain base64, a body that is not one JSON object), the whole body is parsed
// the ordinary way, so that errors are the same as ever.
import { JsonTooDeepError, parseUntrustedJson } from '../core/json-limits.ts';
import { decodeCheckedInPlace, isPlainBase64Bytes } from './base64.ts';
import { EcrError } from './errors.ts';
import { model } from './validate.ts';

/** Bodies smaller than this are parsed the ordinary way. */
const FAST_BODY = 1 << 20;
/** A blob member's value is decoded from the bytes when it is at least this long. */
const FAST_VALUE = 64 << 10;

export function parseEcrInput(body: Buffer, operation?: string): unknown {
  if (body.length === 0) return {};
  if (operation !== undefined && body.length >= FAST_BODY) {
    const names = blobMembers(operation);
    if (names.size > 0) {
      const parsed = parseWithBlobs(body, names);
      if (parsed !== undefined) return parsed;
    }
  }
  return parse(body);
}

function parse(body: Buffer): unknown {
  try {
    return parseUntrustedJson(body);
  } catch (e) {
    if (e instanceof JsonTooDeepError) throw new EcrError('SerializationException', `The request body is not valid: ${e.message}`);
    throw new EcrError('SerializationException', 'The request body is not valid JSON');
  }
}

const blobMembersOf = new Map<string, Set<string>>();
/** The top-level members of an operation's input whose shape is a blob (UploadLayerPart's layerPartBlob). */
function blobMembers(operation: string): Set<string> {
  let names = blobMembersOf.get(operation);
  if (!names) {
    names = new Set();
    const input = Object.hasOwn(model.operations, operation) ? model.operations[operation].input : undefined;
    const members = input ? model.shapes[input]?.members : undefined;
    for (const [name, shape] of Object.entries(members ?? {})) if (model.shapes[shape]?.type === 'blob') names.add(name);
    blobMembersOf.set(operation, names);
  }
  return names;
}

interface Found {
  name: string;
  /** Which top-level member this is, counting from 0 (JSON.parse keeps the last of duplicate names). */
  index: number;
  /** The value's opening and closing quotes. */
  open: number;
  close: number;
}

/**
 * The body parsed with its large blob values decoded from the bytes, or undefined when the ordinary parse must
 * decide (the body is not one JSON object the walk below understands, or a large value is not plain base64).
 */
function parseWithBlobs(body: Buffer, names: Set<string>): object | undefined {
  const walked = topLevelStrings(body, names);
  if (!walked || walked.found.length === 0) return undefined;
  // Only the last member of a name counts, as JSON.parse keeps the last.
  const last = walked.found.filter((f) => walked.lastIndex.get(f.name) === f.index);
  if (last.length === 0) return undefined;
  // Plain base64 is ASCII without backslashes: the JSON string's value is its bytes, read as Latin-1. Every value is
  // checked before any is decoded in place (see decodeCheckedInPlace), so that a body left to the ordinary parse is
  // the body as it came.
  for (const f of last) if (!isPlainBase64Bytes(body.subarray(f.open + 1, f.close))) return undefined;
  const decoded = last.map((found) => ({ found, bytes: decodeCheckedInPlace(body.subarray(found.open + 1, found.close)) }));
  // Each value decoded replaced by null: a value for a value (and a string for nothing that counts nesting), so
  // the rest is valid JSON exactly when the body is, and nests as deep.
  const pieces: Buffer[] = [];
  let at = 0;
  for (const { found } of decoded) {
    pieces.push(body.subarray(at, found.open), NULL);
    at = found.close + 1;
  }
  pieces.push(body.subarray(at));
  const rest = parse(Buffer.concat(pieces)) as Record<string, unknown>;
  for (const { found, bytes } of decoded) rest[found.name] = bytes;
  return rest;
}

const NULL = Buffer.from('null');

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

const STOPS = new Set([COMMA, CLOSE_BRACE, QUOTE, OPEN_BRACE, OPEN_BRACKET, CLOSE_BRACKET]);

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function skipSpace(b: Buffer, i: number): number {
  while (i < b.length && isSpace(b[i])) i++;
  return i;
}

/** The quote closing a string whose contents start at `from` (-1 when none does). */
function closingQuote(b: Buffer, from: number): number {
  for (let q = b.indexOf(QUOTE, from); q >= 0; q = b.indexOf(QUOTE, q + 1)) {
    let k = q - 1;
    while (k >= from && b[k] === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q;
  }
  return -1;
}

/** The index after the object or array opening at `i` (brackets in strings skipped), or -1. */
function skipNested(b: Buffer, i: number): number {
  let depth = 0;
  for (; i < b.length; i++) {
    const c = b[i];
    if (c === QUOTE) {
      i = closingQuote(b, i + 1);
      if (i < 0) return -1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (--depth === 0) return i + 1;
    }
  }
  return -1;
}

/**
 * A walk over the members of the top-level object: the string values of at least FAST_VALUE bytes of the members
 * named in `names`, and the index of the last member of each name. Undefined for anything the walk does not
 * follow (the ordinary parse then decides, and reports what is wrong).
 */
function topLevelStrings(b: Buffer, names: Set<string>): { found: Found[]; lastIndex: Map<string, number> } | undefined {
  const found: Found[] = [];
  const lastIndex = new Map<string, number>();
  let i = skipSpace(b, 0);
  if (b[i] !== OPEN_BRACE) return undefined;
  i = skipSpace(b, i + 1);
  if (b[i] === CLOSE_BRACE) return { found, lastIndex };
  for (let index = 0; ; index++) {
    if (b[i] !== QUOTE) return undefined;
    const keyEnd = closingQuote(b, i + 1);
    if (keyEnd < 0 || keyEnd - i > 1024) return undefined;
    let name: string;
    try {
      name = JSON.parse(b.toString('utf8', i, keyEnd + 1)) as string;
    } catch {
      return undefined;
    }
    lastIndex.set(name, index);
    i = skipSpace(b, keyEnd + 1);
    if (b[i] !== COLON) return undefined;
    i = skipSpace(b, i + 1);
    const c = b[i];
    if (c === QUOTE) {
      const close = closingQuote(b, i + 1);
      if (close < 0) return undefined;
      if (names.has(name) && close - i - 1 >= FAST_VALUE) found.push({ name, index, open: i, close });
      i = close + 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      i = skipNested(b, i);
      if (i < 0) return undefined;
    } else {
      // A number, true, false or null: up to the next delimiter (the parse checks what it is). A quote or a
      // bracket in it ends the walk, so that quotes pair here as the nesting check pairs them.
      while (i < b.length && !isSpace(b[i]) && !STOPS.has(b[i])) i++;
      if (b[i] === QUOTE || b[i] === OPEN_BRACE || b[i] === OPEN_BRACKET || b[i] === CLOSE_BRACKET) return undefined;
    }
    i = skipSpace(b, i);
    if (b[i] === COMMA) {
      i = skipSpace(b, i + 1);
      continue;
    }
    if (b[i] === CLOSE_BRACE) return { found, lastIndex };
    return undefined;
  }
}
