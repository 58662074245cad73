// Whether dist/ (compiled by scripts/build.js) is at least as new as every file under src/: bin/berth.js runs
// dist/ then, and the benchmarks skip rebuilding it (a rebuild empties dist/ first, under any berth starting).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** @param {string} root the repository's root @returns {boolean} */
export function distIsFresh(root) {
  const built = join(root, 'dist', 'BUILT');
  return existsSync(built) && statSync(built).mtimeMs >= newestSource(join(root, 'src'));
}
