// Who holds which access key: the default account's root key (configuration or the generated file), and the
// accounts, users and access keys kept in the metadata store with their secrets encrypted. Authenticates the
// data plane's HTTP Basic (an access key and its secret, or user "AWS" with a registry token) and issues tokens.
import { randomBytes, randomInt, createHash, timingSafeEqual } from 'node:crypto';
import type { AccessKeyRow, MetaStore } from '../storage/meta/store.ts';
import { anonymous, rootArn, type Principal } from './principal.ts';
import type { RootKey } from './credentials.ts';
import type { SecretBox } from './secrets.ts';
import { TOKEN_TTL_MS, TokenSigner, type TokenClaims } from './tokens.ts';
import { parsePolicy, PolicyError } from './policy/document.ts';

export interface KeyHolder {
  accessKeyId: string;
  secretAccessKey: string;
  principal: Principal;
}

/** Who a credential speaks for and, for one that expires by itself (a registry token), when it does. */
export type BasicResult = { principal: Principal; expiresAt?: number } | { error: string } | undefined;

export const userArn = (accountId: string, name: string) => `arn:aws:iam::${accountId}:user/${name}`;

export const USER_NAME = /^[\w+=,.@-]{1,64}$/;

/** A Basic Authorization header. */
export const BASIC = /^basic /i;
/** An account id. */
export const ACCOUNT_ID = /^\d{12}$/;
/** An IAM policy name. */
export const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;

function principalOfKey(row: AccessKeyRow): Principal {
  return row.userName === null
    ? { kind: 'root', accountId: row.accountId, arn: rootArn(row.accountId), accessKeyId: row.accessKeyId }
    : {
        kind: 'user',
        accountId: row.accountId,
        arn: userArn(row.accountId, row.userName),
        accessKeyId: row.accessKeyId,
        userName: row.userName,
      };
}

export class IdentityError extends Error {}

export class Identity {
  readonly defaultAccountId: string;
  private readonly meta: MetaStore;
  private readonly box: SecretBox;
  private readonly root: KeyHolder;
  private readonly tokens: TokenSigner;
  private readonly downloads: TokenSigner;
  private readonly bearers: TokenSigner;
  private readonly now: () => number;

  constructor(meta: MetaStore, box: SecretBox, rootKey: RootKey, defaultAccountId: string, now: () => number = Date.now) {
    this.meta = meta;
    this.box = box;
    this.defaultAccountId = defaultAccountId;
    this.now = now;
    this.tokens = new TokenSigner(box.derive('registry-token'));
    this.downloads = new TokenSigner(box.derive('layer-download'));
    this.bearers = new TokenSigner(box.derive('bearer-token'));
    this.root = {
      accessKeyId: rootKey.accessKeyId,
      secretAccessKey: rootKey.secretAccessKey,
      principal: { kind: 'root', accountId: defaultAccountId, arn: rootArn(defaultAccountId), accessKeyId: rootKey.accessKeyId },
    };
  }

  /** The holder of an active access key, its secret decrypted (to check a signature or a password). */
  async lookup(accessKeyId: string): Promise<KeyHolder | undefined> {
    if (accessKeyId === this.root.accessKeyId) return this.root;
    const row = await this.activeKey(accessKeyId);
    return row && { accessKeyId: row.accessKeyId, secretAccessKey: this.box.decrypt(row.secretCiphertext), principal: principalOfKey(row) };
  }

  /** Who an active access key speaks for, without decrypting its secret: a token signed by us needs no more. */
  private async principalOf(accessKeyId: string): Promise<Principal | undefined> {
    if (accessKeyId === this.root.accessKeyId) return this.root.principal;
    const row = await this.activeKey(accessKeyId);
    return row && principalOfKey(row);
  }

  private async activeKey(accessKeyId: string): Promise<AccessKeyRow | undefined> {
    const row = await this.meta.getAccessKey(accessKeyId);
    return row?.status === 'Active' ? row : undefined;
  }

  /** HTTP Basic: `AWS` + a registry token, or an access key id + its secret. Undefined without a Basic header. */
  async basic(header: string | undefined): Promise<BasicResult> {
    if (!header || !BASIC.test(header)) return undefined;
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    // An empty user and password is how some clients (skopeo --no-creds) say "no credentials".
    if (decoded === ':') return undefined;
    const colon = decoded.indexOf(':');
    if (colon < 0) return { error: 'malformed Basic credentials' };
    return this.password(decoded.slice(0, colon), decoded.slice(colon + 1));
  }

