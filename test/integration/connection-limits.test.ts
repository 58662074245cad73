// Slow clients (slowloris) over real sockets: a request's headers must arrive within the header timeout, a
// connection silent for the idle timeout is closed while a slow but steady upload goes on, and one address holds
// only so many connections.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { req, sha256, show, startUpload, withDigest } from '../helpers/http.ts';

const servers: Berth[] = [];
after(async () => {
  for (const s of servers) await s.cleanup();
});

async function serve(env: Record<string, string>): Promise<Berth> {
  const berth = await startBerth({ env });
  servers.push(berth);
  return berth;
}

/** A raw connection to the server; `closed` resolves with the time it was closed by the server. */
function open(berth: Berth): Promise<{ socket: Socket; openedAt: number; closed: Promise<number> }> {
  const { hostname, port } = new URL(berth.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    socket.on('error', () => {
      /* the server closing a socket we write to */
    });
    socket.resume();
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now())));
    socket.once('connect', () => resolve({ socket, openedAt: Date.now(), closed }));
    socket.once('error', reject);
  });
}

test('500 connections sending headers a byte a second are closed within the header timeout; others are served', async () => {
  const berth = await serve({ BERTH_HEADER_TIMEOUT_SECONDS: '2' });
  const headers = `GET /v2/ HTTP/1.1\r\nHost: ${berth.host}\r\nX-Slow: ${'x'.repeat(100)}\r\n`;
  const slow = await Promise.all(Array.from({ length: 500 }, () => open(berth)));
  // The header timeout runs from a request's first byte.
  const firstByteAt: number[] = [];
  let stop = false;
  const dribble = (async () => {
    for (let i = 0; !stop && i < headers.length; i++) {
      for (const [n, c] of slow.entries()) {
        if (c.socket.destroyed) continue;
        c.socket.write(headers[i]);
        firstByteAt[n] ??= Date.now();
      }
      await sleep(1000);
    }
  })();
  try {
    // A normal client is served while the slow ones hold their connections.
    await sleep(500);
    const served = await req(berth, 'GET', '/v2/');
    assert.equal(served.status, 200, show(served));
    const closedAt = await Promise.race([Promise.all(slow.map((c) => c.closed)), sleep(10_000).then(() => undefined)]);
    assert.ok(closedAt, `${slow.filter((c) => !c.socket.destroyed).length} of 500 slow connections still open after 10 s`);
    // Within the timeout (2 s) and the checking interval (0.5 s), with a margin for a busy machine.
    const longest = Math.max(...closedAt.map((t, i) => t - firstByteAt[i]));
    assert.ok(longest <= 3500, `a slow connection was held ${longest} ms`);
    const after = await req(berth, 'GET', '/v2/');
    assert.equal(after.status, 200, show(after));
  } finally {
    stop = true;
    for (const c of slow) c.socket.destroy();
    await dribble;
  }
});

/** PATCH `chunks` to an upload, one every `pauseMs`, on its own connection; resolves with the response or the
 * connection's error. */
function slowPatch(
  location: string,
  chunks: Buffer[],
  pauseMs: number,
  authHeader: string,
): Promise<{ status: number; range?: string } | Error> {
  return new Promise((resolve) => {
    const r = http.request(location, {
      method: 'PATCH',
      headers: { Authorization: authHeader, 'Content-Type': 'application/octet-stream' },
      agent: false,
    });
    r.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, range: res.headers.range }));
    });
    r.on('error', (e) => resolve(e));
    r.flushHeaders();
    (async () => {
      for (const chunk of chunks) {
        await sleep(pauseMs);
        if (r.destroyed) return;
        r.write(chunk);
      }
      r.end();
    })().catch(() => {});
  });
}

test('idle, not total, time counts: a slow steady upload succeeds, a stalled one is closed', async () => {
  const berth = await serve({ BERTH_HEADER_TIMEOUT_SECONDS: '2', BERTH_IDLE_TIMEOUT_SECONDS: '3' });
  // Steady: 9 chunks a second apart (9 s in all, more than both timeouts), never 3 s silent.
  const chunks = Array.from({ length: 9 }, (_, i) => Buffer.alloc(1024, i));
  const data = Buffer.concat(chunks);
  const steady = await startUpload(berth, 'slow/steady');
  const stalledAt = await startUpload(berth, 'slow/stalled');
  // Stalled: one chunk, then silence for 8 s (more than the idle timeout).
  const [patched, stalled] = await Promise.all([
    slowPatch(steady, chunks, 1000, berth.authHeader),
    slowPatch(stalledAt, [Buffer.alloc(1024), Buffer.alloc(1024)], 8000, berth.authHeader),
  ]);
  assert.ok(!(patched instanceof Error), `the steady upload failed: ${patched}`);
  assert.equal(patched.status, 202);
  assert.equal(patched.range, `0-${data.length - 1}`);
  const done = await req(berth, 'PUT', withDigest(steady, sha256(data)));
  assert.equal(done.status, 201, show(done));
  assert.ok(stalled instanceof Error, `the stalled upload was answered ${JSON.stringify(stalled)}, not closed`);
});

test('a connection over the per-address cap is closed at once', async () => {
  const berth = await serve({ BERTH_MAX_CONNECTIONS_PER_ADDRESS: '4' });
  const held = await Promise.all(Array.from({ length: 4 }, () => open(berth)));
  const over = await open(berth);
  const closed = await Promise.race([over.closed, sleep(3000).then(() => undefined)]);
  assert.ok(closed, 'the fifth connection from one address was not closed');
  assert.ok(closed - over.openedAt < 1000, `closed after ${closed - over.openedAt} ms`);
  for (const c of held) assert.equal(c.socket.destroyed, false, 'a connection within the cap was closed');
  // One goes away: a new connection is served again.
  held[0].socket.destroy();
  await held[0].closed;
  await sleep(200);
  const again = await open(berth);
  const answer = new Promise<string>((resolve) => {
    let text = '';
    again.socket.setEncoding('utf8');
    again.socket.on('data', (d: string) => {
      text += d;
    });
    again.socket.on('close', () => resolve(text));
  });
  again.socket.write(`GET /healthz HTTP/1.1\r\nHost: ${berth.host}\r\nConnection: close\r\n\r\n`);
  assert.match(await answer, /^HTTP\/1\.1 200/);
  for (const c of held) c.socket.destroy();
});
