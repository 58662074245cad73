/** The result of comparing two versions: -1 if the first is older, 0 if they are the same version, 1 if newer. */
export type Order = -1 | 0 | 1;

export const sign = (n: number): Order => (n < 0 ? -1 : n > 0 ? 1 : 0);

/** Compares two strings of decimal digits as numbers, whatever their length (leading zeros ignored). */
export function compareDigits(a: string, b: string): Order {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}
