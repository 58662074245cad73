// The grammars of the OCI distribution spec (and ECR's narrower limits): repository names, tags, digests.
// Pure functions, unit-tested in test/unit/grammar.test.ts.

/** OCI name component grammar; ECR uses the same pattern (botocore RepositoryName) with length 2..256. */
export const NAME = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;
export const NAME_MIN = 2;
export const NAME_MAX = 256;

export function isValidRepositoryName(name: string): boolean {
  return name.length >= NAME_MIN && name.length <= NAME_MAX && NAME.test(name);
}

/** OCI tag grammar: at most 128 characters. */
export const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/** Digest algorithms Berth verifies, with the length of their hex encoding. */
export const DIGEST_ALGORITHMS: Record<string, number> = { sha256: 64, sha512: 128 };

/** The OCI digest grammar (algorithm ":" encoded), restricted to the registered algorithms Berth can verify. */
export const DIGEST = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

/** A digest's hex encoding. */
export const LOWER_HEX = /^[a-f0-9]+$/;

export interface ParsedDigest {
  algorithm: string;
  hex: string;
}

export function parseDigest(digest: string): ParsedDigest | undefined {
  const m = DIGEST.exec(digest);
  if (!m) return undefined;
  const [, algorithm, hex] = m;
  const len = DIGEST_ALGORITHMS[algorithm];
  if (len === undefined || hex.length !== len || !LOWER_HEX.test(hex)) return undefined;
  return { algorithm, hex };
}

export function isValidDigest(digest: string): boolean {
  return parseDigest(digest) !== undefined;
}

/** A manifest reference is a tag or a digest. */
export function isDigestReference(reference: string): boolean {
  return reference.includes(':');
}
