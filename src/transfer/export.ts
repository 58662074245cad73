// `berth export`: images pulled from a registry through its /v2/ API into one tar that `docker load`, `podman load`
// (format docker: Docker's manifest.json layout) or `skopeo copy oci-archive:` (format oci: an OCI image layout)
// read. Blobs are streamed from the registry into the tar (each checked against its digest), each written once.
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { pack as tarPack } from 'tar-stream';
import { MEDIA } from './import.ts';
import { parseReference } from './reference.ts';
import type { Progress } from './progress.ts';
import { formatBytes } from './progress.ts';
import type { Manifest, RegistryClient } from './registry-client.ts';

export type ExportFormat = 'docker' | 'oci';

export class ExportError extends Error {}

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { architecture?: string; os?: string; variant?: string };
  annotations?: Record<string, string>;
}
interface ImageDoc {
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  manifests?: undefined;
}
interface IndexDoc {
  mediaType?: string;
  manifests: Descriptor[];
}

const isIndex = (mediaType: string, doc: object): boolean =>
  mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList || 'manifests' in doc;

/** The platform `docker load` wants from a multi-platform image: this machine's, as Go names it. */
function hostPlatform(): { os: string; architecture: string } {
  const arch: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ia32: '386',
    ppc64: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64',
  };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}

export async function runExport(
  client: RegistryClient,
  refs: string[],
  output: string,
  format: ExportFormat,
  progress: Progress,
): Promise<{ file: string; images: { reference: string; digest: string }[] }> {
  if (refs.length === 0) throw new ExportError('name at least one image: berth export NAME:TAG... -o FILE');
  const pack = tarPack();
  const tmp = `${output}.partial`;
  const written = pipeline(pack, createWriteStream(tmp, { mode: 0o644 }));
  const inTar = new Set<string>();
  const images: { reference: string; digest: string }[] = [];
  const dockerItems: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const ociIndex: Descriptor[] = [];

  const addFile = (name: string, data: Buffer) =>
    new Promise<void>((resolve, reject) => {
      pack.entry({ name, size: data.length, mode: 0o644, mtime: new Date(0) }, data, (e) => (e ? reject(e) : resolve()));
    });
  const addBlob = async (repo: string, d: Descriptor): Promise<string> => {
    const [alg, hex] = d.digest.split(':');
    const name = `blobs/${alg}/${hex}`;
    if (inTar.has(name)) return name;
    inTar.add(name);
    progress.addTotal(d.size);
    const data = await client.getBlob(repo, d.digest);
    await new Promise<void>((resolve, reject) => {
      const entry = pack.entry({ name, size: d.size, mode: 0o644, mtime: new Date(0) }, (e) => (e ? reject(e) : resolve()));
      data.on('data', (c: Buffer) => progress.add(c.length));
      pipeline(data, entry).catch(reject);
    });
    progress.line(`blob ${d.digest} ${formatBytes(d.size)}`);
    return name;
  };
  const addManifest = async (m: Manifest): Promise<void> => {
    const [alg, hex] = m.digest.split(':');
    const name = `blobs/${alg}/${hex}`;
    if (inTar.has(name)) return;
    inTar.add(name);
    await addFile(name, m.body);
  };

  try {
    if (format === 'oci') await addFile('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    for (const ref of refs) {
      const r = parseReference(ref);
      const reference = r.digest ?? r.tag ?? 'latest';
      const top = await client.getManifest(r.repository, reference);
      const shown = `${r.repository}${r.digest ? `@${r.digest}` : `:${reference}`}`;
      if (format === 'oci') {
        await addImageTree(client, r.repository, top, addManifest, addBlob);
        ociIndex.push({
          mediaType: top.mediaType,
          digest: top.digest,
          size: top.body.length,
          annotations: {
            'io.containerd.image.name': shown,
            ...(r.tag || !r.digest ? { 'org.opencontainers.image.ref.name': reference } : {}),
          },
        });
      } else {
        let image = top;
        const doc = JSON.parse(top.body.toString('utf8')) as IndexDoc | ImageDoc;
        if (isIndex(top.mediaType, doc)) {
          // docker load takes one platform per image: this machine's.
          const want = hostPlatform();
          const child = (doc as IndexDoc).manifests.find(
            (c) => c.platform?.os === want.os && c.platform?.architecture === want.architecture,
          );
          if (!child)
            throw new ExportError(
              `${shown} is a multi-platform image without ${want.os}/${want.architecture}: export it with --format oci`,
            );
          image = await client.getManifest(r.repository, child.digest);
        }
        const img = JSON.parse(image.body.toString('utf8')) as ImageDoc;
        const config = await addBlob(r.repository, img.config);
        const layers: string[] = [];
        for (const l of img.layers) layers.push(await addBlob(r.repository, l));
        dockerItems.push({ Config: config, RepoTags: r.tag || !r.digest ? [`${r.repository}:${reference}`] : [], Layers: layers });
      }
      images.push({ reference: shown, digest: top.digest });
      progress.line(`image ${shown} ${top.digest}`);
    }
    if (format === 'oci') {
      await addFile('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: ociIndex })));
    } else {
      await addFile('manifest.json', Buffer.from(JSON.stringify(dockerItems)));
    }
    pack.finalize();
    await written;
    renameSync(tmp, output);
  } catch (e) {
    pack.destroy();
    await written.catch(() => {});
    rmSync(tmp, { force: true });
    throw e;
  }
  progress.finish();
  return { file: output, images };
}

async function addImageTree(
  client: RegistryClient,
  repo: string,
  m: Manifest,
  addManifest: (m: Manifest) => Promise<void>,
  addBlob: (repo: string, d: Descriptor) => Promise<string>,
): Promise<void> {
  const doc = JSON.parse(m.body.toString('utf8')) as IndexDoc | ImageDoc;
  if (isIndex(m.mediaType, doc)) {
    for (const child of (doc as IndexDoc).manifests) {
      await addImageTree(client, repo, await client.getManifest(repo, child.digest), addManifest, addBlob);
    }
  } else {
    const img = doc as ImageDoc;
    await addBlob(repo, img.config);
    for (const l of img.layers) await addBlob(repo, l);
  }
  await addManifest(m);
}
