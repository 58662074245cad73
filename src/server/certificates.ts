// X.509 certificates made with node-forge (pure JavaScript) on RSA keys that Node's crypto generates: the
// self-signed certificate of `berth serve --tls-self-signed`, and certificate authorities and the certificates they
// sign (tests, local setups).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

const DAY = 86_400_000;

export interface Pem {
  /** The certificate, PEM. */
  cert: string;
  /** Its private key, PEM. */
  key: string;
}

export interface CertificateRequest {
  commonName: string;
  /** DNS names and IP addresses the certificate is for (subjectAltName); none for a CA. */
  hosts?: string[];
  /** A certificate authority (may sign others), rather than a server certificate. */
  ca?: boolean;
  /** Signed by this CA; self-signed without one. */
  issuer?: Pem;
  days?: number;
}

/**
 * A certificate and its new key. A self-signed server certificate is also its own CA (basicConstraints CA:TRUE,
 * keyCertSign), so that clients can be told to trust it as they would a CA: `curl --cacert`, docker's
 * certs.d/<host>/ca.crt, `aws --ca-bundle`.
 */
export function createCertificate(req: CertificateRequest): Pem {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  // A positive serial: the first hex digit below 8.
  cert.serialNumber = '1' + randomBytes(15).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - DAY);
  cert.validity.notAfter = new Date(Date.now() + (req.days ?? 825) * DAY);
  const subject = [
    { name: 'commonName', value: req.commonName },
    { name: 'organizationName', value: 'Berth' },
  ];
  cert.setSubject(subject);
  const selfSigned = !req.issuer;
  const isCa = req.ca === true || selfSigned;
  const issuerCert = req.issuer ? forge.pki.certificateFromPem(req.issuer.cert) : undefined;
  cert.setIssuer(issuerCert ? issuerCert.subject.attributes : subject);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: isCa, critical: true },
    {
      name: 'keyUsage',
      critical: true,
      keyCertSign: isCa,
      cRLSign: isCa,
      digitalSignature: req.ca !== true,
      keyEncipherment: req.ca !== true,
    },
    { name: 'subjectKeyIdentifier' },
    // Its issuer's key identifier (its own when self-signed): strict verifiers (Python 3.13) want it.
    { name: 'authorityKeyIdentifier', keyIdentifier: (issuerCert ?? cert).generateSubjectKeyIdentifier().getBytes() },
  ];
  if (req.ca !== true) {
    extensions.push({ name: 'extKeyUsage', serverAuth: true });
    extensions.push({
      name: 'subjectAltName',
      altNames: (req.hosts ?? []).map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h })),
    });
  }
  cert.setExtensions(extensions);
  const signingKey = forge.pki.privateKeyFromPem(req.issuer ? req.issuer.key : privateKey);
  cert.sign(signingKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: privateKey };
}

/** The certificate's expiry, or undefined when the PEM is no certificate. */
export function certificateExpiry(pem: string): Date | undefined {
  try {
    return forge.pki.certificateFromPem(pem).validity.notAfter;
  } catch {
    return undefined;
  }
}
