// The pull through cache: a pull of a repository that a rule covers (src/core/pull-through-rules.ts) and that the
// registry does not hold is answered from the upstream registry, and what it fetched is kept. A manifest whose blobs
// are all here is stored at once; otherwise it is served as fetched, and a job (PULL_THROUGH_JOB) fetches what the
// image lacks and then stores it, so that no manifest ever references a missing blob (invariant 2). A blob is
// streamed to the client and into the blob store at once, through the core's own upload path (hashed as it passes,
// committed only under its verified digest), and the client gets its last bytes only once the digest is verified.
// A cached tag is checked upstream at most once per `tagTtlMs` (ECR: 24 hours); a digest never is. An upstream that
// cannot be reached leaves what is cached served.
import type { MetaStore, Repository } from '../storage/meta/store.ts';
import { rootArn } from '../auth/principal.ts';
import { createFromTemplate, listTemplates, templateFor } from './creation-templates.ts';
import { isDigestReference } from './grammar.ts';
import { parseManifest } from './manifest.ts';
import { ruleFor, ruleOf, upstreamEndpoint, type PullThroughRule, type RuleMatch } from './pull-through-rules.ts';
import type { Registry } from './registry.ts';
import type { SecretStore, UpstreamCredentials } from './secret-store.ts';
import { UpstreamClient, UpstreamError, type UpstreamManifest } from './upstream-client.ts';
import { RegistryError } from './errors.ts';

export const PULL_THROUGH_JOB = 'pull-through';
/** ECR's quota of pull through cache rules per registry. */
export const MAX_RULES = 50;
/** ECR re-checks a cached tag upstream at most once in 24 hours. */
export const DEFAULT_TAG_TTL_SECONDS = 86_400;
/** How long a node reuses an account's rules before reading them again (its own writes are seen at once). */
const RULES_CACHE_MS = 1_000;
const CLIENT_TTL_MS = 60_000;

/** What the caching job is given: the image to complete, by digest, and the tag it was pulled by. */
export interface PullThroughJob {
  accountId: string;
  repository: string;
  digest: string;
  tag?: string;
}

export interface PullThroughOptions {
  tagTtlMs: number;
  now: () => number;
  /** Enqueues a caching job (the job runner is made after the cache). */
  enqueue: (job: PullThroughJob) => Promise<unknown>;
}

/** An upstream blob being imported: its size (NaN when the upstream does not say), and `pipe`, which stores it. */
export interface BlobImport {
  size: number;
  /**
   * Stores the blob in `repo` (an upload counted for `principalArn`), giving each piece to `out` as it passes; the
   * last piece is given only once the digest is verified and the blob is stored. Rejects (and stores nothing) on a
   * wrong digest or a broken upstream.
   */
  pipe(repo: Repository, principalArn: string, out: (piece: Buffer) => Promise<void>): Promise<void>;
}

export class PullThroughCache {
  readonly secrets: SecretStore;
  private readonly registry: Registry;
  private readonly meta: MetaStore;
  private readonly options: PullThroughOptions;
  private readonly rules = new Map<string, { at: number; rules: PullThroughRule[] }>();
  /** Upstream clients by rule (and its version): they keep their tokens between pulls, and read the rule's secret
   * again after CLIENT_TTL_MS (a secret replaced with put-secret is used within a minute). */
  private readonly clients = new Map<string, { client: UpstreamClient; at: number }>();

  constructor(registry: Registry, secrets: SecretStore, options: PullThroughOptions) {
    this.registry = registry;
    this.meta = registry.meta;
    this.secrets = secrets;
    this.options = options;
  }

  // --- rules ---

  async rulesOf(accountId: string): Promise<PullThroughRule[]> {
    const cached = this.rules.get(accountId);
    if (cached && Date.now() - cached.at < RULES_CACHE_MS) return cached.rules;
    const rules = (await this.meta.listPullThroughRules(accountId)).map(ruleOf);
    this.rules.set(accountId, { at: Date.now(), rules });
    return rules;
  }

  /** Whether the account is known (from this node's recent read) to have no rule: a pull then goes on at once. */
  hasNoRules(accountId: string): boolean {
    const cached = this.rules.get(accountId);
    return cached !== undefined && Date.now() - cached.at < RULES_CACHE_MS && cached.rules.length === 0;
  }

  /** Told by the ECR operations that wrote an account's rules: the next pull reads them again. */
  rulesChanged(accountId: string): void {
    this.rules.delete(accountId);
  }

