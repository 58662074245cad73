// A signing profile's key and certificate: an ECDSA P-256 key from Node's crypto and a self-signed X.509 code-signing
// certificate as the Notary Project signature specification requires of a chain that is its own root ("Certificate
// Requirements": keyUsage critical with digitalSignature only, basicConstraints cA false, extendedKeyUsage
// codeSigning). node-forge builds only RSA certificates, so the certificate is written with its DER encoder
// (forge.asn1) and signed with Node's crypto; forge is loaded when a profile is created, not at start.
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type Forge from 'node-forge';

type Asn1 = Forge.asn1.Asn1;

const DAY = 86_400_000;
/** ecdsa-with-SHA256, and the extensions' object identifiers. */
const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
};

export interface SigningKey {
  /** PKCS#8 PEM of the private key. */
  keyPem: string;
  /** The certificate, PEM. */
  certificatePem: string;
}

/** A new P-256 key and its self-signed code-signing certificate for `commonName`, valid `days` from now. */
export async function createSigningKey(commonName: string, days = 3650, now = Date.now()): Promise<SigningKey> {
  const { default: forge } = await import('node-forge');
  const { asn1 } = forge;
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spkiDer = publicKey.export({ type: 'spki', format: 'der' });
  const spki = asn1.fromDer(forge.util.createBuffer(spkiDer.toString('binary')));
  // The key identifier: SHA-1 of the subjectPublicKey bits (RFC 5280, 4.2.1.2, method 1).
  const keyBits = (spki.value as Asn1[])[1].value as string;
  const keyId = createHash('sha1')
    .update(Buffer.from(keyBits.slice(1), 'binary'))
    .digest()
    .toString('binary');

  const U = asn1.Class.UNIVERSAL;
  const T = asn1.Type;
  const seq = (items: Asn1[]) => asn1.create(U, T.SEQUENCE, true, items);
  const oid = (o: string) => asn1.create(U, T.OID, false, asn1.oidToDer(o).getBytes());
  const der = (a: Asn1) => asn1.toDer(a).getBytes();
  const octets = (bytes: string) => asn1.create(U, T.OCTETSTRING, false, bytes);
  const name = seq([
    asn1.create(U, T.SET, true, [seq([oid(OID.commonName), asn1.create(U, T.UTF8, false, forge.util.encodeUtf8(commonName))])]),
    asn1.create(U, T.SET, true, [seq([oid(OID.organization), asn1.create(U, T.UTF8, false, 'Berth')])]),
  ]);
  const extension = (id: string, critical: boolean, value: Asn1) =>
    seq([oid(id), ...(critical ? [asn1.create(U, T.BOOLEAN, false, '\xff')] : []), octets(der(value))]);
  const algorithm = seq([oid(OID.ecdsaWithSha256)]);
  const time = (d: Date) => asn1.create(U, T.UTCTIME, false, asn1.dateToUtcTime(d));
  const tbs = seq([
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [asn1.create(U, T.INTEGER, false, asn1.integerToDer(2).getBytes())]),
    // A positive serial number: the first byte below 0x80.
    asn1.create(U, T.INTEGER, false, String.fromCharCode(0x10) + randomBytes(15).toString('binary')),
    algorithm,
    name,
    seq([time(new Date(now - DAY)), time(new Date(now + days * DAY))]),
    name,
    spki,
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 3, true, [
      seq([
        extension(OID.basicConstraints, true, seq([])),
        // digitalSignature only: bit 0 of a one-byte BIT STRING with 7 unused bits.
        extension(OID.keyUsage, true, asn1.create(U, T.BITSTRING, false, '\x07\x80')),
        extension(OID.extKeyUsage, false, seq([oid(OID.codeSigning)])),
        extension(OID.subjectKeyIdentifier, false, octets(keyId)),
        extension(OID.authorityKeyIdentifier, false, seq([asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, keyId)])),
      ]),
    ]),
  ]);
  const tbsDer = Buffer.from(der(tbs), 'binary');
  const signature = sign('sha256', tbsDer, { key: privateKey, dsaEncoding: 'der' });
  const certificate = seq([tbs, algorithm, asn1.create(U, T.BITSTRING, false, '\x00' + signature.toString('binary'))]);
  const certificateDer = Buffer.from(der(certificate), 'binary');
  return { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), certificatePem: toPem(certificateDer) };
}

export function toPem(der: Buffer): string {
  const b64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** The private key of a PEM (for signing). */
export const privateKeyOf = (pem: string) => createPrivateKey(pem);
