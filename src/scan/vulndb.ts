// `berth vulndb import`: loads OSV records (osv.dev's per-ecosystem all.zip, an advisory repository's directory of
// .json records, or one .json file) into the metadata store, so that every node sees the same data. Every record is
// validated against the OSV schema; with a published checksum the file is checked first; the records are staged,
// then swapped in for their source in one transaction, which also enqueues the rescans: a failed import changes
// nothing. A source is named for the ecosystems of its records ("Debian", "npm"): importing it again replaces it.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { MetaStore, NewJob, StagedVulnRecord, VulnSource } from '../storage/meta/store.ts';
import { readOsvSource } from './osv-source.ts';
import { ecosystemBase } from './versions/index.ts';

export class VulnImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VulnImportError';
  }
}

export interface VulnImportOptions {
  /** The file's published SHA-256 (hex): the import is refused when the file differs. */
  sha256?: string;
  /** The source's name (default: the ecosystems of its records). */
  source?: string;
  now: number;
  /** Enqueued with the swap (the rescans). */
  job?: NewJob;
}

export interface VulnImportReport {
  source: string;
  records: number;
  sha256: string | null;
  version: number;
}

/** Records staged per transaction (each commit is a disk sync). */
const BATCH = 2000;
const HEX64 = /^[0-9a-f]{64}$/;

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

export async function importVulnData(meta: MetaStore, path: string, options: VulnImportOptions): Promise<VulnImportReport> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new VulnImportError(`${path}: no such file or directory`);
  const expected = options.sha256?.toLowerCase();
  if (expected !== undefined && !HEX64.test(expected)) throw new VulnImportError('--sha256 must be 64 hexadecimal digits');
  if (expected !== undefined && info.isDirectory()) throw new VulnImportError('--sha256 checks a file; a directory has no checksum');
  const sha256 = info.isDirectory() ? null : await fileSha256(path);
  if (expected !== undefined && sha256 !== expected) {
    throw new VulnImportError(`${path}: SHA-256 ${sha256} does not match the expected ${expected}; nothing was imported`);
  }
  const importId = randomUUID();
  const ecosystems = new Set<string>();
  let count = 0;
  try {
    let batch: StagedVulnRecord[] = [];
    for await (const { record } of readOsvSource(path)) {
      for (const a of record.affected ?? []) if (a.package) ecosystems.add(ecosystemBase(a.package.ecosystem));
      batch.push({ id: record.id, modified: record.modified, record: JSON.stringify(record) });
      count++;
      if (batch.length >= BATCH) {
        await meta.stageVulnRecords(importId, batch);
        batch = [];
      }
    }
    if (batch.length > 0) await meta.stageVulnRecords(importId, batch);
    if (count === 0) throw new VulnImportError(`${path}: no OSV records found`);
    const name = options.source ?? ([...ecosystems].sort().join('+') || 'records');
    const source: VulnSource = { name, records: count, importedAt: options.now, sha256, origin: path };
    const version = await meta.commitVulnImport(importId, source, options.job);
    const stored = (await meta.listVulnSources()).find((s) => s.name === name);
    return { source: name, records: stored?.records ?? count, sha256, version };
  } catch (e) {
    await meta.discardVulnImport(importId).catch(() => {});
    if (e instanceof VulnImportError) throw e;
    throw new VulnImportError(`${path}: ${(e as Error).message}; nothing was imported`);
  }
}

/** What `berth vulndb status` shows: each source with its record count, import time and age. */
export async function vulnStatus(
  meta: MetaStore,
  now: number,
): Promise<{ version: number; sources: (VulnSource & { importedAtIso: string; ageHours: number })[] }> {
  const sources = await meta.listVulnSources();
  return {
    version: await meta.vulnDataVersion(),
    sources: sources.map((s) => ({
      ...s,
      importedAtIso: new Date(s.importedAt).toISOString(),
      ageHours: Math.round(((now - s.importedAt) / 36e5) * 10) / 10,
    })),
  };
}
