// Which server serves a data directory: it writes <dataDir>/server.json while it runs, so that commands that
// must coordinate with requests in flight (garbage collection, lifecycle runs) call it instead of acting alone.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isNoSpace } from '../core/errors.ts';

const FILE = 'server.json';

export function announceServer(dataDir: string, url: string): () => void {
  const file = join(dataDir, FILE);
  const announce = (): boolean => {
    try {
      writeFileSync(file, JSON.stringify({ pid: process.pid, url }) + '\n', { mode: 0o600 });
      return true;
    } catch (e) {
      rmSync(file, { force: true });
      if (!isNoSpace(e)) throw e;
      return false;
    }
  };
  // A server started on a full disk serves all the same, and announces itself once there is space (until then
  // the commands cannot find it, and those that would act alone cannot open its database: see SqliteMetaStore).
  let retry: NodeJS.Timeout | undefined;
  if (!announce()) {
    retry = setInterval(() => {
      try {
        if (announce()) clearInterval(retry);
      } catch {
        clearInterval(retry);
      }
    }, 2000);
    retry.unref();
  }
  return () => {
    clearInterval(retry);
    rmSync(file, { force: true });
  };
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
