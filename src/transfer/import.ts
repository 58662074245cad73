// `berth import`: images from a `docker save` archive (manifest.json) or an OCI image layout (index.json), as a tar
// (compressed or not) or a directory, pushed into a registry through its /v2/ API. Blobs keep their bytes (so the
// image ids and, for OCI layouts, the manifest digests are the archive's); `compress` gzips uncompressed layers
// deterministically (fixed level, no name or time in the header). A blob the registry already has is not sent
// again, so an interrupted import run again goes on where it stopped.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { compressionOf, type ArchiveSource, type Entry } from './archive-source.ts';
import { isFullReference, parseReference } from './reference.ts';
import type { Progress } from './progress.ts';
import { formatBytes } from './progress.ts';
import type { RegistryClient } from './registry-client.ts';

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** gzip level for --compress: fixed, so that the same layer always compresses to the same bytes. */
const GZIP_LEVEL = 6;

export class ImportError extends Error {}

export interface ImportOptions {
  /** NAME or NAME:TAG: the repository (and tag) the archive's image(s) go to. */
  repository?: string;
  compress?: boolean;
}

export interface Imported {
  repository: string;
  tags: string[];
  digest: string;
  mediaType: string;
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: unknown;
  [k: string]: unknown;
}

/** A blob of the archive: its file, the digest it must have (when known before reading it), where it goes. */
interface BlobPlan {
  entry: string;
  size: number;
  expected?: string;
  compress: boolean;
  repositories: Set<string>;
  /** What the registry holds once it is in: the digest and size (those of the gzip with --compress). */
  stored?: { digest: string; size: number };
}

/** A manifest to put: an image (from its blobs) or an index (from its children), tagged or by digest. */
interface ManifestPlan {
  repository: string;
  tags: string[];
  /** The manifest's bytes, once the blobs (and children) are in: with --compress its layers' descriptors change. */
  build(): { body: Buffer; mediaType: string };
  children: ManifestPlan[];
  pushed?: string;
}

interface Target {
  repository: string;
  tag?: string;
}

const sha256 = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

function json<T>(source: ArchiveSource, name: string): T {
  const entry = source.entries.get(source.resolve(name));
  if (!entry?.json) throw new ImportError(`${source.describe}: ${name} is missing or is no JSON document`);
  try {
    return JSON.parse(entry.json.toString('utf8')) as T;
  } catch (e) {
    throw new ImportError(`${source.describe}: ${name}: ${(e as Error).message}`);
  }
}

function blobName(digest: string): string {
  const [alg, hex] = digest.split(':');
  return `blobs/${alg}/${hex}`;
}

function uncompressedLayer(mediaType: string | undefined): boolean {
  return mediaType === MEDIA.ociLayer || mediaType === MEDIA.dockerLayer;
}

