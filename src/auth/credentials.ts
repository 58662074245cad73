// The default account's root key. It comes from configuration, or is generated on the
// first start and kept in <dataDir>/root-credentials.json, readable by its owner only.
import { existsSync, readFileSync, writeFileSync, chmodSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { newAccessKeyId, newSecret } from './identity.ts';

export const ROOT_CREDENTIALS_FILE = 'root-credentials.json';

export interface RootKey {
  accessKeyId: string;
  secretAccessKey: string;
  /** Where it came from: configuration, a file generated just now (print the secret once), or that file later. */
  origin: 'config' | 'generated' | 'file';
  file?: string;
}

export function loadRootKey(dataDir: string, configured: { accessKeyId?: string; secretAccessKey?: string }): RootKey {
  if (configured.accessKeyId && configured.secretAccessKey) {
    return { accessKeyId: configured.accessKeyId, secretAccessKey: configured.secretAccessKey, origin: 'config' };
  }
  const file = join(dataDir, ROOT_CREDENTIALS_FILE);
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { accessKeyId: string; secretAccessKey: string };
    chmodSync(file, 0o600);
    return { ...saved, origin: 'file', file };
  }
  const key = { accessKeyId: newAccessKeyId(), secretAccessKey: newSecret() };
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(key, null, 2) + '\n', { mode: 0o600, flush: true });
  renameSync(tmp, file);
  return { ...key, origin: 'generated', file };
}

