// The inventory of an image: which files to keep while walking its layers, and the packages found in them.
import type { ImageFiles } from '../layers.ts';
import { APK_INSTALLED, parseApkInstalled } from './apk.ts';
import { isDpkgFile, parseDpkgStatus } from './dpkg.ts';
import { isNodeModulesManifest, isPackageLock, parseNodeModulesManifest, parsePackageLock } from './npm.ts';
import { detectOs } from './os.ts';
import type { OsInfo, Package } from './package.ts';
import { isElf, isExecutableCandidate, parseGoBinary } from './go.ts';
import { isJavaArchive, parseJavaArchive } from './java.ts';
import { isPythonMetadata, parsePythonMetadata } from './python.ts';
import { isRpmFile, parseRpmDb } from './rpm.ts';
import { DEFAULT_MAX_FILE_SIZE, type EntryInfo } from '../layers.ts';

export type { OsInfo, Package, PackageType } from './package.ts';

export const OS_RELEASE = ['etc/os-release', 'usr/lib/os-release'];

/** Shared libraries are executable on rpm systems; Go programs are not built as such. */
const SHARED_LIBRARY = /\.so(\.\d+)*$/;

/**
 * Whether the inventory needs a file (the predicate for the layer walker): package databases and manifests by
 * their path, Java archives by their name, and executables over a megabyte (possible Go binaries) by their mode.
 */
export function isInventoryFile(path: string, entry?: EntryInfo): boolean {
  return (
    (entry !== undefined && isExecutableCandidate(entry) && !SHARED_LIBRARY.test(path)) ||
    OS_RELEASE.includes(path) ||
    isDpkgFile(path) ||
    path === APK_INSTALLED ||
    isRpmFile(path) ||
    isPackageLock(path) ||
    isNodeModulesManifest(path) ||
    isPythonMetadata(path) ||
    isJavaArchive(path)
  );
}

/** Marks a Java archive or an executable replaced by the JSON list of its packages (the layer walker's `reduce`). */
const REDUCED = Buffer.from('berth:packages\n');

/**
 * What the inventory keeps of a file while the layers are walked: Java archives and executables, which can be
 * large, are read at once and kept as the list of their packages; package databases are kept as they are.
 */
export async function reduceInventoryFile(path: string, data: Buffer): Promise<Buffer> {
  const java = isJavaArchive(path);
  if (!java && (isKnownPath(path) || isRpmFile(path))) return data;
  try {
    const packages = java ? await parseJavaArchive(data, path) : isElf(data) ? parseGoBinary(data, path) : [];
    return Buffer.concat([REDUCED, Buffer.from(JSON.stringify({ packages }))]);
  } catch (err) {
    return Buffer.concat([REDUCED, Buffer.from(JSON.stringify({ packages: [], error: (err as Error).message }))]);
  }
}

const isReduced = (data: Buffer): boolean => data.subarray(0, REDUCED.length).equals(REDUCED);

function reducedPackages(data: Buffer): Package[] {
  const reduced = JSON.parse(data.subarray(REDUCED.length).toString('utf8')) as { packages: Package[]; error?: string };
  if (reduced.error) throw new Error(reduced.error);
  return reduced.packages;
}

/** rpm databases of large images exceed the default limit; they are read whole. */
export const RPM_DB_MAX_SIZE = 256 * 1024 * 1024;
/** Executables and Java archives are read one at a time and reduced at once to their packages. */
export const BINARY_MAX_SIZE = 128 * 1024 * 1024;

const isKnownPath = (path: string): boolean =>
  OS_RELEASE.includes(path) ||
  isDpkgFile(path) ||
  path === APK_INSTALLED ||
  isPackageLock(path) ||
  isNodeModulesManifest(path) ||
  isPythonMetadata(path);

/** The size limit per inventory file (the layer walker's `maxFileSize`). */
export const inventoryFileLimit = (path: string): number =>
  isRpmFile(path) ? RPM_DB_MAX_SIZE : isKnownPath(path) ? DEFAULT_MAX_FILE_SIZE : BINARY_MAX_SIZE;

export interface Inventory {
  os?: OsInfo;
  packages: Package[];
  /** Files that could not be read as what their path says, with the reason. */
  errors: { path: string; error: string }[];
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byPackage = (a: Package, b: Package): number =>
  cmp(a.ecosystem, b.ecosystem) || cmp(a.name, b.name) || cmp(a.version, b.version) || cmp(a.path, b.path);

/** The packages of an image's kept files, in a stable order. */
export async function inventory(files: ImageFiles): Promise<Inventory> {
  const os = detectOs(files.readText('etc/os-release') ?? files.readText('usr/lib/os-release'));
  const packages: Package[] = [];
  const errors: Inventory['errors'] = [];
  for (const path of files.paths()) {
    const oversized = files.files.get(path)?.oversized;
    if (oversized !== undefined) {
      errors.push({ path: `/${path}`, error: `not read: ${oversized} bytes, over the limit of ${inventoryFileLimit(path)}` });
      continue;
    }
    const data = files.read(path);
    if (!data) continue;
    try {
      if (isDpkgFile(path)) packages.push(...parseDpkgStatus(data.toString('utf8'), path, os));
      else if (path === APK_INSTALLED) packages.push(...parseApkInstalled(data.toString('utf8'), os));
      else if (isRpmFile(path)) packages.push(...(await parseRpmDb(data, path, os)));
      else if (isPackageLock(path)) packages.push(...parsePackageLock(data.toString('utf8'), path));
      else if (isNodeModulesManifest(path)) packages.push(...parseNodeModulesManifest(data.toString('utf8'), path));
      else if (isPythonMetadata(path)) packages.push(...parsePythonMetadata(data.toString('utf8'), path));
      else if (isReduced(data)) packages.push(...reducedPackages(data));
      else if (isJavaArchive(path)) packages.push(...(await parseJavaArchive(data, path)));
      else if (isElf(data)) packages.push(...parseGoBinary(data, path));
    } catch (err) {
      errors.push({ path: `/${path}`, error: (err as Error).message });
    }
  }
  packages.sort(byPackage);
  return os ? { os, packages, errors } : { packages, errors };
}
