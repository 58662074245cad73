// Debian packages: /var/lib/dpkg/status (only packages whose status is "installed") and, for distroless images,
// /var/lib/dpkg/status.d/* (one file per package, no Status field).
import { parseStanzas } from './control.ts';
import { distroQualifier } from './os.ts';
import type { OsInfo, Package } from './package.ts';
import { purl } from './purl.ts';

export const DPKG_STATUS = 'var/lib/dpkg/status';
export const DPKG_STATUS_D = 'var/lib/dpkg/status.d/';

export function isDpkgFile(path: string): boolean {
  if (path === DPKG_STATUS) return true;
  if (!path.startsWith(DPKG_STATUS_D)) return false;
  const name = path.slice(DPKG_STATUS_D.length);
  // status.d holds one stanza file per package (named after it) and its `.md5sums` lists.
  return name !== '' && !name.includes('/') && !name.endsWith('.md5sums');
}

/** `Source: glibc (2.36-9+deb12u4)` → name and version. */
export function parseSource(field: string | undefined): { name?: string; version?: string } {
  if (!field) return {};
  const m = /^(\S+)(?:\s+\((\S+)\))?$/.exec(field.trim());
  return m ? { name: m[1], version: m[2] } : {};
}

export function parseDpkgStatus(text: string, path: string, os: OsInfo | undefined): Package[] {
  const distroless = path !== DPKG_STATUS;
  const out: Package[] = [];
  for (const stanza of parseStanzas(text)) {
    const name = stanza.get('package');
    const version = stanza.get('version');
    if (!name || !version) continue;
    const status = stanza.get('status');
    if (status !== undefined ? status.split(/\s+/).at(-1) !== 'installed' : !distroless) continue;
    const arch = stanza.get('architecture');
    const source = parseSource(stanza.get('source'));
    const sourceName = source.name ?? name;
    const sourceVersion = source.version ?? version;
    out.push({
      type: 'deb',
      ecosystem: os?.ecosystem ?? 'Debian',
      name,
      version,
      sourceName,
      sourceVersion,
      ...(arch ? { arch } : {}),
      purl: purl('deb', os?.id ?? 'debian', name, version, {
        arch,
        distro: distroQualifier(os),
        upstream:
          sourceName !== name || sourceVersion !== version
            ? sourceVersion !== version
              ? `${sourceName}@${sourceVersion}`
              : sourceName
            : undefined,
      }),
      path: `/${path}`,
    });
  }
  return out;
}
