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
// - `sinceImagePulled`: the same on the last pull time, or the push time for an image never pulled; an image restored
//   from the archive and not pulled since counts from its restore ("last_activated_at").
// - `sinceImageTransitioned`: archived images whose last_archived_at is older than the number of days.
// - Storage classes: a rule selects only images of its class (`storageClass`, standard unless given), so each class's
//   rules see that class's images; an image is acted on (expired, or transitioned to the archive) by one rule or none.
// - "If an image is referenced by a manifest list, it cannot be expired ... without the manifest list being deleted
//   ... first": such an image is still selected and counted by the rules (and so protected from later rules), but
//   never expired. Once its manifest list is gone, the next evaluation sees `referencedByIndex: false`.
//
// Cost: one sort of the images, then one pass over them per rule.
import { compileTagPattern, matchesCompiledPattern } from '../core/tag-pattern.ts';
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
  /** Absent: STANDARD. */
  storageClass?: 'STANDARD' | 'ARCHIVE';
  /** When last archived / restored (ms), or null. */
  lastArchivedAt?: number | null;
  lastActivatedAt?: number | null;
}

export interface LifecycleResult {
  digest: string;
  tags: string[];
  pushedAt: number;
  appliedRulePriority: number;
  action: 'EXPIRE' | 'TRANSITION';
  /** With TRANSITION: where the image goes. */
  targetStorageClass?: 'ARCHIVE';
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** A rule's tagging requirements as a test on an image's tags (tagStatus and its prefix or pattern list). */
function tagTest(selection: LifecycleRule['selection']): (tags: readonly string[]) => boolean {
  switch (selection.tagStatus) {
    case 'any':
      return () => true;
    case 'untagged':
      return (tags) => tags.length === 0;
    case 'tagged': {
      // Every prefix (pattern) must be matched by at least one of the image's tags.
      if (selection.tagPatternList) {
        const patterns = selection.tagPatternList.map(compileTagPattern);
        return (tags) => {
          if (tags.length === 0) return false;
          for (const p of patterns) {
            let found = false;
            for (const t of tags)
              if (matchesCompiledPattern(p, t)) {
                found = true;
                break;
              }
            if (!found) return false;
          }
          return true;
        };
      }
      const prefixes = selection.tagPrefixList ?? [];
      return (tags) => {
        if (tags.length === 0 || prefixes.length === 0) return false;
        for (const p of prefixes) {
          let found = false;
          for (const t of tags)
            if (t.startsWith(p)) {
              found = true;
              break;
            }
          if (!found) return false;
        }
        return true;
      };
    }
  }
}

/** The images the policy acts on (expires or archives), oldest first (by push time, then digest), each with the rule that does. */
export function evaluateLifecycle(policy: LifecyclePolicy, images: LifecycleImage[], now: number): LifecycleResult[] {
  const n = images.length;
  const rules = [...policy.rules].sort((a, b) => a.rulePriority - b.rulePriority);
  const pushedAt = new Float64Array(n);
  for (let i = 0; i < n; i++) pushedAt[i] = images[i].pushedAt;
  // Oldest first, sorted once; the rules read it through typed arrays (no per-rule sort, no per-rule allocation).
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort(
    (i, j) => pushedAt[i] - pushedAt[j] || (images[i].digest < images[j].digest ? -1 : images[i].digest > images[j].digest ? 1 : 0),
  );

  const selected = new Uint8Array(n); // selected by a higher-priority rule: may no longer be expired
  const matches = new Uint8Array(n); // selected by the rule at hand
  const expiredBy = new Float64Array(n).fill(NaN);
  for (const rule of rules) {
    const sel = rule.selection;
    const selects = tagTest(sel);
    const storageClass = sel.storageClass === 'archive' ? 'ARCHIVE' : 'STANDARD';
    let count = 0;
    for (let i = 0; i < n; i++) {
      const m = (images[i].storageClass ?? 'STANDARD') === storageClass && selects(images[i].tags) ? 1 : 0;
      matches[i] = m;
      count += m;
    }
    const mayExpire = (i: number) => selected[i] === 0 && !images[i].referencedByIndex;
    if (sel.countType === 'imageCountMoreThan') {
      // Walk the rule's images oldest first: all but the newest countNumber are expired.
      let beyond = count - sel.countNumber;
      for (let k = 0; k < n && beyond > 0; k++) {
        const i = order[k];
        if (matches[i] === 0) continue;
        beyond--;
        if (mayExpire(i)) expiredBy[i] = rule.rulePriority;
      }
    } else {
      const cutoff = now - sel.countNumber * DAY_MS;
      for (let i = 0; i < n; i++) {
        if (matches[i] === 0) continue;
        if (since(sel.countType, images[i]) < cutoff && mayExpire(i)) expiredBy[i] = rule.rulePriority;
      }
    }
    for (let i = 0; i < n; i++) selected[i] |= matches[i];
  }

  const byPriority = new Map(rules.map((r) => [r.rulePriority, r]));
  const results: LifecycleResult[] = [];
  for (let k = 0; k < n; k++) {
    const i = order[k];
    if (Number.isNaN(expiredBy[i])) continue;
    const image = images[i];
    const transition = byPriority.get(expiredBy[i])!.action.type === 'transition';
    results.push({
      digest: image.digest,
      tags: [...image.tags],
      pushedAt: image.pushedAt,
      appliedRulePriority: expiredBy[i],
      action: transition ? 'TRANSITION' : 'EXPIRE',
      ...(transition ? { targetStorageClass: 'ARCHIVE' as const } : {}),
    });
  }
  return results;
}

/** The time a time-based count type measures an image from. */
function since(countType: LifecycleRule['selection']['countType'], image: LifecycleImage): number {
  switch (countType) {
    case 'sinceImagePulled':
      return Math.max(image.lastPulledAt ?? image.pushedAt, image.lastActivatedAt ?? -Infinity);
    case 'sinceImageTransitioned':
      return image.lastArchivedAt ?? image.pushedAt;
    default:
      return image.pushedAt;
  }
}
