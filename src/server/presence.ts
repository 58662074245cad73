// Which server serves a data directory: it writes <dataDir>/server.json while it runs, so that commands that
// must coordinate with requests in flight (garbage collection, lifecycle runs) call it instead of acting alone.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isNoSpace } from '../core/errors.ts';

const FILE = 'server.json';

export function announceServer(dataDir: string, url: string): () => void {
  const file = join(dataDir, FILE);
  try {
    writeFileSync(file, JSON.stringify({ pid: process.pid, url }) + '\n', { mode: 0o600 });
  } catch (e) {
    // A server started on a full disk serves all the same (its commands then cannot find it).
    rmSync(file, { force: true });
    if (!isNoSpace(e)) throw e;
  }
  return () => rmSync(file, { force: true });
}

/** The URL of the live server of this data directory, if one runs. */
export function runningServer(dataDir: string): string | undefined {
  const file = join(dataDir, FILE);
  if (!existsSync(file)) return undefined;
  try {
    const { pid, url } = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; url: string };
    process.kill(pid, 0);
    return url;
  } catch {
    return undefined;
  }
}
