// The floor of the docker workload: a registry that does nothing but hold bytes in memory. No authentication, no
// digest checks, no disk, no metadata: just enough of the distribution API for `docker push` and `docker pull`.
// Whatever docker takes against it is docker's own time, which no registry can remove; the benchmark pushes to and
// pulls from it in the same rounds as the registry under test, so that each docker figure has its bound beside it.
// A yardstick for the benchmark only: it keeps every blob whole in memory (about 100 MiB for the bench image) and
// forgets everything when closed.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sha256Digest } from './data.ts';

export interface Floor {
  /** 127.0.0.1:PORT, what docker wants (docker treats loopback registries as insecure: plain HTTP). */
  host: string;
  close: () => Promise<void>;
}

interface Manifest {
  body: Buffer;
  type: string;
  digest: string;
}

function body(req: IncomingMessage): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.once('end', () => resolve(parts));
    req.once('error', reject);
  });
}

/** Answers with `payload`'s length; a HEAD answer (`head`) has the same headers and no body. */
function answer(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
  payload?: Buffer | string,
  head = false,
): void {
  res.writeHead(status, { 'Content-Length': payload === undefined ? 0 : Buffer.byteLength(payload), ...headers });
  res.end(head ? undefined : payload);
}

function unknown(res: ServerResponse, head: boolean, code: string): void {
  const payload = JSON.stringify({ errors: [{ code, message: code.toLowerCase().replaceAll('_', ' ') }] });
  answer(res, 404, { 'Content-Type': 'application/json' }, payload, head);
}

export async function startFloor(): Promise<Floor> {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, Manifest>();
  const uploads = new Map<string, Buffer[]>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://floor');
    const path = url.pathname;
    const head = req.method === 'HEAD';
    let m: RegExpExecArray | null;
    if (path === '/v2/' || path === '/v2') {
      req.resume();
      return answer(res, 200, { 'Content-Type': 'application/json', 'Docker-Distribution-API-Version': 'registry/2.0' }, '{}');
    }
    if ((m = /^\/v2\/(.+)\/blobs\/uploads\/?$/.exec(path)) && req.method === 'POST') {
      await body(req);
      const id = randomUUID();
      uploads.set(id, []);
      return answer(res, 202, { Location: `/v2/${m[1]}/blobs/uploads/${id}`, Range: '0-0', 'Docker-Upload-UUID': id });
    }
    if ((m = /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/.exec(path))) {
      const parts = uploads.get(m[2]);
      if (!parts) {
        req.resume();
        return unknown(res, false, 'BLOB_UPLOAD_UNKNOWN');
      }
      parts.push(...(await body(req)));
      if (req.method === 'PUT') {
        const digest = url.searchParams.get('digest') ?? '';
        blobs.set(digest, Buffer.concat(parts));
        uploads.delete(m[2]);
        return answer(res, 201, { Location: `/v2/${m[1]}/blobs/${digest}`, 'Docker-Content-Digest': digest });
      }
      const size = parts.reduce((n, p) => n + p.length, 0);
      return answer(res, 202, {
        Location: `/v2/${m[1]}/blobs/uploads/${m[2]}`,
        Range: `0-${Math.max(0, size - 1)}`,
        'Docker-Upload-UUID': m[2],
      });
    }
    if ((m = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(path))) {
      req.resume();
      const blob = blobs.get(m[2]);
      if (!blob) return unknown(res, head, 'BLOB_UNKNOWN');
      return answer(res, 200, { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': m[2] }, blob, head);
    }
    if ((m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path))) {
      const key = `${m[1]}@${m[2]}`;
      if (req.method === 'PUT') {
        const manifest = Buffer.concat(await body(req));
        const digest = sha256Digest(manifest);
        const entry = { body: manifest, type: req.headers['content-type'] ?? 'application/json', digest };
        manifests.set(key, entry);
        manifests.set(`${m[1]}@${digest}`, entry);
        return answer(res, 201, { Location: `/v2/${m[1]}/manifests/${digest}`, 'Docker-Content-Digest': digest });
      }
      req.resume();
      const entry = manifests.get(key);
      if (!entry) return unknown(res, head, 'MANIFEST_UNKNOWN');
      return answer(res, 200, { 'Content-Type': entry.type, 'Docker-Content-Digest': entry.digest }, entry.body, head);
    }
    req.resume();
    unknown(res, head, 'NAME_UNKNOWN');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => {
      if (!res.headersSent) answer(res, 500, { 'Content-Type': 'text/plain' }, e.message);
      else res.destroy(e);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        blobs.clear();
        manifests.clear();
        uploads.clear();
      }),
  };
}
