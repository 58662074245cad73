// The operating system of an image, from `/etc/os-release` (or `/usr/lib/os-release`), and the OSV ecosystem its
// packages' advisories are published under.
import type { OsInfo } from './package.ts';

/** Parses os-release's shell-like `KEY=value` lines (quotes and backslash escapes removed, comments ignored). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let value = line.slice(eq + 1).trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) value = value.slice(1, -1);
    if (quote !== "'") value = value.replace(/\\(.)/g, '$1');
    out[line.slice(0, eq).trim()] = value;
  }
  return out;
}

const major = (v: string | undefined): string | undefined => v?.split('.')[0];

/** The OSV ecosystem for an OS's packages, or undefined when OSV has none for it. */
export function osvEcosystem(id: string, versionId: string | undefined): string | undefined {
  switch (id) {
    case 'debian':
      return versionId ? `Debian:${major(versionId)}` : 'Debian';
    case 'ubuntu': {
      if (!versionId) return 'Ubuntu';
      const m = /^(\d\d)\.04$/.exec(versionId);
      return m && Number(m[1]) % 2 === 0 ? `Ubuntu:${versionId}:LTS` : `Ubuntu:${versionId}`;
    }
    case 'alpine': {
      const parts = versionId?.split('.') ?? [];
      return parts.length >= 2 ? `Alpine:v${parts[0]}.${parts[1]}` : 'Alpine';
    }
    case 'rocky':
      return versionId ? `Rocky Linux:${major(versionId)}` : 'Rocky Linux';
    case 'almalinux':
      return versionId ? `AlmaLinux:${major(versionId)}` : 'AlmaLinux';
    case 'rhel':
      return 'Red Hat';
    case 'wolfi':
      return 'Wolfi';
    case 'chainguard':
      return 'Chainguard';
    case 'opensuse-leap':
      return versionId ? `openSUSE:Leap ${versionId}` : 'openSUSE';
    case 'mageia':
      return versionId ? `Mageia:${versionId}` : 'Mageia';
    default:
      return undefined;
  }
}

export function detectOs(osRelease: string | undefined): OsInfo | undefined {
  if (osRelease === undefined) return undefined;
  const fields = parseOsRelease(osRelease);
  const id = fields.ID?.toLowerCase();
  if (!id) return undefined;
  const info: OsInfo = { id, idLike: (fields.ID_LIKE ?? '').split(/\s+/).filter(Boolean) };
  if (fields.VERSION_ID) info.versionId = fields.VERSION_ID;
  if (fields.VERSION_CODENAME) info.codename = fields.VERSION_CODENAME;
  if (fields.PRETTY_NAME) info.prettyName = fields.PRETTY_NAME;
  const ecosystem = osvEcosystem(id, info.versionId);
  if (ecosystem) info.ecosystem = ecosystem;
  return info;
}

/** The purl `distro` qualifier: `debian-12`, `alpine-3.19.1`. */
export function distroQualifier(os: OsInfo | undefined): string | undefined {
  if (!os) return undefined;
  return os.versionId ? `${os.id}-${os.versionId}` : os.codename ? `${os.id}-${os.codename}` : os.id;
}
