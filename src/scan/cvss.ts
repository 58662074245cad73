// CVSS scores computed from vectors: version 4.0 (below, FIRST's MacroVector method), version 3.0 and 3.1 base
// scores (FIRST's specification, section 7 "Equations"; 3.1's Appendix A "Roundup", 3.0's plain ceiling), and
// version 2 base scores (the CVSS v2 guide, section 3.2.1 "Base Equation").

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

// CVSS v4.0 (FIRST's specification, section 8 "CVSS v4.0 Scoring"): the vector's MacroVector (six equivalence
// classes EQ1..EQ6) is looked up in the table of MacroVector scores the specification publishes, then lowered by the
// mean, over the EQs that have a lower MacroVector, of the scoring difference to that MacroVector times the vector's
// severity distance from the highest-severity vectors of its own MacroVector, as a proportion of the MacroVector's
// depth. Threat and environmental metrics, when the vector has them, take part as the specification says (E
// defaults to Attacked, CR/IR/AR to High, a modified metric replaces its base metric).

const V4_VALUES: Record<string, readonly string[]> = {
  AV: ['N', 'A', 'L', 'P'],
  AC: ['L', 'H'],
  AT: ['N', 'P'],
  PR: ['N', 'L', 'H'],
  UI: ['N', 'P', 'A'],
  VC: ['H', 'L', 'N'],
  VI: ['H', 'L', 'N'],
  VA: ['H', 'L', 'N'],
  SC: ['H', 'L', 'N'],
  SI: ['H', 'L', 'N'],
  SA: ['H', 'L', 'N'],
  E: ['X', 'A', 'P', 'U'],
  CR: ['X', 'H', 'M', 'L'],
  IR: ['X', 'H', 'M', 'L'],
  AR: ['X', 'H', 'M', 'L'],
  MAV: ['X', 'N', 'A', 'L', 'P'],
  MAC: ['X', 'L', 'H'],
  MAT: ['X', 'N', 'P'],
  MPR: ['X', 'N', 'L', 'H'],
  MUI: ['X', 'N', 'P', 'A'],
  MVC: ['X', 'H', 'L', 'N'],
  MVI: ['X', 'H', 'L', 'N'],
  MVA: ['X', 'H', 'L', 'N'],
  MSC: ['X', 'H', 'L', 'N'],
  MSI: ['X', 'S', 'H', 'L', 'N'],
  MSA: ['X', 'S', 'H', 'L', 'N'],
  S: ['X', 'N', 'P'],
  AU: ['X', 'N', 'Y'],
  R: ['X', 'A', 'U', 'I'],
  V: ['X', 'D', 'C'],
  RE: ['X', 'L', 'M', 'H'],
  U: ['X', 'Clear', 'Green', 'Amber', 'Red'],
};
const V4_BASE = ['AV', 'AC', 'AT', 'PR', 'UI', 'VC', 'VI', 'VA', 'SC', 'SI', 'SA'];