/** Plans the import: which blobs go to which repositories, which manifests are put with which tags. */
export function planImport(
  source: ArchiveSource,
  opts: ImportOptions,
): { blobs: Map<string, BlobPlan>; manifests: ManifestPlan[]; format: string } {
  const blobs = new Map<string, BlobPlan>();
  const rename = opts.repository ? parseReference(opts.repository) : undefined;
  const useBlob = (name: string, repository: string, expected: string | undefined, compress: boolean): BlobPlan => {
    const entryName = source.resolve(name);
    const entry: Entry | undefined = source.entries.get(entryName);
    if (!entry) throw new ImportError(`${source.describe}: ${name} is referenced but not in the archive`);
    let plan = blobs.get(entryName);
    if (!plan) {
      plan = { entry: entryName, size: entry.size, expected, compress, repositories: new Set() };
      blobs.set(entryName, plan);
    }
    plan.repositories.add(repository);
    return plan;
  };

  const isOci = source.entries.has('index.json') && source.entries.has('oci-layout');
  const format = isOci ? 'OCI image layout' : source.entries.has('manifest.json') ? 'docker save archive' : '';
  if (!format)
    throw new ImportError(
      `${source.describe} is neither a docker save archive (manifest.json) nor an OCI image layout (oci-layout, index.json)`,
    );

  // The images of the archive with the references they carry, before renaming.
  const images: { targets: Target[]; plan: (repository: string) => ManifestPlan }[] = [];

  if (isOci) {
    const index = json<{ manifests?: Descriptor[] }>(source, 'index.json');
    for (const d of index.manifests ?? []) {
      const name = d.annotations?.['io.containerd.image.name'] ?? d.annotations?.['org.opencontainers.image.ref.name'];
      let targets: Target[] = [];
      if (name && isFullReference(name)) {
        const r = parseReference(name);
        targets = [{ repository: r.repository, tag: r.tag ?? 'latest' }];
      } else if (name) {
        if (!rename)
          throw new ImportError(
            `${source.describe} names its image(s) by tag only ("${name}"): give the repository with --repository NAME`,
          );
        targets = [{ repository: rename.repository, tag: name }];
      } else if (rename) {
        targets = [{ repository: rename.repository }];
      }
      images.push({ targets, plan: (repository) => ociManifest(d, repository) });
    }
  } else {
    const items = json<{ Config: string; RepoTags?: string[] | null; Layers: string[] }[]>(source, 'manifest.json');
    for (const item of items) {
      const targets: Target[] = (item.RepoTags ?? []).map((t) => {
        const r = parseReference(t);
        return { repository: r.repository, tag: r.tag ?? 'latest' };
      });
      if (targets.length === 0 && rename) targets.push({ repository: rename.repository });
      images.push({ targets, plan: (repository) => dockerArchiveImage(item, repository) });
    }
  }

  function ociManifest(d: Descriptor, repository: string): ManifestPlan {
    const doc = json<{ mediaType?: string; manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] }>(
      source,
      blobName(d.digest),
    );
    const raw = source.entries.get(source.resolve(blobName(d.digest)))!.json!;
    if (sha256(raw) !== d.digest) throw new ImportError(`${source.describe}: manifest ${d.digest} does not have that digest`);
    const mediaType = d.mediaType ?? doc.mediaType ?? (doc.manifests ? MEDIA.ociIndex : MEDIA.ociManifest);
    if (doc.manifests) {
      const children = doc.manifests.map((c) => ociManifest(c, repository));
      return {
        repository,
        tags: [],
        children,
        build() {
          // Children rewritten (--compress) change their digests: the index follows.
          let changed = false;
          const manifests = doc.manifests!.map((c, i) => {
            const built = children[i].build();
            const digest = sha256(built.body);
            if (digest === c.digest) return c;
            changed = true;
            return { ...c, digest, size: built.body.length };
          });
          return { body: changed ? Buffer.from(JSON.stringify({ ...doc, manifests })) : raw, mediaType };
        },
      };
    }
    if (!doc.config) throw new ImportError(`${source.describe}: manifest ${d.digest} has no config`);
    useBlob(blobName(doc.config.digest), repository, doc.config.digest, false);
    const layers = (doc.layers ?? []).map((l) =>
      useBlob(blobName(l.digest), repository, l.digest, opts.compress === true && uncompressedLayer(l.mediaType)),
    );
    return {
      repository,
      tags: [],
      children: [],
      build() {
        let changed = false;
        const out = (doc.layers ?? []).map((l, i) => {
          const stored = layers[i].stored!;
          if (stored.digest === l.digest) return l;
          changed = true;
          const docker = l.mediaType === MEDIA.dockerLayer;
          return { ...l, mediaType: docker ? MEDIA.dockerLayerGzip : MEDIA.ociLayerGzip, digest: stored.digest, size: stored.size };
        });
        return { body: changed ? Buffer.from(JSON.stringify({ ...doc, layers: out })) : raw, mediaType };
      },
    };
  }

  function dockerArchiveImage(item: { Config: string; Layers: string[] }, repository: string): ManifestPlan {
    const configEntry = source.entries.get(source.resolve(item.Config));
    const configDoc = json<{ rootfs?: { diff_ids?: string[] } }>(source, item.Config);
    const configDigest = sha256(configEntry!.json!);
    const diffIds = configDoc.rootfs?.diff_ids ?? [];
    if (diffIds.length !== item.Layers.length)
      throw new ImportError(`${source.describe}: ${item.Config} lists ${diffIds.length} layers, manifest.json ${item.Layers.length}`);
    const config = useBlob(item.Config, repository, configDigest, false);
    const layers = item.Layers.map((name, i) => {
      const entry = source.entries.get(source.resolve(name));
      if (!entry) throw new ImportError(`${source.describe}: layer ${name} is not in the archive`);
      const compression = compressionOf(entry.head);
      const m = /^blobs\/(sha256)\/([0-9a-f]{64})$/.exec(source.resolve(name));
      // An uncompressed layer's digest is its diff id; a blob's is its file name; a compressed one is hashed as read.
      const expected = m ? `${m[1]}:${m[2]}` : compression ? undefined : diffIds[i];
      const plan = useBlob(name, repository, expected, opts.compress === true && !compression);
      return { plan, compression };
    });
    return {
      repository,
      tags: [],
      children: [],
      build() {
        const manifest = {
          schemaVersion: 2,
          mediaType: MEDIA.ociManifest,
          config: { mediaType: MEDIA.ociConfig, digest: config.stored!.digest, size: config.stored!.size },
          layers: layers.map(({ plan, compression }) => ({
            mediaType:
              plan.compress || compression === 'gzip' ? MEDIA.ociLayerGzip : compression === 'zstd' ? MEDIA.ociLayerZstd : MEDIA.ociLayer,
            digest: plan.stored!.digest,
            size: plan.stored!.size,
          })),
        };
        return { body: Buffer.from(JSON.stringify(manifest)), mediaType: MEDIA.ociManifest };
      },
    };
  }

  // Renaming: one repository at most; NAME:TAG only for a single image.
  const repositories = new Set(images.flatMap((i) => i.targets.map((t) => t.repository)));
  if (rename && repositories.size > 1) {
    throw new ImportError(
      `${source.describe} holds ${repositories.size} repositories (${[...repositories].sort().join(', ')}): --repository renames an archive of one repository only`,
    );
  }
  if (rename?.tag && images.length > 1) {
    throw new ImportError(
      `${source.describe} holds ${images.length} images: --repository NAME:TAG tags a single image (give NAME alone to keep the archive's tags)`,
    );
  }
  const manifests: ManifestPlan[] = [];
  for (const image of images) {
    if (image.targets.length === 0) {
      throw new ImportError(`${source.describe} has an image without a name or tag: give its repository with --repository NAME`);
    }
    const byRepository = new Map<string, string[]>();
    for (const t of image.targets) {
      const repository = rename?.repository ?? t.repository;
      const tags = byRepository.get(repository) ?? [];
      const tag = rename?.tag ?? t.tag;
      if (tag && !tags.includes(tag)) tags.push(tag);
      byRepository.set(repository, tags);
    }
    for (const [repository, tags] of byRepository) {
      const plan = image.plan(repository);
      plan.tags = tags;
      manifests.push(plan);
    }
  }
  return { blobs, manifests, format };
}

