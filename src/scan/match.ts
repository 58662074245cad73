// Matching an inventory against OSV advisories. Advisories are indexed by (ecosystem, package name) once; each
// installed package then looks up only the advisories for its name. OS packages match on their source package
// (dpkg `Source:`, apk origin), as Debian and Alpine publish advisories; rpm packages on their binary name (then
// their source name), as Red Hat's rebuilds publish them.
import type { Package } from './inventory/package.ts';
import { normalizePythonName } from './inventory/python.ts';
import { affectsEntry, type OsvAffected, type OsvRecord } from './osv.ts';
import { severityOf, type EcrSeverity } from './severity.ts';
import { ecosystemBase } from './versions/index.ts';

export interface Finding {
  /** The CVE identifier when the record has one (as ECR names findings), else the OSV id. */
  id: string;
  /** The OSV record's own id. */
  osvId: string;
  aliases: string[];
  package: Package;
  installedVersion: string;
  fixedVersion?: string;
  severity: EcrSeverity;
  /** The CVSS v3 base score and vector, when known. */
  score?: number;
  vector?: string;
  cvss2Score?: number;
  cvss2Vector?: string;
  cvss4Score?: number;
  cvss4Vector?: string;
  summary?: string;
  description?: string;
  uri: string;
  /** The record's publication and last modification times (RFC 3339), as its database gives them. */
  published?: string;
  modified?: string;
}

interface Candidate {
  record: OsvRecord;
  entry: OsvAffected;
}

const CVE = /CVE-\d{4}-\d{4,}/;

/** The name a finding is shown under: the record's CVE (its id, an alias, an upstream id), else its own id. */
export function findingId(record: OsvRecord): string {
  if (/^CVE-\d{4}-\d{4,}$/.test(record.id)) return record.id;
  for (const alias of [...(record.aliases ?? []), ...(record.upstream ?? [])]) if (/^CVE-\d{4}-\d{4,}$/.test(alias)) return alias;
  return CVE.exec(record.id)?.[0] ?? record.id;
}

export function findingUri(record: OsvRecord): string {
  const advisory = record.references?.find((r) => r.type === 'ADVISORY') ?? record.references?.[0];
  return advisory?.url ?? `https://osv.dev/vulnerability/${encodeURIComponent(record.id)}`;
}

/** Package names as an ecosystem compares them (PyPI names are case- and separator-insensitive, PEP 503). */
export function normalizeName(ecosystem: string, name: string): string {
  return ecosystemBase(ecosystem) === 'PyPI' ? normalizePythonName(name) : name;
}

const key = (ecosystem: string, name: string): string => `${ecosystem}\u0000${normalizeName(ecosystem, name)}`;

/** What a package is matched as: the names and the version advisories use for it. */
function advisoryIdentity(pkg: Package): { names: string[]; version: string } {
  switch (pkg.type) {
    case 'deb':
    case 'apk':
      return { names: [pkg.sourceName ?? pkg.name], version: pkg.sourceVersion ?? pkg.version };
    case 'rpm':
      return { names: pkg.sourceName && pkg.sourceName !== pkg.name ? [pkg.name, pkg.sourceName] : [pkg.name], version: pkg.version };
    default:
      return { names: [pkg.name], version: pkg.version };
  }
}

export class AdvisoryIndex {
  private readonly byPackage = new Map<string, Candidate[]>();
  size = 0;

  /** Indexes a record under each of its affected packages; withdrawn records are left out. */
  add(record: OsvRecord): void {
    if (record.withdrawn) return;
    let added = false;
    for (const entry of record.affected ?? []) {
      if (!entry.package) continue;
      const k = key(entry.package.ecosystem, entry.package.name);
      const list = this.byPackage.get(k);
      if (list) list.push({ record, entry });
      else this.byPackage.set(k, [{ record, entry }]);
      added = true;
    }
    if (added) this.size++;
  }

  static of(records: Iterable<OsvRecord>): AdvisoryIndex {
    const index = new AdvisoryIndex();
    for (const r of records) index.add(r);
    return index;
  }

