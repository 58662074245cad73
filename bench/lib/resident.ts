// Where a process's resident memory is, by part, from Linux's /proc (issue 21): the pages of the node binary that
// are resident (read from /proc/<pid>/pagemap, one bit per page) attributed to the binary's symbols (`nm`), grouped
// into parts (V8's compilers, V8's embedded builtins, ICU's data, SQLite, OpenSSL...); and the rest of the mappings
// from /proc/<pid>/smaps: anonymous memory (the V8 heap, malloc's heap, thread stacks), shared libraries.
// Reading pagemap needs no privilege for the present bit, which is all this uses.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

const PAGE = 4096;

interface Symbol {
  start: number;
  end: number;
  name: string;
}

/** The part a symbol of the node binary belongs to, from its (demangled) name. */
export function partOf(symbol: string): string {
  // Template instances print their return type first ("void v8::internal::..."); vtables and thunks say so.
  const name = symbol.replace(
    /^((vtable|typeinfo|typeinfo name|construction vtable|guard variable|non-virtual thunk|virtual thunk) (for|to) |(void|bool|int|auto|char|long|double|float|unsigned (long|int|char)|std::\S+|v8::\S+) (?=\S+::))/,
    '',
  );
  if (name === 'icudt78_dat' || /^icudt\d+_dat$/.test(name)) return 'ICU data (icudt)';
  if (name.startsWith('Builtins_') || name.startsWith('v8_Default_embedded_blob')) return 'V8 embedded builtins';
  if (/^v8::internal::(compiler|turboshaft)::/.test(name)) return 'V8 TurboFan/Turboshaft (optimizing compiler)';
  if (name.startsWith('v8::internal::maglev::')) return 'V8 Maglev (mid-tier compiler)';
  if (name.startsWith('v8::internal::wasm::')) return 'V8 WebAssembly';
  if (/^v8::internal::(baseline|interpreter)::/.test(name)) return 'V8 interpreter and Sparkplug';
  if (
    /^v8::internal::(Parser|ParserBase|PreParser|Scanner|AstValueFactory|DeclarationScope|Scope)\b/.test(name) ||
    name.startsWith('v8::internal::parsing::')
  )
    return 'V8 parser';
  if (
    /^(v8::internal::|heap::base::|cppgc::)/.test(name) &&
    /(Heap|Scaveng|MarkCompact|Sweeper|Marking|Evacuat|Concurrent|Minor|heap::|cppgc::)/.test(name)
  )
    return 'V8 garbage collector';
  if (name.startsWith('v8_inspector::') || name.startsWith('node::inspector::')) return 'inspector';
  if (/^(v8::|v8_|unibrow::|disasm::)/.test(name)) return 'V8 runtime (other)';
  if (
    /^(icu_\d+::|u_|ucase_|ubidi_|uprops_|ucol_|unorm|uloc_|ures_|ucnv|uprv_|ustr|utf8_|uset_|udata_|ulist_|umtx_|propsVectors|propsTrie|ucase|ubidi)/.test(
      name,
    )
  )
    return 'ICU code and tables';
  if (name.startsWith('sqlite3') || name.startsWith('node::sqlite::')) return 'SQLite';
  if (/^(node::crypto::|ncrypto::)/.test(name)) return 'node crypto bindings';
  if (
    /^(ossl_|OSSL_|EVP_|SSL_|SSL3|ssl|tls1|tls_|dtls|BN_|bn_|X509|x509|ASN1|asn1|OPENSSL|openssl|CRYPTO_|ERR_|OBJ_|PEM_|BIO_|RSA|rsa_|EC_|ec_|ecp_|DH_|DSA|ENGINE|RAND|rand_|SHA|sha|MD5|md5|AES|aes|aesni|gcm_|CMAC|HMAC|KDF|PKCS|pkcs|OCSP|CONF|conf_|NCONF|EVP|evp_|ChaCha|chacha|Poly1305|poly1305|x25519|X25519|ED25519|ed25519|k25519|nid_objs|param_group|kdf_|mac_|cipher_|digest_|provider|keccak|KECCAK|curve25519|ecx_|dsa_|dh_|ct_|CT_|SCT|OPENSSL_|CMS|cms_|i2d_|d2i_|c2i_|i2c_|a2i_|i2a_|i2v_|v2i_|i2r_|s2i_|i2s_)/.test(
      name,
    )
  )
    return 'OpenSSL';
  if (name.startsWith('node::builtins::')) return 'Node built-in JavaScript loader';
  if (/^(node::|node_|napi_|cppgc)/.test(name)) return 'Node C++';
  if (/^(uv_|uv__)/.test(name)) return 'libuv';
  if (/^(llhttp|llparse)/.test(name)) return 'llhttp';
  if (/^(nghttp2|nghttp3|ngtcp2)/.test(name)) return 'nghttp2';
  if (/^(ada::|simdutf::|simdjson::|v8_crdtp::)/.test(name)) return 'ada, simdutf, simdjson';
  if (
    /^(Brotli|brotli|kBrotli|kStaticDictionary|deflate|inflate|zlib|crc32|adler32|zng_|Cr_z_|Z_|compress|uncompress|_tr_|zcalloc|zcfree|zstd|ZSTD)/.test(
      name,
    )
  )
    return 'zlib, Brotli, Zstandard';
  if (/^(ares_|cares)/.test(name)) return 'c-ares';
  return 'other symbols';
}