/** The score of each MacroVector (EQ1..EQ6 digits), as the specification's lookup table gives it. */
const MACRO_SCORES: Record<string, number> = {
  '000000': 10,
  '000001': 9.9,
  '000010': 9.8,
  '000011': 9.5,
  '000020': 9.5,
  '000021': 9.2,
  '000100': 10,
  '000101': 9.6,
  '000110': 9.3,
  '000111': 8.7,
  '000120': 9.1,
  '000121': 8.1,
  '000200': 9.3,
  '000201': 9,
  '000210': 8.9,
  '000211': 8,
  '000220': 8.1,
  '000221': 6.8,
  '001000': 9.8,
  '001001': 9.5,
  '001010': 9.5,
  '001011': 9.2,
  '001020': 9,
  '001021': 8.4,
  '001100': 9.3,
  '001101': 9.2,
  '001110': 8.9,
  '001111': 8.1,
  '001120': 8.1,
  '001121': 6.5,
  '001200': 8.8,
  '001201': 8,
  '001210': 7.8,
  '001211': 7,
  '001220': 6.9,
  '001221': 4.8,
  '002001': 9.2,
  '002011': 8.2,
  '002021': 7.2,
  '002101': 7.9,
  '002111': 6.9,
  '002121': 5,
  '002201': 6.9,
  '002211': 5.5,
  '002221': 2.7,
  '010000': 9.9,
  '010001': 9.7,
  '010010': 9.5,
  '010011': 9.2,
  '010020': 9.2,
  '010021': 8.5,
  '010100': 9.5,
  '010101': 9.1,
  '010110': 9,
  '010111': 8.3,
  '010120': 8.4,
  '010121': 7.1,
  '010200': 9.2,
  '010201': 8.1,
  '010210': 8.2,
  '010211': 7.1,
  '010220': 7.2,
  '010221': 5.3,
  '011000': 9.5,
  '011001': 9.3,
  '011010': 9.2,
  '011011': 8.5,
  '011020': 8.5,
  '011021': 7.3,
  '011100': 9.2,
  '011101': 8.2,
  '011110': 8,
  '011111': 7.2,
  '011120': 7,
  '011121': 5.9,
  '011200': 8.4,
  '011201': 7,
  '011210': 7.1,
  '011211': 5.2,
  '011220': 5,
  '011221': 3,
  '012001': 8.6,
  '012011': 7.5,
  '012021': 5.2,
  '012101': 7.1,
  '012111': 5.2,
  '012121': 2.9,
  '012201': 6.3,
  '012211': 2.9,
  '012221': 1.7,
  '100000': 9.8,
  '100001': 9.5,
  '100010': 9.4,
  '100011': 8.7,
  '100020': 9.1,
  '100021': 8.1,
  '100100': 9.4,
  '100101': 8.9,
  '100110': 8.6,
  '100111': 7.4,
  '100120': 7.7,
  '100121': 6.4,
  '100200': 8.7,
  '100201': 7.5,
  '100210': 7.4,
  '100211': 6.3,
  '100220': 6.3,
  '100221': 4.9,
  '101000': 9.4,
  '101001': 8.9,
  '101010': 8.8,
  '101011': 7.7,
  '101020': 7.6,
  '101021': 6.7,
  '101100': 8.6,
  '101101': 7.6,
  '101110': 7.4,
  '101111': 5.8,
  '101120': 5.9,
  '101121': 5,
  '101200': 7.2,
  '101201': 5.7,
  '101210': 5.7,
  '101211': 5.2,
  '101220': 5.2,
  '101221': 2.5,
  '102001': 8.3,
  '102011': 7,
  '102021': 5.4,
  '102101': 6.5,
  '102111': 5.8,
  '102121': 2.6,
  '102201': 5.3,
  '102211': 2.1,
  '102221': 1.3,
  '110000': 9.5,
  '110001': 9,
  '110010': 8.8,
  '110011': 7.6,
  '110020': 7.6,
  '110021': 7,
  '110100': 9,
  '110101': 7.7,
  '110110': 7.5,
  '110111': 6.2,
  '110120': 6.1,
  '110121': 5.3,
  '110200': 7.7,
  '110201': 6.6,
  '110210': 6.8,
  '110211': 5.9,
  '110220': 5.2,
  '110221': 3,
  '111000': 8.9,
  '111001': 7.8,
  '111010': 7.6,
  '111011': 6.7,
  '111020': 6.2,
  '111021': 5.8,
  '111100': 7.4,
  '111101': 5.9,
  '111110': 5.7,
  '111111': 5.7,
  '111120': 4.7,
  '111121': 2.3,
  '111200': 6.1,
  '111201': 5.2,
  '111210': 5.7,
  '111211': 2.9,
  '111220': 2.4,
  '111221': 1.6,
  '112001': 7.1,
  '112011': 5.9,
  '112021': 3,
  '112101': 5.8,
  '112111': 2.6,
  '112121': 1.5,
  '112201': 2.3,
  '112211': 1.3,
  '112221': 0.6,
  '200000': 9.3,
  '200001': 8.7,
  '200010': 8.6,
  '200011': 7.2,
  '200020': 7.5,
  '200021': 5.8,
  '200100': 8.6,
  '200101': 7.4,
  '200110': 7.4,
  '200111': 6.1,
  '200120': 5.6,
  '200121': 3.4,
  '200200': 7,
  '200201': 5.4,
  '200210': 5.2,
  '200211': 4,
  '200220': 4,
  '200221': 2.2,
  '201000': 8.5,
  '201001': 7.5,
  '201010': 7.4,
  '201011': 5.5,
  '201020': 6.2,
  '201021': 5.1,
  '201100': 7.2,
  '201101': 5.7,
  '201110': 5.5,
  '201111': 4.1,
  '201120': 4.6,
  '201121': 1.9,
  '201200': 5.3,
  '201201': 3.6,
  '201210': 3.4,
  '201211': 1.9,
  '201220': 1.9,
  '201221': 0.8,
  '202001': 6.4,
  '202011': 5.1,
  '202021': 2,
  '202101': 4.7,
  '202111': 2.1,
  '202121': 1.1,
  '202201': 2.4,
  '202211': 0.9,
  '202221': 0.4,
  '210000': 8.8,
  '210001': 7.5,
  '210010': 7.3,
  '210011': 5.3,
  '210020': 6,
  '210021': 5,
  '210100': 7.3,
  '210101': 5.5,
  '210110': 5.9,
  '210111': 4,
  '210120': 4.1,
  '210121': 2,
  '210200': 5.4,
  '210201': 4.3,
  '210210': 4.5,
  '210211': 2.2,
  '210220': 2,
  '210221': 1.1,
  '211000': 7.5,
  '211001': 5.5,
  '211010': 5.8,
  '211011': 4.5,
  '211020': 4,
  '211021': 2.1,
  '211100': 6.1,
  '211101': 5.1,
  '211110': 4.8,
  '211111': 1.8,
  '211120': 2,
  '211121': 0.9,
  '211200': 4.6,
  '211201': 1.8,
  '211210': 1.7,
  '211211': 0.7,
  '211220': 0.8,
  '211221': 0.2,
  '212001': 5.3,
  '212011': 2.4,
  '212021': 1.4,
  '212101': 2.4,
  '212111': 1.2,
  '212121': 0.5,
  '212201': 1,
  '212211': 0.3,
  '212221': 0.1,
};

