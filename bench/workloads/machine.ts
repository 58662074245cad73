// The machine's own limits, measured in the same run: the loopback HTTP ceiling of Node (a trivial node:http
// server in its own process streaming one buffer again and again, read by the same discarding client as the blob
// GET), single-core SHA-256 and sequential disk writes (1 MiB writes, then fsync) in the temporary directory.
// Two more are measured inside the workloads they bound, beside each registry in each round: the file-serving floor
// (the same trivial server reading a file that is wholly in the page cache: the fastest any Node server serves a
// blob kept on disk) and the disk's durable write rate for many files at once (what any upload that is on disk
// before its 201 is bound by).
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataPool } from '../lib/data.ts';
import { ALIGN, BUFFER_SIZE, giveBuffer, isAligned, openDirect, takeBuffer } from '../../src/storage/blobs/aligned.ts';
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

// GET /?path=P: the file at P, read in order through a ring of 4 buffers of 1 MiB (4 reads in flight on the thread
// pool), each written once the socket took the one before it in that slot.
const FILE_SERVER = `
const http = require('node:http');
const { open } = require('node:fs/promises');
const SIZE = 1 << 20;
const ring = Array.from({ length: 4 }, () => Buffer.allocUnsafeSlow(SIZE));
http.createServer(async (req, res) => {
  const fh = await open(new URL(req.url, 'http://x').searchParams.get('path'), 'r');
  const size = (await fh.stat()).size;
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size });
  const reads = [];
  const sent = [];
  for (let i = 0, at = 0; at < size || reads.length > 0; i++) {
    while (reads.length < ring.length && at < size) {
      const slot = (i + reads.length) % ring.length;
      const pos = at;
      at += SIZE;
      reads.push(Promise.resolve(sent[slot]).then(() => fh.read(ring[slot], 0, SIZE, pos)).then((r) => [slot, r.bytesRead]));
    }
    const [slot, n] = await reads.shift();
    sent[slot] = new Promise((resolve) => res.write(ring[slot].subarray(0, n), resolve));
  }
  await Promise.all(sent);
  res.end();
  await fh.close();
}).listen(0, '127.0.0.1', function () { console.log('listening on ' + this.address().port); });
`;

/** A trivial server's child process and the target to read it through; stopped by `stop`. */
async function startChild(source: string): Promise<{ target: { url: string; agent: ReturnType<typeof newAgent> }; stop: () => void }> {
  const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /listening on (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`a limit's server exited with ${code}`)));
    });
    const target = { url: `http://127.0.0.1:${port}`, agent: newAgent() };
    return {
      target,
      stop: () => {
        target.agent.destroy();
        child.kill('SIGTERM');
      },
    };
  } catch (e) {
    child.kill('SIGTERM');
    throw e;
  }
}

/** MB/s of `runs` GETs of `path` (of `bytes`) from the target, after one GET of `warmPath` to warm up. */
async function timedGets(
  target: { url: string; agent: ReturnType<typeof newAgent> },
  warmPath: string,
  path: string,
  bytes: number,
  runs: number,
) {
  await download(target, warmPath);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = await download(target, path);
    const s = secondsSince(t0);
    if (r.bytes !== bytes) throw new Error(`${path}: ${r.bytes} bytes of ${bytes}`);
    samples.push(bytes / MB / s);
  }
  return { median: median(samples), samples };
}

/** MB/s of a 1 MiB-buffer stream over loopback HTTP into a client that discards it; the median of `runs`. */
export async function loopbackMBps(bytes: number, runs = 3): Promise<{ median: number; samples: number[] }> {
  const { target, stop } = await startChild(LOOPBACK_SERVER);
  try {
    return await timedGets(target, `/?size=${64 * 1024 * 1024}`, `/?size=${bytes}`, bytes, runs);
  } finally {
    stop();
  }
}

/**
 * The file-serving floor: MB/s of a trivial Node server (its own process) serving a file of `bytes` that is wholly in
 * the page cache (written through it just before, fsynced, and read once), to the same discarding client as the blob
 * GET; the median of `runs`. Node has no sendfile: every byte is read into a buffer, then written to the socket, as
 * Berth does. No server keeping its blobs on disk (and not in its own memory) serves one faster.
 */
export async function fileServeMBps(bytes: number, runs = 3): Promise<{ median: number; samples: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-file-'));
  let stop: (() => void) | undefined;
  try {
    const path = join(dir, 'data');
    const fh = await open(path, 'w');
    const piece = randomBytes(1 << 20);
    for (let at = 0; at < bytes; at += piece.length) await fh.write(piece, 0, Math.min(piece.length, bytes - at));
    await fh.sync();
    await fh.close();
    const child = await startChild(FILE_SERVER);
    stop = child.stop;
    const url = `/?path=${encodeURIComponent(path)}`;
    return await timedGets(child.target, url, url, bytes, runs);
  } finally {
    stop?.();
    rmSync(dir, { recursive: true, force: true });
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

/** MB/s of writing `bytes` to a new file in the temporary directory through the page cache, fsync included. */
export function diskWriteMBps(pool: DataPool, bytes: number): Promise<number> {
  return durableWriteMBps(pool, 1, bytes, false);
}

/**
 * The disk's durable write rate for `files` files of `fileBytes` written at once, each fsynced before it counts as
 * done (as an upload must be before its 201): aggregate MB/s, in 1 MiB writes through the page cache (then fsync)
 * or with O_DIRECT (`direct`). Pool data, so that the disk sees what the uploads write.
 */
export async function durableWriteMBps(pool: DataPool, files: number, fileBytes: number, direct: boolean): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-disk-'));
  try {
    const t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: files }, async (_, i) => {
        const path = join(dir, String(i));
        await (await open(path, 'w')).close();
        const fh = direct ? await openDirect(path, 'write') : await open(path, 'w');
        if (!fh) throw new Error(`durable writes: ${dir} refuses O_DIRECT`);
        // Writes of 1 MiB gathered from the pool's pieces (O_DIRECT needs whole aligned blocks from aligned memory).
        const buffer = direct ? takeBuffer() : Buffer.allocUnsafeSlow(BUFFER_SIZE);
        if (direct && !isAligned(buffer)) throw new Error('durable writes: no aligned buffer for O_DIRECT');
        try {
          let at = 0;
          let fill = 0;
          const flush = async () => {
            await fh.write(buffer, 0, direct ? Math.ceil(fill / ALIGN) * ALIGN : fill, at);
            at += fill;
            fill = 0;
          };
          for (const p of pool.pieces(3000 + i, fileBytes)) {
            for (let from = 0; from < p.length; ) {
              const n = p.copy(buffer, fill, from);
              from += n;
              fill += n;
              if (fill === buffer.length) await flush();
            }
          }
          if (fill > 0) await flush();
          await fh.sync();
        } finally {
          if (direct) giveBuffer(buffer);
          await fh.close();
        }
      }),
    );
    return (files * fileBytes) / MB / secondsSince(t0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
