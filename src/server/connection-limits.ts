// Guards against clients that hold connections open (slowloris): a request's headers must arrive within the header
// timeout, a connection silent in both directions for the idle timeout is closed, and one source address may hold
// only so many connections at once. Total time is not limited: a slow but steady multi-GiB upload goes on as long
// as bytes keep flowing.
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

export interface ConnectionLimits {
  headerTimeoutSeconds: number;
  idleTimeoutSeconds: number;
  maxConnectionsPerAddress: number;
}

/**
 * Options for `createServer`. Node checks the header timeout on a timer (connectionsCheckingInterval, 30 s by
 * default): it runs here at a quarter of the timeout (at most every second), so a connection is closed within
 * 1.25 times the timeout. requestTimeout stays 0: a whole request (an upload) may take as long as it needs.
 */
export function serverTimeouts(limits: ConnectionLimits): ServerOptions {
  const headersTimeout = limits.headerTimeoutSeconds * 1000;
  return {
    requestTimeout: 0,
    headersTimeout,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
  };
}

/** Applies the idle timeout and the per-address cap to a server's connections. */
export function limitConnections(server: Server, limits: ConnectionLimits): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const count = (open.get(address) ?? 0) + 1;
    if (count > limits.maxConnectionsPerAddress) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });

  // The idle timeout: Node arms it on every connection (and refreshes it on each read and write). A connection
  // waiting on the client (headers, body, or between requests) is closed; one waiting on Berth (the body is in and
  // the answer is being prepared, e.g. a large blob being verified) is not: the timer re-arms on its next write.
  const working = new WeakMap<Socket, IncomingMessage>();
  server.timeout = limits.idleTimeoutSeconds * 1000;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    working.set(req.socket, req);
    res.once('close', () => {
      if (working.get(req.socket) === req) working.delete(req.socket);
    });
  });
  server.on('timeout', (socket: Socket) => {
    const req = working.get(socket);
    if (req && req.complete) return;
    socket.destroy();
  });
}

/**
 * The same guards for HTTP/1.1 over TLS on an HTTP/2 server (`allowHTTP1`): Node applies neither the header
 * timeout nor the idle timeout to those connections, so they are applied here. A request's headers must be in
 * within the header timeout of its first bytes; a connection is closed after the idle timeout without traffic,
 * unless a request whose body is all in is being answered. HTTP/2 sessions get Node's own idle timeout.
 */
export function limitHttp1OverTls(server: Server, limits: ConnectionLimits): void {
  const active = new WeakMap<Socket, IncomingMessage>();
  const headerTimers = new WeakMap<Socket, NodeJS.Timeout>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.httpVersionMajor >= 2) return;
    const socket = req.socket;
    active.set(socket, req);
    clearTimeout(headerTimers.get(socket));
    headerTimers.delete(socket);
    res.once('close', () => {
      if (active.get(socket) === req) active.delete(socket);
    });
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.alpnProtocol === 'h2') return;
    // Runs after the HTTP parser's own listener (attached first): a chunk that completes the headers has already
    // made its request active.
    socket.on('data', () => {
      if (active.has(socket) || headerTimers.has(socket)) return;
      const timer = setTimeout(() => socket.destroy(), limits.headerTimeoutSeconds * 1000);
      timer.unref();
      headerTimers.set(socket, timer);
    });
    socket.once('close', () => clearTimeout(headerTimers.get(socket)));
    socket.setTimeout(limits.idleTimeoutSeconds * 1000, () => {
      const req = active.get(socket);
      if (req && req.complete) return;
      socket.destroy();
    });
  });
}