/** Each metric value's severity level, for the severity distance (0 is the most severe). */
const LEVELS: Record<string, Record<string, number>> = {
  AV: { N: 0.0, A: 0.1, L: 0.2, P: 0.3 },
  PR: { N: 0.0, L: 0.1, H: 0.2 },
  UI: { N: 0.0, P: 0.1, A: 0.2 },
  AC: { L: 0.0, H: 0.1 },
  AT: { N: 0.0, P: 0.1 },
  VC: { H: 0.0, L: 0.1, N: 0.2 },
  VI: { H: 0.0, L: 0.1, N: 0.2 },
  VA: { H: 0.0, L: 0.1, N: 0.2 },
  SC: { H: 0.1, L: 0.2, N: 0.3 },
  SI: { S: 0.0, H: 0.1, L: 0.2, N: 0.3 },
  SA: { S: 0.0, H: 0.1, L: 0.2, N: 0.3 },
  CR: { H: 0.0, M: 0.1, L: 0.2 },
  IR: { H: 0.0, M: 0.1, L: 0.2 },
  AR: { H: 0.0, M: 0.1, L: 0.2 },
  E: { U: 0.2, P: 0.1, A: 0 },
};

/** The highest-severity vectors of each EQ level (EQ3 and EQ6 together, by EQ3 then EQ6), in the specification's order. */
const HIGHEST: { eq1: string[][]; eq2: string[][]; eq3eq6: string[][][]; eq4: string[][]; eq5: string[][] } = {
  eq1: [['AV:N/PR:N/UI:N'], ['AV:A/PR:N/UI:N', 'AV:N/PR:L/UI:N', 'AV:N/PR:N/UI:P'], ['AV:P/PR:N/UI:N', 'AV:A/PR:L/UI:P']],
  eq2: [['AC:L/AT:N'], ['AC:H/AT:N', 'AC:L/AT:P']],
  eq3eq6: [
    [['VC:H/VI:H/VA:H/CR:H/IR:H/AR:H'], ['VC:H/VI:H/VA:L/CR:M/IR:M/AR:H', 'VC:H/VI:H/VA:H/CR:M/IR:M/AR:M']],
    [
      ['VC:L/VI:H/VA:H/CR:H/IR:H/AR:H', 'VC:H/VI:L/VA:H/CR:H/IR:H/AR:H'],
      [
        'VC:L/VI:H/VA:L/CR:H/IR:M/AR:H',
        'VC:L/VI:H/VA:H/CR:H/IR:M/AR:M',
        'VC:H/VI:L/VA:H/CR:M/IR:H/AR:M',
        'VC:H/VI:L/VA:L/CR:M/IR:H/AR:H',
        'VC:L/VI:L/VA:H/CR:H/IR:H/AR:M',
      ],
    ],
    [[], ['VC:L/VI:L/VA:L/CR:H/IR:H/AR:H']],
  ],
  eq4: [['SC:H/SI:S/SA:S'], ['SC:H/SI:H/SA:H'], ['SC:L/SI:L/SA:L']],
  eq5: [['E:A'], ['E:P'], ['E:U']],
};

