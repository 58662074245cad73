// Maven versions, ordered as Maven's ComparableVersion: items split on `.`, `-` and digit/letter transitions, `-`
// opening a sub-list; numbers compare as numbers; qualifiers alpha < beta < milestone < rc = cr < snapshot <
// (release, ga, final, "") < sp < any other qualifier (lexically); trailing "null" items (0, "", ga, final, release)
// do not count, so 1.0 == 1 == 1.0.0 == 1-ga.
import { compareDigits, type Order } from './order.ts';

type Item = { kind: 'int'; value: string } | { kind: 'string'; value: string } | { kind: 'list'; items: Item[] };

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Record<string, string> = { ga: '', final: '', release: '', cr: 'rc' };

function stringItem(value: string, followedByDigit: boolean): Item {
  let v = value;
  if (followedByDigit && v.length === 1) v = ({ a: 'alpha', b: 'beta', m: 'milestone' } as Record<string, string>)[v] ?? v;
  return { kind: 'string', value: ALIASES[v] ?? v };
}

const parseItem = (digits: boolean, text: string): Item =>
  digits ? { kind: 'int', value: text.replace(/^0+(?=\d)/, '') } : stringItem(text, false);

const isNull = (item: Item): boolean =>
  item.kind === 'int' ? /^0+$/.test(item.value) : item.kind === 'string' ? item.value === '' : item.items.length === 0;

function normalize(list: Item[]): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const item = list[i];
    if (isNull(item)) list.splice(i, 1);
    else if (item.kind !== 'list') break;
  }
}

export function parseMaven(version: string): Item {
  const text = version.trim().toLowerCase();
  const root: Item = { kind: 'list', items: [] };
  let list = root;
  const stack: Item[] = [root];
  let digits = false;
  let start = 0;
  const open = (): void => {
    const sub: Item = { kind: 'list', items: [] };
    (list as { items: Item[] }).items.push(sub);
    list = sub;
    stack.push(sub);
  };
  const add = (item: Item): void => {
    (list as { items: Item[] }).items.push(item);
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '.' || c === '-') {
      add(i === start ? { kind: 'int', value: '0' } : parseItem(digits, text.slice(start, i)));
      start = i + 1;
      if (c === '-') open();
    } else if (c >= '0' && c <= '9') {
      if (!digits && i > start) {
        add(stringItem(text.slice(start, i), true));
        start = i;
        open();
      }
      digits = true;
    } else {
      if (digits && i > start) {
        add(parseItem(true, text.slice(start, i)));
        start = i;
        open();
      }
      digits = false;
    }
  }
  if (text.length > start) add(parseItem(digits, text.slice(start)));
  while (stack.length > 0) normalize((stack.pop() as { items: Item[] }).items);
  return root;
}

function qualifierKey(q: string): string {
  const i = QUALIFIERS.indexOf(q);
  return i >= 0 ? String(i) : `${QUALIFIERS.length}-${q}`;
}

const cmpString = (a: string, b: string): Order => (a < b ? -1 : a > b ? 1 : 0);

function compareItem(a: Item, b: Item | undefined): Order {
  if (a.kind === 'int') {
    if (!b) return isNull(a) ? 0 : 1;
    return b.kind === 'int' ? compareDigits(a.value, b.value) : 1;
  }
  if (a.kind === 'string') {
    if (!b) return cmpString(qualifierKey(a.value), qualifierKey(''));
    if (b.kind === 'int' || b.kind === 'list') return -1;
    return cmpString(qualifierKey(a.value), qualifierKey(b.value));
  }
  if (!b) return a.items.length === 0 ? 0 : compareItem(a.items[0], undefined);
  if (b.kind === 'int') return -1;
  if (b.kind === 'string') return 1;
  for (let i = 0; i < Math.max(a.items.length, b.items.length); i++) {
    const l = a.items[i];
    const r = b.items[i];
    const order: Order = l ? compareItem(l, r) : r ? (-compareItem(r, undefined) as Order) : 0;
    if (order !== 0) return order;
  }
  return 0;
}

export function compareMaven(a: string, b: string): Order {
  const order = compareItem(parseMaven(a), parseMaven(b));
  return order === 0 ? 0 : order; // normalizes -0
}
