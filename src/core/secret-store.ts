// Berth's small secret store: per account, named secrets holding upstream registry credentials for pull through cache
// rules, encrypted with the registry key (SecretBox) and answering to the Secrets Manager ARN
// `arn:aws:secretsmanager:<region>:<account>:secret:<name>` that a rule's `credentialArn` names, as ECR requires of
// its secrets: a name beginning `ecr-pullthroughcache/`, a JSON value with `username` and `accessToken`. Managed with
// `berth admin put-secret | list-secrets | delete-secret`; a value is never shown again, only handed to the upstream
// client (src/core/upstream-client.ts).
import type { SecretBox } from '../auth/secrets.ts';
import { IdentityError as SecretError } from '../auth/identity.ts';
import { parseUntrustedJson } from './json-limits.ts';
import type { MetaStore } from '../storage/meta/store.ts';

export const SECRET_NAME_PREFIX = 'ecr-pullthroughcache/';
/** Secrets Manager's limit on a secret's value. */
const MAX_SECRET_BYTES = 65536;
/** Secrets Manager's full ARNs end with `-` and six random characters, which Berth's secrets do not have. */
const ARN_SUFFIX_LENGTH = 7;
/** The characters of a secret's name (Secrets Manager's, as the ECR model's CredentialArn pattern allows them). */
const NAME_SYMBOLS = new Set('/_+=.@-');
const isNameCharacter = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || NAME_SYMBOLS.has(c);

export interface UpstreamCredentials {
  username: string;
  accessToken: string;
}

/** Why a credential ARN gives no credentials, as ECR's exceptions name it. */
export type SecretProblem = 'SecretNotFoundException' | 'UnableToDecryptSecretValueException' | 'UnableToAccessSecretException';

export interface SecretView {
  name: string;
  arn: string;
  createdAt: string;
  updatedAt: string;
}

/** The credentials a secret's value holds, or undefined when it is not ECR's shape. */
function credentialsOf(text: string): UpstreamCredentials | undefined {
  try {
    const value = parseUntrustedJson(Buffer.from(text)) as Record<string, unknown>;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const { username, accessToken } = value;
    if (typeof username !== 'string' || typeof accessToken !== 'string' || username === '' || accessToken === '') return undefined;
    return { username, accessToken };
  } catch {
    return undefined;
  }
}

export class SecretStore {
  private readonly meta: MetaStore;
  private readonly box: SecretBox;
  private readonly region: string;
  private readonly now: () => number;

  constructor(meta: MetaStore, box: SecretBox, region: string, now: () => number = Date.now) {
    this.meta = meta;
    this.box = box;
    this.region = region;
    this.now = now;
  }

  arn(accountId: string, name: string): string {
    return `arn:aws:secretsmanager:${this.region}:${accountId}:secret:${name}`;
  }

  /** Creates the secret or replaces its value. */
  async put(accountId: string, name: string | undefined, secretString: string | undefined): Promise<SecretView & { created: boolean }> {
    if (
      !name ||
      !name.startsWith(SECRET_NAME_PREFIX) ||
      name.length === SECRET_NAME_PREFIX.length ||
      name.length > 512 ||
      ![...name].every(isNameCharacter)
    ) {
      throw new SecretError(
        `--name must begin with ${SECRET_NAME_PREFIX} and be followed by letters, digits and /_+=.@- (at most 512 characters)`,
      );
    }
    if (secretString === undefined || Buffer.byteLength(secretString) > MAX_SECRET_BYTES || !credentialsOf(secretString)) {
      throw new SecretError(
        '--secret-string must be a JSON object with the upstream registry\'s "username" and "accessToken" (at most 64 KiB)',
      );
    }
    const now = this.now();
    const created = await this.meta.putSecret({
      accountId,
      name,
      ciphertext: this.box.encrypt(secretString),
      createdAt: now,
      updatedAt: now,
    });
    const row = (await this.meta.getSecret(accountId, name))!;
    return { ...this.view(accountId, row), created };
  }

  async list(accountId: string): Promise<SecretView[]> {
    return (await this.meta.listSecrets(accountId)).map((r) => this.view(accountId, r));
  }

  async delete(accountId: string, name: string | undefined): Promise<{ deleted: string; arn: string }> {
    if (!name || !(await this.meta.deleteSecret(accountId, name)))
      throw new SecretError(`no secret "${name ?? ''}" in account ${accountId}`);
    return { deleted: name, arn: this.arn(accountId, name) };
  }

  /**
   * The credentials a `credentialArn` names for a rule of `accountId` in this region, or ECR's reason there are none:
   * a secret of another account or region, or none of that name, is not found; a value the registry key does not
   * decrypt cannot be decrypted; a value without `username` and `accessToken` cannot be used.
   */
  async resolve(
    accountId: string,
    credentialArn: string,
  ): Promise<{ credentials: UpstreamCredentials } | { problem: SecretProblem; message: string }> {
    const prefix = `arn:aws:secretsmanager:${this.region}:${accountId}:secret:`;
    const notFound = {
      problem: 'SecretNotFoundException' as const,
      message: `The secret ${credentialArn} could not be found in the registry's secret store`,
    };
    if (!credentialArn.startsWith(prefix)) return notFound;
    const name = credentialArn.slice(prefix.length);
    // A full Secrets Manager ARN (with its random suffix) names the secret too.
    const row =
      (await this.meta.getSecret(accountId, name)) ??
      (name.length > ARN_SUFFIX_LENGTH && name[name.length - ARN_SUFFIX_LENGTH] === '-'
        ? await this.meta.getSecret(accountId, name.slice(0, -ARN_SUFFIX_LENGTH))
        : undefined);
    if (!row) return notFound;
    let text: string;
    try {
      text = this.box.decrypt(row.ciphertext);
    } catch {
      return {
        problem: 'UnableToDecryptSecretValueException',
        message: `The secret ${credentialArn} could not be decrypted with the registry key`,
      };
    }
    const credentials = credentialsOf(text);
    if (!credentials)
      return {
        problem: 'UnableToAccessSecretException',
        message: `The secret ${credentialArn} does not hold a JSON object with "username" and "accessToken"`,
      };
    return { credentials };
  }

  private view(accountId: string, r: { name: string; createdAt: number; updatedAt: number }): SecretView {
    return {
      name: r.name,
      arn: this.arn(accountId, r.name),
      createdAt: new Date(r.createdAt).toISOString(),
      updatedAt: new Date(r.updatedAt).toISOString(),
    };
  }
}