  /** A user name and password (HTTP Basic, or the token endpoint's password grant): `AWS` and a registry token,
   * or an access key id and its secret. */
  async password(user: string, password: string): Promise<Exclude<BasicResult, undefined>> {
    if (user === 'AWS') return this.verifyToken(password);
    const holder = await this.lookup(user);
    if (!holder || !sameSecret(password, holder.secretAccessKey)) return { error: 'invalid username or password' };
    return { principal: holder.principal };
  }

  /**
   * HTTP Basic with an access key and its secret only: what the admin API takes. A registry token (user `AWS`)
   * is refused, as ECR's authorization token is good for the registry data plane only.
   */
  async accessKeyBasic(header: string | undefined): Promise<BasicResult> {
    if (!header || !/^basic /i.test(header)) return undefined;
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    if (decoded.startsWith('AWS:'))
      return { error: 'a registry authorization token is valid for the /v2/ data plane only; use an access key and its secret' };
    return this.basic(header);
  }

  /**
   * An opaque refresh token for the principal's access key (the OAuth2 token flow's `refresh_token`, docker's
   * identity token): stored hashed, so that every node honours it, and revoked with the key. It never outlives
   * `notAfter`, the expiry of the credential it was obtained with (a 12-hour registry token stays 12 hours).
   */
  async issueRefreshToken(principal: Principal, ttlMs: number, notAfter?: number): Promise<{ refreshToken: string; expiresAt: number }> {
    if (!principal.accessKeyId) throw new Error('a refresh token needs an access key');
    const refreshToken = REFRESH_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const now = this.now();
    const expiresAt = Math.min(now + ttlMs, notAfter ?? Infinity);
    await this.meta.createRefreshToken(
      {
        tokenHash: hashRefreshToken(refreshToken),
        accessKeyId: principal.accessKeyId,
        principalArn: principal.arn,
        createdAt: now,
        expiresAt,
      },
      now,
    );
    return { refreshToken, expiresAt };
  }

  /** The principal a refresh token speaks for, while it is unexpired and its access key active. */
  async verifyRefreshToken(refreshToken: string): Promise<Exclude<BasicResult, undefined>> {
    const row = refreshToken.startsWith(REFRESH_TOKEN_PREFIX) ? await this.meta.getRefreshToken(hashRefreshToken(refreshToken)) : undefined;
    if (!row) return { error: 'invalid refresh token' };
    if (row.expiresAt <= this.now()) return { error: 'the refresh token has expired' };
    const holder = await this.holderOf(row.accessKeyId, 'the access key this refresh token was issued to is no longer active');
    if ('error' in holder) return holder;
    if (holder.principal.arn !== row.principalArn) return { error: 'invalid refresh token' };
    return { principal: holder.principal, expiresAt: row.expiresAt };
  }

  /**
   * A console session for the holder of an access key who signed in with its secret: an opaque token (the cookie's
   * value), stored hashed so that every node honours it, revoked with the key, ended at `ttlMs` or by signing out.
   */
  async startConsoleSession(principal: Principal, ttlMs: number): Promise<{ sessionToken: string; expiresAt: number }> {
    if (!principal.accessKeyId) throw new Error('a console session needs an access key');
    const sessionToken = CONSOLE_SESSION_PREFIX + randomBytes(32).toString('base64url');
    const now = this.now();
    const expiresAt = now + ttlMs;
    await this.meta.createConsoleSession(
      {
        tokenHash: hashRefreshToken(sessionToken),
        accessKeyId: principal.accessKeyId,
        principalArn: principal.arn,
        createdAt: now,
        expiresAt,
      },
      now,
    );
    return { sessionToken, expiresAt };
  }

  /** The key holder a console session speaks for, while it is unexpired and its access key active. */
  async verifyConsoleSession(sessionToken: string): Promise<KeyHolder | { error: string }> {
    const row = sessionToken.startsWith(CONSOLE_SESSION_PREFIX)
      ? await this.meta.getConsoleSession(hashRefreshToken(sessionToken))
      : undefined;
    if (!row) return { error: 'no such session' };
    if (row.expiresAt <= this.now()) return { error: 'the session has expired' };
    const holder = await this.lookup(row.accessKeyId);
    if (!holder || holder.principal.arn !== row.principalArn) return { error: 'the access key of this session is no longer active' };
    return holder;
  }

  /** Signs out: the session's row is deleted. */
  async endConsoleSession(sessionToken: string): Promise<void> {
    if (sessionToken.startsWith(CONSOLE_SESSION_PREFIX)) await this.meta.deleteConsoleSession(hashRefreshToken(sessionToken));
  }

