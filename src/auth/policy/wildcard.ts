// Wildcard matching and policy variables for IAM policies.
//
// A policy string becomes a list of tokens: literal characters, `*` (any run of characters, possibly empty) and `?`
// (exactly one character). Text that came from a policy variable (`${aws:username}`) or from the special variables
// `${*}`, `${?}` and `${$}` is always literal, so a user name can never act as a wildcard.

export type Token = { kind: 'char'; ch: string } | { kind: 'star' } | { kind: 'one' };

/** A piece of a policy value: `wild` text is written in the policy (its `*` and `?` are wildcards), the rest is literal. */
export interface Piece {
  text: string;
  wild: boolean;
}

/** Looks up the value of a policy variable (a condition key such as `aws:username`); undefined when it has none. */
export type VariableResolver = (name: string) => string | undefined;

export const VARIABLE = /\$\{([^}]*)\}/g;

/**
 * A variable with a default, `${name, 'default'}`: its name (before the first comma) and its default (quoted,
 * whitespace around it allowed); undefined without one. Split by hand: the regular expression that says the same
 * (`^([^,]*?)\s*,\s*'([^']*)'\s*$`) backtracks quadratically on a long run of spaces.
 */
export function splitDefault(inner: string): { name: string; fallback: string } | undefined {
  const comma = inner.indexOf(',');
  if (comma < 0) return undefined;
  const quoted = inner.slice(comma + 1).trim();
  if (quoted.length < 2 || !quoted.startsWith("'") || !quoted.endsWith("'")) return undefined;
  const fallback = quoted.slice(1, -1);
  if (fallback.includes("'")) return undefined;
  return { name: inner.slice(0, comma), fallback };
}

/**
 * Substitutes the policy variables in a policy value. Without a resolver (policy language `2008-10-17` or no
 * `Version`) the value is taken literally, as AWS does. Returns undefined when a variable has no value and no
 * default: AWS documents that such a statement cannot match ("any attempt to match it fails").
 */
export function substitute(value: string, resolve: VariableResolver | undefined): Piece[] | undefined {
  if (resolve === undefined || !value.includes('${')) return [{ text: value, wild: true }];
  const pieces: Piece[] = [];
  let last = 0;
  for (const m of value.matchAll(VARIABLE)) {
    if (m.index > last) pieces.push({ text: value.slice(last, m.index), wild: true });
    last = m.index + m[0].length;
    const inner = m[1];
    if (inner === '*' || inner === '?' || inner === '$') {
      pieces.push({ text: inner, wild: false });
      continue;
    }
    const withDefault = splitDefault(inner);
    const name = (withDefault ? withDefault.name : inner).trim();
    const resolved = resolve(name) ?? withDefault?.fallback;
    if (resolved === undefined) return undefined;
    pieces.push({ text: resolved, wild: false });
  }
  if (last < value.length) pieces.push({ text: value.slice(last), wild: true });
  return pieces;
}

/** The text of a substituted value with no wildcard meaning (for the exact-match operators). */
export const literalText = (pieces: Piece[]) => pieces.map((p) => p.text).join('');

/** Tokens of a substituted value, wildcards active only in policy-written text. */
export function tokenize(pieces: Piece[], ignoreCase = false): Token[] {
  const tokens: Token[] = [];
  for (const piece of pieces) {
    for (const raw of piece.text) {
      if (piece.wild && raw === '*') {
        if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
      } else if (piece.wild && raw === '?') tokens.push({ kind: 'one' });
      else tokens.push({ kind: 'char', ch: ignoreCase ? raw.toLowerCase() : raw });
    }
  }
  return tokens;
}

/** Does `value` match the glob `tokens`? `*` may match any run of characters, including `:` and `/`. */
export function matchTokens(tokens: Token[], value: string, ignoreCase = false): boolean {
  const text = ignoreCase ? value.toLowerCase() : value;
  // By code point: a string's own indexing is that for ASCII, the usual case (ARNs, actions).
  const chars: ArrayLike<string> = NON_ASCII.test(text) ? Array.from(text) : text;
  let t = 0;
  let c = 0;
  let starT = -1;
  let starC = 0;
  while (c < chars.length) {
    const token = tokens[t];
    if (token !== undefined && (token.kind === 'one' || (token.kind === 'char' && token.ch === chars[c]))) {
      t++;
      c++;
    } else if (token !== undefined && token.kind === 'star') {
      starT = t++;
      starC = c;
    } else if (starT >= 0) {
      t = starT + 1;
      c = ++starC;
    } else {
      return false;
    }
  }
  while (tokens[t]?.kind === 'star') t++;
  return t === tokens.length;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the class is every character outside ASCII, control characters included on purpose
export const NON_ASCII = /[^\x00-\x7f]/;

/** Tokens of plain policy strings, kept (case-sensitive ones, case-insensitive ones): the same few patterns are
 * matched on every request. */
const tokenCaches = [new Map<string, Token[]>(), new Map<string, Token[]>()];
const TOKEN_CACHE_MAX = 10_000;

/**
 * Tokens of a policy value after its variables are substituted (see `substitute`): undefined when a variable has
 * no value. A value without variables is tokenized once and kept.
 */
export function policyTokens(value: string, resolve: VariableResolver | undefined, ignoreCase = false): Token[] | undefined {
  if (resolve !== undefined && value.includes('${')) {
    const pieces = substitute(value, resolve);
    return pieces && tokenize(pieces, ignoreCase);
  }
  const cache = tokenCaches[ignoreCase ? 1 : 0];
  let tokens = cache.get(value);
  if (!tokens) {
    tokens = tokenize([{ text: value, wild: true }], ignoreCase);
    if (cache.size >= TOKEN_CACHE_MAX) cache.clear();
    cache.set(value, tokens);
  }
  return tokens;
}

/** Glob match of a plain policy string (no variables). */
export function matchWildcard(pattern: string, value: string, ignoreCase = false): boolean {
  return matchTokens(policyTokens(pattern, undefined, ignoreCase)!, value, ignoreCase);
}

/** Splits an ARN into its six colon-delimited components (the last keeps any further colons), or undefined. */
export function splitArn(arn: string): string[] | undefined {
  const parts: string[] = [];
  let rest = arn;
  for (let i = 0; i < 5; i++) {
    const colon = rest.indexOf(':');
    if (colon < 0) return undefined;
    parts.push(rest.slice(0, colon));
    rest = rest.slice(colon + 1);
  }
  parts.push(rest);
  return parts;
}

/**
 * ArnEquals/ArnLike: "Each of the six colon-delimited components of the ARN is checked separately and each can
 * include multi-character match wildcards (*) or single-character match wildcards (?)".
 */
export function matchArnPieces(pieces: Piece[], value: string): boolean {
  const valueParts = splitArn(value);
  if (valueParts === undefined) return false;
  const tokens = tokenize(pieces);
  const segments: Token[][] = [[]];
  for (const token of tokens) {
    if (segments.length < 6 && token.kind === 'char' && token.ch === ':') segments.push([]);
    else segments[segments.length - 1].push(token);
  }
  if (segments.length !== 6) return false;
  return segments.every((segment, i) => matchTokens(segment, valueParts[i]));
}
