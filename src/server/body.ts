// Reading a small request body (a manifest, an ECR request, an admin action) with a size limit. A body over the
// limit is not kept: it is read to its end and dropped (or, when Content-Length announces it, left for Node to
// discard after the answer), so that the client receives the answer instead of a reset connection.
import type { IncomingMessage } from 'node:http';
import { finished } from 'node:stream/promises';

export interface Body {
  /** The bytes, or undefined when the body is over the limit. */
  bytes: Buffer | undefined;
  /** Its size (for one announced too large: the announced size). */
  size: number;
}

export async function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) return { bytes: undefined, size: declared };
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  });
  // `finished` also settles for a request whose client went away before we got here.
  await finished(req, { writable: false });
  return { bytes: size > limit ? undefined : Buffer.concat(chunks, size), size };
}