  /** A registry token for the key's holder, valid 12 hours: what GetAuthorizationToken returns. */
  issueToken(holder: KeyHolder): { authorizationToken: string; expiresAt: number } {
    const expiresAt = this.now() + TOKEN_TTL_MS;
    const token = this.tokens.sign({ k: holder.accessKeyId, e: expiresAt } satisfies TokenClaims);
    return { authorizationToken: Buffer.from(`AWS:${token}`).toString('base64'), expiresAt };
  }

  /**
   * A bearer token of the distribution token protocol (what docker fetches from the challenge's realm): it
   * says who the caller is (or that it is anonymous), never what it may do; every request is still authorized.
   */
  issueBearer(principal: Principal | undefined, ttlMs: number): { token: string; expiresIn: number } {
    const token = this.bearers.sign({ k: principal?.accessKeyId ?? null, e: this.now() + ttlMs });
    return { token, expiresIn: Math.floor(ttlMs / 1000) };
  }

  /** The principal a bearer token speaks for (anonymous of the default account for an anonymous token). */
  async verifyBearer(token: string): Promise<BasicResult> {
    const claims = this.bearers.verify<{ k: string | null; e: number }>(token);
    if (!claims || typeof claims.e !== 'number') return { error: 'invalid bearer token' };
    if (claims.e <= this.now()) return { error: 'the bearer token has expired' };
    if (claims.k === null) return { principal: anonymous(this.defaultAccountId) };
    return this.holderOf(claims.k, 'the access key this token was issued to is no longer active');
  }

  /** A token for a signed layer download URL: one blob of one repository, for a limited time. */
  signDownload(holder: KeyHolder, repositoryName: string, digest: string, ttlMs: number): string {
    return this.downloads.sign({ k: holder.accessKeyId, r: repositoryName, d: digest, e: this.now() + ttlMs });
  }

  /** The principal a download token speaks for, when it is intact, unexpired and for this blob. */
  async verifyDownload(token: string, repositoryName: string, digest: string): Promise<BasicResult> {
    const claims = this.downloads.verify<TokenClaims & { r: string; d: string }>(token);
    if (!claims || claims.r !== repositoryName || claims.d !== digest) return { error: 'invalid download signature' };
    if (claims.e <= this.now()) return { error: 'the download URL has expired' };
    return this.holderOf(claims.k, 'the access key that signed this URL is no longer active');
  }

  private async verifyToken(token: string): Promise<Exclude<BasicResult, undefined>> {
    const claims = this.tokens.verify<TokenClaims>(token);
    if (!claims || typeof claims.k !== 'string' || typeof claims.e !== 'number') return { error: 'invalid authorization token' };
    if (claims.e <= this.now()) return { error: 'authorization token has expired; reauthenticate' };
    const holder = await this.holderOf(claims.k, 'the access key this token was issued to is no longer active');
    return 'error' in holder ? holder : { principal: holder.principal, expiresAt: claims.e };
  }

  /** The principal of an access key named by a token, or `gone` when the key is no longer active. */
  private async holderOf(accessKeyId: string, gone: string): Promise<Exclude<BasicResult, undefined>> {
    const principal = await this.principalOf(accessKeyId);
    return principal ? { principal } : { error: gone };
  }

  // --- administration (berth admin commands) ---

  async createAccount(accountId?: string): Promise<{ accountId: string; accessKeyId: string; secretAccessKey: string }> {
    const id = accountId ?? newAccountId();
    if (!ACCOUNT_ID.test(id)) throw new IdentityError(`an account id is 12 digits, not "${id}"`);
    if ((await this.meta.listAccounts()).includes(id)) throw new IdentityError(`account ${id} already exists`);
    await this.meta.ensureAccount(id, this.now());
    return { accountId: id, ...(await this.createAccessKey(id, null)) };
  }

  /** `managedBy` marks the user as managed by a tool ("apply": `berth apply`, whose --prune may delete it). */
  async createUser(accountId: string, name: string, managedBy?: string): Promise<string> {
    if (!USER_NAME.test(name)) throw new IdentityError(`invalid user name "${name}": 1 to 64 of letters, digits and +=,.@_-`);
    if (managedBy !== undefined && (managedBy.length < 1 || managedBy.length > 64))
      throw new IdentityError('managedBy is 1 to 64 characters');
    await this.requireAccount(accountId);
    if (!(await this.meta.createUser(accountId, name, this.now(), managedBy ?? null)))
      throw new IdentityError(`user ${name} already exists in account ${accountId}`);
    return userArn(accountId, name);
  }

