// The scanner as jobs (off the request path): scan on push (decided before the manifest's write, enqueued in its
// transaction), manual scans (StartImageScan, one a day per image as in ECR), and rescans after an import of
// vulnerability data (only the matching step, from the stored inventory, for images under a CONTINUOUS_SCAN rule).
// A scan walks the image's layers from the blob store (streamed), inventories them, matches the packages against the
// advisories in the metadata store (indexed once per data version), records the findings, and writes the SBOM as an
// OCI referrer of the image through the core (a normal manifest with a subject, untagged). Referrers (SBOMs,
// signatures) are never scanned on their own; an index is scanned through each of its platform images.
import { imageScan } from '../core/events.ts';
import { getScanningConfiguration, repositoryScanning } from '../core/scanning.ts';
import { MediaType } from '../core/manifest.ts';
import { BERTH_ARTIFACT_ANNOTATION, EMPTY_CONFIG, putOwnBlob } from '../core/own-artifacts.ts';
import type { Registry, ScanOnPush } from '../core/registry.ts';
import type { Logger } from '../server/log.ts';
import type { ImageRow, ImageScan, NewJob, Repository, StoredManifest } from '../storage/meta/store.ts';
import type { Inventory } from './image.ts';
import type { AdvisoryIndex, Finding } from './match.ts';
import { CYCLONEDX_MEDIA_TYPE } from './media-types.ts';
/** The heavy parts are loaded by the first scan (./engine.ts). */
const engine = async () => (await import('./engine.ts')).scanEngine();
import type { OsvRecord } from './osv.ts';

export const SCAN_JOB = 'image-scan';
export const RESCAN_JOB = 'image-rescan';

export interface ScanJob {
  accountId: string;
  repository: string;
  repositoryId: number;
  digest: string;
  /** Match the stored inventory again rather than walk the layers (a rescan after new data). */
  match?: boolean;
}

/** ECR's quota: one manual scan per image per 24 hours. */
export const MANUAL_SCAN_INTERVAL_MS = 24 * 60 * 60 * 1000;

const IMAGE_CONFIGS = ['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json'];
/** The principal named on the scanner's own uploads (the SBOM's blobs). */
const SCANNER_ARN = 'arn:aws:iam::000000000000:role/berth-scanner';

export const SCAN_COMPLETE = 'The scan was completed successfully.';
export const UNSUPPORTED = 'The operating system and/or package manager are not supported.';
export const CONTINUOUS = 'Continuous scan is selected for image.';

type Unsupported = { unsupported: string };

export interface Advisories {
  version: number;
  index: AdvisoryIndex;
  /** When the newest source was imported (ECR's vulnerabilitySourceUpdatedAt). */
  updatedAt: number | null;
}

export class Scanner {
  private readonly registry: Registry;
  private readonly now: () => number;
  private readonly log?: Logger;
  /** How long after its last push or pull continuous scanning follows an image (0: for its lifetime). */
  private readonly eligibilityMs: number;
  private advisoryCache: Promise<Advisories> | undefined;

  constructor(registry: Registry, now: () => number = Date.now, log?: Logger, eligibilityMs = 14 * 86_400_000) {
    this.registry = registry;
    this.now = now;
    this.log = log;
    this.eligibilityMs = eligibilityMs;
  }

  /** Whether continuous scanning has stopped following an image: not pushed or pulled within the eligibility. */
  eligibilityExpired(image: Pick<ImageRow, 'pushedAt' | 'lastPulledAt'>): boolean {
    return this.eligibilityMs > 0 && this.now() - Math.max(image.pushedAt, image.lastPulledAt ?? 0) > this.eligibilityMs;
  }

  /**
   * A scan's status as ECR reports it: an image under continuous scanning (ACTIVE) that is no longer followed is
   * SCAN_ELIGIBILITY_EXPIRED (its last findings are kept).
   */
  status(scan: ImageScan, image: Pick<ImageRow, 'pushedAt' | 'lastPulledAt'> | undefined): { status: string; description: string | null } {
    if (scan.status === 'ACTIVE' && image && this.eligibilityExpired(image)) {
      const days = Math.round(this.eligibilityMs / 86_400_000);
      return {
        status: 'SCAN_ELIGIBILITY_EXPIRED',
        description: `The image was not pushed or pulled in the last ${days} days: it is no longer scanned continuously.`,
      };
    }
    return { status: scan.status, description: scan.description };
  }

