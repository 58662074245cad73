// An executable carrying Go build information as the Go toolchain (1.18+) embeds it: the 32-byte header (magic
// "\xff Go buildinf:", pointer size, flags with bit 2 "strings inline") at a 16-byte boundary, then the Go version
// and the module information (between two 16-byte sentinels) as varint-length-prefixed strings.
const SENTINEL_START = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
const SENTINEL_END = Buffer.from('f932433186182072008242104116d8f2', 'hex');

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

export function goBinary(goVersion: string, modinfoLines: string[], size = 2 * 1024 * 1024): Buffer {
  const body = Buffer.alloc(size, 0x90);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(body, 0); // an ELF identification
  const modinfo =
    modinfoLines.length > 0 ? Buffer.concat([SENTINEL_START, Buffer.from(`${modinfoLines.join('\n')}\n`), SENTINEL_END]) : Buffer.alloc(0);
  const header = Buffer.alloc(32);
  Buffer.from('\xff Go buildinf:', 'latin1').copy(header, 0);
  header[14] = 8;
  header[15] = 2;
  const block = Buffer.concat([header, varint(goVersion.length), Buffer.from(goVersion), varint(modinfo.length), modinfo]);
  block.copy(body, size - 64 * 1024); // in the data section, towards the end, on a 16-byte boundary
  return body;
}
