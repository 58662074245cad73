// Package URLs (github.com/package-url/purl-spec): pkg:type/namespace/name@version?qualifiers, each part
// percent-encoded, qualifiers sorted by key.

const encode = (s: string): string => encodeURIComponent(s);

export function purl(
  type: string,
  namespace: string | undefined,
  name: string,
  version: string | undefined,
  qualifiers: Record<string, string | undefined> = {},
): string {
  let out = `pkg:${type}/`;
  if (namespace) out += `${namespace.split('/').map(encode).join('/')}/`;
  out += encode(name);
  if (version) out += `@${encode(version)}`;
  const q = Object.entries(qualifiers)
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${encode(v)}`);
  if (q.length > 0) out += `?${q.join('&')}`;
  return out;
}
