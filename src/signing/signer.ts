// Signing on push, as jobs (off the request path): the core asks `signOnPush` before it writes a manifest anew, and
// the statuses (IN_PROGRESS, one per profile) and the job are written in the manifest's transaction, so that a
// crash between the reply and the signing loses no signature. The job signs the image with each profile (a Notation
// signature, src/signing/notation.ts), stores the signature as an untagged OCI referrer of the image through the
// core (a Berth artifact: deleted with its subject, never signed, scanned or expired on its own), and records the
// status. Referrers (SBOMs, signatures, attestations) are never signed on their own.
import { BERTH_ARTIFACT_ANNOTATION, EMPTY_CONFIG, putOwnBlob } from '../core/own-artifacts.ts';
import type { Registry, SignOnPush } from '../core/registry.ts';
import { getSigningConfiguration, parseSigningProfileArn, signingProfilesFor } from '../core/signing.ts';
import type { Logger } from '../server/log.ts';
import type { NewJob, Repository } from '../storage/meta/store.ts';
import { JWS_ENVELOPE, signatureManifest, signEnvelope } from './notation.ts';
import type { SigningProfiles } from './profiles.ts';

export const SIGN_JOB = 'image-sign';

export interface SignJob {
  accountId: string;
  repository: string;
  repositoryId: number;
  digest: string;
}

/** The principal named on the signer's own uploads (the signature's blobs). */
const SIGNER_ARN = 'arn:aws:iam::000000000000:role/berth-signer';
const EMPTY_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';

export class Signer {
  private readonly registry: Registry;
  private readonly profiles: SigningProfiles;
  private readonly now: () => number;
  private readonly log?: Logger;

  constructor(registry: Registry, profiles: SigningProfiles, now: () => number, log?: Logger) {
    this.registry = registry;
    this.profiles = profiles;
    this.now = now;
    this.log = log;
  }

  /** The core's sign-on-push decision (src/core/registry.ts): the profiles of the rules matching the repository. */
  readonly signOnPush: SignOnPush = async (repo, manifest) => {
    if (manifest.subject !== null) return undefined;
    const arns = signingProfilesFor(await getSigningConfiguration(this.registry.meta, repo.accountId), repo.name);
    if (arns.length === 0) return undefined;
    const payload: SignJob = { accountId: repo.accountId, repository: repo.name, repositoryId: repo.id, digest: manifest.digest };
    // Jobs run on wall-clock time (src/jobs/runner.ts), whatever the registry's test clock says.
    const job: NewJob = { kind: SIGN_JOB, payload: JSON.stringify(payload), runAt: Date.now(), maxAttempts: 3 };
    return { signingProfileArns: arns, job };
  };

  /** Runs one signing job: each profile still IN_PROGRESS signs the image; a failure is recorded as FAILED, not retried. */
  async run(job: SignJob): Promise<object> {
    const meta = this.registry.meta;
    const repo = await meta.getRepository(job.accountId, job.repository);
    if (!repo || repo.id !== job.repositoryId) return { skipped: 'the repository is gone' };
    const signed: string[] = [];
    for (const status of await meta.listImageSigning(repo.id, job.digest)) {
      if (status.status !== 'IN_PROGRESS') continue;
      try {
        const digest = await this.sign(repo, job.digest, status.signingProfileArn);
        if (digest === undefined) return { skipped: 'the image is gone' };
        await meta.finishImageSigning(
          repo.id,
          job.digest,
          status.signingProfileArn,
          { status: 'COMPLETE', failureCode: null, failureReason: null, signatureDigest: digest },
          this.now(),
        );
        signed.push(digest);
      } catch (e) {
        const failure =
          e instanceof SigningFailure ? e : new SigningFailure('SigningError', `The image could not be signed: ${(e as Error).message}`);
        this.log?.warn(
          { err: e, repository: repo.name, digest: job.digest, signingProfileArn: status.signingProfileArn },
          'image signing failed',
        );
        await meta.finishImageSigning(
          repo.id,
          job.digest,
          status.signingProfileArn,
          { status: 'FAILED', failureCode: failure.code, failureReason: failure.message, signatureDigest: null },
          this.now(),
        );
      }
    }
    return { digest: job.digest, signatures: signed };
  }

  /** Writes one profile's signature of the image; its digest, or undefined when the image is gone. */
  private async sign(repo: Repository, digest: string, arn: string): Promise<string | undefined> {
    const manifest = await this.registry.meta.getManifest(repo.id, digest);
    if (!manifest) return undefined;
    const parsed = parseSigningProfileArn(arn);
    const signer = parsed && parsed.accountId === repo.accountId ? await this.profiles.signer(parsed.accountId, parsed.name) : undefined;
    if (!signer) throw new SigningFailure('SigningProfileNotFound', `The signing profile ${arn} does not exist in this registry`);
    const subject = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size };
    const envelope = signEnvelope(subject, signer.key, signer.chain, Date.now());
    const config = await putOwnBlob(this.registry, repo, EMPTY_CONFIG, SIGNER_ARN);
    const layer = await putOwnBlob(this.registry, repo, envelope, SIGNER_ARN);
    const body = signatureManifest(
      subject,
      { mediaType: JWS_ENVELOPE, digest: layer, size: envelope.length },
      { mediaType: EMPTY_MEDIA_TYPE, digest: config, size: EMPTY_CONFIG.length, data: EMPTY_CONFIG.toString('base64') },
      signer.chain,
      { [BERTH_ARTIFACT_ANNOTATION]: 'signer' },
    );
    // An image deleted meanwhile gets no signature (it would outlive it).
    if (!(await this.registry.meta.getManifest(repo.id, digest))) return undefined;
    return (await this.registry.putManifest(repo, {}, body, 'application/vnd.oci.image.manifest.v1+json')).digest;
  }
}

class SigningFailure extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}
