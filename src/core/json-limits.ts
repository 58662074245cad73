// Bounds on JSON that arrives from clients: how deeply it may nest. Checked by one linear scan over the text
// BEFORE it is parsed, so that neither JSON.parse nor a recursive walk of its result (validation, a policy
// parser, JSON.stringify of a stored part) ever sees a document nested deeper than any legitimate one.
// Every parser of untrusted JSON goes through here: ECR request bodies, OCI manifests and indexes, IAM policy
// documents, lifecycle policies, admin bodies, pagination tokens.

/** The deepest nesting of objects and arrays accepted (ECR inputs, manifests and policies need fewer than 10). */
export const MAX_JSON_DEPTH = 64;

export class JsonTooDeepError extends Error {
  override name = 'JsonTooDeepError';
  readonly maxDepth: number;
  constructor(maxDepth: number) {
    super(`JSON nests objects and arrays deeper than ${maxDepth} levels`);
    this.maxDepth = maxDepth;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * The deepest nesting of `{`/`[` outside strings, or Infinity as soon as it passes `limit` (the scan stops there).
 * One pass, no allocation: brackets inside strings (escapes included) do not count, and a string's contents are
 * skipped by a native search for its closing quote. Works on text or on UTF-8 bytes alike (no byte of a multi-byte
 * UTF-8 sequence is ASCII). Malformed JSON is left for the parser to refuse.
 */
export function jsonDepth(json: string | Uint8Array, limit = MAX_JSON_DEPTH): number {
  return typeof json === 'string' ? depthOfText(json, limit) : depthOfBytes(json, limit);
}

function depthOfBytes(json: Uint8Array, limit: number): number {
  const bytes = Buffer.isBuffer(json) ? json : Buffer.from(json.buffer, json.byteOffset, json.byteLength);
  const n = bytes.length;
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < n; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      i = closingQuoteOfBytes(bytes, i + 1);
      if (i < 0) return deepest;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return Infinity;
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return deepest;
}

function depthOfText(json: string, limit: number): number {
  const n = json.length;
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < n; i++) {
    const c = json.charCodeAt(i);
    if (c === QUOTE) {
      i = closingQuoteOfText(json, i + 1);
      if (i < 0) return deepest;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return Infinity;
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return deepest;
}

// The index of the quote that closes a string whose contents start at `from` (-1 when none does): the next quote
// not escaped, i.e. not preceded by an odd run of backslashes. Each backslash run is looked at once.

function closingQuoteOfBytes(bytes: Buffer, from: number): number {
  for (let q = bytes.indexOf(QUOTE, from); q >= 0; q = bytes.indexOf(QUOTE, q + 1)) {
    let b = q - 1;
    while (b >= from && bytes[b] === BACKSLASH) b--;
    if ((q - 1 - b) % 2 === 0) return q;
  }
  return -1;
}

function closingQuoteOfText(text: string, from: number): number {
  for (let q = text.indexOf('"', from); q >= 0; q = text.indexOf('"', q + 1)) {
    let b = q - 1;
    while (b >= from && text.charCodeAt(b) === BACKSLASH) b--;
    if ((q - 1 - b) % 2 === 0) return q;
  }
  return -1;
}

/** Throws JsonTooDeepError when `json` nests deeper than `maxDepth`. */
export function checkJsonDepth(json: string | Uint8Array, maxDepth = MAX_JSON_DEPTH): void {
  if (jsonDepth(json, maxDepth) > maxDepth) throw new JsonTooDeepError(maxDepth);
}

/** JSON.parse of untrusted text, after the depth check: throws JsonTooDeepError or JSON.parse's SyntaxError. */
export function parseUntrustedJson(json: string | Buffer, maxDepth = MAX_JSON_DEPTH): unknown {
  checkJsonDepth(json, maxDepth);
  return JSON.parse(typeof json === 'string' ? json : json.toString('utf8'));
}
