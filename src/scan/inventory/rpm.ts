// RPM packages: the SQLite rpmdb (/var/lib/rpm/rpmdb.sqlite, read with node:sqlite from a temporary copy, its
// header blobs decoded here), and the Berkeley DB (/var/lib/rpm/Packages) and NDB (/var/lib/rpm/Packages.db)
// formats through @snyk/rpm-parser.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { getPackages, getPackagesNdb } from '@snyk/rpm-parser';
import { distroQualifier } from './os.ts';
import type { OsInfo, Package } from './package.ts';
import { purl } from './purl.ts';
import { parseRpmHeader, parseSourceRpm, type RpmHeader } from './rpm-header.ts';

export const RPM_SQLITE = ['var/lib/rpm/rpmdb.sqlite', 'usr/lib/sysimage/rpm/rpmdb.sqlite'];
export const RPM_BDB = ['var/lib/rpm/Packages'];
export const RPM_NDB = ['var/lib/rpm/Packages.db', 'usr/lib/sysimage/rpm/Packages.db'];

export const isRpmFile = (path: string): boolean => RPM_SQLITE.includes(path) || RPM_BDB.includes(path) || RPM_NDB.includes(path);

/** The header blobs of a SQLite rpmdb. */
export function readSqliteBlobs(db: Buffer): Buffer[] {
  const dir = mkdtempSync(join(tmpdir(), 'berth-rpmdb-'));
  try {
    const file = join(dir, 'rpmdb.sqlite');
    writeFileSync(file, db);
    const sqlite = new DatabaseSync(file, { readOnly: true });
    try {
      const rows = sqlite.prepare('SELECT blob FROM Packages ORDER BY hnum').all() as { blob: Uint8Array }[];
      return rows.map((r) => Buffer.from(r.blob));
    } finally {
      sqlite.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function rpmPackage(h: RpmHeader, path: string, os: OsInfo | undefined): Package | undefined {
  if (!h.name || !h.version || h.name === 'gpg-pubkey') return undefined;
  const evr = `${h.epoch ? `${h.epoch}:` : ''}${h.version}${h.release ? `-${h.release}` : ''}`;
  const source = h.sourceRpm ? parseSourceRpm(h.sourceRpm) : undefined;
  const vendor = os?.id === 'rhel' ? 'redhat' : (os?.id ?? 'redhat');
  return {
    type: 'rpm',
    ecosystem: os?.ecosystem ?? 'Red Hat',
    name: h.name,
    version: evr,
    ...(source ? { sourceName: source.name, sourceVersion: `${h.epoch ? `${h.epoch}:` : ''}${source.version}-${source.release}` } : {}),
    ...(h.arch ? { arch: h.arch } : {}),
    purl: purl('rpm', vendor, h.name, `${h.version}${h.release ? `-${h.release}` : ''}`, {
      arch: h.arch,
      distro: distroQualifier(os),
      epoch: h.epoch ? String(h.epoch) : undefined,
      upstream: h.sourceRpm,
    }),
    path: `/${path}`,
  };
}

export async function parseRpmDb(data: Buffer, path: string, os: OsInfo | undefined): Promise<Package[]> {
  let headers: RpmHeader[];
  if (RPM_SQLITE.includes(path)) {
    headers = readSqliteBlobs(data).map(parseRpmHeader);
  } else {
    const result = RPM_NDB.includes(path) ? await getPackagesNdb(data) : await getPackages(data);
    if (result.error) throw result.error;
    headers = result.response.map((p) => ({
      name: p.name,
      version: p.version,
      release: p.release,
      epoch: p.epoch,
      arch: p.arch,
      sourceRpm: p.sourceRPM,
    }));
  }
  return headers.map((h) => rpmPackage(h, path, os)).filter((p): p is Package => p !== undefined);
}
