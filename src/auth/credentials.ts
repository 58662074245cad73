// Access keys and HTTP Basic authentication. The root key comes from configuration, or is generated on the
// first start and kept in <dataDir>/root-credentials.json, readable by its owner only.
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, chmodSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { rootArn, type Principal } from './principal.ts';

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  principal: Principal;
}

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
  const key = { accessKeyId: newAccessKeyId(), secretAccessKey: randomBytes(30).toString('base64').replace(/[+/]/g, 'x') };
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(key, null, 2) + '\n', { mode: 0o600, flush: true });
  renameSync(tmp, file);
  return { ...key, origin: 'generated', file };
}

/** An AWS-style access key id: AKIA followed by 16 characters of [A-Z2-7]. */
function newAccessKeyId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return 'AKIA' + [...randomBytes(16)].map((b) => alphabet[b % 32]).join('');
}

export function rootAccessKey(key: RootKey, accountId: string): AccessKey {
  return {
    accessKeyId: key.accessKeyId,
    secretAccessKey: key.secretAccessKey,
    principal: { kind: 'root', accountId, arn: rootArn(accountId), accessKeyId: key.accessKeyId },
  };
}

export type BasicResult = { principal: Principal } | { error: string } | undefined;

export class Credentials {
  private readonly keys = new Map<string, AccessKey>();

  constructor(keys: AccessKey[]) {
    for (const k of keys) this.keys.set(k.accessKeyId, k);
  }

  /** Authenticates an `Authorization: Basic` header. Undefined when there is no Basic header at all. */
  basic(header: string | undefined): BasicResult {
    if (!header || !/^basic /i.test(header)) return undefined;
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { error: 'malformed Basic credentials' };
    const id = decoded.slice(0, colon);
    const secret = decoded.slice(colon + 1);
    const key = this.keys.get(id);
    if (!key || !sameSecret(secret, key.secretAccessKey)) return { error: 'invalid username or password' };
    return { principal: key.principal };
  }
}

/** Constant-time comparison (hashing first makes the lengths equal). */
function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
