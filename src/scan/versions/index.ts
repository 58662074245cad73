// One comparator per OSV ecosystem: `comparatorFor("Debian:12")`, `comparatorFor("Alpine:v3.19")`, ...
import { compareApk } from './apk.ts';
import { compareDpkg } from './dpkg.ts';
import { compareMaven } from './maven.ts';
import type { Order } from './order.ts';
import { comparePep440 } from './pep440.ts';
import { compareRpm } from './rpm.ts';
import { compareSemver } from './semver.ts';

export type { Order } from './order.ts';
export type Compare = (a: string, b: string) => Order;

/** Comparators by the ecosystem's name, without its `:release` suffix. */
const BY_ECOSYSTEM: Record<string, Compare> = {
  Debian: compareDpkg,
  Ubuntu: compareDpkg,
  Alpine: compareApk,
  Wolfi: compareApk,
  Chainguard: compareApk,
  'Red Hat': compareRpm,
  'Rocky Linux': compareRpm,
  AlmaLinux: compareRpm,
  'Oracle Linux': compareRpm,
  openEuler: compareRpm,
  openSUSE: compareRpm,
  SUSE: compareRpm,
  'SUSE Linux Enterprise': compareRpm,
  Mageia: compareRpm,
  Fedora: compareRpm,
  npm: compareSemver,
  Go: compareSemver,
  'crates.io': compareSemver,
  Hex: compareSemver,
  Pub: compareSemver,
  SwiftURL: compareSemver,
  PyPI: comparePep440,
  Maven: compareMaven,
};

/** The ecosystem's name without its release: "Debian:12" → "Debian", "Alpine:v3.19" → "Alpine". */
export const ecosystemBase = (ecosystem: string): string => {
  const colon = ecosystem.indexOf(':');
  return colon < 0 ? ecosystem : ecosystem.slice(0, colon);
};

/** The comparator for an OSV ecosystem name, or undefined when versions of that ecosystem cannot be ordered here. */
export function comparatorFor(ecosystem: string): Compare | undefined {
  return BY_ECOSYSTEM[ecosystemBase(ecosystem)];
}

/** Compares two versions of an ecosystem; throws for an ecosystem with no comparator. */
export function compare(ecosystem: string, a: string, b: string): Order {
  const cmp = comparatorFor(ecosystem);
  if (!cmp) throw new Error(`no version comparator for the ecosystem ${JSON.stringify(ecosystem)}`);
  return cmp(a, b);
}

export { compareApk, compareDpkg, compareMaven, comparePep440, compareRpm, compareSemver };
