// ECR image and layer operations with the AWS SDK for JavaScript: the layer upload operations (parts, and every
// exception they name), PutImage (with its exceptions and tag immutability in every mode), BatchCheckLayerAvailability,
// GetDownloadUrlForLayer, DescribeImages, ListImages (filters, pagination), BatchGetImage and BatchDeleteImage
// (a tag removes the tag, the last tag removes the image, a digest removes the image and its tags), and one core
// under both planes: what /v2/ pushes, ECR describes at once; what ECR puts, /v2/ serves.
// Reference: the ECR API reference and the botocore model (data/ecr/2015-09-21/service-2.json).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  BatchCheckLayerAvailabilityCommand,
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  GetDownloadUrlForLayerCommand,
  InitiateLayerUploadCommand,
  ListImagesCommand,
  PutImageCommand,
  PutImageTagMutabilityCommand,
  UploadLayerPartCommand,
  paginateDescribeImages,
  paginateListImages,
  type CreateRepositoryCommandInput,
  type ECRClient,
  type ImageIdentifier,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import {
  MEDIA,
  ecrClient,
  eventually,
  expectEcrError,
  literal,
  makeImage,
  makeIndex,
  putImageViaUpload,
  sha256,
  uploadLayer,
  type HandImage,
} from '../helpers/ecr.ts';
import { pushImage } from '../helpers/http.ts';
import { uniqueName } from '../helpers/tools.ts';

const MiB = 1024 * 1024;

/** ImageIdentifiers in a stable order, for comparing sets. */
function ids(list: ImageIdentifier[] | undefined): string[] {
  return (list ?? []).map((i) => `${i.imageDigest ?? '-'} ${i.imageTag ?? '-'}`).sort();
}

