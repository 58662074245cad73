// Writes RPM header blobs as rpm stores them in its SQLite database (no lead, no header magic): int32 index count,
// int32 data length, 16-byte index entries (tag, type, offset, count; big-endian), then the data store, with
// INT32 data aligned on 4 bytes as rpm aligns it. And a rpmdb.sqlite with rpm's `Packages` table.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export interface RpmFields {
  name: string;
  version: string;
  release: string;
  epoch?: number;
  arch?: string;
  sourceRpm?: string;
  summary?: string;
  /** File base names (BASENAMES, 1117), as real headers list every installed file. */
  files?: string[];
}

type Entry = { tag: number; type: number; data: Buffer; count: number; align: number };

const str = (tag: number, s: string, type = 6): Entry => ({ tag, type, data: Buffer.from(`${s}\0`), count: 1, align: 1 });

export function encodeRpmHeader(p: RpmFields): Buffer {
  const entries: Entry[] = [
    // rpm puts the immutable region tag (63, BIN) first; readers must skip tags they do not know.
    { tag: 63, type: 7, data: Buffer.alloc(16), count: 16, align: 1 },
    str(1000, p.name),
    str(1001, p.version),
    str(1002, p.release),
    ...(p.summary ? [str(1004, p.summary, 9)] : []),
    ...(p.epoch !== undefined ? [{ tag: 1003, type: 4, data: int32(p.epoch), count: 1, align: 4 }] : []),
    { tag: 1009, type: 4, data: int32(123456), count: 1, align: 4 },
    ...(p.arch ? [str(1022, p.arch)] : []),
    ...(p.sourceRpm ? [str(1044, p.sourceRpm)] : []),
    ...(p.files ? [{ tag: 1117, type: 8, data: Buffer.from(p.files.map((f) => `${f}\0`).join('')), count: p.files.length, align: 1 }] : []),
    // Real headers end with higher tags than the ones read here, such as PAYLOADDIGESTALGO (5093).
    { tag: 5093, type: 4, data: int32(8), count: 1, align: 4 },
  ].sort((a, b) => a.tag - b.tag); // rpm sorts the index by tag, and lays the data out in that order
  const index = Buffer.alloc(entries.length * 16);
  const data: Buffer[] = [];
  let length = 0;
  entries.forEach((e, i) => {
    const pad = (e.align - (length % e.align)) % e.align;
    if (pad) {
      data.push(Buffer.alloc(pad));
      length += pad;
    }
    index.writeUInt32BE(e.tag, i * 16);
    index.writeUInt32BE(e.type, i * 16 + 4);
    index.writeUInt32BE(length, i * 16 + 8);
    index.writeUInt32BE(e.count, i * 16 + 12);
    data.push(e.data);
    length += e.data.length;
  });
  const head = Buffer.alloc(8);
  head.writeUInt32BE(entries.length, 0);
  head.writeUInt32BE(length, 4);
  return Buffer.concat([head, index, ...data]);
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** A rpmdb.sqlite with rpm's schema and one header blob per package; returns the file's bytes. */
export function makeRpmdbSqlite(packages: RpmFields[]): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-rpmdb-'));
  try {
    const file = join(dir, 'rpmdb.sqlite');
    const db = new DatabaseSync(file);
    db.exec('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)');
    db.exec(
      'CREATE TABLE Name (key TEXT NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL, FOREIGN KEY(hnum) REFERENCES Packages(hnum))',
    );
    const insert = db.prepare('INSERT INTO Packages (blob) VALUES (?)');
    for (const p of packages) insert.run(encodeRpmHeader(p));
    db.close();
    return readFileSync(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A Berkeley DB `Packages` file (the rpmdb of RHEL 7/8, CentOS, Amazon Linux 2): a hash database whose keys are
 * the header numbers (native-endian uint32) and whose values are the header blobs, written by Berkeley DB's own
 * `db5.3_load` (Debian package db5.3-util) from its text format (every byte escaped as `\HH`).
 */
export function makeRpmdbBerkeley(packages: RpmFields[]): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-rpmbdb-'));
  try {
    const file = join(dir, 'Packages');
    const hex = (b: Buffer): string => [...b].map((x) => `\\${x.toString(16).padStart(2, '0')}`).join('');
    const lines = packages.flatMap((p, i) => {
      const key = Buffer.alloc(4);
      key.writeUInt32LE(i + 1);
      return [hex(key), hex(encodeRpmHeader(p))];
    });
    const run = spawnSync('db5.3_load', ['-T', '-t', 'hash', file], { input: `${lines.join('\n')}\n` });
    if (run.error || run.status !== 0) throw new Error(`db5.3_load failed: ${run.error?.message ?? run.stderr.toString()}`);
    return readFileSync(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
