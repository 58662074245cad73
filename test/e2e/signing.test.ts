// Image signing end to end: a signing profile made with `berth admin create-signing-profile`, the signing
// configuration through the newest AWS SDK for JavaScript (PutSigningConfiguration, GetSigningConfiguration,
// DeleteSigningConfiguration, DescribeImageSigningStatus), an image pushed over HTTP (ECR's layer upload and PutImage),
// signed by a job until DescribeImageSigningStatus says COMPLETE, and its Notation signature fetched through the OCI
// referrers API and verified independently with Node's crypto against the certificate `berth admin
// export-signing-certificate` prints: the JWS (ES256 over the protected header and payload), the Notary Project
// headers, the payload's descriptor against the image manifest's bytes, the certificate chain and its thumbprint.
// Reference: the Notary Project signature specification (signature-specification.md, signature-envelope-jws.md).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash, verify } from 'node:crypto';
import {
  CreateRepositoryCommand,
  DeleteSigningConfigurationCommand,
  DescribeImageSigningStatusCommand,
  GetSigningConfigurationCommand,
  ListImagesCommand,
  PutSigningConfigurationCommand,
  BatchDeleteImageCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient, eventually, expectEcrError, makeImage, putImageViaUpload } from '../helpers/ecr.ts';
import { admin } from '../helpers/policies.ts';

const NOTARY = 'application/vnd.cncf.notary.signature';

