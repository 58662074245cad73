// Encryption of secrets at rest (access keys' secret keys): AES-256-GCM under a key kept in the data directory
// (<dataDir>/secret.key, readable by its owner only) or given in the configuration. SigV4 needs the secret
// itself to verify a signature, so secrets are encrypted, not hashed.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('the secret key must be 32 bytes');
    this.key = key;
  }

  /** The key from configuration (base64), else <dataDir>/secret.key, created on first use. */
  static load(dataDir: string, configured?: string): SecretBox {
    if (configured) return new SecretBox(Buffer.from(configured, 'base64'));
    const file = join(dataDir, 'secret.key');
    if (!existsSync(file)) {
      const tmp = `${file}.tmp`;
      writeFileSync(tmp, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flush: true });
      renameSync(tmp, file);
    }
    return new SecretBox(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64'));
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), body.toString('base64'), cipher.getAuthTag().toString('base64')].join('.');
  }

  decrypt(ciphertext: string): string {
    const [version, iv, body, tag] = ciphertext.split('.');
    if (version !== 'v1') throw new Error('unknown secret encoding');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
  }

  /** A key for another purpose (signing tokens, URLs), derived from this one. */
  derive(purpose: string): Buffer {
    return createHmac('sha256', this.key).update(`berth:${purpose}`).digest();
  }
}
