// Reading a small request body (a manifest, an ECR request, an admin action) with a size limit. A body over the
// limit is refused as it streams: one announced larger by Content-Length is not read at all, one that grows past
// the limit is not read further. The caller answers (413) and calls `closeUnread`, so that Node closes the
// connection after the answer instead of reading the rest of the body to keep it alive.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { finished } from 'node:stream';

export interface Body {
  /** The bytes, or undefined when the body is over the limit. */
  bytes: Buffer | undefined;
  /** Its size (for one announced too large: the announced size; for one that grew too large: the bytes seen). */
  size: number;
}

export function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) return Promise.resolve({ bytes: undefined, size: declared });
  return new Promise<Body>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      // Over the limit: stop here, keep nothing, and leave the rest unread.
      stop();
      req.pause();
      chunks.length = 0;
      resolve({ bytes: undefined, size });
    };
    // `finished` also settles for a request whose client went away before we got here.
    const stopWatching = finished(req, { writable: false }, (err) => {
      stop();
      if (err) reject(err);
      else resolve({ bytes: Buffer.concat(chunks, size), size });
    });
    const stop = () => {
      req.off('data', onData);
      stopWatching();
    };
    req.on('data', onData);
  });
}

/**
 * Marks an answer given before the request's body was read to its end: the connection is closed after the
 * answer, so the unread rest (up to the body's announced size, or forever when chunked) is never read.
 */
export function closeUnread(req: IncomingMessage, res: ServerResponse): void {
  if (!req.complete && !res.headersSent) res.setHeader('Connection', 'close');
}
