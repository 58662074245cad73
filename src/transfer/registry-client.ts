// A small client of a Berth registry's /v2/ API (and, to create a repository, its ECR API), for `berth import` and
// `berth export`: every write goes through the server, so the core does what it does for any push (verification,
// durability, immutability, size accounting, events). Bodies are streamed; nothing is held whole in memory.
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createRequire } from 'node:module';
import { callEcr, ecrRequestHeaders, EcrCallError, type EcrCredentials } from '../ecr/client.ts';

// Through require, not ES imports: an ES import of node:http reads its lazy WebSocket getter, which loads undici
// (about 4 MiB resident) in every process that loads this module, the server among them (replication).
const require = createRequire(import.meta.url);
const { request: httpRequest } = require('node:http') as typeof import('node:http');

export const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

export class RegistryError extends Error {}

/** A URL without its trailing slashes (a loop: a regular expression would take quadratic time on a run of them). */
export function withoutTrailingSlashes(s: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === '/') end--;
  return s.slice(0, end);
}

export type Credentials = EcrCredentials;

export interface Manifest {
  body: Buffer;
  mediaType: string;
  digest: string;
}

export interface ClientOptions {
  /** The registry has Berth's (ECR's) API at POST /, where repositories are created (default); false: only the OCI API. */
  ecrApi?: boolean;
  /** Creates a repository the client is about to push to, instead of a plain CreateRepository (replication applies
   * the destination's REPLICATION creation template: src/replication/templates.ts). */
  createRepository?: (repo: string) => Promise<void>;
}

/** A Bearer challenge's parameters (`WWW-Authenticate: Bearer realm="...",service="...",scope="..."`). */
const CHALLENGE_PARAM = /([a-z]+)="([^"]*)"/g;

export class RegistryClient {
  private auth: string;
  private readonly basic: string;
  private readonly created = new Set<string>();
  readonly url: string;
  private readonly creds: Credentials;
  private readonly ecrApi: boolean;
  private readonly createRepository?: (repo: string) => Promise<void>;

  constructor(url: string, creds: Credentials, opts: ClientOptions = {}) {
    this.url = withoutTrailingSlashes(url);
    this.creds = creds;
    this.ecrApi = opts.ecrApi ?? true;
    this.createRepository = opts.createRepository;
    this.auth = this.basic = 'Basic ' + Buffer.from(`${creds.accessKeyId}:${creds.secretAccessKey}`).toString('base64');
  }