  /** The rule covering a repository name of the account, with the upstream repository's name. */
  async match(accountId: string, name: string): Promise<RuleMatch | undefined> {
    const rules = await this.rulesOf(accountId);
    return rules.length === 0 ? undefined : ruleFor(rules, name);
  }

  /** The rule's upstream client, with the credentials its secret holds; UpstreamError when it has none to use. */
  async client(rule: PullThroughRule): Promise<UpstreamClient> {
    const key = `${rule.accountId} ${rule.prefix} ${rule.updatedAt}`;
    const known = this.clients.get(key);
    if (known && Date.now() - known.at < CLIENT_TTL_MS) return known.client;
    const endpoint = upstreamEndpoint(rule.upstreamRegistryUrl);
    if (!endpoint) throw new UpstreamError(`the upstream registry URL ${rule.upstreamRegistryUrl} is not a registry's address`);
    let credentials: UpstreamCredentials | undefined;
    if (rule.credentialArn) {
      const resolved = await this.secrets.resolve(rule.accountId, rule.credentialArn);
      if ('problem' in resolved) throw new UpstreamError(resolved.message);
      credentials = resolved.credentials;
    }
    const client = new UpstreamClient(endpoint.base, credentials);
    if (this.clients.size > 1000) this.clients.clear();
    this.clients.set(key, { client, at: Date.now() });
    return client;
  }

  /** Checks that the rule's upstream answers with its credentials: undefined, else the reason it fails. */
  async validate(rule: PullThroughRule): Promise<string | undefined> {
    if (rule.upstreamRegistry === 'ecr') return 'Berth cannot assume IAM roles: an Amazon ECR upstream cannot be reached';
    try {
      return await (await this.client(rule)).check();
    } catch (e) {
      return (e as Error).message;
    }
  }

  // --- repositories and tags ---

  /** Creates the cache repository on its first pull: with the PULL_THROUGH_CACHE creation template that matches, else
   * with default settings. */
  async createRepository(accountId: string, name: string): Promise<Repository> {
    const now = this.options.now();
    const template = templateFor(await listTemplates(this.meta, accountId), name, 'PULL_THROUGH_CACHE');
    return template ? createFromTemplate(this.meta, accountId, name, template, now) : this.meta.ensureRepository(accountId, name, now);
  }

  /** Whether a cached tag was found current upstream less than the tag interval ago. */
  async tagIsFresh(repo: Repository, tag: string): Promise<boolean> {
    const checked = await this.meta.upstreamTagCheckedAt(repo.id, tag);
    return checked !== undefined && this.options.now() - checked < this.options.tagTtlMs;
  }

  recordTagCheck(repo: Repository, tag: string): Promise<void> {
    return this.meta.recordUpstreamTagCheck(repo.id, tag, this.options.now());
  }

  /** The digest the tag has upstream now (a HEAD), or undefined when the upstream has no such tag. */
  async upstreamDigest(match: RuleMatch, tag: string): Promise<string | undefined> {
    return (await (await this.client(match.rule)).manifest(match.upstreamName, tag, 'HEAD'))?.digest;
  }

  async fetchManifest(match: RuleMatch, reference: string): Promise<UpstreamManifest | undefined> {
    return (await this.client(match.rule)).manifest(match.upstreamName, reference, 'GET');
  }

  /**
   * Keeps a manifest fetched for `reference`: stored now (with its tag) when the repository holds everything it
   * references, else a job completes the image and stores it. True when it is stored now.
   */
  async adopt(repo: Repository, reference: string, manifest: UpstreamManifest): Promise<boolean> {
    const tag = isDigestReference(reference) ? undefined : reference;
    try {
      await this.registry.putManifest(repo, { tag, digest: manifest.digest }, manifest.body!, manifest.mediaType);
      if (tag) await this.recordTagCheck(repo, tag);
      return true;
    } catch (e) {
      if (!(e instanceof RegistryError) || e.code !== 'MANIFEST_BLOB_UNKNOWN') throw e;
    }
    await this.options.enqueue({ accountId: repo.accountId, repository: repo.name, digest: manifest.digest, ...(tag ? { tag } : {}) });
    return false;
  }

  // --- blobs ---

  /** The blob's size upstream (a HEAD), or undefined when the upstream repository does not have it. */
  async upstreamBlobSize(match: RuleMatch, digest: string): Promise<number | undefined> {
    const res = await (await this.client(match.rule)).blob(match.upstreamName, digest, 'HEAD');
    return res ? Number(res.headers.get('content-length') ?? 0) : undefined;
  }

