// Tag patterns where `*` matches any run of characters (including none) and nothing else is special: ECR's
// lifecycle tagPatternList and its tag-mutability exclusion filters (WILDCARD). Compiled once, matched without
// regular expressions. Pure.

/** A pattern split once at its wildcards. */
export type CompiledPattern = { exact: string } | { parts: string[]; first: string; last: string; fixed: number };

export function compileTagPattern(pattern: string): CompiledPattern {
  const parts = pattern.split('*');
  if (parts.length === 1) return { exact: pattern };
  const first = parts[0];
  const last = parts[parts.length - 1];
  return { parts: parts.slice(1, -1).filter((p) => p !== ''), first, last, fixed: first.length + last.length };
}

export function matchesCompiledPattern(p: CompiledPattern, tag: string): boolean {
  if ('exact' in p) return p.exact === tag;
  if (tag.length < p.fixed || !tag.startsWith(p.first) || !tag.endsWith(p.last)) return false;
  // The middle parts, leftmost first, between the prefix and the suffix: greedy leftmost matching is exact for `*`.
  let from = p.first.length;
  const end = tag.length - p.last.length;
  for (const part of p.parts) {
    const at = tag.indexOf(part, from);
    if (at < 0 || at + part.length > end) return false;
    from = at + part.length;
  }
  return true;
}

/** Whether `tag` matches the pattern (`*` matches any run of characters, including none). */
export function matchesTagPattern(pattern: string, tag: string): boolean {
  return matchesCompiledPattern(compileTagPattern(pattern), tag);
}
