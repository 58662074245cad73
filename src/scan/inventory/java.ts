// Java archives (.jar, .war, .ear, and Jenkins' .hpi/.jpi): the Maven coordinates in their
// `META-INF/maven/<group>/<artifact>/pom.properties`, in the archive and in the archives it nests (a Spring Boot
// jar's BOOT-INF/lib/*.jar, a war's WEB-INF/lib/*.jar), read from the zip's central directory with yauzl.
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import type { Package } from './package.ts';
import { purl } from './purl.ts';

const ARCHIVE = /\.(jar|war|ear|hpi|jpi)$/i;
const POM_PROPERTIES = /^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/;
/** Nested archives are read up to this depth and size. */
const MAX_DEPTH = 3;
const MAX_NESTED_SIZE = 64 * 1024 * 1024;

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

const fromBuffer = (data: Buffer): Promise<yauzl.ZipFile> =>
  new Promise((resolve, reject) => yauzl.fromBuffer(data, { lazyEntries: true }, (err, zip) => (err ? reject(err) : resolve(zip))));

const openEntry = (zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> =>
  new Promise((resolve, reject) => zip.openReadStream(entry, (err, stream) => (err ? reject(err) : resolve(stream))));

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The entries of a zip, one at a time. */
async function* entries(zip: yauzl.ZipFile): AsyncGenerator<yauzl.Entry> {
  for (;;) {
    const entry = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
      const onEntry = (e: yauzl.Entry): void => {
        zip.off('end', onEnd).off('error', onError);
        resolve(e);
      };
      const onEnd = (): void => {
        zip.off('entry', onEntry).off('error', onError);
        resolve(undefined);
      };
      const onError = (err: Error): void => {
        zip.off('entry', onEntry).off('end', onEnd);
        reject(err);
      };
      zip.once('entry', onEntry).once('end', onEnd).once('error', onError);
      zip.readEntry();
    });
    if (!entry) return;
    yield entry;
  }
}

/** The Maven coordinates of an archive and of the archives inside it. */
export async function mavenCoordinates(data: Buffer, location: string, depth = 0): Promise<MavenCoordinates[]> {
  const zip = await fromBuffer(data);
  const out: MavenCoordinates[] = [];
  try {
    for await (const entry of entries(zip)) {
      if (POM_PROPERTIES.test(entry.fileName)) {
        const p = parseProperties((await readAll(await openEntry(zip, entry))).toString('utf8'));
        if (p.groupId && p.artifactId && p.version) out.push({ groupId: p.groupId, artifactId: p.artifactId, version: p.version, location });
      } else if (depth < MAX_DEPTH && ARCHIVE.test(entry.fileName) && entry.uncompressedSize <= MAX_NESTED_SIZE) {
        const nested = await readAll(await openEntry(zip, entry));
        try {
          out.push(...(await mavenCoordinates(nested, `${location}!/${entry.fileName}`, depth + 1)));
        } catch {
          // A nested file named like an archive that is not a zip: nothing to report in it.
        }
      }
    }
  } finally {
    zip.close();
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
