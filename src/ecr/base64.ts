// The base64 of ECR's blob members (a layer part: up to 20 MiB, 27 MB of base64), checked and decoded natively.
// ECR's model wants `^[A-Za-z0-9+/]*={0,2}$`; V8's regular expressions take about 15 ns a character to say so
// (0.4 s for one layer part), while Node's decoder takes under 1 ns. The decoder is forgiving (it skips what is
// not base64, stops at padding, and takes base64url's - and _ as well), so a string is taken as plain base64 by it
// only when nothing can have been skipped or read otherwise: a length that is a multiple of 4 with at most two =
// at the end, no - or _, Latin-1 characters only (one beyond would be read as its low byte), and exactly as many
// bytes out as that length gives (any character skipped, or an early stop, gives fewer). Anything else is left to
// the pattern itself, so the answer is always the pattern's (test/unit/ecr-base64.test.ts checks it exhaustively
// on short strings).

/** The base64 a blob member must be (ECR's model). */
export const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strings shorter than this are simply matched against the pattern. */
const NATIVE_FROM = 4096;

const EQUALS = 0x3d;
const MINUS = 0x2d;
const UNDERSCORE = 0x5f;

/** The padding at the end of `length` characters read by `at`; 3 for too much. */
function padding(length: number, at: (i: number) => number): number {
  let pad = 0;
  while (pad < 3 && pad < length && at(length - 1 - pad) === EQUALS) pad++;
  return pad;
}

/** The bytes `s` decodes to, when it has the shape checked above and decodes to the length it should. */
function decoded(s: string, pad: number): Buffer | undefined {
  const bytes = Buffer.from(s, 'base64');
  return bytes.length === (s.length / 4) * 3 - pad ? bytes : undefined;
}

/** The bytes of `s` when it is plain, padded base64; undefined otherwise (it may still match the pattern). */
export function decodeBase64(s: string): Buffer | undefined {
  if (s.length % 4 !== 0) return undefined;
  const pad = padding(s.length, (i) => s.charCodeAt(i));
  if (pad > 2) return undefined;
  // Latin-1 only: a UTF-8 length equal to the length means ASCII.
  if (Buffer.byteLength(s, 'utf8') !== s.length || s.includes('-') || s.includes('_')) return undefined;
  return decoded(s, pad);
}

/**
 * Base64 text decoded at a time from bytes (a multiple of 4), so that no string as large as a part is made. Small
 * enough that each slice's string dies young (V8 puts strings over about 128 KiB in its large-object space, where
 * a layer part's slices piled up as 100 MiB and more of garbage between full collections).
 */
export const SLICE = 32 << 10;

/**
 * decodeBase64 of the text of bytes read as Latin-1 (a JSON string without escapes), checked on the bytes and
 * decoded a slice at a time into one buffer: each slice but the last must give 3 bytes for 4 characters, the
 * last as many less as it has padding (a slice is a string of whole groups, checked as decodeBase64 checks one).
 */
export function decodeBase64Bytes(text: Buffer): Buffer | undefined {
  const n = text.length;
  if (!plainShape(text)) return undefined;
  return decodeSlices(text, Buffer.allocUnsafeSlow((n / 4) * 3));
}

/** Whether the bytes are plain base64, as decodeBase64Bytes takes them (checked a slice at a time, nothing kept). */
export function isPlainBase64Bytes(text: Buffer): boolean {
  return plainShape(text) && decodeSlices(text, undefined) !== undefined;
}

/**
 * Bytes that passed isPlainBase64Bytes, decoded into their own memory (the bytes come out shorter than the text,
 * each slice behind the next one read), so that a layer part costs no buffer beyond its request body. The text is
 * overwritten: the decoded bytes are the returned buffer, its start.
 */
export function decodeCheckedInPlace(text: Buffer): Buffer {
  const bytes = decodeSlices(text, text);
  if (!bytes) throw new Error('decodeCheckedInPlace: the text was not checked');
  return bytes;
}

/** Length a multiple of 4, at most two = of padding, no base64url characters. */
function plainShape(text: Buffer): boolean {
  return text.length % 4 === 0 && padding(text.length, (i) => text[i]) <= 2 && !text.includes(MINUS) && !text.includes(UNDERSCORE);
}

let scratch: Buffer | undefined;

/** Decodes `text` a slice at a time into `out` (only checks, into a scratch buffer, without one). */
function decodeSlices(text: Buffer, out: Buffer | undefined): Buffer | undefined {
  const n = text.length;
  const pad = padding(n, (i) => text[i]);
  let written = 0;
  for (let at = 0; at < n; at += SLICE) {
    const end = Math.min(at + SLICE, n);
    const expected = ((end - at) / 4) * 3 - (end === n ? pad : 0);
    const into = out ?? (scratch ??= Buffer.allocUnsafeSlow((SLICE / 4) * 3));
    if (into.write(text.toString('latin1', at, end), out ? written : 0, 'base64') !== expected) return undefined;
    written += expected;
  }
  return (out ?? text).subarray(0, out ? written : 0);
}

/** Whether `s` matches ECR's base64 pattern (the decoder's check first for long strings, else the pattern). */
export function isBase64(s: string): boolean {
  return (s.length >= NATIVE_FROM && decodeBase64(s) !== undefined) || BASE64.test(s);
}