/** The depth of each MacroVector level, in severity-distance steps (the specification's maximal severity distances, +1). */
const DEPTH = {
  eq1: [1, 4, 5],
  eq2: [1, 2],
  eq3eq6: [
    [7, 6],
    [8, 8],
    [NaN, 10],
  ],
  eq4: [6, 5, 4],
};

export interface Cvss4Score {
  version: '4.0';
  score: number;
  vector: string;
}

function parseV4(vector: string): Map<string, string> | undefined {
  const parts = vector.split('/');
  if (parts.shift() !== 'CVSS:4.0') return undefined;
  const metrics = new Map<string, string>();
  for (const part of parts) {
    const colon = part.indexOf(':');
    const key = part.slice(0, colon);
    const value = part.slice(colon + 1);
    if (colon < 1 || !V4_VALUES[key]?.includes(value) || metrics.has(key)) return undefined;
    metrics.set(key, value);
  }
  return V4_BASE.every((k) => metrics.has(k)) ? metrics : undefined;
}

/** The base (or, with threat and environmental metrics, the BT/BE/BTE) score of a CVSS v4.0 vector, or undefined if it is not one. */
export function cvss4Score(vector: string): Cvss4Score | undefined {
  const metrics = parseV4(vector);
  if (!metrics) return undefined;
  const raw = (k: string): string => metrics.get(k) ?? 'X';
  const m = (k: string): string => {
    if (raw(k) === 'X' && (k === 'E' || k === 'CR' || k === 'IR' || k === 'AR')) return k === 'E' ? 'A' : 'H';
    const modified = metrics.get(`M${k}`);
    return modified !== undefined && modified !== 'X' ? modified : raw(k);
  };
  if (['VC', 'VI', 'VA', 'SC', 'SI', 'SA'].every((k) => m(k) === 'N')) return { version: '4.0', score: 0, vector };

  const [av, pr, ui] = [m('AV'), m('PR'), m('UI')];
  const eq1 = av === 'N' && pr === 'N' && ui === 'N' ? 0 : (av === 'N' || pr === 'N' || ui === 'N') && av !== 'P' ? 1 : 2;
  const eq2 = m('AC') === 'L' && m('AT') === 'N' ? 0 : 1;
  const [vc, vi, va] = [m('VC'), m('VI'), m('VA')];
  const eq3 = vc === 'H' && vi === 'H' ? 0 : vc === 'H' || vi === 'H' || va === 'H' ? 1 : 2;
  const eq4 = raw('MSI') === 'S' || raw('MSA') === 'S' ? 0 : m('SC') === 'H' || m('SI') === 'H' || m('SA') === 'H' ? 1 : 2;
  const eq5 = { A: 0, P: 1, U: 2 }[m('E') as 'A' | 'P' | 'U'];
  const eq6 = (m('CR') === 'H' && vc === 'H') || (m('IR') === 'H' && vi === 'H') || (m('AR') === 'H' && va === 'H') ? 0 : 1;
  const macro = (e1: number, e2: number, e3: number, e4: number, e5: number, e6: number) => MACRO_SCORES[`${e1}${e2}${e3}${e4}${e5}${e6}`];
  const value = macro(eq1, eq2, eq3, eq4, eq5, eq6);

  // The next lower MacroVector of each EQ (undefined when there is none); EQ3 and EQ6 move together.
  const lowerEq3eq6 =
    eq3 === 0 && eq6 === 0
      ? Math.max(macro(eq1, eq2, eq3, eq4, eq5, eq6 + 1) ?? NaN, macro(eq1, eq2, eq3 + 1, eq4, eq5, eq6) ?? NaN)
      : eq3 === 1 && eq6 === 0
        ? macro(eq1, eq2, eq3, eq4, eq5, eq6 + 1)
        : eq3 === 2
          ? undefined
          : macro(eq1, eq2, eq3 + 1, eq4, eq5, eq6);
  const lower = [
    macro(eq1 + 1, eq2, eq3, eq4, eq5, eq6),
    macro(eq1, eq2 + 1, eq3, eq4, eq5, eq6),
    lowerEq3eq6,
    macro(eq1, eq2, eq3, eq4 + 1, eq5, eq6),
    macro(eq1, eq2, eq3, eq4, eq5 + 1, eq6),
  ];

  // The first highest-severity vector of the MacroVector that the vector does not exceed, and the distances to it
  // (as the specification's calculator, the last candidate's when none qualifies).
  let distances: Record<string, number> = {};
  search: for (const a of HIGHEST.eq1[eq1])
    for (const b of HIGHEST.eq2[eq2])
      for (const c of HIGHEST.eq3eq6[eq3][eq6]) {
        for (const d of HIGHEST.eq4[eq4])
          for (const e of HIGHEST.eq5[eq5]) {
            const highest = new Map([a, b, c, d, e].flatMap((s) => s.split('/')).map((p) => p.split(':') as [string, string]));
            distances = {};
            for (const k of Object.keys(LEVELS)) distances[k] = LEVELS[k][m(k)] - LEVELS[k][highest.get(k)!];
            if (Object.values(distances).every((x) => x >= 0)) break search;
          }
      }
  const d = distances;
  const STEP = 0.1;
  const current = [d.AV + d.PR + d.UI, d.AC + d.AT, d.VC + d.VI + d.VA + d.CR + d.IR + d.AR, d.SC + d.SI + d.SA, 0];
  const depth = [DEPTH.eq1[eq1] * STEP, DEPTH.eq2[eq2] * STEP, DEPTH.eq3eq6[eq3][eq6] * STEP, DEPTH.eq4[eq4] * STEP, 1];
  let sum = 0;
  let existing = 0;
  for (let i = 0; i < 5; i++) {
    const available = value - (lower[i] ?? NaN);
    if (Number.isNaN(available)) continue;
    existing++;
    sum += available * (current[i] / depth[i]);
  }
  const mean = existing === 0 ? 0 : sum / existing;
  const score = Number((Math.round(Math.max(0, Math.min(10, value - mean)) * 10) / 10).toFixed(1));
  return { version: '4.0', score, vector };
}