let symbolCache: { binary: string; symbols: Symbol[] } | undefined;

/** The defined symbols of `binary` with a size, sorted by address (nm -S -C). */
function symbolsOf(binary: string): Symbol[] {
  if (symbolCache?.binary === binary) return symbolCache.symbols;
  const out = execFileSync('nm', ['--defined-only', '-S', '-C', binary], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const symbols: Symbol[] = [];
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) \S (.*)$/.exec(line);
    if (!m) continue;
    const start = Number.parseInt(m[1], 16);
    const size = Number.parseInt(m[2], 16);
    if (size > 0) symbols.push({ start, end: start + size, name: m[3] });
  }
  symbols.sort((a, b) => a.start - b.start);
  symbolCache = { binary, symbols };
  return symbols;
}

interface Mapping {
  start: number;
  end: number;
  perms: string;
  offset: number;
  path: string;
  rssKiB: number;
}

function mappings(pid: number): Mapping[] {
  const list: Mapping[] = [];
  let current: Mapping | undefined;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      current = {
        start: Number.parseInt(head[1], 16),
        end: Number.parseInt(head[2], 16),
        perms: head[3],
        offset: Number.parseInt(head[4], 16),
        path: head[5].trim(),
        rssKiB: 0,
      };
      list.push(current);
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && current) current.rssKiB = Number(rss[1]);
  }
  return list;
}

/** Resident MiB by part; the parts add up to VmRSS (within the pages that change while it is read). */
export interface Resident {
  rssMiB: number;
  /** Pages of the node binary (file-backed, shared with every node process, and clean: the kernel can drop them). */
  binary: Record<string, number>;
  binaryMiB: number;
  /** Anonymous memory: the V8 heap, malloc's heap (SQLite's page cache, Node's buffers), thread stacks. */
  anonMiB: number;
  /** Of which [heap], malloc's main arena (other arenas are anonymous mappings). */
  brkHeapMiB: number;
  /** Anonymous memory by kind of mapping: large reservations (V8's code range),
   * malloc's arenas of other threads (64 MiB, or 128 MiB with their guard), [heap], stacks, the rest. */
  anonByMapping: Record<string, number>;
  /** Shared libraries (libc, libstdc++...) and other files mapped. */
  otherFilesMiB: number;
}

