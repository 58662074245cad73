#!/usr/bin/env node
// The `berth` command. Runs on the Node.js pinned in package.json (npm puts it first on PATH). It runs the
// compiled JavaScript in dist/ (made by `npm install` and `npm test`) when that is at least as new as every
// source file; otherwise the TypeScript sources themselves, which Node 24 runs by stripping their types.
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
