// Alpine packages: /lib/apk/db/installed (stanzas of `X:value` lines: P name, V version, A arch, o origin).
import { distroQualifier } from './os.ts';
import type { OsInfo, Package } from './package.ts';
import { purl } from './purl.ts';

export const APK_INSTALLED = 'lib/apk/db/installed';

export function parseApkInstalled(text: string, os: OsInfo | undefined): Package[] {
  const out: Package[] = [];
  let fields = new Map<string, string>();
  const flush = (): void => {
    const name = fields.get('P');
    const version = fields.get('V');
    if (name && version) {
      const arch = fields.get('A');
      const origin = fields.get('o') ?? name;
      out.push({
        type: 'apk',
        ecosystem: os?.ecosystem ?? 'Alpine',
        name,
        version,
        sourceName: origin,
        sourceVersion: version,
        ...(arch ? { arch } : {}),
        purl: purl('apk', os?.id ?? 'alpine', name, version, {
          arch,
          distro: distroQualifier(os),
          upstream: origin !== name ? origin : undefined,
        }),
        path: `/${APK_INSTALLED}`,
      });
    }
    fields = new Map();
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') flush();
    else if (line[1] === ':' && !fields.has(line[0])) fields.set(line[0], line.slice(2).trim());
  }
  flush();
  return out;
}
