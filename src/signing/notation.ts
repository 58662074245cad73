// Notation signatures (the Notary Project signature specification, JWS envelope): the payload (the signed
// manifest's descriptor), the protected headers (signed attributes), the flattened JWS JSON envelope with the
// certificate chain in its unprotected header, and the signature manifest that stores it in the registry as an OCI
// referrer of the image. Pure but for the signing call.
import { createHash, sign, type KeyObject } from 'node:crypto';

export const NOTARY_SIGNATURE = 'application/vnd.cncf.notary.signature';
export const JWS_ENVELOPE = 'application/jose+json';
export const NOTARY_PAYLOAD = 'application/vnd.cncf.notary.payload.v1+json';
export const THUMBPRINT_ANNOTATION = 'io.cncf.notary.x509chain.thumbprint#S256';
export const SIGNING_AGENT = 'berth';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface JwsEnvelope {
  payload: string;
  protected: string;
  header: { x5c: string[]; 'io.cncf.notary.signingAgent': string };
  signature: string;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** RFC 3339 without fractional seconds (as the specification recommends). */
export const signingTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/**
 * The JWS envelope signing `target` with an ECDSA P-256 key (ES256) whose certificate chain (DER, signing
 * certificate first) is `chain`, at `now`.
 */
export function signEnvelope(target: Descriptor, key: KeyObject, chain: Buffer[], now: number): Buffer {
  const payload = JSON.stringify({ targetArtifact: { mediaType: target.mediaType, digest: target.digest, size: target.size } });
  const headers = JSON.stringify({
    alg: 'ES256',
    crit: ['io.cncf.notary.signingScheme'],
    cty: NOTARY_PAYLOAD,
    'io.cncf.notary.signingScheme': 'notary.x509',
    'io.cncf.notary.signingTime': signingTime(now),
  });
  const input = `${b64url(headers)}.${b64url(payload)}`;
  // JWS's ECDSA signature is R || S (IEEE P1363), not DER.
  const signature = sign('sha256', Buffer.from(input, 'ascii'), { key, dsaEncoding: 'ieee-p1363' });
  const envelope: JwsEnvelope = {
    payload: b64url(payload),
    protected: b64url(headers),
    header: { x5c: chain.map((c) => c.toString('base64')), 'io.cncf.notary.signingAgent': SIGNING_AGENT },
    signature: b64url(signature),
  };
  return Buffer.from(JSON.stringify(envelope));
}

/** The signature manifest: an OCI image manifest with the envelope as its one layer and the image as its subject. */
export function signatureManifest(
  subject: Descriptor,
  envelope: Descriptor,
  emptyConfig: Descriptor & { data: string },
  chain: Buffer[],
  annotations: Record<string, string>,
): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: NOTARY_SIGNATURE,
      config: emptyConfig,
      layers: [{ mediaType: JWS_ENVELOPE, digest: envelope.digest, size: envelope.size }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: {
        [THUMBPRINT_ANNOTATION]: JSON.stringify(chain.map((c) => createHash('sha256').update(c).digest('hex'))),
        ...annotations,
      },
    }),
  );
}
