// The severity of an OSV record for one affected package, in ECR's terms: CRITICAL, HIGH, MEDIUM, LOW,
// INFORMATIONAL or UNDEFINED. Taken from a CVSS v3 vector (its computed base score), else from a CVSS v4 vector (its
// score computed by the specification's MacroVector method), else from the distribution's own rating
// (`database_specific.severity`, `ecosystem_specific.severity`/`urgency`, Ubuntu's priority), else from a CVSS v2
// vector. CVSS v3 and v4 share the qualitative bands (0.1-3.9 low, 4.0-6.9 medium, 7.0-8.9 high, 9.0-10 critical).
import { cvss2BaseScore, cvss3BaseScore, cvss4Score } from './cvss.ts';
import type { OsvAffected, OsvRecord, OsvSeverity } from './osv.ts';

export type EcrSeverity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'INFORMATIONAL' | 'UNDEFINED';

export interface Severity {
  severity: EcrSeverity;
  /** The CVSS v3 base score, when a v3 vector is known. */
  score?: number;
  vector?: string;
  /** CVSS v2, for ECR's `CVSS2_SCORE` and `CVSS2_VECTOR` finding attributes. */
  cvss2Score?: number;
  cvss2Vector?: string;
  /** CVSS v4: the vector, and its score when the vector is well formed. */
  cvss4Score?: number;
  cvss4Vector?: string;
}

/** CVSS v3 and v4 qualitative bands, as ECR uses them. */
export function severityFromScore(score: number): EcrSeverity {
  if (score >= 9) return 'CRITICAL';
  if (score >= 7) return 'HIGH';
  if (score >= 4) return 'MEDIUM';
  if (score >= 0.1) return 'LOW';
  return 'INFORMATIONAL';
}

/** CVSS v2 bands (NVD): 7.0–10 high, 4.0–6.9 medium, 0–3.9 low. */
export function severityFromCvss2(score: number): EcrSeverity {
  if (score >= 7) return 'HIGH';
  if (score >= 4) return 'MEDIUM';
  return 'LOW';
}

const RATINGS: Record<string, EcrSeverity> = {
  critical: 'CRITICAL',
  important: 'HIGH',
  high: 'HIGH',
  moderate: 'MEDIUM',
  medium: 'MEDIUM',
  low: 'LOW',
  negligible: 'INFORMATIONAL',
  unimportant: 'INFORMATIONAL',
  informational: 'INFORMATIONAL',
  none: 'INFORMATIONAL',
};

/** A distribution's or database's word for a severity, in ECR's terms (undefined for "unknown", "not yet assigned"...). */
export function severityFromRating(rating: unknown): EcrSeverity | undefined {
  if (typeof rating !== 'string') return undefined;
  return RATINGS[rating.trim().toLowerCase()];
}

function ratingOf(entry: OsvAffected | undefined, record: OsvRecord): EcrSeverity | undefined {
  const candidates: unknown[] = [
    entry?.ecosystem_specific?.severity,
    entry?.ecosystem_specific?.urgency,
    entry?.database_specific?.severity,
    record.database_specific?.severity,
    ...[...(entry?.severity ?? []), ...(record.severity ?? [])].filter((s) => s.type === 'Ubuntu').map((s) => s.score),
  ];
  for (const c of candidates) {
    const s = severityFromRating(c);
    if (s) return s;
  }
  return undefined;
}

/** The severity of a record for one of its `affected[]` entries (the entry's own severity first, then the record's). */
export function severityOf(record: OsvRecord, entry?: OsvAffected): Severity {
  const all: OsvSeverity[] = [...(entry?.severity ?? []), ...(record.severity ?? [])];
  const out: Severity = { severity: 'UNDEFINED' };
  for (const s of all) {
    if (s.type === 'CVSS_V3' && out.score === undefined) {
      const v3 = cvss3BaseScore(s.score);
      if (v3) {
        out.score = v3.score;
        out.vector = v3.vector;
      }
    } else if (s.type === 'CVSS_V2' && out.cvss2Score === undefined) {
      const v2 = cvss2BaseScore(s.score);
      if (v2) {
        out.cvss2Score = v2.score;
        out.cvss2Vector = v2.vector;
      }
    } else if (s.type === 'CVSS_V4' && out.cvss4Score === undefined) {
      const v4 = cvss4Score(s.score);
      if (v4) {
        out.cvss4Score = v4.score;
        out.cvss4Vector = v4.vector;
      } else out.cvss4Vector ??= s.score;
    }
  }
  if (out.score !== undefined) out.severity = severityFromScore(out.score);
  else if (out.cvss4Score !== undefined) out.severity = severityFromScore(out.cvss4Score);
  else out.severity = ratingOf(entry, record) ?? (out.cvss2Score !== undefined ? severityFromCvss2(out.cvss2Score) : 'UNDEFINED');
  return out;
}
