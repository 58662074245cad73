// Alpine package versions, compared as apk-tools does: `digits{.digits}[letter]{_suffix[digits]}[-rN]`.
// Pre-release suffixes (_alpha < _beta < _pre < _rc) sort before the bare version, post-release ones
// (_cvs < _svn < _git < _hg < _p) after it; `-rN` is the package release. A component after a dot that starts with
// `0` compares as a fraction (fewer leading zeros is newer), as apk does.
import type { Order } from './order.ts';

// Token kinds, in apk-tools' order (the order matters when two versions differ in kind at the same place).
const INVALID = -1;
const DIGIT_OR_ZERO = 0;
const DIGIT = 1;
const LETTER = 2;
const SUFFIX = 3;
const SUFFIX_NO = 4;
const REVISION_NO = 5;
const END = 6;

const PRE_SUFFIXES = ['alpha', 'beta', 'pre', 'rc'];
const POST_SUFFIXES = ['cvs', 'svn', 'git', 'hg', 'p'];

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isLower = (c: string | undefined): boolean => c !== undefined && c >= 'a' && c <= 'z';

class Cursor {
  kind = DIGIT;
  pos = 0;
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }

  get rest(): number {
    return this.text.length - this.pos;
  }

  /** Reads the separator that starts the next token and sets its kind. */
  private advance(): void {
    const c = this.text[this.pos];
    let next = INVALID;
    if (this.rest <= 0) next = END;
    else if ((this.kind === DIGIT || this.kind === DIGIT_OR_ZERO) && isLower(c)) next = LETTER;
    else if (this.kind === LETTER && isDigit(c)) next = DIGIT;
    else if (this.kind === SUFFIX && isDigit(c)) next = SUFFIX_NO;
    else {
      if (c === '.') next = DIGIT_OR_ZERO;
      else if (c === '_') next = SUFFIX;
      else if (c === '-' && this.text[this.pos + 1] === 'r') {
        next = REVISION_NO;
        this.pos++;
      }
      this.pos++;
    }
    this.kind = next;
  }

  /** The value of the current token, without moving. */
  peek(): number {
    const copy = new Cursor(this.text);
    copy.kind = this.kind;
    copy.pos = this.pos;
    return copy.token();
  }

  /** Reads the value of the current token, then moves to the next one. */
  token(): number {
    if (this.rest <= 0) {
      this.kind = END;
      return 0;
    }
    const t = this.text;
    let i = this.pos;
    let value = 0;
    let nextKind = INVALID;
    switch (this.kind) {
      // biome-ignore lint/suspicious/noFallthroughSwitchClause: leading zeros are counted, then the digits are read as for DIGIT
      case DIGIT_OR_ZERO:
        if (t[i] === '0') {
          while (i < t.length && t[i] === '0') i++;
          nextKind = DIGIT;
          value = -(i - this.pos);
          break;
        }
      case DIGIT:
      case SUFFIX_NO:
      case REVISION_NO:
        while (i < t.length && isDigit(t[i])) value = value * 10 + (t.charCodeAt(i++) - 48);
        break;
      case LETTER:
        value = t.charCodeAt(i++);
        break;
      case SUFFIX: {
        const rest = t.slice(i);
        const pre = PRE_SUFFIXES.findIndex((s) => rest.startsWith(s));
        if (pre >= 0) {
          value = pre - PRE_SUFFIXES.length;
          i += PRE_SUFFIXES[pre].length;
          break;
        }
        const post = POST_SUFFIXES.findIndex((s) => rest.startsWith(s));
        if (post >= 0) {
          value = post;
          i += POST_SUFFIXES[post].length;
          break;
        }
        this.kind = INVALID;
        return -1;
      }
      default:
        this.kind = INVALID;
        return -1;
    }
    this.pos = i;
    if (this.rest <= 0) this.kind = END;
    else if (nextKind !== INVALID) this.kind = nextKind;
    else this.advance();
    return value;
  }
}

export function compareApk(a: string, b: string): Order {
  const x = new Cursor(a);
  const y = new Cursor(b);
  let av = 0;
  let bv = 0;
  while (x.kind === y.kind && x.kind !== END && x.kind !== INVALID && av === bv) {
    av = x.token();
    bv = y.token();
  }
  if (av < bv) return -1;
  if (av > bv) return 1;
  if (x.kind === y.kind) return 0;
  // Equal so far: the longer version is newer, unless what follows is a pre-release suffix.
  if (x.kind === SUFFIX && x.peek() < 0) return -1;
  if (y.kind === SUFFIX && y.peek() < 0) return 1;
  if (x.kind > y.kind) return -1;
  if (y.kind > x.kind) return 1;
  return 0;
}
