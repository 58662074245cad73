// Semantic versions (semver.org 2.0.0, as npm orders them), and Go module versions (`v1.2.3`, `+incompatible`,
// pseudo-versions such as `v0.0.0-20191109021931-daa7c04131f5`, which are semver pre-releases).
import { compareDigits, type Order } from './order.ts';

export interface SemVer {
  core: [string, string, string];
  prerelease: string[];
}

const SEMVER = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]*)?$/;

/** Parses a version; a missing minor or patch is 0 (as OSV's Go and npm data sometimes write `1.2`). */
export function parseSemver(version: string): SemVer | undefined {
  const m = SEMVER.exec(version.trim().replace(/^=/, ''));
  if (!m) return undefined;
  return { core: [m[1], m[2] ?? '0', m[3] ?? '0'], prerelease: m[4] ? m[4].split('.') : [] };
}

const isNumeric = (s: string): boolean => /^\d+$/.test(s);

function compareIdentifier(a: string, b: string): Order {
  const na = isNumeric(a);
  const nb = isNumeric(b);
  if (na && nb) return compareDigits(a, b);
  if (na) return -1;
  if (nb) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareSemver(a: string, b: string): Order {
  const x = parseSemver(a);
  const y = parseSemver(b);
  if (!x || !y) {
    // Not semver: keep an order rather than fail, invalid versions first.
    if (x) return 1;
    if (y) return -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  for (let i = 0; i < 3; i++) {
    const order = compareDigits(x.core[i], y.core[i]);
    if (order !== 0) return order;
  }
  // A version with a pre-release is older than the same version without one.
  if (x.prerelease.length === 0 || y.prerelease.length === 0) {
    return x.prerelease.length === y.prerelease.length ? 0 : x.prerelease.length === 0 ? 1 : -1;
  }
  for (let i = 0; i < Math.max(x.prerelease.length, y.prerelease.length); i++) {
    if (i >= x.prerelease.length) return -1;
    if (i >= y.prerelease.length) return 1;
    const order = compareIdentifier(x.prerelease[i], y.prerelease[i]);
    if (order !== 0) return order;
  }
  return 0;
}
