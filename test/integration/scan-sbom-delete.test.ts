// The SBOM the scanner writes for an image goes with the image, whichever path deletes it, over real HTTP: an OCI
// `DELETE /v2/<name>/manifests/<digest>`, ECR's BatchDeleteImage, and a lifecycle policy's expiry. The store deletes
// it in the image's own delete transaction (src/storage/meta/own-artifacts.ts); a user's referrer stays.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BatchCheckLayerAvailabilityCommand,
  BatchDeleteImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  PutImageCommand,
  PutLifecyclePolicyCommand,
  waitUntilImageScanComplete,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient, makeImage, MEDIA, sha256, uploadLayer } from '../helpers/ecr.ts';
import { berthOk } from '../helpers/lifecycle.ts';
import { DEBIAN_OS_RELEASE, DPKG_STATUS } from '../helpers/scan-fixtures.ts';
import { uniqueName } from '../helpers/tools.ts';

const CYCLONEDX = 'application/vnd.cyclonedx+json';

describe('SBOMs are deleted with their image', () => {
  let berth: Berth;
  let ecr: ECRClient;

  before(async () => {
    berth = await startBerth({ env: { BERTH_CREATE_ON_PUSH: 'false' } });
    ecr = ecrClient(berth);
  });

  after(async () => {
    ecr?.destroy();
    await berth?.cleanup();
  });

  /** Uploads a blob unless the repository has it (the layers images share, the empty config the SBOMs use). */
  async function upload(repositoryName: string, data: Buffer): Promise<void> {
    const known = await ecr.send(new BatchCheckLayerAvailabilityCommand({ repositoryName, layerDigests: [sha256(data)] }));
    if (known.layers?.[0]?.layerAvailability !== 'AVAILABLE') await uploadLayer(ecr, repositoryName, data);
  }

  const get = (path: string, accept?: string) =>
    fetch(`${berth.url}${path}`, { headers: { Authorization: berth.authHeader, ...(accept ? { Accept: accept } : {}) } });

  /** Pushes a Debian image under `tag` to a scan-on-push repository, waits for its scan, and returns it with its SBOM's digest. */
  async function scanned(repositoryName: string, tag: string): Promise<{ digest: string; sbom: string }> {
    const image = makeImage({
      label: tag,
      layers: [{ 'etc/os-release': Buffer.from(DEBIAN_OS_RELEASE) }, { 'var/lib/dpkg/status': Buffer.from(DPKG_STATUS) }],
    });
    for (const b of [image.config, ...image.layers]) await upload(repositoryName, b.bytes);
    await ecr.send(
      new PutImageCommand({ repositoryName, imageManifest: image.manifest, imageManifestMediaType: image.mediaType, imageTag: tag }),
    );
    await waitUntilImageScanComplete(
      { client: ecr, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
      { repositoryName, imageId: { imageTag: tag } },
    );
    const referrers = (await (await get(`/v2/${repositoryName}/referrers/${image.digest}`)).json()) as {
      manifests: { digest: string; artifactType: string }[];
    };
    const sbom = referrers.manifests.find((m) => m.artifactType === CYCLONEDX);
    assert.ok(sbom, `the scan wrote an SBOM: ${JSON.stringify(referrers)}`);
    assert.equal((await get(`/v2/${repositoryName}/manifests/${sbom.digest}`, MEDIA.ociManifest)).status, 200);
    return { digest: image.digest, sbom: sbom.digest };
  }

  /** A referrer of `subject` that a user pushed (no Berth annotation): not Berth's to delete. */
  async function userReferrer(repositoryName: string, subject: string): Promise<string> {
    const empty = Buffer.from('{}');
    const payload = Buffer.from('a signature');
    await upload(repositoryName, empty);
    await upload(repositoryName, payload);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      artifactType: 'application/vnd.example.signature',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(empty), size: empty.length },
      layers: [{ mediaType: 'application/octet-stream', digest: sha256(payload), size: payload.length }],
      subject: { mediaType: MEDIA.dockerManifest, digest: subject, size: 1 },
    });
    await ecr.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageManifestMediaType: MEDIA.ociManifest }));
    return sha256(manifest);
  }

  const digests = async (repositoryName: string) =>
    ((await ecr.send(new DescribeImagesCommand({ repositoryName }))).imageDetails ?? []).map((d) => d.imageDigest).sort();

  it('by an OCI DELETE of the manifest', async () => {
    const repositoryName = uniqueName('sbom/oci');
    await ecr.send(new CreateRepositoryCommand({ repositoryName, imageScanningConfiguration: { scanOnPush: true } }));
    const { digest, sbom } = await scanned(repositoryName, 'v1');
    const signature = await userReferrer(repositoryName, digest);
    const deleted = await fetch(`${berth.url}/v2/${repositoryName}/manifests/${digest}`, {
      method: 'DELETE',
      headers: { Authorization: berth.authHeader },
    });
    assert.equal(deleted.status, 202);
    assert.equal((await get(`/v2/${repositoryName}/manifests/${sbom}`, MEDIA.ociManifest)).status, 404, 'the SBOM went with its image');
    assert.deepEqual(await digests(repositoryName), [signature], "a user's referrer stays");
  });

  it('by BatchDeleteImage', async () => {
    const repositoryName = uniqueName('sbom/ecr');
    await ecr.send(new CreateRepositoryCommand({ repositoryName, imageScanningConfiguration: { scanOnPush: true } }));
    const { digest, sbom } = await scanned(repositoryName, 'v1');
    const kept = await scanned(repositoryName, 'v2');
    const r = await ecr.send(new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageTag: 'v1' }] }));
    assert.deepEqual([r.imageIds?.map((i) => i.imageDigest), r.failures], [[digest], []]);
    assert.equal((await get(`/v2/${repositoryName}/manifests/${sbom}`, MEDIA.ociManifest)).status, 404);
    assert.deepEqual(await digests(repositoryName), [kept.digest, kept.sbom].sort(), 'the other image keeps its SBOM');
  });

  it('by a lifecycle expiry', async () => {
    const repositoryName = uniqueName('sbom/lifecycle');
    await ecr.send(new CreateRepositoryCommand({ repositoryName, imageScanningConfiguration: { scanOnPush: true } }));
    const old = await scanned(repositoryName, 'release-1');
    const newer = await scanned(repositoryName, 'release-2');
    await ecr.send(
      new PutLifecyclePolicyCommand({
        repositoryName,
        lifecyclePolicyText: JSON.stringify({
          rules: [
            {
              rulePriority: 1,
              selection: { tagStatus: 'tagged', tagPrefixList: ['release-'], countType: 'imageCountMoreThan', countNumber: 1 },
              action: { type: 'expire' },
            },
          ],
        }),
      }),
    );
    const run = await berthOk(berth, ['lifecycle', 'run', repositoryName]);
    assert.deepEqual(
      run.results[0].expired.map((e: { imageDigest: string }) => e.imageDigest),
      [old.digest],
    );
    assert.equal(
      (await get(`/v2/${repositoryName}/manifests/${old.sbom}`, MEDIA.ociManifest)).status,
      404,
      'the expired image took its SBOM',
    );
    assert.deepEqual(await digests(repositoryName), [newer.digest, newer.sbom].sort());
  });
});
