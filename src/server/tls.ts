// TLS: the certificate and key (PEM files, BERTH_TLS_CERT_FILE / BERTH_TLS_KEY_FILE) are read at start and again
// whenever either file changes (polled, so a replaced file is seen as well as one rewritten) or on SIGHUP. A reload
// swaps the secure context for new connections only: connections already open keep the one they began with.
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';
import { createSecureContext } from 'node:tls';
import type { Logger } from './log.ts';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** Something with a swappable secure context: an https or http2 secure server. */
interface SecureServer {
  setSecureContext(options: SecureContextOptions): void;
}

/** The PEM certificate (chain) and key; throws when they cannot be read or do not belong together. */
export function readTls(files: TlsFiles): SecureContextOptions {
  const options = { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
  createSecureContext(options); // fails on a malformed PEM or a key that is not the certificate's
  return options;
}

export interface TlsReloader {
  /** Reads the files again; on failure the certificate in use is kept and the error logged. */
  reload(reason: string): boolean;
  stop(): void;
}

/** Reloads the server's certificate when its files change (checked every pollMs; 0: never); `reload()` is what SIGHUP calls. */
export function watchTls(server: SecureServer, files: TlsFiles, log: Logger, pollMs: number): TlsReloader {
  const reload = (reason: string): boolean => {
    try {
      server.setSecureContext(readTls(files));
      log.info({ reason, certFile: files.certFile }, 'TLS certificate reloaded');
      return true;
    } catch (e) {
      // A cert and key replaced one after the other do not match in between: the next change reloads both.
      log.warn({ reason, err: (e as Error).message, certFile: files.certFile }, 'TLS certificate not reloaded: keeping the one in use');
      return false;
    }
  };
  const onChange = (cur: { mtimeMs: number; ino: number; size: number }, prev: { mtimeMs: number; ino: number; size: number }) => {
    if (cur.mtimeMs !== prev.mtimeMs || cur.ino !== prev.ino || cur.size !== prev.size) reload('file changed');
  };
  const watched = pollMs > 0 ? [files.certFile, files.keyFile] : [];
  for (const f of watched) watchFile(f, { interval: pollMs, persistent: false }, onChange);
  return {
    reload,
    stop() {
      for (const f of watched) unwatchFile(f, onChange);
    },
  };
}