describe('ECR images and layers', () => {
  let berth: Berth;
  let ecr: ECRClient;
  let account: string;
  const started = Date.now();

  const createRepo = async (prefix: string, extra: Partial<CreateRepositoryCommandInput> = {}) => {
    const repositoryName = uniqueName(prefix);
    const r = await ecr.send(new CreateRepositoryCommand({ repositoryName, ...extra }));
    account = r.repository!.registryId!;
    return repositoryName;
  };
  const put = (repositoryName: string, image: { manifest: string; mediaType: string }, imageTag?: string) =>
    ecr.send(new PutImageCommand({ repositoryName, imageManifest: image.manifest, imageManifestMediaType: image.mediaType, imageTag }));
  const describeTag = async (repositoryName: string, imageTag: string) =>
    (await ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag }] }))).imageDetails![0];
  const immutableMessage = (tag: string, repo: string) =>
    `The image tag '${tag}' already exists in the '${repo}' repository and cannot be overwritten because the repository is immutable.`;

  before(async () => {
    berth = await startBerth();
    ecr = ecrClient(berth);
  });

  after(async () => {
    ecr?.destroy();
    await berth?.cleanup();
  });

  describe('an image uploaded with the layer operations and PutImage', () => {
    let repo: string;
    let image: HandImage;

    before(async () => {
      repo = await createRepo('images/app');
      // A 6 MiB layer of random bytes goes up in two parts (5 MiB + 7 bytes, then the rest), a small one in one.
      image = makeImage({
        layers: [{ 'data/big.bin': randomBytes(6 * MiB) }, { 'data/small.txt': Buffer.from(`hello ${randomUUID()}\n`) }],
      });
      assert.ok(image.layers[0].size > 5 * MiB + 7, 'the big layer needs two parts');
    });

    it('uploads each blob in parts and puts the manifest under a tag', async () => {
      const r = await putImageViaUpload(ecr, repo, image, 'v1');
      assert.equal(r.image?.registryId, account);
      assert.equal(r.image?.repositoryName, repo);
      assert.deepEqual(r.image?.imageId, { imageDigest: image.digest, imageTag: 'v1' });
      assert.equal(r.image?.imageManifest, image.manifest, 'the manifest comes back byte for byte');
      assert.equal(r.image?.imageManifestMediaType, MEDIA.dockerManifest);
    });

    it('BatchCheckLayerAvailability: AVAILABLE with size for uploaded layers; a missing one is not available', async () => {
      const missing = sha256(randomBytes(32));
      const r = await ecr.send(
        new BatchCheckLayerAvailabilityCommand({
          repositoryName: repo,
          layerDigests: [image.layers[0].digest, image.layers[1].digest, image.config.digest, missing],
        }),
      );
      for (const b of [image.layers[0], image.layers[1], image.config]) {
        const layer = r.layers?.find((l) => l.layerDigest === b.digest);
        assert.ok(layer, `${b.digest} is answered in layers: ${JSON.stringify(r)}`);
        assert.equal(layer.layerAvailability, 'AVAILABLE');
        assert.equal(layer.layerSize, b.size);
      }
      // ECR answers a digest it does not hold either as a failure (MissingLayerDigest) or as an UNAVAILABLE layer.
      const failure = r.failures?.find((f) => f.layerDigest === missing);
      const unavailable = r.layers?.find((l) => l.layerDigest === missing);
      assert.ok(
        (failure && failure.failureCode === 'MissingLayerDigest') || (unavailable && unavailable.layerAvailability === 'UNAVAILABLE'),
        `the missing layer is reported as missing: ${JSON.stringify(r)}`,
      );
    });

    it('BatchCheckLayerAvailability: a digest that is not a digest is an InvalidLayerDigest failure', async () => {
      const r = await ecr.send(new BatchCheckLayerAvailabilityCommand({ repositoryName: repo, layerDigests: ['not-a-digest'] }));
      assert.equal(r.layers?.length ?? 0, 0, JSON.stringify(r));
      assert.equal(r.failures?.[0]?.layerDigest, 'not-a-digest');
      assert.equal(r.failures?.[0]?.failureCode, 'InvalidLayerDigest');
    });

    it('BatchCheckLayerAvailability refuses a missing repository', async () => {
      const missing = uniqueName('images/none');
      await expectEcrError(
        ecr.send(new BatchCheckLayerAvailabilityCommand({ repositoryName: missing, layerDigests: [image.config.digest] })),
        'RepositoryNotFoundException',
        `The repository with name '${missing}' does not exist in the registry with id '${account}'`,
      );
    });

    it('GetDownloadUrlForLayer gives a URL on Berth that serves the exact bytes to a plain GET without credentials', async () => {
      for (const layer of image.layers) {
        const r = await ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: repo, layerDigest: layer.digest }));
        assert.equal(r.layerDigest, layer.digest);
        const url = new URL(r.downloadUrl!);
        assert.equal(url.host, berth.host, `the URL ${r.downloadUrl} is served by Berth`);
        const res = await fetch(url);
        assert.equal(res.status, 200);
        const body = Buffer.from(await res.arrayBuffer());
        assert.equal(body.length, layer.size);
        assert.equal(sha256(body), layer.digest, 'the exact blob bytes');
      }
    });

    it('GetDownloadUrlForLayer: the URL is signed (altered or stripped of its query it is refused)', async () => {
      const r = await ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: repo, layerDigest: image.layers[1].digest }));
      const url = new URL(r.downloadUrl!);
      assert.ok([...url.searchParams.keys()].length > 0, `the URL carries its signature and expiry in its query: ${url}`);
      const stripped = new URL(url);
      stripped.search = '';
      assert.notEqual((await fetch(stripped)).status, 200, 'without its query the URL does not serve the blob');
      // Change one character of every query value in turn: none of the altered URLs may serve the blob.
      for (const key of [...url.searchParams.keys()]) {
        const altered = new URL(url);
        const v = url.searchParams.get(key)!;
        const last = v.slice(-1);
        altered.searchParams.set(key, v.slice(0, -1) + (last === '0' ? '1' : '0'));
        const res = await fetch(altered);
        assert.notEqual(res.status, 200, `altering ${key} must invalidate the URL`);
      }
    });

    it('GetDownloadUrlForLayer refuses a missing layer with LayersNotFoundException and a missing repository', async () => {
      await expectEcrError(
        ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: repo, layerDigest: sha256(randomBytes(8)) })),
        'LayersNotFoundException',
      );
      await expectEcrError(
        ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: uniqueName('images/none'), layerDigest: image.layers[0].digest })),
        'RepositoryNotFoundException',
      );
    });

    it('DescribeImages describes it: digest, tags, size = sum of layer sizes, push time, media types, no pull yet', async () => {
      const d = await describeTag(repo, 'v1');
      assert.equal(d.registryId, account);
      assert.equal(d.repositoryName, repo);
      assert.equal(d.imageDigest, image.digest);
      assert.deepEqual(d.imageTags, ['v1']);
      assert.equal(d.imageSizeInBytes, image.layers[0].size + image.layers[1].size);
      assert.ok(d.imagePushedAt instanceof Date);
      assert.ok(
        d.imagePushedAt.getTime() >= started - 60_000 && d.imagePushedAt.getTime() <= Date.now() + 60_000,
        `imagePushedAt ${d.imagePushedAt.toISOString()} is now`,
      );
      assert.equal(d.imageManifestMediaType, MEDIA.dockerManifest);
      assert.equal(d.artifactMediaType, MEDIA.dockerConfig, 'artifactMediaType is the config media type');
      assert.equal(d.lastRecordedPullTime, undefined, 'never pulled yet');
      const byDigest = (await ecr.send(new DescribeImagesCommand({ repositoryName: repo, imageIds: [{ imageDigest: image.digest }] })))
        .imageDetails!;
      assert.equal(byDigest.length, 1);
      assert.deepEqual(byDigest[0], d);
    });

    it('DescribeImages refuses an imageIds list with a missing image with ImageNotFoundException', async () => {
      await expectEcrError(
        ecr.send(new DescribeImagesCommand({ repositoryName: repo, imageIds: [{ imageTag: 'v1' }, { imageTag: 'nope' }] })),
        'ImageNotFoundException',
        new RegExp(`does not exist within the repository with name '${literal(repo)}' in the registry with id '${account}'`),
      );
      await expectEcrError(
        ecr.send(new DescribeImagesCommand({ repositoryName: repo, imageIds: [{ imageDigest: sha256('none') }] })),
        'ImageNotFoundException',
      );
      await expectEcrError(
        ecr.send(new DescribeImagesCommand({ repositoryName: uniqueName('images/none') })),
        'RepositoryNotFoundException',
      );
    });

    it('BatchGetImage answers the exact manifest by tag and by digest, and lists failures for missing images', async () => {
      const r = await ecr.send(
        new BatchGetImageCommand({
          repositoryName: repo,
          imageIds: [{ imageTag: 'v1' }, { imageDigest: image.digest }, { imageTag: 'nope' }, { imageDigest: sha256('none') }],
          acceptedMediaTypes: [MEDIA.dockerManifest, MEDIA.ociManifest],
        }),
      );
      assert.equal(r.images?.length, 2, JSON.stringify(r));
      for (const img of r.images!) {
        assert.equal(img.registryId, account);
        assert.equal(img.repositoryName, repo);
        assert.equal(img.imageId?.imageDigest, image.digest);
        assert.equal(img.imageManifest, image.manifest);
        assert.equal(img.imageManifestMediaType, MEDIA.dockerManifest);
      }
      assert.ok(
        r.images!.some((i) => i.imageId?.imageTag === 'v1'),
        'the one asked by tag names its tag',
      );
      assert.equal(r.failures?.length, 2, JSON.stringify(r.failures));
      const byTag = r.failures!.find((f) => f.imageId?.imageTag === 'nope');
      const byDigest = r.failures!.find((f) => f.imageId?.imageDigest === sha256('none'));
      assert.equal(byTag?.failureCode, 'ImageNotFound');
      assert.equal(byDigest?.failureCode, 'ImageNotFound');
      assert.match(byTag?.failureReason ?? '', /not found/i);
    });

    it('BatchGetImage without acceptedMediaTypes answers a Docker schema 2 image as it is', async () => {
      const r = await ecr.send(new BatchGetImageCommand({ repositoryName: repo, imageIds: [{ imageTag: 'v1' }] }));
      assert.equal(r.images?.[0]?.imageManifest, image.manifest);
      assert.deepEqual(r.failures ?? [], []);
    });

    it('records the pull: lastRecordedPullTime is set after BatchGetImage', async () => {
      const pulledAfter = Date.now() - 1000;
      const d = await eventually(async () => {
        const x = await describeTag(repo, 'v1');
        return x.lastRecordedPullTime ? x : undefined;
      });
      assert.ok(d?.lastRecordedPullTime instanceof Date, 'lastRecordedPullTime is set');
      assert.ok(
        d.lastRecordedPullTime.getTime() >= pulledAfter - 120_000 && d.lastRecordedPullTime.getTime() <= Date.now() + 60_000,
        `lastRecordedPullTime ${d.lastRecordedPullTime.toISOString()} is recent`,
      );
    });

    it('the data plane serves the manifest and blobs that ECR put', async () => {
      const auth = { authorization: berth.authHeader };
      const res = await fetch(`${berth.url}/v2/${repo}/manifests/v1`, { headers: { ...auth, accept: MEDIA.dockerManifest } });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), image.manifest);
      assert.equal(res.headers.get('docker-content-digest'), image.digest);
      for (const b of [image.config, ...image.layers]) {
        const blobRes = await fetch(`${berth.url}/v2/${repo}/blobs/${b.digest}`, { headers: auth });
        assert.equal(blobRes.status, 200);
        assert.equal(sha256(Buffer.from(await blobRes.arrayBuffer())), b.digest);
      }
    });
  });

  describe('PutImage', () => {
    it('adds a second tag to the same manifest, and refuses the same manifest and tag again with ImageAlreadyExistsException', async () => {
      const repo = await createRepo('images/put');
      const image = makeImage();
      await putImageViaUpload(ecr, repo, image, 'one');
      const r = await put(repo, image, 'two');
      assert.deepEqual(r.image?.imageId, { imageDigest: image.digest, imageTag: 'two' });
      assert.deepEqual((await describeTag(repo, 'one')).imageTags?.slice().sort(), ['one', 'two']);
      await expectEcrError(put(repo, image, 'one'), 'ImageAlreadyExistsException', new RegExp(literal(image.digest)));
    });

    it('puts an untagged image, and moves a mutable tag (the old image becomes untagged)', async () => {
      const repo = await createRepo('images/move');
      const a = makeImage();
      const b = makeImage();
      await putImageViaUpload(ecr, repo, a, 'latest');
      const untagged = await putImageViaUpload(ecr, repo, b);
      assert.deepEqual(untagged.image?.imageId, { imageDigest: b.digest });
      const c = makeImage();
      await putImageViaUpload(ecr, repo, c, 'latest');
      assert.equal((await describeTag(repo, 'latest')).imageDigest, c.digest, 'latest moved to c');
      const list = await ecr.send(new ListImagesCommand({ repositoryName: repo, filter: { tagStatus: 'UNTAGGED' } }));
      assert.deepEqual(ids(list.imageIds), ids([{ imageDigest: a.digest }, { imageDigest: b.digest }]));
    });

    it('refuses a manifest whose layers were never uploaded with LayersNotFoundException', async () => {
      const repo = await createRepo('images/no-layers');
      const image = makeImage();
      await uploadLayer(ecr, repo, image.config.bytes);
      await expectEcrError(put(repo, image, 'v1'), 'LayersNotFoundException', new RegExp(literal(image.layers[0].digest)));
      await expectEcrError(
        ecr.send(new DescribeImagesCommand({ repositoryName: repo, imageIds: [{ imageTag: 'v1' }] })),
        'ImageNotFoundException',
      );
    });

    it('refuses a layer that exists only in another repository with LayersNotFoundException', async () => {
      const first = await createRepo('images/has-layers');
      const second = await createRepo('images/other');
      const image = makeImage();
      await putImageViaUpload(ecr, first, image, 'v1');
      await expectEcrError(put(second, image, 'v1'), 'LayersNotFoundException');
    });

    it('puts an index whose children are there; refuses one with missing children with ReferencedImagesNotFoundException', async () => {
      const repo = await createRepo('images/index');
      const amd = makeImage({ oci: true, architecture: 'amd64' });
      const arm = makeImage({
        oci: true,
        architecture: 'arm64',
        layers: [{ 'data/a.bin': randomBytes(20_000) }, { 'data/b.txt': Buffer.from('b') }],
      });
      await putImageViaUpload(ecr, repo, amd);
      const missingChild = makeIndex([
        { digest: amd.digest, size: Buffer.byteLength(amd.manifest), mediaType: amd.mediaType, architecture: 'amd64' },
        { digest: arm.digest, size: Buffer.byteLength(arm.manifest), mediaType: arm.mediaType, architecture: 'arm64' },
      ]);
      await expectEcrError(put(repo, missingChild, 'multi'), 'ReferencedImagesNotFoundException');

      await putImageViaUpload(ecr, repo, arm);
      const r = await put(repo, missingChild, 'multi');
      assert.deepEqual(r.image?.imageId, { imageDigest: missingChild.digest, imageTag: 'multi' });
      const d = await describeTag(repo, 'multi');
      assert.equal(d.imageManifestMediaType, MEDIA.ociIndex);
      const sizeOf = (i: HandImage) => i.layers.reduce((n, l) => n + l.size, 0);
      assert.equal(
        d.imageSizeInBytes,
        Math.max(sizeOf(amd), sizeOf(arm)),
        'for a manifest list, imageSizeInBytes is the largest size of its manifests (ImageDetail, API reference)',
      );
      const got = await ecr.send(
        new BatchGetImageCommand({ repositoryName: repo, imageIds: [{ imageTag: 'multi' }], acceptedMediaTypes: [MEDIA.ociIndex] }),
      );
      assert.equal(got.images?.[0]?.imageManifest, missingChild.manifest);

      // The index keeps its children: deleting one is refused as ECR does.
      const del = await ecr.send(new BatchDeleteImageCommand({ repositoryName: repo, imageIds: [{ imageDigest: arm.digest }] }));
      assert.deepEqual(del.imageIds ?? [], []);
      assert.equal(del.failures?.[0]?.failureCode, 'ImageReferencedByManifestList', JSON.stringify(del));
    });

    it('refuses an imageDigest that is not the manifest digest with ImageDigestDoesNotMatchException', async () => {
      const repo = await createRepo('images/digest');
      const image = makeImage();
      for (const b of [image.config, ...image.layers]) await uploadLayer(ecr, repo, b.bytes);
      await expectEcrError(
        ecr.send(
          new PutImageCommand({
            repositoryName: repo,
            imageManifest: image.manifest,
            imageManifestMediaType: image.mediaType,
            imageTag: 'v1',
            imageDigest: sha256('something else'),
          }),
        ),
        'ImageDigestDoesNotMatchException',
      );
      const ok = await ecr.send(
        new PutImageCommand({
          repositoryName: repo,
          imageManifest: image.manifest,
          imageManifestMediaType: image.mediaType,
          imageTag: 'v1',
          imageDigest: image.digest,
        }),
      );
      assert.equal(ok.image?.imageId?.imageDigest, image.digest);
    });

    it('needs imageManifestMediaType for a manifest without a mediaType field', async () => {
      const repo = await createRepo('images/no-media-type');
      const image = makeImage({ oci: true });
      for (const b of [image.config, ...image.layers]) await uploadLayer(ecr, repo, b.bytes);
      const { mediaType: _m, ...rest } = JSON.parse(image.manifest);
      const bare = JSON.stringify(rest);
      await expectEcrError(
        ecr.send(new PutImageCommand({ repositoryName: repo, imageManifest: bare, imageTag: 'v1' })),
        'InvalidParameterException',
      );
      const r = await ecr.send(
        new PutImageCommand({ repositoryName: repo, imageManifest: bare, imageManifestMediaType: MEDIA.ociManifest, imageTag: 'v1' }),
      );
      assert.deepEqual(r.image?.imageId, { imageDigest: sha256(bare), imageTag: 'v1' });
      assert.equal(r.image?.imageManifestMediaType, MEDIA.ociManifest);
      assert.equal((await describeTag(repo, 'v1')).imageManifestMediaType, MEDIA.ociManifest);
    });

    it('refuses a manifest that is not JSON with InvalidParameterException, and a missing repository', async () => {
      const repo = await createRepo('images/bad-json');
      await expectEcrError(
        ecr.send(new PutImageCommand({ repositoryName: repo, imageManifest: '{"schemaVersion": 2,', imageTag: 'x' })),
        'InvalidParameterException',
      );
      // JSON that is no object (null, a number): the same answer, not a server error.
      for (const imageManifest of ['null', '42']) {
        await expectEcrError(
          ecr.send(new PutImageCommand({ repositoryName: repo, imageManifest, imageTag: 'x' })),
          'InvalidParameterException',
        );
      }
      await expectEcrError(put(uniqueName('images/none'), makeImage(), 'v1'), 'RepositoryNotFoundException');
    });

    it('IMMUTABLE: a tag cannot move (ImageTagAlreadyExistsException, ECR message), new tags are fine', async () => {
      const repo = await createRepo('images/immutable', { imageTagMutability: 'IMMUTABLE' });
      const a = makeImage();
      const b = makeImage();
      await putImageViaUpload(ecr, repo, a, 'v1');
      for (const blob of [b.config, ...b.layers]) await uploadLayer(ecr, repo, blob.bytes);
      await expectEcrError(put(repo, b, 'v1'), 'ImageTagAlreadyExistsException', immutableMessage('v1', repo));
      assert.equal((await describeTag(repo, 'v1')).imageDigest, a.digest, 'v1 still names a');
      await put(repo, b, 'v2');
      await put(repo, a, 'v1-again');
      assert.deepEqual((await describeTag(repo, 'v1')).imageTags?.slice().sort(), ['v1', 'v1-again']);

      // Made MUTABLE, the tag moves.
      await ecr.send(new PutImageTagMutabilityCommand({ repositoryName: repo, imageTagMutability: 'MUTABLE' }));
      await put(repo, b, 'v1');
      assert.equal((await describeTag(repo, 'v1')).imageDigest, b.digest);
    });

    it('IMMUTABLE_WITH_EXCLUSION: tags matching a filter move, the others do not', async () => {
      const repo = await createRepo('images/immutable-excl', {
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [
          { filterType: 'WILDCARD', filter: 'latest' },
          { filterType: 'WILDCARD', filter: 'dev-*' },
        ],
      });
      const a = makeImage();
      const b = makeImage();
      await putImageViaUpload(ecr, repo, a, 'latest');
      for (const blob of [b.config, ...b.layers]) await uploadLayer(ecr, repo, blob.bytes);
      for (const tag of ['v1', 'dev-1', 'latest-but-not-latest']) await put(repo, a, tag);
      await put(repo, b, 'latest');
      await put(repo, b, 'dev-1');
      assert.equal((await describeTag(repo, 'latest')).imageDigest, b.digest, 'latest (excluded) moved');
      assert.equal((await describeTag(repo, 'dev-1')).imageDigest, b.digest, 'dev-1 (matches dev-*) moved');
      await expectEcrError(put(repo, b, 'v1'), 'ImageTagAlreadyExistsException', immutableMessage('v1', repo));
      await expectEcrError(
        put(repo, b, 'latest-but-not-latest'),
        'ImageTagAlreadyExistsException',
        immutableMessage('latest-but-not-latest', repo),
      );
    });

    it('MUTABLE_WITH_EXCLUSION: tags matching a filter are immutable, the others move', async () => {
      const repo = await createRepo('images/mutable-excl', {
        imageTagMutability: 'MUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'release-*' }],
      });
      const a = makeImage();
      const b = makeImage();
      await putImageViaUpload(ecr, repo, a, 'dev');
      for (const blob of [b.config, ...b.layers]) await uploadLayer(ecr, repo, blob.bytes);
      await put(repo, a, 'release-1');
      await put(repo, b, 'dev');
      assert.equal((await describeTag(repo, 'dev')).imageDigest, b.digest, 'dev moved');
      await expectEcrError(put(repo, b, 'release-1'), 'ImageTagAlreadyExistsException', immutableMessage('release-1', repo));
      assert.equal((await describeTag(repo, 'release-1')).imageDigest, a.digest);
    });
  });

  describe('the layer upload operations refuse what ECR refuses', () => {
    let repo: string;

    before(async () => {
      repo = await createRepo('images/uploads');
    });

    const initiate = async () => (await ecr.send(new InitiateLayerUploadCommand({ repositoryName: repo }))).uploadId!;
    const part = (uploadId: string, first: number, data: Buffer, last = first + data.length - 1) =>
      ecr.send(
        new UploadLayerPartCommand({ repositoryName: repo, uploadId, partFirstByte: first, partLastByte: last, layerPartBlob: data }),
      );

    it('a part that does not start where the upload ends: InvalidLayerPartException', async () => {
      const uploadId = await initiate();
      await part(uploadId, 0, randomBytes(100));
      for (const first of [50, 0, 101, 200]) {
        const err = await expectEcrError(part(uploadId, first, randomBytes(10)), 'InvalidLayerPartException');
        if (err.lastValidByteReceived !== undefined)
          assert.equal(err.lastValidByteReceived, 99, 'the last valid byte is the end of part one');
      }
      // The upload is still good from byte 100.
      const r = await part(uploadId, 100, randomBytes(10));
      assert.equal(r.lastByteReceived, 109);
    });

    it('a part whose byte range does not match its length: InvalidLayerPartException', async () => {
      const uploadId = await initiate();
      await expectEcrError(part(uploadId, 0, randomBytes(100), 999), 'InvalidLayerPartException');
    });

    it('an upload id that is not one: UploadNotFoundException', async () => {
      await expectEcrError(part(randomUUID(), 0, randomBytes(10)), 'UploadNotFoundException');
      await expectEcrError(
        ecr.send(new CompleteLayerUploadCommand({ repositoryName: repo, uploadId: randomUUID(), layerDigests: [sha256('x')] })),
        'UploadNotFoundException',
      );
    });

    it('an upload id of another repository: UploadNotFoundException', async () => {
      const other = await createRepo('images/uploads-other');
      const uploadId = (await ecr.send(new InitiateLayerUploadCommand({ repositoryName: other }))).uploadId!;
      await expectEcrError(part(uploadId, 0, randomBytes(10)), 'UploadNotFoundException');
    });

    it('completing with a digest that is not the content: InvalidLayerException', async () => {
      const uploadId = await initiate();
      const data = randomBytes(1000);
      await part(uploadId, 0, data);
      await expectEcrError(
        ecr.send(new CompleteLayerUploadCommand({ repositoryName: repo, uploadId, layerDigests: [sha256('other')] })),
        'InvalidLayerException',
      );
      const check = await ecr.send(new BatchCheckLayerAvailabilityCommand({ repositoryName: repo, layerDigests: [sha256(data)] }));
      assert.ok(
        !check.layers?.some((l) => l.layerDigest === sha256(data) && l.layerAvailability === 'AVAILABLE'),
        'the content of a failed upload is not available under its real digest either',
      );
    });

    it('completing an upload without parts: EmptyUploadException', async () => {
      const uploadId = await initiate();
      await expectEcrError(
        ecr.send(new CompleteLayerUploadCommand({ repositoryName: repo, uploadId, layerDigests: [sha256('')] })),
        'EmptyUploadException',
      );
    });

    it('completing a layer the repository already has: LayerAlreadyExistsException', async () => {
      const image = makeImage();
      await putImageViaUpload(ecr, repo, image, 'has-layer');
      const uploadId = await initiate();
      await part(uploadId, 0, image.layers[0].bytes);
      await expectEcrError(
        ecr.send(new CompleteLayerUploadCommand({ repositoryName: repo, uploadId, layerDigests: [image.layers[0].digest] })),
        'LayerAlreadyExistsException',
      );
    });

    // ECR: "All layer parts except the last part should be at least 5MB" (LayerPartTooSmallException, listed for both
    // UploadLayerPart and CompleteLayerUpload; seen from real ECR in dotnet/sdk-container-builds#424). Either call
    // may refuse it: the second part (which proves the first was not the last) or the completion.
    it('a part other than the last one smaller than 5 MiB: LayerPartTooSmallException', async () => {
      const uploadId = await initiate();
      const one = randomBytes(1024);
      const two = randomBytes(1024);
      await part(uploadId, 0, one);
      let refusedAtPart = false;
      try {
        await part(uploadId, one.length, two);
      } catch (e) {
        assert.equal((e as Error).name, 'LayerPartTooSmallException', `the second part is refused: ${(e as Error).message}`);
        refusedAtPart = true;
      }
      if (!refusedAtPart) {
        await expectEcrError(
          ecr.send(
            new CompleteLayerUploadCommand({
              repositoryName: repo,
              uploadId,
              layerDigests: [sha256(Buffer.concat([one, two]))],
            }),
          ),
          'LayerPartTooSmallException',
        );
      }
    });

    it('a missing repository: RepositoryNotFoundException', async () => {
      await expectEcrError(
        ecr.send(new InitiateLayerUploadCommand({ repositoryName: uniqueName('images/none') })),
        'RepositoryNotFoundException',
      );
    });
  });

  describe('ListImages, DescribeImages and BatchDeleteImage', () => {
    let repo: string;
    const images: HandImage[] = [];

    before(async () => {
      repo = await createRepo('images/lists');
      for (let i = 0; i < 4; i++) images.push(makeImage());
      await putImageViaUpload(ecr, repo, images[0], 'a1');
      await put(repo, images[0], 'a2');
      await putImageViaUpload(ecr, repo, images[1], 'b1');
      await putImageViaUpload(ecr, repo, images[2]); // untagged
      await putImageViaUpload(ecr, repo, images[3], 'd1');
    });

    it('ListImages lists one id per tag, and untagged images by digest, filtered by tagStatus', async () => {
      const [a, b, c, d] = images;
      const tagged = [
        { imageDigest: a.digest, imageTag: 'a1' },
        { imageDigest: a.digest, imageTag: 'a2' },
        { imageDigest: b.digest, imageTag: 'b1' },
        { imageDigest: d.digest, imageTag: 'd1' },
      ];
      const untagged = [{ imageDigest: c.digest }];
      const list = async (tagStatus?: 'TAGGED' | 'UNTAGGED' | 'ANY') =>
        ids((await ecr.send(new ListImagesCommand({ repositoryName: repo, filter: tagStatus ? { tagStatus } : undefined }))).imageIds);
      assert.deepEqual(await list(), ids([...tagged, ...untagged]));
      assert.deepEqual(await list('ANY'), ids([...tagged, ...untagged]));
      assert.deepEqual(await list('TAGGED'), ids(tagged));
      assert.deepEqual(await list('UNTAGGED'), ids(untagged));
    });

    it('DescribeImages filters by tagStatus, one detail per image', async () => {
      const [a, b, c, d] = images;
      const describe = async (tagStatus: 'TAGGED' | 'UNTAGGED' | 'ANY') =>
        (await ecr.send(new DescribeImagesCommand({ repositoryName: repo, filter: { tagStatus } }))).imageDetails!;
      const all = await describe('ANY');
      assert.deepEqual(all.map((x) => x.imageDigest).sort(), [a, b, c, d].map((x) => x.digest).sort());
      assert.deepEqual(
        all
          .find((x) => x.imageDigest === a.digest)
          ?.imageTags?.slice()
          .sort(),
        ['a1', 'a2'],
      );
      assert.equal(all.find((x) => x.imageDigest === c.digest)?.imageTags, undefined, 'an untagged image has no imageTags');
      assert.deepEqual((await describe('TAGGED')).map((x) => x.imageDigest).sort(), [a, b, d].map((x) => x.digest).sort());
      assert.deepEqual(
        (await describe('UNTAGGED')).map((x) => x.imageDigest),
        [c.digest],
      );
    });

    it('DescribeImages refuses maxResults together with imageIds', async () => {
      await expectEcrError(
        ecr.send(new DescribeImagesCommand({ repositoryName: repo, imageIds: [{ imageTag: 'a1' }], maxResults: 5 })),
        'InvalidParameterException',
      );
    });

    it('BatchDeleteImage by tag removes only that tag while the image has another', async () => {
      const [a] = images;
      const r = await ecr.send(new BatchDeleteImageCommand({ repositoryName: repo, imageIds: [{ imageTag: 'a2' }] }));
      assert.deepEqual(ids(r.imageIds), ids([{ imageDigest: a.digest, imageTag: 'a2' }]));
      assert.deepEqual(r.failures ?? [], []);
      assert.deepEqual((await describeTag(repo, 'a1')).imageTags, ['a1'], 'the image stays, with its other tag');
    });

    it('BatchDeleteImage of the last tag deletes the image, as ECR documents', async () => {
      const [a] = images;
      const r = await ecr.send(new BatchDeleteImageCommand({ repositoryName: repo, imageIds: [{ imageTag: 'a1' }] }));
      assert.deepEqual(ids(r.imageIds), ids([{ imageDigest: a.digest, imageTag: 'a1' }]));
      await expectEcrError(
        ecr.send(new DescribeImagesCommand({ repositoryName: repo, imageIds: [{ imageDigest: a.digest }] })),
        'ImageNotFoundException',
      );
      const left = await ecr.send(new ListImagesCommand({ repositoryName: repo, filter: { tagStatus: 'UNTAGGED' } }));
      assert.ok(!left.imageIds?.some((i) => i.imageDigest === a.digest), 'not left behind as an untagged image');
    });

    it('BatchDeleteImage by digest removes the image and all its tags', async () => {
      const [, b, c] = images;
      await put(repo, b, 'b2');
      const r = await ecr.send(
        new BatchDeleteImageCommand({ repositoryName: repo, imageIds: [{ imageDigest: b.digest }, { imageDigest: c.digest }] }),
      );
      assert.deepEqual([...new Set(r.imageIds!.map((i) => i.imageDigest))].sort(), [b.digest, c.digest].sort());
      assert.deepEqual(r.failures ?? [], []);
      const list = await ecr.send(new ListImagesCommand({ repositoryName: repo }));
      assert.deepEqual(ids(list.imageIds), ids([{ imageDigest: images[3].digest, imageTag: 'd1' }]));
      const res = await fetch(`${berth.url}/v2/${repo}/manifests/b2`, { headers: { authorization: berth.authHeader } });
      assert.equal(res.status, 404, 'the tag is gone from the data plane too');
    });

    it('BatchDeleteImage lists unknown ids as ImageNotFound failures and still deletes the others', async () => {
      const d = images[3];
      const unknownDigest = sha256('never pushed');
      const r = await ecr.send(
        new BatchDeleteImageCommand({
          repositoryName: repo,
          imageIds: [{ imageTag: 'no-such-tag' }, { imageDigest: unknownDigest }, { imageTag: 'd1' }],
        }),
      );
      assert.deepEqual(ids(r.imageIds), ids([{ imageDigest: d.digest, imageTag: 'd1' }]));
      assert.equal(r.failures?.length, 2, JSON.stringify(r.failures));
      for (const f of r.failures!) {
        assert.equal(f.failureCode, 'ImageNotFound');
        assert.match(f.failureReason ?? '', /not found/i);
      }
      assert.ok(r.failures!.some((f) => f.imageId?.imageTag === 'no-such-tag'));
      assert.ok(r.failures!.some((f) => f.imageId?.imageDigest === unknownDigest));
      assert.deepEqual((await ecr.send(new ListImagesCommand({ repositoryName: repo }))).imageIds ?? [], []);
    });

    it('BatchDeleteImage refuses a missing repository', async () => {
      await expectEcrError(
        ecr.send(new BatchDeleteImageCommand({ repositoryName: uniqueName('images/none'), imageIds: [{ imageTag: 'x' }] })),
        'RepositoryNotFoundException',
      );
    });
  });

  describe('images pushed over /v2/: visible to ECR at once, and paginated', () => {
    let repo: string;
    const pushed: { digest: string; tag: string; layerSize: number }[] = [];

    before(async () => {
      repo = await createRepo('images/oci-pushed');
      for (let i = 0; i < 12; i++) {
        const tag = `t${String(i).padStart(2, '0')}`;
        const config = Buffer.from(
          JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n: i, r: randomUUID() }),
        );
        const r = await pushImage(berth, repo, tag, { config, layer: randomBytes(1000 + i) });
        pushed.push({ digest: r.digest, tag, layerSize: r.layer.size });
      }
    });

    it('DescribeImages and BatchGetImage see an image pushed over /v2/ at once', async () => {
      const p = pushed[0];
      const d = await describeTag(repo, p.tag);
      assert.equal(d.imageDigest, p.digest);
      assert.equal(d.imageManifestMediaType, MEDIA.ociManifest);
      assert.equal(d.artifactMediaType, MEDIA.ociConfig);
      assert.equal(d.imageSizeInBytes, p.layerSize);
      const g = await ecr.send(
        new BatchGetImageCommand({ repositoryName: repo, imageIds: [{ imageTag: p.tag }], acceptedMediaTypes: [MEDIA.ociManifest] }),
      );
      assert.equal(g.images?.[0]?.imageId?.imageDigest, p.digest);
      assert.equal(sha256(g.images![0].imageManifest!), p.digest, 'the exact manifest bytes');
    });

    it('a pull over /v2/ is recorded as lastRecordedPullTime', async () => {
      const p = pushed[1];
      assert.equal((await describeTag(repo, p.tag)).lastRecordedPullTime, undefined);
      const res = await fetch(`${berth.url}/v2/${repo}/manifests/${p.tag}`, {
        headers: { authorization: berth.authHeader, accept: MEDIA.ociManifest },
      });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      const d = await eventually(async () => (await describeTag(repo, p.tag)).lastRecordedPullTime);
      assert.ok(d instanceof Date, 'lastRecordedPullTime is set after a GET of the manifest');
    });

    it('ListImages walks 12 images in pages of 5 (5, 5, 2)', async () => {
      const sizes: number[] = [];
      const seen: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await ecr.send(new ListImagesCommand({ repositoryName: repo, maxResults: 5, nextToken }));
        sizes.push(page.imageIds!.length);
        seen.push(...ids(page.imageIds));
        nextToken = page.nextToken;
        assert.ok(sizes.length <= 4, 'pagination ends');
      } while (nextToken);
      assert.deepEqual(sizes, [5, 5, 2]);
      assert.deepEqual(seen.sort(), ids(pushed.map((p) => ({ imageDigest: p.digest, imageTag: p.tag }))));
    });

    it('DescribeImages walks 12 images in pages of 5, and the SDK paginators agree', async () => {
      const sizes: number[] = [];
      const digests: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await ecr.send(new DescribeImagesCommand({ repositoryName: repo, maxResults: 5, nextToken }));
        sizes.push(page.imageDetails!.length);
        digests.push(...page.imageDetails!.map((d) => d.imageDigest!));
        nextToken = page.nextToken;
        assert.ok(sizes.length <= 4, 'pagination ends');
      } while (nextToken);
      assert.deepEqual(sizes, [5, 5, 2]);
      assert.deepEqual(digests.sort(), pushed.map((p) => p.digest).sort());

      const viaPaginator: string[] = [];
      for await (const page of paginateDescribeImages({ client: ecr, pageSize: 4 }, { repositoryName: repo })) {
        viaPaginator.push(...page.imageDetails!.map((d) => d.imageDigest!));
      }
      assert.deepEqual(viaPaginator.sort(), digests);
      const listed: string[] = [];
      for await (const page of paginateListImages(
        { client: ecr, pageSize: 3 },
        { repositoryName: repo, filter: { tagStatus: 'TAGGED' } },
      )) {
        assert.ok(page.imageIds!.length <= 3);
        listed.push(...ids(page.imageIds));
      }
      assert.equal(listed.length, 12);
    });

    it('refuses a nextToken it never gave with InvalidParameterException', async () => {
      await expectEcrError(
        ecr.send(new ListImagesCommand({ repositoryName: repo, maxResults: 5, nextToken: 'not-a-token' })),
        'InvalidParameterException',
      );
      await expectEcrError(
        ecr.send(new DescribeImagesCommand({ repositoryName: repo, maxResults: 5, nextToken: 'not-a-token' })),
        'InvalidParameterException',
      );
    });

    it('ListImages refuses maxResults outside 1..1000', async () => {
      await expectEcrError(ecr.send(new ListImagesCommand({ repositoryName: repo, maxResults: 0 })), 'InvalidParameterException');
      await expectEcrError(ecr.send(new ListImagesCommand({ repositoryName: repo, maxResults: 1001 })), 'InvalidParameterException');
    });
  });
});
