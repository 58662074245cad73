// Reading a small request body (a manifest, an ECR request, an admin action) with a size limit. A body over the
// limit is refused as it streams: one announced larger by Content-Length is not read at all, one that grows past
// the limit is not read further. The caller answers (413) and calls `closeUnread`, so that the connection is
// closed shortly after the answer instead of the rest of the body being read to keep it alive.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { finished } from 'node:stream';
import { bytesReceived } from '../core/memory.ts';

export interface Body {
  /** The bytes, or undefined when the body is over the limit. */
  bytes: Buffer | undefined;
  /** Its size (for one announced too large: the announced size; for one that grew too large: the bytes seen). */
  size: number;
}

export interface ReadOptions {
  /**
   * A body whose length is announced goes straight into one buffer of that length, rather than into a list of
   * chunks joined at the end: half the memory at the end of a large body (an ECR layer part: 27 MB). For callers
   * that have authenticated the request's claim already (the buffer is allocated before the body comes).
   */
  intoOneBuffer?: boolean;
  /** Where such a buffer comes from (a caller that reuses one); a fresh allocation by default. */
  allocate?: (size: number) => Buffer;
}

export function readBody(req: IncomingMessage, limit: number, options: ReadOptions = {}): Promise<Body> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) return Promise.resolve({ bytes: undefined, size: declared });
  return new Promise<Body>((resolve, reject) => {
    let into =
      options.intoOneBuffer && Number.isSafeInteger(declared) && declared >= ONE_BUFFER_FROM
        ? (options.allocate ?? Buffer.allocUnsafeSlow)(declared)
        : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      // The socket's buffers of a large body (an ECR layer part: 27 MB) are let go as it arrives (core/memory.ts).
      bytesReceived(chunk.length);
      if (size <= limit) {
        if (into && size <= into.length) chunk.copy(into, size - chunk.length);
        else {
          // More than announced (the HTTP parser allows no such thing; kept as chunks all the same).
          if (into) chunks.push(into.subarray(0, size - chunk.length));
          into = undefined;
          chunks.push(chunk);
        }
        return;
      }
      // Over the limit: stop here, keep nothing, and leave the rest unread.
      stop();
      req.pause();
      chunks.length = 0;
      into = undefined;
      resolve({ bytes: undefined, size });
    };
    // `finished` also settles for a request whose client went away before we got here.
    const stopWatching = finished(req, { writable: false }, (err) => {
      stop();
      if (err) reject(err);
      else resolve({ bytes: into ? into.subarray(0, size) : Buffer.concat(chunks, size), size });
    });
    const stop = () => {
      req.off('data', onData);
      stopWatching();
    };
    req.on('data', onData);
  });
}

/** Bodies smaller than this are kept as chunks whatever the options. */
const ONE_BUFFER_FROM = 1 << 20;

const lingering = new WeakSet<ServerResponse>();

/** How long what a client still sends after a refusal is discarded before the connection is closed (as Go's
 * net/http waits before closing a connection whose request body it did not read). */
const LINGER_MS = 500;

/**
 * For an answer given before the request's body was read to its end (a refusal). Once the answer is sent, what the
 * client still sends is discarded for half a second (never kept), so that it reads the answer before the
 * connection goes: closing at once resets it while the client is still sending, and many clients then report the
 * reset instead of the answer. The connection is then closed, unless the body ended meanwhile.
 */
export function closeUnread(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || lingering.has(res)) return;
  lingering.add(res);
  res.once('finish', () => {
    if (req.complete) return;
    const timer = setTimeout(() => req.socket.destroy(), LINGER_MS);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
    req.socket.once('close', () => clearTimeout(timer));
    req.resume();
  });
}
