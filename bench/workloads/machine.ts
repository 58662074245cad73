// The machine's own limits, measured in the same run: the loopback HTTP ceiling of Node (a trivial node:http
// server in its own process streaming one buffer again and again, read by the same discarding client as the blob
// GET), single-core SHA-256 and sequential disk writes (1 MiB writes, then fsync) in the temporary directory.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataPool } from '../lib/data.ts';
import { download, newAgent } from '../lib/http.ts';
import { MB, median, secondsSince } from '../lib/stats.ts';

const LOOPBACK_SERVER = `
const http = require('node:http');
const buf = require('node:crypto').randomBytes(1 << 20);
http.createServer((req, res) => {
  const size = Number(new URL(req.url, 'http://x').searchParams.get('size'));
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size });
  let left = size;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, buf.length);
      left -= n;
      if (!res.write(n === buf.length ? buf : buf.subarray(0, n))) { res.once('drain', pump); return; }
    }
    res.end();
  };
  pump();
}).listen(0, '127.0.0.1', function () { console.log('listening on ' + this.address().port); });
`;

/** MB/s of a 1 MiB-buffer stream over loopback HTTP into a client that discards it; the median of `runs`. */
export async function loopbackMBps(bytes: number, runs = 3): Promise<{ median: number; samples: number[] }> {
  const child = spawn(process.execPath, ['-e', LOOPBACK_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /listening on (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`loopback server exited with ${code}`)));
    });
    const target = { url: `http://127.0.0.1:${port}`, agent: newAgent() };
    await download(target, `/?size=${64 * 1024 * 1024}`); // warm up
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      const r = await download(target, `/?size=${bytes}`);
      const s = secondsSince(t0);
      if (r.bytes !== bytes) throw new Error(`loopback: ${r.bytes} bytes of ${bytes}`);
      samples.push(bytes / MB / s);
    }
    target.agent.destroy();
    return { median: median(samples), samples };
  } finally {
    child.kill('SIGTERM');
  }
}

/** MB/s of SHA-256 on one core over pool data; the median of `runs`. */
export function sha256MBps(pool: DataPool, bytes: number, runs = 3): { median: number; samples: number[] } {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const h = createHash('sha256');
    for (const p of pool.pieces(1000 + i, bytes)) h.update(p);
    h.digest();
    samples.push(bytes / MB / secondsSince(t0));
  }
  return { median: median(samples), samples };
}

/** MB/s of writing `bytes` to a new file in the temporary directory, fsync included. */
export async function diskWriteMBps(pool: DataPool, bytes: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-disk-'));
  try {
    const fh = await open(join(dir, 'data'), 'w');
    const t0 = process.hrtime.bigint();
    for (const p of pool.pieces(2000, bytes)) await fh.write(p);
    await fh.sync();
    const s = secondsSince(t0);
    await fh.close();
    return bytes / MB / s;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
