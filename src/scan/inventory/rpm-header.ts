// RPM header blobs as the rpmdb stores them (no lead, no header magic): a big-endian int32 count of index
// entries, an int32 length of the data store, the index entries (tag, type, offset, count: four big-endian int32),
// then the data store. Only the tags the inventory needs are decoded.

export const TAG = { NAME: 1000, VERSION: 1001, RELEASE: 1002, EPOCH: 1003, ARCH: 1022, SOURCERPM: 1044 } as const;
export const TYPE = { INT32: 4, STRING: 6, BIN: 7, STRING_ARRAY: 8, I18NSTRING: 9 } as const;

export interface RpmHeader {
  name?: string;
  version?: string;
  release?: string;
  epoch?: number;
  arch?: string;
  sourceRpm?: string;
}

export class RpmHeaderError extends Error {}

function readString(data: Buffer, offset: number): string {
  const end = data.indexOf(0, offset);
  if (end < 0) throw new RpmHeaderError('unterminated string in the header data');
  return data.toString('utf8', offset, end);
}

export function parseRpmHeader(blob: Buffer): RpmHeader {
  if (blob.length < 8) throw new RpmHeaderError('header blob too short');
  const count = blob.readUInt32BE(0);
  const dataLength = blob.readUInt32BE(4);
  const dataStart = 8 + count * 16;
  if (count > 0x10000 || dataStart + dataLength > blob.length) throw new RpmHeaderError('header blob sizes exceed its length');
  const data = blob.subarray(dataStart, dataStart + dataLength);
  const out: RpmHeader = {};
  for (let i = 0; i < count; i++) {
    const at = 8 + i * 16;
    const tag = blob.readUInt32BE(at);
    const type = blob.readUInt32BE(at + 4);
    const offset = blob.readUInt32BE(at + 8);
    if (offset >= data.length) continue;
    const isString = type === TYPE.STRING || type === TYPE.STRING_ARRAY || type === TYPE.I18NSTRING;
    switch (tag) {
      case TAG.NAME:
        if (isString) out.name = readString(data, offset);
        break;
      case TAG.VERSION:
        if (isString) out.version = readString(data, offset);
        break;
      case TAG.RELEASE:
        if (isString) out.release = readString(data, offset);
        break;
      case TAG.ARCH:
        if (isString) out.arch = readString(data, offset);
        break;
      case TAG.SOURCERPM:
        if (isString) out.sourceRpm = readString(data, offset);
        break;
      case TAG.EPOCH:
        if (type === TYPE.INT32 && offset + 4 <= data.length) out.epoch = data.readUInt32BE(offset);
        break;
    }
  }
  return out;
}

/** `openssl-3.0.7-24.el9.src.rpm` → name `openssl`, version `3.0.7`, release `24.el9`. */
export function parseSourceRpm(file: string): { name: string; version: string; release: string } | undefined {
  const base = file.replace(/\.(no)?src\.rpm$/, '');
  const r = base.lastIndexOf('-');
  const v = r > 0 ? base.lastIndexOf('-', r - 1) : -1;
  if (v <= 0) return undefined;
  return { name: base.slice(0, v), version: base.slice(v + 1, r), release: base.slice(r + 1) };
}