  private async call(
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: Buffer | Readable } = {},
    retried = false,
  ): Promise<Response> {
    const body = init.body instanceof Readable ? (Readable.toWeb(init.body) as ReadableStream) : init.body;
    const res = await fetch(this.url + path, {
      method,
      headers: { authorization: this.auth, ...init.headers },
      body,
      redirect: 'follow',
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
    // A registry that wants a bearer token (the distribution token protocol): fetched once with the credentials, then
    // sent instead of them. A body that was a stream cannot be sent again, so only bodiless or buffered requests retry.
    const challenge = res.headers.get('www-authenticate');
    if (res.status === 401 && !retried && challenge?.startsWith('Bearer ') && !(body instanceof ReadableStream)) {
      await res.body?.cancel();
      await this.fetchToken(challenge);
      return this.call(method, path, init, true);
    }
    return res;
  }

  private async fetchToken(challenge: string): Promise<void> {
    const params = Object.fromEntries([...challenge.matchAll(CHALLENGE_PARAM)].map((m) => [m[1], m[2]]));
    if (!params.realm) throw new RegistryError(`${this.url} asks for a bearer token without a realm`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    if (params.scope) url.searchParams.set('scope', params.scope);
    const res = await fetch(url, { headers: { authorization: this.basic } });
    if (res.status !== 200) return this.fail(res, `get a token from ${url.origin}`);
    const answer = (await res.json()) as { token?: string; access_token?: string };
    const token = answer.token ?? answer.access_token;
    if (!token) throw new RegistryError(`${url.origin} answered no token`);
    this.auth = `Bearer ${token}`;
  }

  /**
   * A request whose body streams from `body` with backpressure (node:http, not fetch: a web stream made from a
   * Node stream reads ahead of the socket, and a multi-GiB layer would pile up in memory).
   */
  private send(method: string, path: string, headers: Record<string, string>, body: Readable): Promise<Response> {
    const url = new URL(this.url + path);
    // node:https (and with it node:tls, about 5 MiB resident) is loaded on the first request to an https:// registry.
    const request = url.protocol === 'https:' ? (require('node:https') as typeof import('node:https')).request : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers: { authorization: this.auth, 'transfer-encoding': 'chunked', ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', reject);
        res.once('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
          resolve(new Response(res.statusCode === 204 ? null : Buffer.concat(chunks), { status: res.statusCode, headers: h }));
        });
      });
      req.once('error', reject);
      pipeline(body, req).catch(reject);
    });
  }

  private async fail(res: Response, what: string): Promise<never> {
    const text = await res.text().catch(() => '');
    let message = text;
    try {
      const parsed = JSON.parse(text) as { errors?: { code: string; message: string }[]; message?: string };
      message = parsed.errors?.map((e) => `${e.code}: ${e.message}`).join('; ') ?? parsed.message ?? text;
    } catch {
      /* not JSON */
    }
    throw new RegistryError(`${what}: ${this.url} answered ${res.status}${message ? `: ${message}` : ''}`);
  }

  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const res = await this.call('HEAD', `/v2/${repo}/blobs/${digest}`);
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    return this.fail(res, `HEAD blob ${digest} in ${repo}`);
  }

  /** Links a blob already in `from` into `repo`; false when the server would rather have it uploaded. */
  async mountBlob(repo: string, digest: string, from: string): Promise<boolean> {
    await this.ensureRepository(repo);
    const res = await this.call('POST', `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`);
    await res.body?.cancel();
    if (res.status === 201) return true;
    if (res.status === 202) {
      // An upload session instead: cancelled, so that it holds nothing on the server.
      const location = res.headers.get('location');
      if (location) await (await this.call('DELETE', this.path(location))).body?.cancel();
      return false;
    }
    return this.fail(res, `mount ${digest} from ${from} into ${repo}`);
  }

  /** Streams a blob up (POST, PATCH, PUT ?digest) hashing it as it goes; checks it against `expected` when given. */
  async uploadBlob(
    repo: string,
    data: Readable,
    expected?: string,
    onBytes?: (n: number) => void,
  ): Promise<{ digest: string; size: number }> {
    await this.ensureRepository(repo);
    const start = await this.call('POST', `/v2/${repo}/blobs/uploads/`);
    await start.body?.cancel();
    if (start.status !== 202) return this.fail(start, `start an upload to ${repo}`);
    const hash = createHash('sha256');
    let size = 0;
    const counting = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        size += chunk.length;
        onBytes?.(chunk.length);
        done(null, chunk);
      },
    });
    const body = data.pipe(counting);
    data.once('error', (e) => counting.destroy(e));
    const patch = await this.send('PATCH', this.path(start.headers.get('location')!), { 'content-type': 'application/octet-stream' }, body);
    if (patch.status !== 202) return this.fail(patch, `upload to ${repo}`);
    const digest = 'sha256:' + hash.digest('hex');
    if (expected && expected !== digest)
      throw new RegistryError(`the archive's blob ${expected} holds data whose digest is ${digest}: the archive is damaged`);
    const location = this.path(patch.headers.get('location')!);
    const put = await this.call('PUT', `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`);
    await put.body?.cancel();
    if (put.status !== 201) return this.fail(put, `complete the upload of ${digest} to ${repo}`);
    return { digest, size };
  }

  async putManifest(repo: string, reference: string, body: Buffer, mediaType: string): Promise<string> {
    await this.ensureRepository(repo);
    const res = await this.call('PUT', `/v2/${repo}/manifests/${reference}`, { headers: { 'content-type': mediaType }, body });
    await res.body?.cancel();
    if (res.status !== 201) return this.fail(res, `put manifest ${repo}:${reference}`);
    return res.headers.get('docker-content-digest') ?? '';
  }

  /** The digest a tag points to, or undefined when the tag (or the repository) does not exist. */
  async manifestDigest(repo: string, reference: string): Promise<string | undefined> {
    const res = await this.call('HEAD', `/v2/${repo}/manifests/${reference}`, { headers: { accept: MANIFEST_TYPES.join(', ') } });
    if (res.status === 404) return undefined;
    if (res.status !== 200) return this.fail(res, `HEAD manifest ${repo}:${reference}`);
    return res.headers.get('docker-content-digest') ?? undefined;
  }

  async getManifest(repo: string, reference: string): Promise<Manifest> {
    const res = await this.call('GET', `/v2/${repo}/manifests/${reference}`, { headers: { accept: MANIFEST_TYPES.join(', ') } });
    if (res.status !== 200) return this.fail(res, `get manifest ${repo}:${reference}`);
    const body = Buffer.from(await res.arrayBuffer());
    const digest = 'sha256:' + createHash('sha256').update(body).digest('hex');
    const mediaType =
      (res.headers.get('content-type') ?? '').split(';')[0] ||
      (JSON.parse(body.toString()) as { mediaType?: string }).mediaType ||
      MANIFEST_TYPES[0];
    return { body, mediaType, digest };
  }

  /** The blob's bytes as a stream, checked against its digest as they pass. */
  async getBlob(repo: string, digest: string): Promise<Readable> {
    const res = await this.call('GET', `/v2/${repo}/blobs/${digest}`);
    if (res.status !== 200 || !res.body) return this.fail(res, `get blob ${digest} from ${repo}`);
    const hash = createHash('sha256');
    const check = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        done(null, chunk);
      },
      flush(done) {
        const got = 'sha256:' + hash.digest('hex');
        done(got === digest ? null : new RegistryError(`blob ${digest} came back with digest ${got}`));
      },
    });
    const source = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    pipeline(source, check).catch((e: unknown) => check.destroy(e as Error));
    return check;
  }

  /** Creates the repository (ECR CreateRepository, SigV4-signed) unless it exists; once per repository per run. */
  async ensureRepository(repo: string): Promise<void> {
    if (this.created.has(repo) || !this.ecrApi) return;
    if (this.createRepository) {
      await this.createRepository(repo);
      this.created.add(repo);
      return;
    }
    try {
      await callEcr(this.url, this.creds, 'CreateRepository', { repositoryName: repo });
    } catch (e) {
      // A key that may push but not create repositories goes on: the push tells whether the repository exists.
      if (!(e instanceof EcrCallError)) throw e;
      if (e.type !== 'RepositoryAlreadyExistsException' && e.type !== 'AccessDeniedException') {
        throw new RegistryError(`create repository ${repo}: ${this.url} answered ${e.status}: ${e.message}`);
      }
    }
    this.created.add(repo);
  }

  /** Calls an operation of the registry's ECR API (SigV4-signed): its status and JSON answer. */
  async ecr(
    operation: string,
    input: object,
  ): Promise<{ status: number; answer: { __type?: string; message?: string } & Record<string, unknown> }> {
    const body = JSON.stringify(input);
    const res = await this.call('POST', '/', {
      headers: ecrRequestHeaders(this.url, this.creds, body, operation),
      body: Buffer.from(body),
    });
    return { status: res.status, answer: (await res.json().catch(() => ({}))) as { __type?: string; message?: string } };
  }

  private path(location: string): string {
    return location.startsWith('http') ? new URL(location).pathname + new URL(location).search : location;
  }
}
