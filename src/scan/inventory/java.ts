// Java archives (.jar, .war, .ear, and Jenkins' .hpi/.jpi): the Maven coordinates in their
// `META-INF/maven/<group>/<artifact>/pom.properties`, in the archive and in the archives it nests (a Spring Boot
// jar's BOOT-INF/lib/*.jar, a war's WEB-INF/lib/*.jar), read from the zip's central directory with yauzl.
import { openZipBuffer, readZipEntry, zipEntries } from '../zip.ts';
import type { Package } from './package.ts';
import { purl } from './purl.ts';

const ARCHIVE = /\.(jar|war|ear|hpi|jpi)$/i;
const POM_PROPERTIES = /^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/;
/** Nested archives are read up to this depth and size. */
const MAX_DEPTH = 3;
const MAX_NESTED_SIZE = 64 * 1024 * 1024;
const MAX_PROPERTIES_SIZE = 64 * 1024;

export const isJavaArchive = (path: string): boolean => ARCHIVE.test(path);

export interface MavenCoordinates {
  groupId: string;
  artifactId: string;
  version: string;
  /** Where in the image: the archive's path, then `!/` and the nested archive's path inside it. */
  location: string;
}

/** Java `.properties` text: `key=value` or `key: value` lines, `#`/`!` comments. */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:]?\s*(.*)$/.exec(line);
    if (m) out[m[1]] = m[2].trim();
  }
  return out;
}

/** The Maven coordinates of an archive and of the archives inside it. */
export async function mavenCoordinates(data: Buffer, location: string, depth = 0): Promise<MavenCoordinates[]> {
  const zip = await openZipBuffer(data);
  const out: MavenCoordinates[] = [];
  for await (const entry of zipEntries(zip)) {
    if (POM_PROPERTIES.test(entry.fileName)) {
      const p = parseProperties((await readZipEntry(zip, entry, MAX_PROPERTIES_SIZE)).toString('utf8'));
      if (p.groupId && p.artifactId && p.version) out.push({ groupId: p.groupId, artifactId: p.artifactId, version: p.version, location });
    } else if (depth < MAX_DEPTH && ARCHIVE.test(entry.fileName) && entry.uncompressedSize <= MAX_NESTED_SIZE) {
      const nested = await readZipEntry(zip, entry, MAX_NESTED_SIZE);
      try {
        out.push(...(await mavenCoordinates(nested, `${location}!/${entry.fileName}`, depth + 1)));
      } catch {
        // A nested file named like an archive that is not a zip: nothing to report in it.
      }
    }
  }
  return out;
}

export function mavenPackage(c: MavenCoordinates): Package {
  return {
    type: 'maven',
    ecosystem: 'Maven',
    name: `${c.groupId}:${c.artifactId}`,
    version: c.version,
    purl: purl('maven', c.groupId, c.artifactId, c.version),
    path: `/${c.location}`,
  };
}

/** The packages of a Java archive. */
export async function parseJavaArchive(data: Buffer, path: string): Promise<Package[]> {
  return (await mavenCoordinates(data, path)).map(mavenPackage);
}
