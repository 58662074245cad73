// ListImageReferrers with the AWS SDK for JavaScript (the newest SDK's operation; botocore's model has it too):
// the OCI referrers of an image (manifests whose `subject` names it) with ECR's ImageReferrer fields, the artifact
// type and artifact status filters, pagination with maxResults / nextToken, and its exceptions.
// Reference: the ECR API reference (ListImageReferrers, ImageReferrer) and the botocore model.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateRepositoryCommand,
  ListImageReferrersCommand,
  PutImageCommand,
  type ECRClient,
  type ImageReferrer,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { MEDIA, allPages, ecrClient, expectEcrError, makeImage, putImageViaUpload, sha256, uploadLayer } from '../helpers/ecr.ts';
import { uniqueName } from '../helpers/tools.ts';

const EMPTY = 'application/vnd.oci.empty.v1+json';

describe('ECR ListImageReferrers', () => {
  let berth: Berth;
  let ecr: ECRClient;
  let repositoryName: string;
  const image = makeImage({ oci: true });
  const referrers: { digest: string; artifactType: string; size: number }[] = [];

  /** A referrer manifest of `artifactType` whose subject is the image, put by digest (no tag). */
  const putReferrer = async (artifactType: string, n: number) => {
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      artifactType,
      config: { mediaType: EMPTY, digest: sha256('{}'), size: 2 },
      layers: [{ mediaType: EMPTY, digest: sha256('{}'), size: 2 }],
      subject: { mediaType: image.mediaType, digest: image.digest, size: Buffer.byteLength(image.manifest) },
      annotations: { 'org.example.n': String(n) },
    });
    await ecr.send(
      new PutImageCommand({
        repositoryName,
        imageManifest: manifest,
        imageManifestMediaType: MEDIA.ociManifest,
        imageDigest: sha256(manifest),
      }),
    );
    referrers.push({ digest: sha256(manifest), artifactType, size: Buffer.byteLength(manifest) });
  };

  before(async () => {
    berth = await startBerth();
    ecr = ecrClient(berth);
    repositoryName = uniqueName('referrers');
    await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    await putImageViaUpload(ecr, repositoryName, image, 'v1');
    await uploadLayer(ecr, repositoryName, Buffer.from('{}'));
    for (let i = 0; i < 5; i++) await putReferrer(i < 3 ? 'application/vnd.example.sbom' : 'application/vnd.example.signature', i);
  });

  after(async () => {
    ecr?.destroy();
    await berth?.cleanup();
  });

  const sorted = (list: { digest?: string }[]) => list.map((r) => r.digest).sort();

  it('lists every referrer of the image with ECR fields', async () => {
    const r = await ecr.send(new ListImageReferrersCommand({ repositoryName, subjectId: { imageDigest: image.digest } }));
    assert.equal(r.nextToken, undefined);
    assert.deepEqual(sorted(r.referrers!), sorted(referrers));
    for (const got of r.referrers!) {
      const want = referrers.find((x) => x.digest === got.digest)!;
      assert.equal(got.mediaType, MEDIA.ociManifest);
      assert.equal(got.artifactType, want.artifactType);
      assert.equal(got.size, want.size);
      assert.equal(got.artifactStatus, 'ACTIVE');
      assert.match(got.annotations?.['org.example.n'] ?? '', /^[0-4]$/);
    }
  });

  it('filters by artifact types and by artifact status', async () => {
    const sig = await ecr.send(
      new ListImageReferrersCommand({
        repositoryName,
        subjectId: { imageDigest: image.digest },
        filter: { artifactTypes: ['application/vnd.example.signature'] },
      }),
    );
    assert.deepEqual(sorted(sig.referrers!), sorted(referrers.filter((x) => x.artifactType === 'application/vnd.example.signature')));
    const both = await ecr.send(
      new ListImageReferrersCommand({
        repositoryName,
        subjectId: { imageDigest: image.digest },
        filter: { artifactTypes: ['application/vnd.example.signature', 'application/vnd.example.sbom'], artifactStatus: 'ANY' },
      }),
    );
    assert.equal(both.referrers!.length, 5);
    const archived = await ecr.send(
      new ListImageReferrersCommand({
        repositoryName,
        subjectId: { imageDigest: image.digest },
        filter: { artifactStatus: 'ARCHIVED' },
      }),
    );
    assert.deepEqual(archived.referrers, []);
  });

  it('pages with maxResults and nextToken, each referrer once', async () => {
    const first = await ecr.send(
      new ListImageReferrersCommand({ repositoryName, subjectId: { imageDigest: image.digest }, maxResults: 2 }),
    );
    assert.equal(first.referrers!.length, 2);
    assert.ok(first.nextToken, 'a token when more follow');
    const all = await allPages(
      (nextToken) =>
        ecr.send(new ListImageReferrersCommand({ repositoryName, subjectId: { imageDigest: image.digest }, maxResults: 2, nextToken })),
      (p) => p.referrers as ImageReferrer[],
    );
    assert.equal(all.length, 5);
    assert.deepEqual(sorted(all), sorted(referrers));
  });

  it('answers an image without referrers with an empty list', async () => {
    const r = await ecr.send(new ListImageReferrersCommand({ repositoryName, subjectId: { imageDigest: referrers[0].digest } }));
    assert.deepEqual(r.referrers, []);
  });

  it('answers ECR exceptions: missing repository, invalid digest, token, maxResults', async () => {
    await expectEcrError(
      ecr.send(new ListImageReferrersCommand({ repositoryName: uniqueName('missing'), subjectId: { imageDigest: image.digest } })),
      'RepositoryNotFoundException',
    );
    await expectEcrError(
      ecr.send(new ListImageReferrersCommand({ repositoryName, subjectId: { imageDigest: 'sha256:nothex' } })),
      'InvalidParameterException',
    );
    await expectEcrError(
      ecr.send(new ListImageReferrersCommand({ repositoryName, subjectId: { imageDigest: image.digest }, nextToken: 'garbage!' })),
      'InvalidParameterException',
    );
    await expectEcrError(
      ecr.send(new ListImageReferrersCommand({ repositoryName, subjectId: { imageDigest: image.digest }, maxResults: 51 })),
      'InvalidParameterException',
    );
  });
});
