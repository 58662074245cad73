// A real Debian bookworm root filesystem, built with `debootstrap --variant=minbase` from the Debian mirror the
// machine's apt sources name, packed as one tar layer (what `docker import` takes). As Debian's own images do, the
// downloaded .deb files and apt's package lists are left out (~50 MB compressed, ~88 packages).
// A developer's second run the same day reuses the tarball from a temp directory keyed by the date; CI (CI set)
// always builds it fresh, unless the caller only needs a base image (reuseInCi). A failure of debootstrap (an unreachable mirror, say) is a loud error with its log.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeResult, makeTempDir, removeDir, requireTool, run, runOk } from './tools.ts';

export interface DebianRootfs {
  tarPath: string;
  /** The mirror debootstrap used. */
  mirror: string;
  /** Whether this run built it (false: the cached tarball of an earlier run today). */
  built: boolean;
  /** How long debootstrap took, when this run built it. */
  debootstrapMs?: number;
  /** Removes what this run made that is not the cache. */
  cleanup: () => void;
}

/** The URI of the main Debian archive in the machine's apt sources (deb822 `.sources` files or sources.list). */
export function debianMirror(): string {
  const found: string[] = [];
  const dir = '/etc/apt/sources.list.d';
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.sources'))
        .map((f) => join(dir, f))
    : [];
  for (const file of files) {
    for (const stanza of readFileSync(file, 'utf8').split(/\n\s*\n/)) {
      const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1].trim().split(/\s+/) ?? [];
      if (!field('Types').includes('deb') || /^Enabled:\s*no/im.test(stanza)) continue;
      if (field('Suites').some((s) => s === 'bookworm' || s === 'stable')) found.push(...field('URIs'));
    }
  }
  if (existsSync('/etc/apt/sources.list')) {
    for (const line of readFileSync('/etc/apt/sources.list', 'utf8').split('\n')) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(bookworm|stable)\s/.exec(line.trim() + ' ');
      if (m) found.push(m[1]);
    }
  }
  const mirror = found.find((u) => /^https?:\/\//.test(u));
  if (!mirror) {
    throw new Error(
      `No Debian bookworm mirror in the apt sources (${[...files, '/etc/apt/sources.list'].join(', ')}): ` +
        "debootstrap needs one (the machine's apt sources name the mirror this test uses)",
    );
  }
  return mirror;
}

const today = () => new Date().toISOString().slice(0, 10);

/** The bookworm minbase root filesystem as a tar file: cached per day for a developer, built fresh in CI unless
 * `reuseInCi` (a base image to build on, where the test is not about debootstrap: the day's cache serves in CI too). */
export async function debianBookwormRootfs(options: { reuseInCi?: boolean } = {}): Promise<DebianRootfs> {
  const mirror = debianMirror();
  const inCi = Boolean(process.env.CI) && !options.reuseInCi;
  const cacheDir = join(tmpdir(), `berth-debootstrap-bookworm-minbase-${today()}`);
  const cached = join(cacheDir, 'rootfs.tar');
  if (!inCi && existsSync(cached)) return { tarPath: cached, mirror, built: false, cleanup: () => {} };

  await requireTool('debootstrap', ['--version']);
  if (process.getuid?.() !== 0)
    throw new Error('debootstrap needs root (it chroots and sets file owners); run this test as root, as CI does');
  const work = makeTempDir('berth-debootstrap-');
  const root = join(work, 'rootfs');
  const started = performance.now();
  const r = await run('debootstrap', ['--variant=minbase', 'bookworm', root, mirror], { timeoutMs: 15 * 60_000, termGraceMs: 10_000 });
  const debootstrapMs = performance.now() - started;
  if (r.code !== 0) {
    const logFile = join(root, 'debootstrap', 'debootstrap.log');
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n') : '(no debootstrap.log)';
    removeDir(work);
    throw new Error(
      `debootstrap --variant=minbase bookworm from ${mirror} failed:\n${describeResult(r)}\n--- last lines of debootstrap.log ---\n${log}`,
    );
  }
  // What Debian's images leave out too: the downloaded packages and apt's lists (apt-get update fetches them again).
  for (const sub of ['var/cache/apt/archives', 'var/lib/apt/lists']) {
    const dir = join(root, sub);
    for (const name of readdirSync(dir)) if (statSync(join(dir, name)).isFile()) rmSync(join(dir, name));
  }
  for (const name of readdirSync(join(root, 'var/cache/apt'))) if (name.endsWith('.bin')) rmSync(join(root, 'var/cache/apt', name));
  const tarPath = join(work, 'rootfs.tar');
  await runOk('tar', ['--numeric-owner', '--xattrs', '-C', root, '-cf', tarPath, '.'], { timeoutMs: 5 * 60_000 });
  removeDir(root);
  if (inCi) return { tarPath, mirror, built: true, debootstrapMs, cleanup: () => removeDir(work) };
  mkdirSync(cacheDir, { recursive: true });
  renameSync(tarPath, cached); // atomic: a run that dies half-way leaves no half-written cache
  removeDir(work);
  return { tarPath: cached, mirror, built: true, debootstrapMs, cleanup: () => {} };
}
