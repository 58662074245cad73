#!/usr/bin/env node
// Removes from node_modules/ what only development needs (the packages package-lock.json marks "dev": the
// compiler, the linter, the test clients), and the whole `node` package (the image runs its binary from
// /usr/local/bin; npm's clean install also keeps a second copy under node_modules/node/node_modules/). Run by the Dockerfile's build stage after compiling, so that the image holds only what `berth` runs on,
// without reaching a registry.
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
let removed = 0;
for (const [path, entry] of Object.entries(lock.packages ?? {})) {
  if (path.startsWith('node_modules/') && entry.dev === true) {
    rmSync(join(root, path), { recursive: true, force: true });
    removed++;
  }
}
for (const path of ['node_modules/.bin', 'node_modules/node', 'node_modules/.package-lock.json'])
  rmSync(join(root, path), { recursive: true, force: true });
console.log(`removed ${removed} development packages`);
