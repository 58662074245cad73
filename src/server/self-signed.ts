// `berth serve --tls-self-signed`: a certificate made once and kept in <dataDir>/tls/ (so that a client told to
// trust it goes on trusting it across restarts), made again only when it is about to expire.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { certificateExpiry, createCertificate } from './certificates.ts';
import type { TlsFiles } from './tls.ts';

const RENEW_BEFORE_MS = 30 * 86_400_000;

/** The self-signed certificate's files for these hosts, made (or renewed) when missing or expiring. */
export function selfSignedCertificate(dataDir: string, hosts: string[]): TlsFiles & { created: boolean } {
  const dir = join(dataDir, 'tls');
  const certFile = join(dir, 'self-signed.crt');
  const keyFile = join(dir, 'self-signed.key');
  if (existsSync(certFile) && existsSync(keyFile)) {
    const expiry = certificateExpiry(readFileSync(certFile, 'utf8'));
    if (expiry && expiry.getTime() - Date.now() > RENEW_BEFORE_MS) return { certFile, keyFile, created: false };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const names = [...new Set(['localhost', '127.0.0.1', '::1', hostname(), ...hosts].filter((h) => h && h !== '0.0.0.0' && h !== '::'))];
  const pem = createCertificate({ commonName: `Berth self-signed (${hostname()})`, hosts: names });
  // The key first, each under a temporary name: a reader never sees a certificate without its key.
  writeFileSync(keyFile + '.tmp', pem.key, { mode: 0o600 });
  renameSync(keyFile + '.tmp', keyFile);
  writeFileSync(certFile + '.tmp', pem.cert, { mode: 0o644 });
  renameSync(certFile + '.tmp', certFile);
  return { certFile, keyFile, created: true };
}

/** What to tell users so that their clients trust the certificate. */
export function trustInstructions(certFile: string, host: string): string[] {
  return [
    `TLS with a self-signed certificate: ${certFile}. Trust it in each client:`,
    `  curl --cacert ${certFile} https://${host}/v2/`,
    `  aws ... --ca-bundle ${certFile}                  (or AWS_CA_BUNDLE=${certFile})`,
    `  docker: sudo mkdir -p /etc/docker/certs.d/${host} && sudo cp ${certFile} /etc/docker/certs.d/${host}/ca.crt`,
    `  podman, skopeo, buildah: --cert-dir <dir holding ${certFile} as ca.crt>, or /etc/containers/certs.d/${host}/ca.crt`,
    `  the whole system (Debian/Ubuntu): sudo cp ${certFile} /usr/local/share/ca-certificates/berth.crt && sudo update-ca-certificates`,
  ];
}