/** Runs a planned import against the registry; returns what was put. */
export async function runImport(
  source: ArchiveSource,
  client: RegistryClient,
  opts: ImportOptions,
  progress: Progress,
): Promise<Imported[]> {
  const { blobs, manifests, format } = planImport(source, opts);
  progress.line(`${source.describe}: ${format}, ${manifests.length} image(s), ${blobs.size} blob(s)`);

  // Blobs the registry already has (a second run, an interrupted one, layers shared with other images) are
  // linked or skipped; the others are read from the archive.
  const wanted = new Set<string>();
  let total = 0;
  for (const blob of blobs.values()) {
    if (!blob.compress && blob.expected && (await alreadyThere(client, blob, blob.expected))) continue;
    wanted.add(blob.entry);
    total += blob.size;
  }
  progress.setTotal(total);
  await source.stream(wanted, async (name, data) => {
    const blob = blobs.get(name)!;
    const [first, ...others] = [...blob.repositories];
    const started = Date.now();
    const body: Readable = blob.compress ? data.pipe(createGzip({ level: GZIP_LEVEL })) : data;
    if (blob.compress) data.once('error', (e) => body.destroy(e));
    const counted = blob.compress ? (data.on('data', (c: Buffer) => progress.add(c.length)), undefined) : (n: number) => progress.add(n);
    blob.stored = await client.uploadBlob(first, body, blob.compress ? undefined : blob.expected, counted);
    for (const repo of others) {
      if (!(await client.mountBlob(repo, blob.stored.digest, first))) {
        throw new ImportError(`the registry did not link blob ${blob.stored.digest} from ${first} into ${repo}`);
      }
    }
    progress.line(
      `blob ${blob.stored.digest} ${formatBytes(blob.stored.size)}${blob.compress ? ` (gzip of ${formatBytes(blob.size)})` : ''} → ${[...blob.repositories].join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)}s`,
    );
  });
  for (const blob of blobs.values()) {
    if (!blob.stored) throw new ImportError(`${source.describe}: blob ${blob.entry} was not found when reading the archive again`);
  }

  const imported: Imported[] = [];
  const put = async (m: ManifestPlan): Promise<string> => {
    if (m.pushed) return m.pushed;
    for (const child of m.children) await put(child);
    const { body, mediaType } = m.build();
    const digest = sha256(body);
    await client.putManifest(m.repository, digest, body, mediaType);
    for (const tag of m.tags) {
      if ((await client.manifestDigest(m.repository, tag)) !== digest) await client.putManifest(m.repository, tag, body, mediaType);
    }
    m.pushed = digest;
    return digest;
  };
  for (const m of manifests) {
    const digest = await put(m);
    const { mediaType } = m.build();
    imported.push({ repository: m.repository, tags: m.tags, digest, mediaType });
    progress.line(`image ${m.repository}${m.tags.length ? `:${m.tags.join(',')}` : ''} ${digest}`);
  }
  progress.finish();
  return imported;
}

/** Whether every repository that needs the blob has it, linking it where another has it already. */
async function alreadyThere(client: RegistryClient, blob: BlobPlan, digest: string): Promise<boolean> {
  const have: string[] = [];
  const missing: string[] = [];
  for (const repo of blob.repositories) ((await client.hasBlob(repo, digest)) ? have : missing).push(repo);
  if (have.length === 0) return false;
  for (const repo of missing) {
    if (!(await client.mountBlob(repo, digest, have[0]))) return false;
  }
  blob.stored = { digest, size: blob.size };
  return true;
}
