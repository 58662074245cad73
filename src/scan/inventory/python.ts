// Python packages: installed distributions' `*.dist-info/METADATA` and `*.egg-info/PKG-INFO` (or an
// `*.egg-info` file), core metadata headers `Name` and `Version`.
import type { Package } from './package.ts';
import { purl } from './purl.ts';

const DIST_INFO = /(^|\/)[^/]+\.dist-info\/METADATA$/;
const EGG_INFO = /(^|\/)[^/]+\.egg-info(\/PKG-INFO)?$/;

export const isPythonMetadata = (path: string): boolean => DIST_INFO.test(path) || EGG_INFO.test(path);

/** PEP 503 normalized name: lowercase, runs of `-`, `_` and `.` as one `-`. */
export const normalizePythonName = (name: string): string => name.toLowerCase().replace(/[-_.]+/g, '-');

export function parsePythonMetadata(text: string, path: string): Package[] {
  let name: string | undefined;
  let version: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') break; // the headers end at the first blank line; the description follows
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'name' && name === undefined) name = value;
    else if (key === 'version' && version === undefined) version = value;
  }
  if (!name || !version) return [];
  return [
    { type: 'pypi', ecosystem: 'PyPI', name, version, purl: purl('pypi', undefined, normalizePythonName(name), version), path: `/${path}` },
  ];
}
