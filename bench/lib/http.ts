// An HTTP client for the benchmark: node:http with keep-alive connections per registry for requests, whose bodies
// are streamed with backpressure (never buffered whole); raw sockets for downloads, counted and discarded.
import http from 'node:http';
import net from 'node:net';

export interface Target {
  /** http://127.0.0.1:PORT */
  url: string;
  /** The Authorization header value, or undefined for a registry without authentication. */
  auth?: string;
  agent: http.Agent;
}

export interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Seconds from the last byte of the request handed to the kernel to the answer's arrival: the server's own
   * work after the body (for an upload: verification, fsync, rename, metadata). */
  afterBody: number;
}

export function newAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: 256, keepAliveMsecs: 10_000 });
}

const DEFAULT_TIMEOUT_MS = 300_000;

/** `headers` with the target's Authorization header first (none for a registry without authentication). */
export function headersFor<V extends string | number>(t: Target, headers: Record<string, V>): Record<string, V | string> {
  return t.auth ? { Authorization: t.auth, ...headers } : { ...headers };
}

/** A request with an optional body given as pieces written in order with backpressure. Reads the (small) answer. */
export function send(
  t: Target,
  method: string,
  pathOrUrl: string,
  headers: Record<string, string | number> = {},
  body?: Iterable<Buffer> | Buffer | string,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<Res> {
  const url = new URL(pathOrUrl, t.url);
  return new Promise<Res>((resolve, reject) => {
    let settled = false;
    let stopWriting = false;
    let writing = false;
    const finish = (err: Error | undefined, res?: Res) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(res!);
    };
    const h = headersFor(t, headers);
    if (typeof body === 'string' || Buffer.isBuffer(body)) h['Content-Length'] = Buffer.byteLength(body);
    let sentAt: bigint | undefined;
    const req = http.request(url, { method, headers: h, agent: t.agent }, (res) => {
      const answeredAt = process.hrtime.bigint();
      const afterBody = sentAt === undefined ? 0 : Number(answeredAt - sentAt) / 1e9;
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        if (writing) {
          // Answered before the whole body was sent (an error): stop, and do not reuse this connection.
          stopWriting = true;
          req.destroy();
        }
        finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), afterBody });
      });
      res.on('error', (e) => finish(e));
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`${method} ${url.pathname}: no answer in ${timeoutMs / 1000} s`));
    }, timeoutMs);
    req.on('error', (e) => finish(new Error(`${method} ${url.pathname}: ${e.message}`)));
    req.on('finish', () => {
      sentAt = process.hrtime.bigint();
    });
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
      req.end(body);
      return;
    }
    writing = true;
    (async () => {
      for (const piece of body) {
        if (stopWriting || settled) return;
        if (!req.write(piece)) {
          await new Promise<void>((r) => {
            const go = () => {
              req.off('drain', go);
              req.off('close', go);
              r();
            };
            req.on('drain', go);
            req.on('close', go);
          });
        }
      }
      writing = false;
      if (!settled) req.end();
    })().catch((e: Error) => finish(e));
  });
}

/**
 * GET that counts the body's bytes and throws them away, so that the server is what is measured. node:http's
 * client tops out near 1 GB/s here (a buffer and a parser call per 64 KiB read), below what a server can send over
 * loopback; this reads the socket into one reusable buffer (net's `onread`) and parses only the answer's head.
 * One request per connection. Answers must carry a Content-Length (blob GETs do).
 */
export function download(
  t: Target,
  pathOrUrl: string,
  headers: Record<string, string> = {},
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<{ status: number; bytes: number }> {
  const url = new URL(pathOrUrl, t.url);
  const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close'];
  for (const [k, v] of Object.entries(headersFor(t, headers))) lines.push(`${k}: ${v}`);
  const request = lines.join('\r\n') + '\r\n\r\n';
  return new Promise((resolve, reject) => {
    const buffer = Buffer.allocUnsafe(1 << 20);
    let head = Buffer.alloc(0);
    let status = 0;
    let length = -1;
    let bytes = 0;
    let errorBody = '';
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else if (status !== 200) reject(new Error(`GET ${url.pathname}: ${status} ${errorBody.slice(0, 300)}`));
      else resolve({ status, bytes });
    };
    const body = (chunk: Buffer) => {
      bytes += chunk.length;
      if (status !== 200 && errorBody.length < 4096) errorBody += chunk.toString('utf8');
      if (bytes >= length) finish();
    };
    const socket = net.connect(
      {
        host: url.hostname,
        port: Number(url.port),
        onread: {
          buffer,
          callback: (n: number, buf: Uint8Array) => {
            if (length >= 0) {
              body(Buffer.from(buf.buffer, buf.byteOffset, n));
              return true;
            }
            head = Buffer.concat([head, buf.subarray(0, n)]);
            const end = head.indexOf('\r\n\r\n');
            if (end < 0) return true;
            const text = head.subarray(0, end).toString('latin1');
            status = Number(text.slice(9, 12));
            const cl = /\r\ncontent-length:\s*(\d+)/i.exec(text);
            if (!cl) {
              finish(new Error(`GET ${url.pathname}: ${status} without a Content-Length`));
              return false;
            }
            length = Number(cl[1]);
            const rest = head.subarray(end + 4);
            head = Buffer.alloc(0);
            if (rest.length > 0 || length === 0) body(rest);
            return true;
          },
        },
      },
      () => socket.write(request),
    );
    socket.on('error', (e) => finish(new Error(`GET ${url.pathname}: ${e.message}`)));
    socket.on('close', () => finish(new Error(`GET ${url.pathname}: connection closed after ${bytes} of ${length} body bytes`)));
    const timer = setTimeout(() => finish(new Error(`GET ${url.pathname}: not done in ${timeoutMs / 1000} s`)), timeoutMs);
  });
}

export function describe(r: Res): string {
  return `${r.status} ${r.body.toString('utf8').slice(0, 300)}`;
}

/** Throws unless the answer has the expected status. */
export function expectStatus(r: Res, status: number, what: string): Res {
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${describe(r)}`);
  return r;
}

/** The next page's path or URL from the answer's Link header (`<...>; rel="next"`); undefined on the last page. */
export function nextLink(r: Res): string | undefined {
  const link = r.headers.link;
  const m = typeof link === 'string' ? /<([^>]+)>;\s*rel="?next"?/.exec(link) : null;
  return m ? m[1] : undefined;
}

/** The answer's Location header, resolved against the registry (distribution answers absolute URLs, Berth paths). */
export function location(t: Target, r: Res, what: string): string {
  const loc = r.headers.location;
  if (!loc) throw new Error(`${what}: no Location header in ${describe(r)}`);
  return new URL(loc, t.url).toString();
}

/** `url` with digest=<digest> added to its query. */
export function withDigest(url: string, digest: string): string {
  const u = new URL(url);
  u.searchParams.set('digest', digest);
  return u.toString();
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight. */
export async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
