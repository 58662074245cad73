// Range grammars of the data plane. Pure functions, unit-tested in test/unit/range.test.ts.

/** A chunked upload's Content-Range. */
export const CONTENT_RANGE = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/;
/** A blob GET's Range (one range). */
export const RANGE = /^bytes=\s*(\d*)-(\d*)\s*$/;

/** `Content-Range` of a chunked upload PATCH: "<start>-<end>", inclusive (the spec's form, no "bytes " unit);
 * "bytes <start>-<end>/<total|*>" is accepted too, as some clients send it. */
export function parseContentRange(value: string): { start: number; end: number } | undefined {
  const m = CONTENT_RANGE.exec(value.trim());
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return undefined;
  return { start, end };
}

export type ByteRange = { start: number; end: number } | 'unsatisfiable' | undefined;

/** A blob GET `Range` header (RFC 9110) against a blob of `size` bytes. Returns undefined when the header should be
 * ignored (absent, malformed, or several ranges: the whole blob is sent), 'unsatisfiable' for 416. */
export function parseRange(value: string | undefined, size: number): ByteRange {
  if (!value) return undefined;
  const m = RANGE.exec(value);
  if (!m) return undefined;
  const [, a, b] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0) return 'unsatisfiable';
    // An empty blob has no last bytes to select: its whole (empty) body is sent, not "bytes 0--1/0".
    if (size === 0) return undefined;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  if (start >= size) return 'unsatisfiable';
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (end < start) return undefined;
  return { start, end };
}

/** The `Range` header value of an upload that holds `offset` bytes: "0-<offset-1>" ("0-0" when empty, as
 * distribution answers). */
export function uploadRange(offset: number): string {
  return `0-${Math.max(0, offset - 1)}`;
}
