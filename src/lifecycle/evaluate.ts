// Evaluation of a lifecycle policy over a repository's images, as the Amazon ECR User Guide documents it
// ("Lifecycle policy evaluation rules" and the worked examples of "Examples of lifecycle policies in Amazon ECR"):
//
// - "All rules are evaluated at the same time, regardless of rule priority. After all rules are evaluated, they are
//   then applied based on rule priority." Each rule looks at every image that meets its tagging requirements
//   ("Rules can never mark images that are marked by higher priority rules, but can still identify them as if they
//   haven't been expired"): expired and protected images still count towards `imageCountMoreThan`.
// - "An image that matches the tagging requirements of a rule cannot be expired by a rule with a lower priority."
//   So once a rule selects an image, whether it expires it or keeps it, no later rule may expire it; and
//   "An image is expired by exactly one or zero rules."
// - `tagPrefixList` / `tagPatternList`: "an image is successfully matched if all of the tags in the tagPatternList
//   or tagPrefixList value are matched against any of the image's tags": every prefix (pattern) must be matched by
//   at least one of the image's tags; one tag may match several of them. `*` in a pattern matches any run of
//   characters, including none; everything else matches itself, case-sensitively.
// - `imageCountMoreThan`: "images are sorted from youngest to oldest based on pushed_at_time and then all images
//   greater than the specified count are expired". Equal push times are ordered by digest (the greater digest
//   counts as the younger image), so the result never depends on the input order.
// - `sinceImagePushed`: "all images whose pushed_at_time is older than the specified number of days": pushed
//   strictly more than countNumber × 24 h before `now` (an image exactly countNumber days old is kept).
// - `sinceImagePulled`: the same on the last pull time, or the push time for an image never pulled.
// - "If an image is referenced by a manifest list, it cannot be expired ... without the manifest list being deleted
//   ... first": such an image is still selected and counted by the rules (and so protected from later rules), but
//   never expired. Once its manifest list is gone, the next evaluation sees `referencedByIndex: false`.
//
// Cost: one sort of the images, then one pass over them per rule.
import type { LifecyclePolicy, LifecycleRule } from './policy.ts';

export interface LifecycleImage {
  digest: string;
  tags: string[];
  /** Push time, in milliseconds since the epoch. */
  pushedAt: number;
  /** Last recorded pull, in milliseconds since the epoch; null if never pulled. */
  lastPulledAt: number | null;
  /** Referenced by a manifest list (image index) in the repository. */
  referencedByIndex: boolean;
}

export interface LifecycleResult {
  digest: string;
  tags: string[];
  pushedAt: number;
  appliedRulePriority: number;
  action: 'EXPIRE';
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/** Oldest first: by push time, then by digest. */
export function compareOldestFirst(a: Pick<LifecycleImage, 'pushedAt' | 'digest'>, b: Pick<LifecycleImage, 'pushedAt' | 'digest'>): number {
  if (a.pushedAt !== b.pushedAt) return a.pushedAt < b.pushedAt ? -1 : 1;
  return a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0;
}

/** Whether `tag` matches a tagPatternList entry (`*` matches any run of characters, including none). */
export function matchesTagPattern(pattern: string, tag: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === tag;
  const first = parts[0];
  const last = parts[parts.length - 1];
  if (tag.length < first.length + last.length || !tag.startsWith(first) || !tag.endsWith(last)) return false;
  // The middle parts, leftmost first, between the prefix and the suffix: greedy leftmost matching is exact for `*`.
  let from = first.length;
  const end = tag.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i];
    if (part === '') continue;
    const at = tag.indexOf(part, from);
    if (at < 0 || at + part.length > end) return false;
    from = at + part.length;
  }
  return true;
}

/** Whether an image meets a rule's tagging requirements (tagStatus and its prefix or pattern list). */
export function selectsImage(selection: LifecycleRule['selection'], tags: readonly string[]): boolean {
  switch (selection.tagStatus) {
    case 'any': return true;
    case 'untagged': return tags.length === 0;
    case 'tagged': {
      if (tags.length === 0) return false;
      if (selection.tagPatternList) return selection.tagPatternList.every((p) => tags.some((t) => matchesTagPattern(p, t)));
      if (selection.tagPrefixList) return selection.tagPrefixList.every((p) => tags.some((t) => t.startsWith(p)));
      return false;
    }
  }
}

/** The images the policy expires, oldest first (by push time, then digest), each with the rule that expires it. */
export function evaluateLifecycle(policy: LifecyclePolicy, images: LifecycleImage[], now: number): LifecycleResult[] {
  const rules = [...policy.rules].sort((a, b) => a.rulePriority - b.rulePriority);
  const order = images.map((_, i) => i).sort((i, j) => compareOldestFirst(images[i], images[j]));
  const selected = new Uint8Array(images.length); // selected by a rule already: no later rule may expire it
  const expiredBy = new Float64Array(images.length).fill(NaN);

  const matching: number[] = [];
  for (const rule of rules) {
    const sel = rule.selection;
    matching.length = 0;
    for (const i of order) if (selectsImage(sel, images[i].tags)) matching.push(i);

    const expire = (i: number) => {
      if (selected[i] === 0 && !images[i].referencedByIndex) expiredBy[i] = rule.rulePriority;
    };
    if (sel.countType === 'imageCountMoreThan') {
      // `matching` is oldest first: all but the newest countNumber.
      const beyond = matching.length - sel.countNumber;
      for (let k = 0; k < beyond; k++) expire(matching[k]);
    } else {
      const cutoff = now - sel.countNumber * DAY_MS;
      const pulled = sel.countType === 'sinceImagePulled';
      for (const i of matching) {
        const image = images[i];
        const at = pulled && image.lastPulledAt !== null ? image.lastPulledAt : image.pushedAt;
        if (at < cutoff) expire(i);
      }
    }
    for (const i of matching) selected[i] = 1;
  }

  const results: LifecycleResult[] = [];
  for (const i of order) {
    if (Number.isNaN(expiredBy[i])) continue;
    const image = images[i];
    results.push({ digest: image.digest, tags: [...image.tags], pushedAt: image.pushedAt, appliedRulePriority: expiredBy[i], action: 'EXPIRE' });
  }
  return results;
}
