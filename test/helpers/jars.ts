// Java archives for the scanner's tests, written with yazl: pom.properties as Maven writes them, nested jars.
import yazl from 'yazl';

export interface JarSpec {
  /** Maven coordinates recorded in META-INF/maven/<group>/<artifact>/pom.properties. */
  maven?: { groupId: string; artifactId: string; version: string }[];
  /** Archives inside, by path (BOOT-INF/lib/x.jar, WEB-INF/lib/x.jar). */
  nested?: Record<string, Buffer>;
}

export async function makeJar(spec: JarSpec): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from('Manifest-Version: 1.0\r\nCreated-By: Maven JAR Plugin 3.3.0\r\n\r\n'), 'META-INF/MANIFEST.MF');
  for (const m of spec.maven ?? []) {
    const text = `#Created by Apache Maven 3.9.5\nartifactId=${m.artifactId}\ngroupId=${m.groupId}\nversion=${m.version}\n`;
    zip.addBuffer(Buffer.from(text), `META-INF/maven/${m.groupId}/${m.artifactId}/pom.properties`);
    zip.addBuffer(Buffer.from('<project/>'), `META-INF/maven/${m.groupId}/${m.artifactId}/pom.xml`);
  }
  zip.addBuffer(Buffer.from([0xca, 0xfe, 0xba, 0xbe]), 'com/example/Main.class');
  // Nested jars are stored, not deflated, as Spring Boot requires.
  for (const [path, data] of Object.entries(spec.nested ?? {})) zip.addBuffer(data, path, { compress: false });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