/** Resident memory of process `pid` by part. `binary`: the path of the node executable it runs. */
export function residentByPart(pid: number, binary: string): Resident {
  const maps = mappings(pid);
  const symbols = symbolsOf(binary);
  const parts: Record<string, number> = {};
  let anon = 0;
  let brk = 0;
  const byMapping: Record<string, number> = {};
  // Arenas are mapped 64 MiB at a time (part of it PROT_NONE until used): adjacent mappings make up one reservation.
  const reservation = (i: number): number => {
    let start = maps[i].start;
    let end = maps[i].end;
    for (let j = i - 1; j >= 0 && maps[j].end === start && maps[j].path === ''; j--) start = maps[j].start;
    for (let j = i + 1; j < maps.length && maps[j].start === end && maps[j].path === ''; j++) end = maps[j].end;
    return end - start;
  };
  let other = 0;
  let binaryBytes = 0;
  const fd = openSync(`/proc/${pid}/pagemap`, 'r');
  try {
    // The binary is not position-independent: its first mapping (offset 0) gives the load bias of the others.
    const first = maps.find((m) => m.path === binary && m.offset === 0);
    const bias = first ? first.start : 0;
    for (const m of maps) {
      if (m.path !== binary) {
        if (m.path === '' || m.path.startsWith('[')) {
          anon += m.rssKiB;
          if (m.path === '[heap]') brk += m.rssKiB;
          let kind: string;
          if (m.path === '[heap]') kind = "malloc's main heap ([heap])";
          else if (m.path.startsWith('[stack')) kind = 'main stack';
          else if (m.path.startsWith('[')) kind = m.path;
          else {
            const size = reservation(maps.indexOf(m));
            kind =
              size >= 256 * 1024 * 1024
                ? "reservations of 256 MiB or more (V8's code range)"
                : size === 64 * 1024 * 1024 || size === 128 * 1024 * 1024
                  ? "malloc's arenas of other threads"
                  : "other anonymous (the V8 heap's pages, thread stacks, large mallocs)";
          }
          byMapping[kind] = (byMapping[kind] ?? 0) + m.rssKiB / 1024;
        } else other += m.rssKiB;
        continue;
      }
      const pages = (m.end - m.start) / PAGE;
      const entries = Buffer.alloc(pages * 8);
      readSync(fd, entries, 0, entries.length, (m.start / PAGE) * 8);
      const section = m.perms.includes('x') ? 'text' : m.perms.includes('w') ? 'data' : 'rodata';
      for (let p = 0; p < pages; p++) {
        const present = (entries.readBigUInt64LE(p * 8) >> 63n) & 1n;
        if (!present) continue;
        binaryBytes += PAGE;
        // The address in the binary's own layout (a remapped copy, like V8's, keeps the file offset).
        const from = m.offset + p * PAGE + bias;
        const to = from + PAGE;
        let attributed = 0;
        let i = firstEndingAfter(symbols, from);
        for (; i < symbols.length && symbols[i].start < to; i++) {
          const s = symbols[i];
          const overlap = Math.min(to, s.end) - Math.max(from, s.start);
          if (overlap <= 0) continue;
          const part = partOf(s.name);
          parts[part] = (parts[part] ?? 0) + overlap;
          attributed += overlap;
        }
        if (attributed < PAGE) {
          const rest = `unnamed ${section} (${section === 'rodata' ? "Node's built-in JavaScript and its code cache, V8's snapshot, string tables" : 'padding, local symbols'})`;
          parts[rest] = (parts[rest] ?? 0) + (PAGE - Math.min(PAGE, attributed));
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  const MiB = 1024 * 1024;
  const binaryParts = Object.fromEntries(
    Object.entries(parts)
      .map(([k, v]) => [k, v / MiB] as const)
      .sort((a, b) => b[1] - a[1]),
  );
  return {
    rssMiB: (anon + other) / 1024 + binaryBytes / MiB,
    binary: binaryParts,
    binaryMiB: binaryBytes / MiB,
    anonMiB: anon / 1024,
    brkHeapMiB: brk / 1024,
    anonByMapping: Object.fromEntries(Object.entries(byMapping).sort((a, b) => b[1] - a[1])),
    otherFilesMiB: other / 1024,
  };
}

/** The index of the first symbol whose end is past `address` (symbols sorted by start; overlaps are rare). */
function firstEndingAfter(symbols: Symbol[], address: number): number {
  let lo = 0;
  let hi = symbols.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (symbols[mid].start + 0x100000 <= address) lo = mid + 1;
    else hi = mid;
  }
  // Symbols are at most this long except the ICU data: step back to catch one that starts earlier and spans `address`.
  while (lo > 0 && symbols[lo - 1].end > address) lo--;
  return lo;
}
