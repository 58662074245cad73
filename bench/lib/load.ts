// Request-rate load: many keep-alive connections asking the same URL for a fixed time, reporting requests/s and
// latency percentiles. GET goes through wrk (Debian's `wrk`). wrk 4.1 cannot measure HEAD: its parser waits for
// the body announced by the Content-Length a HEAD answer carries, so every connection stalls after one request
// (0 requests/s against both registries). HEAD therefore goes through a minimal load generator here: raw sockets,
// a prebuilt request, only the status line and headers parsed, no body expected.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from './stats.ts';

export interface LoadResult {
  tool: string;
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Answers that were not 2xx/3xx, and socket errors and timeouts. */
  badStatus: number;
  socketErrors: number;
}

export interface LoadSpec {
  url: string;
  method: 'GET' | 'HEAD';
  headers: Record<string, string>;
  connections: number;
  seconds: number;
}

export const WRK = process.env.BENCH_WRK ?? 'wrk';

let wrkChecked: Promise<string> | undefined;

/** wrk's version line; throws a clear error when wrk is not installed. */
export function requireWrk(): Promise<string> {
  wrkChecked ??= new Promise((resolve, reject) => {
    execFile(WRK, ['--version'], { encoding: 'utf8' }, (err, stdout, stderr) => {
      const text = `${stdout}${stderr}`;
      const m = /wrk \S+/.exec(text);
      if (m) resolve(m[0]);
      else
        reject(
          new Error(
            `The benchmark needs wrk for the manifest GET load (\`${WRK}\` does not run: ${err?.message ?? text}). ` +
              'Install it: apt-get install -y wrk',
          ),
        );
    });
  });
  return wrkChecked;
}

const WRK_SCRIPT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH_WRK {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
`;

export async function wrkLoad(spec: LoadSpec): Promise<LoadResult> {
  if (spec.method !== 'GET') throw new Error('wrk is used for GET only (it cannot parse HEAD answers with a Content-Length)');
  await requireWrk();
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  try {
    const script = join(dir, 'report.lua');
    writeFileSync(script, WRK_SCRIPT);
    // One wrk thread: on 2 cores, the load generator should take as little CPU from the server as it can.
    const args = ['-t1', `-c${spec.connections}`, `-d${spec.seconds}s`, '--timeout', '10s', '-s', script];
    for (const [k, v] of Object.entries(spec.headers)) args.push('-H', `${k}: ${v}`);
    args.push(spec.url);
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(WRK, args, { encoding: 'utf8', timeout: (spec.seconds + 60) * 1000 }, (err, out, errOut) => {
        if (err) reject(new Error(`wrk failed: ${err.message}\n${out}\n${errOut}`));
        else resolve(out);
      });
    });
    const m = /BENCH_WRK (\{.*\})/.exec(stdout);
    if (!m) throw new Error(`wrk printed no result:\n${stdout}`);
    const r = JSON.parse(m[1]) as Record<string, number>;
    const seconds = r.duration_us / 1e6;
    return {
      tool: 'wrk',
      requests: r.requests,
      seconds,
      rps: r.requests / seconds,
      p50Ms: r.p50_us / 1000,
      p99Ms: r.p99_us / 1000,
      maxMs: r.max_us / 1000,
      badStatus: r.status,
      socketErrors: r.connect + r.read + r.write + r.timeout,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The minimal load generator (for HEAD; it also does GET of small bodies announced by Content-Length). */
export async function nodeLoad(spec: LoadSpec): Promise<LoadResult> {
  const u = new URL(spec.url);
  const head = [`${spec.method} ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`, 'Connection: keep-alive'];
  for (const [k, v] of Object.entries(spec.headers)) head.push(`${k}: ${v}`);
  const request = Buffer.from(head.join('\r\n') + '\r\n\r\n');
  const latencies: number[] = [];
  let badStatus = 0;
  let socketErrors = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(spec.seconds * 1e9));
  const one = () =>
    new Promise<void>((resolve) => {
      let socket: Socket;
      let buf: Buffer = Buffer.alloc(0);
      let sentAt = 0n;
      let finished = false;
      const end = () => {
        if (!finished) {
          finished = true;
          socket.destroy();
          resolve();
        }
      };
      const fire = () => {
        if (process.hrtime.bigint() >= deadline) return end();
        sentAt = process.hrtime.bigint();
        socket.write(request);
      };
      const open = () => {
        buf = Buffer.alloc(0);
        socket = connect({ host: u.hostname, port: Number(u.port), noDelay: true }, fire);
        socket.on('data', (chunk: Buffer) => {
          buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
          for (;;) {
            const endOfHead = buf.indexOf('\r\n\r\n');
            if (endOfHead < 0) return;
            const headText = buf.subarray(0, endOfHead).toString('latin1');
            let bodyLength = 0;
            if (spec.method !== 'HEAD') {
              const cl = /\r\ncontent-length:\s*(\d+)/i.exec(headText);
              if (!cl && /\r\ntransfer-encoding:/i.test(headText))
                throw new Error('chunked answers are not supported by this load generator');
              bodyLength = cl ? Number(cl[1]) : 0;
            }
            const total = endOfHead + 4 + bodyLength;
            if (buf.length < total) return;
            buf = buf.subarray(total);
            const status = Number(headText.slice(9, 12));
            if (!(status >= 200 && status < 400)) badStatus++;
            latencies.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
            if (/\r\nconnection:\s*close/i.test(headText)) {
              socket.destroy();
              return open();
            }
            fire();
          }
        });
        socket.on('error', () => {
          socketErrors++;
        });
        socket.on('close', () => {
          if (finished) return;
          if (process.hrtime.bigint() >= deadline) return end();
          open();
        });
      };
      open();
    });
  await Promise.all(Array.from({ length: spec.connections }, one));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return {
    tool: 'node-loadgen',
    requests: latencies.length,
    seconds,
    rps: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.reduce((a, b) => Math.max(a, b), 0),
    badStatus,
    socketErrors,
  };
}

export function load(spec: LoadSpec): Promise<LoadResult> {
  return spec.method === 'GET' ? wrkLoad(spec) : nodeLoad(spec);
}
