// CVSS base scores computed from vectors: version 3.0 and 3.1 (FIRST's specification, section 7 "Equations" and
// Appendix A "Roundup"), and version 2 (the CVSS v2 guide, section 3.2.1 "Base Equation").

export interface CvssScore {
  version: '2.0' | '3.0' | '3.1';
  score: number;
  vector: string;
}

function metrics(vector: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of vector.split('/')) {
    const colon = part.indexOf(':');
    if (colon > 0) out.set(part.slice(0, colon), part.slice(colon + 1));
  }
  return out;
}

const V3 = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  CIA: { H: 0.56, L: 0.22, N: 0 },
} as const;

/** CVSS v3.1 Roundup: the smallest number with one decimal that is at least the input, free of floating-point error. */
function roundup31(value: number): number {
  const int = Math.round(value * 100000);
  return int % 10000 === 0 ? int / 100000 : (Math.floor(int / 10000) + 1) / 10;
}

const roundup30 = (value: number): number => Math.ceil(value * 10) / 10;

/** The base score of a CVSS v3.0 or v3.1 vector, or undefined if a base metric is missing or unknown. */
export function cvss3BaseScore(vector: string): CvssScore | undefined {
  const m = /^CVSS:(3\.[01])\//.exec(vector);
  if (!m) return undefined;
  const version = m[1] as '3.0' | '3.1';
  const v = metrics(vector);
  const scope = v.get('S');
  const av = V3.AV[v.get('AV') as keyof typeof V3.AV];
  const ac = V3.AC[v.get('AC') as keyof typeof V3.AC];
  const ui = V3.UI[v.get('UI') as keyof typeof V3.UI];
  const pr = { N: 0.85, L: scope === 'C' ? 0.68 : 0.62, H: scope === 'C' ? 0.5 : 0.27 }[v.get('PR') as 'N' | 'L' | 'H'];
  const [c, i, a] = ['C', 'I', 'A'].map((k) => V3.CIA[v.get(k) as keyof typeof V3.CIA]);
  if ([av, ac, ui, pr, c, i, a].some((x) => x === undefined) || (scope !== 'U' && scope !== 'C')) return undefined;
  const iss = 1 - (1 - c) * (1 - i) * (1 - a);
  const impact = scope === 'U' ? 6.42 * iss : 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15;
  const exploitability = 8.22 * av * ac * pr * ui;
  const roundup = version === '3.1' ? roundup31 : roundup30;
  let score = 0;
  if (impact > 0) score = roundup(Math.min(scope === 'U' ? impact + exploitability : 1.08 * (impact + exploitability), 10));
  return { version, score, vector };
}

const V2 = {
  AV: { L: 0.395, A: 0.646, N: 1.0 },
  AC: { H: 0.35, M: 0.61, L: 0.71 },
  Au: { M: 0.45, S: 0.56, N: 0.704 },
  CIA: { N: 0, P: 0.275, C: 0.66 },
} as const;

/** The base score of a CVSS v2 vector (`AV:N/AC:L/Au:N/C:P/I:P/A:P`, optionally in parentheses or prefixed `CVSS:2.0/`). */
export function cvss2BaseScore(vector: string): CvssScore | undefined {
  const text = vector.replace(/^\(|\)$/g, '').replace(/^CVSS:2\.0\//, '');
  const v = metrics(text);
  const av = V2.AV[v.get('AV') as keyof typeof V2.AV];
  const ac = V2.AC[v.get('AC') as keyof typeof V2.AC];
  const au = V2.Au[v.get('Au') as keyof typeof V2.Au];
  const [c, i, a] = ['C', 'I', 'A'].map((k) => V2.CIA[v.get(k) as keyof typeof V2.CIA]);
  if ([av, ac, au, c, i, a].some((x) => x === undefined)) return undefined;
  const impact = 10.41 * (1 - (1 - c) * (1 - i) * (1 - a));
  const exploitability = 20 * av * ac * au;
  const f = impact === 0 ? 0 : 1.176;
  const raw = (0.6 * impact + 0.4 * exploitability - 1.5) * f;
  const score = Math.round(raw * 10 + 1e-9) / 10;
  return { version: '2.0', score: Math.max(0, score), vector: text };
}
