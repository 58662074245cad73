// npm packages: package-lock.json (lockfile versions 1, 2 and 3) and installed node_modules/*/package.json
// (scoped packages included).
import type { Package } from './package.ts';
import { purl } from './purl.ts';

const NODE_MODULES_MANIFEST = /(^|\/)node_modules\/(@[^/]+\/)?[^/@][^/]*\/package\.json$/;

export const isPackageLock = (path: string): boolean => path === 'package-lock.json' || path.endsWith('/package-lock.json');
export const isNodeModulesManifest = (path: string): boolean => NODE_MODULES_MANIFEST.test(path);

export function npmPackage(name: string, version: string, path: string): Package {
  const at = name.startsWith('@') ? name.indexOf('/') : -1;
  const namespace = at > 0 ? name.slice(0, at) : undefined;
  const bare = at > 0 ? name.slice(at + 1) : name;
  return { type: 'npm', ecosystem: 'npm', name, version, purl: purl('npm', namespace, bare, version), path: `/${path}` };
}

interface LockV1Dependency {
  version?: string;
  dependencies?: Record<string, LockV1Dependency>;
}

interface Lock {
  lockfileVersion?: number;
  packages?: Record<string, { version?: string; name?: string; link?: boolean }>;
  dependencies?: Record<string, LockV1Dependency>;
}

export function parsePackageLock(text: string, path: string): Package[] {
  const lock = JSON.parse(text) as Lock;
  const out: Package[] = [];
  if (lock.packages && (lock.lockfileVersion ?? 1) >= 2) {
    for (const [key, entry] of Object.entries(lock.packages)) {
      if (key === '' || entry.link || !entry.version) continue;
      const i = key.lastIndexOf('node_modules/');
      const name = entry.name ?? (i >= 0 ? key.slice(i + 'node_modules/'.length) : key);
      // An alias's version is `npm:real-name@version`; the installed package is the real one.
      const alias = /^npm:(.+)@([^@]+)$/.exec(entry.version);
      out.push(alias ? npmPackage(alias[1], alias[2], path) : npmPackage(name, entry.version, path));
    }
    return out;
  }
  const walk = (deps: Record<string, LockV1Dependency> | undefined): void => {
    for (const [name, dep] of Object.entries(deps ?? {})) {
      if (dep.version && !/^(file|link|git|git\+[a-z]+|https?):/.test(dep.version)) out.push(npmPackage(name, dep.version, path));
      walk(dep.dependencies);
    }
  };
  walk(lock.dependencies);
  return out;
}

export function parseNodeModulesManifest(text: string, path: string): Package[] {
  let manifest: { name?: unknown; version?: unknown };
  try {
    manifest = JSON.parse(text);
  } catch {
    return [];
  }
  if (typeof manifest.name !== 'string' || typeof manifest.version !== 'string') return [];
  return [npmPackage(manifest.name, manifest.version, path)];
}
