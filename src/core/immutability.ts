// Tag immutability as ECR defines it: MUTABLE, IMMUTABLE, and the *_WITH_EXCLUSION modes where tags matching an
// exclusion filter (WILDCARD: `*` matches any run of characters) take the opposite rule. Pure.
import type { MutabilityExclusion, TagMutability } from '../storage/meta/store.ts';

export function isTagImmutable(mode: TagMutability, exclusions: MutabilityExclusion[], tag: string): boolean {
  switch (mode) {
    case 'MUTABLE': return false;
    case 'IMMUTABLE': return true;
    case 'IMMUTABLE_WITH_EXCLUSION': return !exclusions.some((e) => wildcardMatch(e.filter, tag));
    case 'MUTABLE_WITH_EXCLUSION': return exclusions.some((e) => wildcardMatch(e.filter, tag));
  }
}

export function wildcardMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(value);
}