  private get meta() {
    return this.registry.meta;
  }

  job(repo: Repository, digest: string, match = false): NewJob {
    const payload: ScanJob = {
      accountId: repo.accountId,
      repository: repo.name,
      repositoryId: repo.id,
      digest,
      ...(match ? { match } : {}),
    };
    // Jobs run on wall-clock time (src/jobs/runner.ts), whatever the registry's test clock says.
    return { kind: SCAN_JOB, payload: JSON.stringify(payload), runAt: Date.now(), maxAttempts: 3 };
  }

  /** The core's scan-on-push decision (src/core/registry.ts). */
  readonly scanOnPush: ScanOnPush = async (repo, manifest) => {
    if (manifest.subject !== null) return undefined;
    const applied = repositoryScanning(await getScanningConfiguration(this.meta, repo.accountId), repo);
    if (applied.scanFrequency === 'MANUAL') return undefined;
    return { scanType: applied.scanType, job: this.job(repo, manifest.digest) };
  };

  /** A manual scan (StartImageScan): 'limited' when the image had one in the last 24 hours. */
  async startManual(repo: Repository, digest: string): Promise<'started' | 'limited' | 'missing'> {
    const applied = repositoryScanning(await getScanningConfiguration(this.meta, repo.accountId), repo);
    const now = this.now();
    return this.meta.startImageScan(repo.id, digest, applied.scanType, now, this.job(repo, digest), now - MANUAL_SCAN_INTERVAL_MS);
  }

  /** The advisories of the metadata store, indexed once per data version (any node's import moves it on). */
  async advisories(): Promise<Advisories> {
    const version = await this.meta.vulnDataVersion();
    const cached = this.advisoryCache;
    if (cached) {
      const known = await cached.catch(() => undefined);
      if (known && known.version === version) return known;
      if (this.advisoryCache !== cached) return this.advisories();
    }
    const building = this.buildIndex(version);
    this.advisoryCache = building;
    return building;
  }

  private async buildIndex(version: number): Promise<Advisories> {
    const { AdvisoryIndex } = await engine();
    const index = new AdvisoryIndex();
    let after: string | undefined;
    for (;;) {
      const page = await this.meta.listVulnRecords(after, 1000);
      for (const r of page) index.add(JSON.parse(r.record) as OsvRecord);
      if (page.length < 1000) break;
      after = page[page.length - 1].key;
    }
    const sources = await this.meta.listVulnSources();
    const updatedAt = sources.length === 0 ? null : Math.max(...sources.map((s) => s.importedAt));
    return { version, index, updatedAt };
  }

  /** Runs one scan job; a scan that fails is recorded as FAILED (with the reason) rather than retried. */
  async run(job: ScanJob): Promise<object> {
    const repo = await this.meta.getRepository(job.accountId, job.repository);
    if (!repo || repo.id !== job.repositoryId) return { skipped: 'the repository is gone' };
    const manifest = await this.meta.getManifest(repo.id, job.digest);
    const scan = await this.meta.getImageScan(repo.id, job.digest);
    if (!manifest || !scan) return { skipped: 'the image is gone' };
    const applied = repositoryScanning(await getScanningConfiguration(this.meta, repo.accountId), repo);
    const { findingsOf } = await engine();
    const done =
      scan.scanType === 'ENHANCED' && applied.scanFrequency === 'CONTINUOUS_SCAN'
        ? { status: 'ACTIVE', description: CONTINUOUS }
        : { status: 'COMPLETE', description: SCAN_COMPLETE };
    try {
      if (job.match && scan.inventory) {
        const advisories = await this.advisories();
        const findings = findingsOf(JSON.parse(scan.inventory) as Inventory, advisories.index);
        await this.finish(repo, job.digest, done, findings, undefined, advisories);
        return { digest: job.digest, findings: findings.length, rescan: true };
      }
      const result = await this.inventoryOf(repo, manifest);
      if ('unsupported' in result) {
        await this.meta.finishImageScan(
          repo.id,
          job.digest,
          {
            status: 'UNSUPPORTED_IMAGE',
            description: result.unsupported,
            findings: null,
            severityCounts: null,
            inventory: null,
            vulnerabilitySourceUpdatedAt: null,
          },
          this.now(),
          await this.scanEvent(repo, job.digest, 'UNSUPPORTED_IMAGE', null),
        );
        return { digest: job.digest, status: 'UNSUPPORTED_IMAGE' };
      }
      const advisories = await this.advisories();
      for (const child of result.children) {
        await this.meta.startImageScan(repo.id, child.digest, scan.scanType, this.now(), undefined);
        await this.finish(repo, child.digest, done, findingsOf(child.inventory, advisories.index), child.inventory, advisories);
      }
      const findings = findingsOf(result.inventory, advisories.index);
      // The SBOM before the status: a scan reported complete has its SBOM.
      await this.writeSbom(repo, manifest, result.inventory);
      await this.finish(repo, job.digest, done, findings, result.inventory, advisories);
      return { digest: job.digest, packages: result.inventory.packages.length, findings: findings.length };
    } catch (e) {
      this.log?.warn({ err: e, repository: repo.name, digest: job.digest }, 'image scan failed');
      await this.meta.finishImageScan(
        repo.id,
        job.digest,
        {
          status: 'FAILED',
          description: `The scan failed: ${(e as Error).message}`,
          findings: null,
          severityCounts: null,
          vulnerabilitySourceUpdatedAt: null,
        },
        this.now(),
        await this.scanEvent(repo, job.digest, 'FAILED', null),
      );
      return { digest: job.digest, status: 'FAILED', error: (e as Error).message };
    }
  }

