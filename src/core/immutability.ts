// Tag immutability as ECR defines it: MUTABLE, IMMUTABLE, and the *_WITH_EXCLUSION modes where tags matching an
// exclusion filter (WILDCARD: `*` matches any run of characters) take the opposite rule. Pure.
import type { MutabilityExclusion, TagMutability } from '../storage/meta/store.ts';
import { matchesTagPattern } from './tag-pattern.ts';

export function isTagImmutable(mode: TagMutability, exclusions: MutabilityExclusion[], tag: string): boolean {
  switch (mode) {
    case 'MUTABLE':
      return false;
    case 'IMMUTABLE':
      return true;
    case 'IMMUTABLE_WITH_EXCLUSION':
      return !exclusions.some((e) => matchesTagPattern(e.filter, tag));
    case 'MUTABLE_WITH_EXCLUSION':
      return exclusions.some((e) => matchesTagPattern(e.filter, tag));
  }
}