describe('image signing: Notation signatures of pushed images', () => {
  let berth: Berth;
  let ecr: ECRClient;
  let profile: { name: string; signingProfileArn: string; certificate: string };

  const get = async (path: string, accept?: string) => {
    const res = await fetch(`${berth.url}${path}`, { headers: { authorization: berth.authHeader, ...(accept ? { accept } : {}) } });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
  };
  const statuses = async (repositoryName: string, imageDigest: string) =>
    (await ecr.send(new DescribeImageSigningStatusCommand({ repositoryName, imageId: { imageDigest } }))).signingStatuses ?? [];
  const signed = async (repositoryName: string, imageDigest: string, count = 1) => {
    const done = await eventually(async () => {
      const s = await statuses(repositoryName, imageDigest);
      return s.length === count && s.every((x) => x.status !== 'IN_PROGRESS') ? s : undefined;
    }, 30_000);
    assert.ok(done, `the image is signed: ${JSON.stringify(await statuses(repositoryName, imageDigest))}`);
    return done;
  };

  /** The Notation signatures of an image, through the referrers API, each verified against `certificatePem`. */
  async function verifySignatures(repositoryName: string, image: { digest: string; mediaType: string }, certificatePem: string) {
    const index = JSON.parse(
      (await get(`/v2/${repositoryName}/referrers/${image.digest}?artifactType=${encodeURIComponent(NOTARY)}`)).body.toString(),
    );
    const cert = new X509Certificate(certificatePem);
    const ours = [];
    for (const d of index.manifests) {
      assert.equal(d.artifactType, NOTARY);
      const manifest = JSON.parse(
        (await get(`/v2/${repositoryName}/manifests/${d.digest}`, 'application/vnd.oci.image.manifest.v1+json')).body.toString(),
      );
      assert.equal(manifest.subject.digest, image.digest);
      assert.equal(manifest.layers.length, 1);
      assert.equal(manifest.layers[0].mediaType, 'application/jose+json');
      const envelopeBytes = (await get(`/v2/${repositoryName}/blobs/${manifest.layers[0].digest}`)).body;
      assert.equal(`sha256:${createHash('sha256').update(envelopeBytes).digest('hex')}`, manifest.layers[0].digest);
      const envelope = JSON.parse(envelopeBytes.toString());
      assert.deepEqual(Object.keys(envelope).sort(), ['header', 'payload', 'protected', 'signature']);
      const chain = (envelope.header.x5c as string[]).map((c) => Buffer.from(c, 'base64'));
      if (!chain[0].equals(cert.raw)) continue;
      // The signed attributes.
      const headers = JSON.parse(Buffer.from(envelope.protected, 'base64url').toString());
      assert.equal(headers.alg, 'ES256');
      assert.equal(headers.cty, 'application/vnd.cncf.notary.payload.v1+json');
      assert.deepEqual(headers.crit, ['io.cncf.notary.signingScheme']);
      assert.equal(headers['io.cncf.notary.signingScheme'], 'notary.x509');
      assert.match(headers['io.cncf.notary.signingTime'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      // The signature, by the exported certificate's key: ES256 is ECDSA P-256 with SHA-256, R || S.
      const input = Buffer.from(`${envelope.protected}.${envelope.payload}`, 'ascii');
      assert.equal(
        verify('sha256', input, { key: cert.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(envelope.signature, 'base64url')),
        true,
        'the JWS verifies',
      );
      const tampered = Buffer.from(`${envelope.protected}.${Buffer.from('{"targetArtifact":{}}').toString('base64url')}`, 'ascii');
      assert.equal(
        verify('sha256', tampered, { key: cert.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(envelope.signature, 'base64url')),
        false,
      );
      // The payload names the image manifest as pulled: its digest and size match the bytes.
      const payload = JSON.parse(Buffer.from(envelope.payload, 'base64url').toString());
      const pulled = await get(`/v2/${repositoryName}/manifests/${image.digest}`, image.mediaType);
      assert.deepEqual(payload, { targetArtifact: { mediaType: image.mediaType, digest: image.digest, size: pulled.body.length } });
      assert.equal(`sha256:${createHash('sha256').update(pulled.body).digest('hex')}`, payload.targetArtifact.digest);
      // The certificate: a self-signed code-signing certificate, and the thumbprint annotation names it.
      assert.equal(cert.verify(cert.publicKey), true);
      assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.3']);
      assert.deepEqual(JSON.parse(manifest.annotations['io.cncf.notary.x509chain.thumbprint#S256']), [
        createHash('sha256').update(cert.raw).digest('hex'),
      ]);
      ours.push(d.digest as string);
    }
    return ours;
  }

  before(async () => {
    berth = await startBerth();
    ecr = ecrClient(berth);
    profile = await admin(berth, 'create-signing-profile', '--name', 'main');
  });

  after(async () => {
    ecr?.destroy();
    await berth?.cleanup();
  });

  it('berth admin: a profile has an ARN of the form ECR requires, is listed, exported, and never replaced', async () => {
    assert.match(profile.signingProfileArn, /^arn:aws:signer:us-east-1:\d{12}:\/signing-profiles\/main$/);
    const exported = await admin(berth, 'export-signing-certificate', '--name', 'main');
    assert.equal(exported.certificate, profile.certificate);
    const cert = new X509Certificate(exported.certificate);
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(cert.ca, false);
    const { signingProfiles } = await admin(berth, 'list-signing-profiles');
    assert.deepEqual(
      signingProfiles.map((p: { name: string }) => p.name),
      ['main'],
    );
    assert.equal(signingProfiles[0].certificateSha256, createHash('sha256').update(cert.raw).digest('hex'));
    await assert.rejects(admin(berth, 'create-signing-profile', '--name', 'main'), /exists already/);
    await assert.rejects(admin(berth, 'create-signing-profile', '--name', 'no-dashes'), /letters, digits or underscores/);
  });

  it('the signing configuration: put, got, validated, deleted', async () => {
    await expectEcrError(ecr.send(new GetSigningConfigurationCommand({})), 'SigningConfigurationNotFoundException');
    await expectEcrError(ecr.send(new DeleteSigningConfigurationCommand({})), 'SigningConfigurationNotFoundException');
    const unknown = profile.signingProfileArn.replace(/main$/, 'nosuch');
    await expectEcrError(
      ecr.send(new PutSigningConfigurationCommand({ signingConfiguration: { rules: [{ signingProfileArn: unknown }] } })),
      'InvalidParameterException',
      /does not exist/,
    );
    await expectEcrError(
      ecr.send(
        new PutSigningConfigurationCommand({ signingConfiguration: { rules: [{ signingProfileArn: 'arn:aws:signer:us-east-1:123:/x' }] } }),
      ),
      'InvalidParameterException',
      /signingProfileArn/,
    );
    await expectEcrError(
      ecr.send(
        new PutSigningConfigurationCommand({
          signingConfiguration: {
            rules: [
              { signingProfileArn: profile.signingProfileArn, repositoryFilters: [{ filter: 'Upper', filterType: 'WILDCARD_MATCH' }] },
            ],
          },
        }),
      ),
      'InvalidParameterException',
    );
    const config = {
      rules: [
        {
          signingProfileArn: profile.signingProfileArn,
          repositoryFilters: [{ filter: 'signed/*', filterType: 'WILDCARD_MATCH' as const }],
        },
      ],
    };
    const put = await ecr.send(new PutSigningConfigurationCommand({ signingConfiguration: config }));
    assert.deepEqual(put.signingConfiguration, config);
    const got = await ecr.send(new GetSigningConfigurationCommand({}));
    assert.deepEqual(got.signingConfiguration, config);
    assert.match(got.registryId!, /^\d{12}$/);
  });

  it('a pushed image matching a rule is signed; the signature verifies with Node crypto against the exported certificate', async () => {
    const repositoryName = 'signed/app';
    await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    const image = makeImage({ oci: true, label: 'signed' });
    await putImageViaUpload(ecr, repositoryName, image, 'v1');
    const done = await signed(repositoryName, image.digest);
    assert.deepEqual(done, [{ signingProfileArn: profile.signingProfileArn, status: 'COMPLETE' }]);
    const byTag = await ecr.send(new DescribeImageSigningStatusCommand({ repositoryName, imageId: { imageTag: 'v1' } }));
    assert.deepEqual(byTag.imageId, { imageDigest: image.digest, imageTag: 'v1' });
    const signatures = await verifySignatures(repositoryName, image, profile.certificate);
    assert.equal(signatures.length, 1);
    // The signature is a Berth artifact: untagged, listed, never signed on its own.
    const ids = (await ecr.send(new ListImagesCommand({ repositoryName }))).imageIds!;
    assert.deepEqual(
      ids.filter((i) => i.imageDigest === signatures[0]),
      [{ imageDigest: signatures[0] }],
    );
    assert.deepEqual(await statuses(repositoryName, signatures[0]), []);
    // Deleted with its subject.
    await ecr.send(new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageDigest: image.digest }] }));
    assert.equal((await get(`/v2/${repositoryName}/manifests/${signatures[0]}`)).status, 404);
    await expectEcrError(
      ecr.send(new DescribeImageSigningStatusCommand({ repositoryName, imageId: { imageDigest: image.digest } })),
      'ImageNotFoundException',
    );
  });

  it('an image of a repository no rule matches is not signed', async () => {
    const repositoryName = 'unsigned';
    await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    const image = makeImage({ oci: true, label: 'unsigned' });
    await putImageViaUpload(ecr, repositoryName, image, 'v1');
    assert.deepEqual(await statuses(repositoryName, image.digest), []);
  });

  it('rotation: a second profile in the configuration signs too, each signature with its own key', async () => {
    const second = await admin(berth, 'create-signing-profile', '--name', 'second');
    const config = {
      rules: [
        { signingProfileArn: profile.signingProfileArn },
        { signingProfileArn: second.signingProfileArn, repositoryFilters: [{ filter: 'signed/*', filterType: 'WILDCARD_MATCH' as const }] },
      ],
    };
    await ecr.send(new PutSigningConfigurationCommand({ signingConfiguration: config }));
    const repositoryName = 'signed/rotated';
    await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    const image = makeImage({ oci: true, label: 'rotated' });
    await putImageViaUpload(ecr, repositoryName, image, 'v2');
    const done = await signed(repositoryName, image.digest, 2);
    assert.deepEqual(
      done.map((s) => s.status),
      ['COMPLETE', 'COMPLETE'],
    );
    assert.equal((await verifySignatures(repositoryName, image, profile.certificate)).length, 1);
    assert.equal((await verifySignatures(repositoryName, image, second.certificate)).length, 1);
    const deleted = await ecr.send(new DeleteSigningConfigurationCommand({}));
    assert.deepEqual(deleted.signingConfiguration, config);
    await expectEcrError(ecr.send(new GetSigningConfigurationCommand({})), 'SigningConfigurationNotFoundException');
  });
});
