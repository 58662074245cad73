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

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await import(distIsFresh(root) ? '../dist/src/cli/main.js' : '../src/cli/main.ts');
