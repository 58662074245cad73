// What the inventory finds: installed packages, with the ecosystem their advisories are published in.

export type PackageType = 'deb' | 'apk' | 'rpm' | 'npm' | 'pypi' | 'maven' | 'go';

export interface Package {
  type: PackageType;
  /** The OSV ecosystem: "Debian:12", "Alpine:v3.19", "Rocky Linux:9", "npm", "PyPI", "Maven", "Go". */
  ecosystem: string;
  name: string;
  version: string;
  /** The source package (dpkg `Source:`, apk origin, the rpm's source rpm), when the package manager records it. */
  sourceName?: string;
  sourceVersion?: string;
  arch?: string;
  /** The package URL (purl). */
  purl: string;
  /** The file the package was found in. */
  path: string;
}

/** An operating system, from `/etc/os-release`. */
export interface OsInfo {
  id: string;
  versionId?: string;
  codename?: string;
  idLike: string[];
  prettyName?: string;
  /** The OSV ecosystem of its packages ("Debian:12"), when advisories for it exist in OSV. */
  ecosystem?: string;
}