  /** Links a blob the registry already stores to `repo` (the caller knows the upstream repository has it). */
  link(repo: Repository, digest: string): Promise<boolean> {
    return this.registry.digestLocks.run(digest, async () => {
      const size = await this.registry.blobs.stat(digest);
      if (size === undefined) return false;
      const now = this.options.now();
      await this.meta.recordBlob({ digest, size }, now);
      await this.meta.linkBlob(repo.id, digest, now);
      return true;
    });
  }

  /** Opens an upstream blob for import, or undefined when the upstream repository does not have it. */
  async openBlob(match: RuleMatch, digest: string): Promise<BlobImport | undefined> {
    const answer = await (await this.client(match.rule)).blob(match.upstreamName, digest, 'GET');
    if (!answer) return undefined;
    const res: Response = answer;
    const size = Number(res.headers.get('content-length') ?? Number.NaN);
    const registry = this.registry;
    return {
      size,
      async pipe(repo, principalArn, out) {
        let id: string;
        try {
          id = await registry.startUpload(repo, principalArn);
        } catch (e) {
          await res.body?.cancel().catch(() => {});
          throw e;
        }
        let held: Buffer | undefined;
        // Each piece goes to the blob store as it arrives; the client gets the one before it, so that the last is
        // left to give once the digest is verified.
        async function* pieces(): AsyncGenerator<Buffer> {
          for await (const chunk of res.body ?? []) {
            const piece = Buffer.from(chunk);
            if (held) await out(held);
            held = piece;
            yield piece;
          }
        }
        try {
          await registry.appendUpload(repo, id, pieces());
          await registry.completeUpload(repo, id, digest);
        } catch (e) {
          await res.body?.cancel().catch(() => {});
          await registry.cancelUpload(repo, id).catch(() => {});
          throw e;
        }
        if (held) await out(held);
      },
    };
  }

  // --- the caching job ---

  /** Completes a cached image: its child manifests and blobs fetched (those missing), then the manifest stored. */
  async runJob(job: PullThroughJob): Promise<{ stored: string; blobsFetched: number }> {
    const match = await this.match(job.accountId, job.repository);
    if (!match) return { stored: 'no rule covers the repository any more', blobsFetched: 0 };
    const repo =
      (await this.meta.getRepository(job.accountId, job.repository)) ?? (await this.createRepository(job.accountId, job.repository));
    const counter = { fetched: 0 };
    await this.cacheManifest(repo, match, job.digest, job.tag, counter);
    return { stored: job.digest, blobsFetched: counter.fetched };
  }

  private async cacheManifest(
    repo: Repository,
    match: RuleMatch,
    digest: string,
    tag: string | undefined,
    counter: { fetched: number },
  ): Promise<void> {
    const stored = await this.meta.getManifest(repo.id, digest);
    const manifest = stored
      ? { digest, mediaType: stored.mediaType, size: stored.size, body: stored.content }
      : await this.fetchManifest(match, digest);
    if (!manifest) throw new UpstreamError(`the upstream repository ${match.upstreamName} no longer has ${digest}`);
    if (!stored) {
      const parsed = parseManifest(manifest.body!, manifest.mediaType);
      for (const child of parsed.manifests) await this.cacheManifest(repo, match, child, undefined, counter);
      for (const blob of parsed.blobs) {
        if (await this.meta.getRepositoryBlob(repo.id, blob)) continue;
        if (await this.link(repo, blob)) continue;
        const opened = await this.openBlob(match, blob);
        if (!opened) throw new UpstreamError(`the upstream repository ${match.upstreamName} has no blob ${blob}`);
        await opened.pipe(repo, rootArn(repo.accountId), async () => {});
        counter.fetched++;
      }
    }
    if (!stored || tag) {
      try {
        await this.registry.putManifest(repo, { tag, digest }, manifest.body!, manifest.mediaType);
      } catch (e) {
        // An immutable tag that already names another image keeps it: the image is cached by digest.
        if (!(e instanceof RegistryError) || e.code !== 'IMAGE_TAG_IMMUTABLE') throw e;
        if (!stored) await this.registry.putManifest(repo, { digest }, manifest.body!, manifest.mediaType);
      }
      if (tag) await this.recordTagCheck(repo, tag);
    }
  }
}
