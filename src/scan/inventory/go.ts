// Go binaries: the build information the Go toolchain (1.18 and later) embeds in every executable — the Go version
// (the standard library's, matched as OSV's `stdlib` package) and the modules it was built from (`dep` lines, with
// `=>` replacements). The block starts with the magic "\xff Go buildinf:" at a 16-byte boundary; with the flag 2
// set, the version and the module information follow the 32-byte header as two varint-length-prefixed strings.
// Older binaries point at their strings through the executable's symbols; those are not read.
import type { Package } from './package.ts';
import { purl } from './purl.ts';

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const ELF = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
/** Go executables are larger than this (the runtime alone is over a megabyte). */
export const GO_MIN_SIZE = 1024 * 1024;

export interface GoBuildInfo {
  goVersion: string;
  path?: string;
  main?: { path: string; version: string };
  deps: { path: string; version: string }[];
}

export const isElf = (data: Buffer): boolean => data.subarray(0, 4).equals(ELF);

/** Whether a tar entry may be a Go executable: a regular file, executable, larger than a megabyte. */
export const isExecutableCandidate = (entry: { type: string; size: number; mode: number }): boolean =>
  (entry.type === 'file' || entry.type === 'contiguous-file') && (entry.mode & 0o111) !== 0 && entry.size >= GO_MIN_SIZE;

function varint(data: Buffer, at: number): [number, number] | undefined {
  let value = 0;
  let shift = 0;
  for (let i = at; i < data.length && shift < 35; i++) {
    const b = data[i];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, i + 1];
    shift += 7;
  }
  return undefined;
}

function readString(data: Buffer, at: number): [string, number] | undefined {
  const len = varint(data, at);
  if (!len || len[1] + len[0] > data.length) return undefined;
  return [data.toString('utf8', len[1], len[1] + len[0]), len[1] + len[0]];
}

/** The build information of a Go executable, or undefined when it has none that can be read. */
export function parseGoBuildInfo(data: Buffer): GoBuildInfo | undefined {
  let at = data.indexOf(MAGIC);
  while (at >= 0 && at % 16 !== 0) at = data.indexOf(MAGIC, at + 1);
  if (at < 0 || at + 32 > data.length) return undefined;
  const flags = data[at + 15];
  if ((flags & 2) === 0) return undefined;
  const version = readString(data, at + 32);
  if (!version) return undefined;
  const mod = readString(data, version[1]);
  let modinfo = mod?.[0] ?? '';
  // The module information is framed by two 16-byte sentinels.
  if (modinfo.length >= 33 && modinfo[modinfo.length - 17] === '\n') modinfo = modinfo.slice(16, -16);
  const info: GoBuildInfo = { goVersion: version[0], deps: [] };
  for (const line of modinfo.split('\n')) {
    const f = line.split('\t');
    if (f[0] === 'path' && f[1]) info.path = f[1];
    else if (f[0] === 'mod' && f[1] && f[2]) info.main = { path: f[1], version: f[2] };
    else if (f[0] === 'dep' && f[1] && f[2]) info.deps.push({ path: f[1], version: f[2] });
    else if (f[0] === '=>' && f[1] && f[2] && info.deps.length > 0) info.deps[info.deps.length - 1] = { path: f[1], version: f[2] };
  }
  return info;
}

function goPackage(name: string, version: string, path: string): Package {
  // purl: the module path's last element is the name, the rest its namespace (pkg:golang/github.com/gorilla/websocket).
  const slash = name.lastIndexOf('/');
  const id = slash < 0 ? purl('golang', undefined, name, version) : purl('golang', name.slice(0, slash), name.slice(slash + 1), version);
  return { type: 'go', ecosystem: 'Go', name, version, purl: id, path: `/${path}` };
}

/** `go1.21.5 X:loopvar` → `1.21.5`; development toolchains have no version. */
export function stdlibVersion(goVersion: string): string | undefined {
  const m = /^go(\d+(?:\.\d+){0,2}(?:(?:rc|beta)\d+)?)/.exec(goVersion);
  if (!m) return undefined;
  const v = m[1].replace(/(rc|beta)(\d+)$/, '-$1.$2');
  return v.split('-')[0].split('.').length === 2 ? v.replace(/^(\d+\.\d+)/, '$1.0') : v;
}

/** The packages of a Go executable: the standard library, the main module (when versioned), its dependencies. */
export function parseGoBinary(data: Buffer, path: string): Package[] {
  const info = parseGoBuildInfo(data);
  if (!info) return [];
  const out: Package[] = [];
  const std = stdlibVersion(info.goVersion);
  if (std) out.push(goPackage('stdlib', `v${std}`, path));
  if (info.main && info.main.version !== '(devel)') out.push(goPackage(info.main.path, info.main.version, path));
  for (const dep of info.deps) out.push(goPackage(dep.path, dep.version, path));
  return out;
}
