#!/usr/bin/env node
// The `berth` command. Runs on the Node.js pinned in package.json (npm puts it first on PATH). It runs the
// compiled JavaScript in dist/ (made by `npm install` and `npm test`) when that is at least as new as every
// source file; otherwise the TypeScript sources themselves, which Node 24 runs by stripping their types.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distIsFresh } from '../scripts/dist-fresh.js';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `berth needs Node.js 24 or newer (this is ${process.version}). Run it through npm (npm start, npx berth), which uses the Node.js pinned in package.json.`,
  );
  process.exit(1);
}

// `berth serve` runs with glibc's malloc tuned (issue 21: peak resident memory over a benchmark round):
// - mmap_threshold=131072: every allocation of 128 KiB or more gets its own mapping, unmapped when it is freed.
//   glibc's own threshold starts there too, but rises to the size of each mapped block freed (up to 32 MiB): after
//   the first 1 MiB I/O buffer or 27 MB ECR request body is freed, such buffers come from the main heap, whose
//   freed memory stays resident. The heap grew to 48-85 MiB over a round and never shrank; fixed, 26-32 MiB.
//   Node's 64 KiB socket reads stay below it, on the heap (a threshold of 64 KiB mapped them too, and cost the
//   uploads more server CPU).
// - arena_max=2: malloc otherwise gives threads (libuv's pool, V8's helpers, the hashing worker) arenas of their
//   own, up to 8 per core, each keeping what it freed: on a large machine, hundreds. On the 2-core test machine
//   its effect was within the noise (16 parallel 64 MiB uploads peaked at 157, 162 and 195 MiB with both
//   tunables, 197 with the threshold alone).
// Measured with `bench/run.ts --berth-only --rounds 1` on a shared 2-core machine, one round each: the same code
// without and with both reached 179 and 165 MiB in the manifest GET load, 193 and 174 in the console's, 230 and
// 201 in the ECR downloads. The round's peak (the ECR upload) moved less: 271 -> 262.
// glibc reads its tunables only when a process starts, so `berth serve` re-executes itself once with them in its
// environment: process.execve replaces the process image, and the pid stays the same (a service manager, the
// tests and the benchmarks know the server by it). Not when the environment already tunes malloc (GLIBC_TUNABLES,
// even empty, or a MALLOC_* variable): that setting is the user's, and it also marks the re-executed process. On
// a C library other than glibc the variable means nothing, and the re-execution costs only its start. Node aborts
// the process when execve fails (process.execve('/nonexistent', ...) dumps core: nothing to catch), so the binary
// is checked first; where execve itself is forbidden (a seccomp filter without it), GLIBC_TUNABLES= (empty) turns this off.
const SERVE_MALLOC_TUNABLES = 'glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=131072';
if (
  process.argv[2] === 'serve' &&
  process.platform === 'linux' &&
  typeof process.execve === 'function' &&
  process.env.GLIBC_TUNABLES === undefined &&
  !Object.keys(process.env).some((name) => name.startsWith('MALLOC_')) &&
  executable(process.execPath)
) {
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    ...process.env,
    GLIBC_TUNABLES: SERVE_MALLOC_TUNABLES,
  });
}

/** Whether this process may execute `path` (a regular file with execute permission for it). */
function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

// `berth serve` keeps V8's young generation at its initial size (two semi-spaces of 1 MiB) unless the node options
// set it. By default V8 grows it with the allocation rate, up to 2 x 32 MiB on this heap size, and a server under load
// keeps it there: a large part of the peak resident memory of a benchmark round (issue 21). A request allocates little
// that lives past its answer, so the scavenges of a small young generation stay short (bench/compare.ts found no
// change in manifest GET throughput). Set before Berth's modules load, which would grow it already; the flag is read
// when the young generation would grow, so it may be set now, after V8 started. NODE_OPTIONS=--max-semi-space-size=N
// chooses otherwise.
if (process.argv[2] === 'serve' && !/--(max-|min-)?semi[-_]space/.test(`${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`)) {
  const { setFlagsFromString } = await import('node:v8');
  setFlagsFromString('--semi-space-growth-factor=1');
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await import(distIsFresh(root) ? '../dist/src/cli/main.js' : '../src/cli/main.ts');