  async deleteUser(accountId: string, name: string): Promise<void> {
    if (!(await this.meta.deleteUser(accountId, name))) throw new IdentityError(`no user ${name} in account ${accountId}`);
  }

  async listUsers(accountId: string) {
    return (await this.meta.listUsers(accountId)).map((u) => ({ ...u, arn: userArn(accountId, u.name) }));
  }

  /** A new access key for a user, or for the account's root when `userName` is null. */
  async createAccessKey(accountId: string, userName: string | null): Promise<{ accessKeyId: string; secretAccessKey: string }> {
    await this.requireAccount(accountId);
    if (userName !== null) await this.requireUser(accountId, userName);
    const accessKeyId = newAccessKeyId();
    const secretAccessKey = newSecret();
    await this.meta.createAccessKey({
      accessKeyId,
      accountId,
      userName,
      secretCiphertext: this.box.encrypt(secretAccessKey),
      status: 'Active',
      createdAt: this.now(),
    });
    return { accessKeyId, secretAccessKey };
  }

  async listAccessKeys(accountId: string, userName: string | null) {
    return (await this.meta.listAccessKeys(accountId, userName)).map((k) => ({
      accessKeyId: k.accessKeyId,
      userName: k.userName,
      status: k.status,
      createdAt: k.createdAt,
    }));
  }

  async setAccessKeyStatus(accountId: string, accessKeyId: string, status: 'Active' | 'Inactive'): Promise<void> {
    await this.requireKey(accountId, accessKeyId);
    await this.meta.setAccessKeyStatus(accessKeyId, status);
  }

  async deleteAccessKey(accountId: string, accessKeyId: string): Promise<void> {
    await this.requireKey(accountId, accessKeyId);
    await this.meta.deleteAccessKey(accessKeyId);
  }

  // --- identity policies (inline, per user) ---

  async putUserPolicy(accountId: string, userName: string, policyName: string, text: string): Promise<void> {
    await this.requireUser(accountId, userName);
    if (!POLICY_NAME.test(policyName)) throw new IdentityError(`invalid policy name "${policyName}"`);
    try {
      parsePolicy(text, 'identity');
    } catch (e) {
      if (e instanceof PolicyError) throw new IdentityError(`invalid policy document: ${e.message}`);
      throw e;
    }
    await this.meta.putUserPolicy(accountId, userName, { name: policyName, text });
  }

  async listUserPolicies(accountId: string, userName: string): Promise<{ name: string; document: unknown }[]> {
    await this.requireUser(accountId, userName);
    return (await this.meta.listUserPolicies(accountId, userName)).map((p) => ({ name: p.name, document: JSON.parse(p.text) }));
  }

  async deleteUserPolicy(accountId: string, userName: string, policyName: string): Promise<void> {
    if (!(await this.meta.deleteUserPolicy(accountId, userName, policyName)))
      throw new IdentityError(`no policy ${policyName} on user ${userName}`);
  }

  private async requireUser(accountId: string, userName: string): Promise<void> {
    if (!(await this.meta.listUsers(accountId)).some((u) => u.name === userName))
      throw new IdentityError(`no user ${userName} in account ${accountId}`);
  }

  private async requireKey(accountId: string, accessKeyId: string): Promise<void> {
    if (accessKeyId === this.root.accessKeyId)
      throw new IdentityError(`${accessKeyId} is the configured root key; change it in the configuration`);
    const key = await this.meta.getAccessKey(accessKeyId);
    if (!key || key.accountId !== accountId) throw new IdentityError(`no access key ${accessKeyId} in account ${accountId}`);
  }

  private async requireAccount(accountId: string): Promise<void> {
    if (!(await this.meta.listAccounts()).includes(accountId)) throw new IdentityError(`no account ${accountId}`);
  }
}

/** An AWS-style access key id: AKIA followed by 16 characters of [A-Z2-7]. */
export function newAccessKeyId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return 'AKIA' + [...randomBytes(16)].map((b) => alphabet[b % 32]).join('');
}

export function newSecret(): string {
  return randomBytes(30).toString('base64').replace(/[+/]/g, 'x');
}

export function newAccountId(): string {
  return String(randomInt(1, 10)) + Array.from({ length: 11 }, () => randomInt(0, 10)).join('');
}

/** Console session tokens start with this. */
const CONSOLE_SESSION_PREFIX = 'berth-cs-';

/** Refresh tokens start with this, so that one is told from other secrets at a glance (and in a leak scan). */
const REFRESH_TOKEN_PREFIX = 'berth-rt-';

function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Constant-time comparison (hashing first makes the lengths equal). */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
