// Python package versions (PEP 440): `[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`, with the spellings the PEP
// normalizes (alpha, beta, c, pre, preview, rev, r, `-N` for a post-release, separators `-_.`, a leading `v`, case).
import { compareDigits, type Order } from './order.ts';

export interface Pep440 {
  epoch: string;
  release: string[];
  pre?: [string, string];
  post?: string;
  dev?: string;
  local?: string[];
}

/** PEP 440's version pattern (Appendix B), case-insensitive; linear (tested with adversarial input). */
export const PEP440_PATTERN = new RegExp(
  '^\\s*v?(?:(?:(\\d+)!)?(\\d+(?:\\.\\d+)*)' +
    '(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\\d+)?)?' +
    '(?:(?:-(\\d+))|(?:[-_.]?(post|rev|r)[-_.]?(\\d+)?))?' +
    '(?:[-_.]?(dev)[-_.]?(\\d+)?)?)' +
    '(?:\\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\\s*$',
  'i',
);

const PRE_NAMES: Record<string, string> = { a: 'a', alpha: 'a', b: 'b', beta: 'b', c: 'rc', rc: 'rc', pre: 'rc', preview: 'rc' };

export function parsePep440(version: string): Pep440 | undefined {
  const m = PEP440_PATTERN.exec(version);
  if (!m) return undefined;
  const [, epoch, release, preL, preN, postN1, postL, postN2, devL, devN, local] = m;
  const parsed: Pep440 = { epoch: epoch ?? '0', release: release.split('.') };
  if (preL) parsed.pre = [PRE_NAMES[preL.toLowerCase()], preN ?? '0'];
  if (postN1 !== undefined) parsed.post = postN1;
  else if (postL) parsed.post = postN2 ?? '0';
  if (devL) parsed.dev = devN ?? '0';
  if (local) parsed.local = local.toLowerCase().split(/[-_.]/);
  return parsed;
}

/** The normalized form of a version (PEP 440 "Normalization"), or undefined if it is not a valid version. */
export function normalizePep440(version: string): string | undefined {
  const v = parsePep440(version);
  if (!v) return undefined;
  let text = v.epoch.replace(/^0+(?=\d)/, '') === '0' ? '' : `${Number(v.epoch)}!`;
  text += v.release.map((n) => n.replace(/^0+(?=\d)/, '')).join('.');
  if (v.pre) text += `${v.pre[0]}${Number(v.pre[1])}`;
  if (v.post !== undefined) text += `.post${Number(v.post)}`;
  if (v.dev !== undefined) text += `.dev${Number(v.dev)}`;
  if (v.local) text += `+${v.local.map((s) => (/^\d+$/.test(s) ? s.replace(/^0+(?=\d)/, '') : s)).join('.')}`;
  return text;
}

const PRE_ORDER: Record<string, number> = { a: 0, b: 1, rc: 2 };

function compareRelease(a: string[], b: string[]): Order {
  // Trailing zeros do not count: 1.0 == 1.0.0.
  const trim = (r: string[]): string[] => {
    const out = [...r];
    while (out.length > 1 && /^0+$/.test(out[out.length - 1])) out.pop();
    return out;
  };
  const x = trim(a);
  const y = trim(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const order = compareDigits(x[i] ?? '0', y[i] ?? '0');
    if (order !== 0) return order;
  }
  return 0;
}

/** The pre-release rank: a dev release of a final version sorts before its pre-releases, a final after them. */
function preRank(v: Pep440): [number, string] {
  if (v.pre) return [PRE_ORDER[v.pre[0]], v.pre[1]];
  if (v.post === undefined && v.dev !== undefined) return [-1, '0'];
  return [3, '0'];
}

function compareLocal(a: string[] | undefined, b: string[] | undefined): Order {
  if (!a || !b) return a === b ? 0 : a ? 1 : -1;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i >= a.length) return -1;
    if (i >= b.length) return 1;
    const na = /^\d+$/.test(a[i]);
    const nb = /^\d+$/.test(b[i]);
    // Numeric segments are newer than alphanumeric ones; numbers compare as numbers, strings lexically.
    const order = na && nb ? compareDigits(a[i], b[i]) : na ? 1 : nb ? -1 : a[i] < b[i] ? -1 : a[i] > b[i] ? 1 : 0;
    if (order !== 0) return order;
  }
  return 0;
}

export function comparePep440(a: string, b: string): Order {
  const x = parsePep440(a);
  const y = parsePep440(b);
  if (!x || !y) {
    if (x) return 1;
    if (y) return -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  let order = compareDigits(x.epoch, y.epoch);
  if (order !== 0) return order;
  order = compareRelease(x.release, y.release);
  if (order !== 0) return order;
  const [px, pnx] = preRank(x);
  const [py, pny] = preRank(y);
  if (px !== py) return px < py ? -1 : 1;
  order = compareDigits(pnx, pny);
  if (order !== 0) return order;
  // No post-release is older than any post-release.
  if (x.post !== y.post) {
    if (x.post === undefined) return -1;
    if (y.post === undefined) return 1;
    order = compareDigits(x.post, y.post);
    if (order !== 0) return order;
  }
  // No dev release is newer than any dev release.
  if (x.dev !== y.dev) {
    if (x.dev === undefined) return 1;
    if (y.dev === undefined) return -1;
    order = compareDigits(x.dev, y.dev);
    if (order !== 0) return order;
  }
  return compareLocal(x.local, y.local);
}