  private candidates(pkg: Package, name: string): Candidate[] {
    const exact = this.byPackage.get(key(pkg.ecosystem, name)) ?? [];
    const base = ecosystemBase(pkg.ecosystem);
    // Records for the unversioned ecosystem ("Debian") apply to every release ("Debian:12").
    if (base === pkg.ecosystem) return exact;
    const general = this.byPackage.get(key(base, name));
    return general ? [...exact, ...general] : exact;
  }

  /** The findings for a list of packages: one per (vulnerability, package), in a stable order. */
  match(packages: Package[]): Finding[] {
    const findings = new Map<string, Finding>();
    for (const pkg of packages) {
      const { names, version } = advisoryIdentity(pkg);
      for (const name of names) {
        for (const { record, entry } of this.candidates(pkg, name)) {
          const verdict = affectsEntry(entry, entry.package!.ecosystem, version);
          if (!verdict.affected) continue;
          const finding = toFinding(record, entry, pkg, verdict.fixed);
          const id = `${finding.id}\u0000${pkg.ecosystem}\u0000${pkg.name}\u0000${pkg.version}\u0000${pkg.path}`;
          const known = findings.get(id);
          if (!known || better(finding, known)) findings.set(id, finding);
        }
      }
    }
    return [...findings.values()].sort(byFinding);
  }
}

/** Between two records of one vulnerability for one package, the one that says more. */
function better(a: Finding, b: Finding): boolean {
  if ((a.score !== undefined) !== (b.score !== undefined)) return a.score !== undefined;
  if ((a.cvss4Score !== undefined) !== (b.cvss4Score !== undefined)) return a.cvss4Score !== undefined;
  if ((a.fixedVersion !== undefined) !== (b.fixedVersion !== undefined)) return a.fixedVersion !== undefined;
  if ((a.severity === 'UNDEFINED') !== (b.severity === 'UNDEFINED')) return b.severity === 'UNDEFINED';
  return a.osvId < b.osvId;
}

const RANK: Record<EcrSeverity, number> = { CRITICAL: 0, HIGH: 1, MEDIUM: 2, LOW: 3, INFORMATIONAL: 4, UNDEFINED: 5 };
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byFinding = (a: Finding, b: Finding): number =>
  RANK[a.severity] - RANK[b.severity] ||
  cmp(a.id, b.id) ||
  cmp(a.package.name, b.package.name) ||
  cmp(a.package.version, b.package.version) ||
  cmp(a.package.path, b.package.path);

function toFinding(record: OsvRecord, entry: OsvAffected, pkg: Package, fixed: string | undefined): Finding {
  const severity = severityOf(record, entry);
  const finding: Finding = {
    id: findingId(record),
    osvId: record.id,
    aliases: [...(record.aliases ?? [])],
    package: pkg,
    installedVersion: pkg.version,
    severity: severity.severity,
    uri: findingUri(record),
  };
  if (fixed !== undefined) finding.fixedVersion = fixed;
  if (severity.score !== undefined) finding.score = severity.score;
  if (severity.vector !== undefined) finding.vector = severity.vector;
  if (severity.cvss2Score !== undefined) finding.cvss2Score = severity.cvss2Score;
  if (severity.cvss2Vector !== undefined) finding.cvss2Vector = severity.cvss2Vector;
  if (severity.cvss4Score !== undefined) finding.cvss4Score = severity.cvss4Score;
  if (severity.cvss4Vector !== undefined) finding.cvss4Vector = severity.cvss4Vector;
  if (record.summary) finding.summary = record.summary;
  const description = record.details ?? record.summary;
  if (description) finding.description = description;
  if (record.published) finding.published = record.published;
  finding.modified = record.modified;
  return finding;
}

/** Counts of findings by severity, as ECR's `findingSeverityCounts`. */
export function severityCounts(findings: Finding[]): Partial<Record<EcrSeverity, number>> {
  const counts: Partial<Record<EcrSeverity, number>> = {};
  for (const f of findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
  return counts;
}