  private async finish(
    repo: Repository,
    digest: string,
    done: { status: string; description: string },
    findings: Finding[],
    inventory: Inventory | undefined,
    advisories: Advisories,
  ): Promise<void> {
    const { severityCounts } = await engine();
    const counts = severityCounts(findings);
    await this.meta.finishImageScan(
      repo.id,
      digest,
      {
        ...done,
        findings: JSON.stringify(findings),
        severityCounts: JSON.stringify(counts),
        ...(inventory ? { inventory: JSON.stringify(inventory) } : {}),
        vulnerabilitySourceUpdatedAt: advisories.updatedAt,
      },
      this.now(),
      await this.scanEvent(repo, digest, done.status, counts as Record<string, number>),
    );
  }

  /** The outbox event of a scan's end (src/core/events.ts), with the image's tags as they are now. */
  private async scanEvent(repo: Repository, digest: string, status: string, counts: Record<string, number> | null) {
    const tags = (await this.meta.getImage(repo.id, digest))?.tags ?? [];
    return imageScan(repo, this.now(), digest, status, counts, tags);
  }

  /** An image's inventory; an index's is its platform images' together (each also given). */
  private async inventoryOf(
    repo: Repository,
    manifest: StoredManifest,
  ): Promise<{ inventory: Inventory; children: { digest: string; inventory: Inventory }[] } | Unsupported> {
    const doc = JSON.parse(manifest.content.toString('utf8')) as { manifests?: { digest: string; annotations?: Record<string, string> }[] };
    if (!Array.isArray(doc.manifests)) {
      const inventory = await this.imageInventory(manifest);
      return 'unsupported' in inventory ? inventory : { inventory, children: [] };
    }
    const children: { digest: string; inventory: Inventory }[] = [];
    for (const d of doc.manifests) {
      // Attestations that buildkit puts in an index are not platform images.
      if (d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') continue;
      const child = await this.meta.getManifest(repo.id, d.digest);
      if (!child) continue;
      const inventory = await this.imageInventory(child);
      if (!('unsupported' in inventory)) children.push({ digest: d.digest, inventory });
    }
    if (children.length === 0) return { unsupported: UNSUPPORTED };
    const first = children.find((c) => c.inventory.os)?.inventory.os;
    const inventory: Inventory = {
      ...(first ? { os: first } : {}),
      packages: children.flatMap((c) => c.inventory.packages),
      errors: children.flatMap((c) => c.inventory.errors),
    };
    return { inventory, children };
  }

  private async imageInventory(manifest: StoredManifest): Promise<Inventory | Unsupported> {
    const doc = JSON.parse(manifest.content.toString('utf8')) as {
      config?: { mediaType?: string };
      layers?: { mediaType: string; digest: string }[];
      artifactType?: string;
    };
    if (doc.artifactType !== undefined || !IMAGE_CONFIGS.includes(doc.config?.mediaType ?? '')) return { unsupported: UNSUPPORTED };
    const layers = (doc.layers ?? []).map((l) => ({ mediaType: l.mediaType, open: () => this.registry.blobs.read(l.digest) }));
    const { inventoryLayers, UnsupportedLayerError } = await engine();
    let inventory: Inventory;
    try {
      inventory = await inventoryLayers(layers);
    } catch (e) {
      if (e instanceof UnsupportedLayerError) return { unsupported: UNSUPPORTED };
      throw e;
    }
    if (!inventory.os && inventory.packages.length === 0) return { unsupported: UNSUPPORTED };
    return inventory;
  }

  /**
   * The SBOM as a referrer of the image: pushed by digest, untagged, through the core (same digest each scan). An
   * image deleted during its scan gets none: the store deletes the SBOM with an image deleted after the SBOM is
   * written, and one deleted before is seen here, after the write, and the SBOM deleted.
   */
  private async writeSbom(repo: Repository, manifest: StoredManifest, inventory: Inventory): Promise<void> {
    if (!(await this.meta.getManifest(repo.id, manifest.digest))) return;
    const sbom = (await engine()).cycloneDxJson({ digest: manifest.digest, repository: repo.name }, inventory);
    const config = await this.putBlob(repo, EMPTY_CONFIG);
    const layer = await this.putBlob(repo, sbom);
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        artifactType: CYCLONEDX_MEDIA_TYPE,
        config: { mediaType: MediaType.ociEmpty, digest: config, size: EMPTY_CONFIG.length, data: EMPTY_CONFIG.toString('base64') },
        layers: [{ mediaType: CYCLONEDX_MEDIA_TYPE, digest: layer, size: sbom.length }],
        subject: { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size },
        annotations: { [BERTH_ARTIFACT_ANNOTATION]: 'scanner' },
      }),
    );
    const sbomManifest = await this.registry.putManifest(repo, {}, body, MediaType.ociManifest);
    if (!(await this.meta.getManifest(repo.id, manifest.digest))) await this.meta.deleteManifest(repo.id, sbomManifest.digest);
  }

  private putBlob(repo: Repository, data: Buffer): Promise<string> {
    return putOwnBlob(this.registry, repo, data, SCANNER_ARN);
  }

  /** After an import: a rescan (matching only) of every image under a CONTINUOUS_SCAN rule of an ENHANCED registry. */
  async rescanContinuous(): Promise<{ rescans: number }> {
    let after: { repositoryId: number; digest: string } | undefined;
    let rescans = 0;
    for (;;) {
      const page = await this.meta.listScannedImages(after, 500);
      for (const image of page) {
        const repo = await this.meta.getRepository(image.accountId, image.repositoryName);
        if (!repo) continue;
        const applied = repositoryScanning(await getScanningConfiguration(this.meta, repo.accountId), repo);
        if (applied.scanType !== 'ENHANCED' || applied.scanFrequency !== 'CONTINUOUS_SCAN') continue;
        const row = await this.meta.getImage(repo.id, image.digest);
        if (!row || this.eligibilityExpired(row)) continue;
        if (
          (await this.meta.startImageScan(repo.id, image.digest, 'ENHANCED', this.now(), this.job(repo, image.digest, true))) === 'started'
        )
          rescans++;
      }
      if (page.length < 500) return { rescans };
      after = page[page.length - 1];
    }
  }
}

/** The SBOM the scanner wrote for an image (`berth sbom`): the CycloneDX document, or undefined when there is none. */
export async function readSbom(registry: Registry, repo: Repository, digest: string): Promise<unknown> {
  const referrers = await registry.meta.listReferrers(repo.id, digest, CYCLONEDX_MEDIA_TYPE);
  const own = referrers.find((r) => r.annotations?.[BERTH_ARTIFACT_ANNOTATION] !== undefined);
  if (!own) return undefined;
  const manifest = await registry.meta.getManifest(repo.id, own.digest);
  const layer = (JSON.parse(manifest!.content.toString('utf8')) as { layers: { digest: string }[] }).layers[0];
  const chunks: Buffer[] = [];
  for await (const chunk of await registry.blobs.read(layer.digest)) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}
