// Buffers whose address is a multiple of 4096 bytes, for O_DIRECT writes (the kernel refuses unaligned memory).
// Node cannot allocate aligned memory, but a WebAssembly memory starts on a page boundary: buffers are cut from
// WebAssembly memories of MEMORY_BYTES each. (Not from one shared memory grown as needed: copying into a
// SharedArrayBuffer takes V8's slow, atomics-safe path, several times slower than memcpy.) A WebAssembly memory
// cannot shrink, and its pages stay resident once touched, so buffers are kept for reuse while they are used, and
// at most MAX_ALIGNED_BYTES of them are ever made at once; past that, `takeBuffer` hands out ordinary (unaligned)
// buffers, which are written without O_DIRECT. Once every aligned buffer has been back for IDLE_RELEASE_MS, the
// memories are let go (the garbage collector unmaps them): 16 parallel uploads left 40-80 MiB of them resident
// for the rest of the process's life (issue 21). `openDirect` opens a file for O_DIRECT I/O, or tells that it
// cannot be.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { collectFully } from '../../core/memory.ts';

/** The alignment of address, length and file offset that O_DIRECT needs (4096 covers every common device). */
export const ALIGN = 4096;
/** Size of every buffer handed out. */
export const BUFFER_SIZE = 1 << 20;
const WASM_PAGE = 65536;
const MEMORY_BYTES = 16 << 20;
/** Aligned buffers made at most (and so memory held for them at most): 128 MiB. */
const MAX_ALIGNED_BYTES = 128 << 20;

/** The part of WebAssembly's API used here (TypeScript's `lib` for Node has no WebAssembly types). */
const { WebAssembly } = globalThis as unknown as {
  WebAssembly: { Memory: new (descriptor: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer } };
};

/** How long every aligned buffer must have been back before their memories are let go. */
const IDLE_RELEASE_MS = 2000;

let made = 0;
const free: Buffer[] = [];
const aligned = new WeakSet<Buffer>();
let releaseTimer: NodeJS.Timeout | undefined;

/** A buffer of BUFFER_SIZE bytes, aligned when `isAligned` says so. Its contents are whatever was there before. */
export function takeBuffer(): Buffer {
  if (releaseTimer) {
    clearTimeout(releaseTimer);
    releaseTimer = undefined;
  }
  const reused = free.pop();
  if (reused) return reused;
  if (made + MEMORY_BYTES > MAX_ALIGNED_BYTES) return takePlainBuffer(BUFFER_SIZE);
  const pages = MEMORY_BYTES / WASM_PAGE;
  const { buffer } = new WebAssembly.Memory({ initial: pages, maximum: pages });
  for (let at = MEMORY_BYTES - BUFFER_SIZE; at >= 0; at -= BUFFER_SIZE) {
    const b = Buffer.from(buffer, at, BUFFER_SIZE);
    aligned.add(b);
    free.push(b);
  }
  made += MEMORY_BYTES;
  return free.pop()!;
}

/**
 * Unaligned buffers kept for reuse at most, in bytes per size (the rest are left to the garbage collector): enough
 * for a few uploads' steady stream (each holds three 512 KiB buffers at most), little for an idle server to keep.
 */
const PLAIN_KEPT_BYTES = 4 << 20;
const plainFree = new Map<number, Buffer[]>();

/**
 * A buffer of `size` bytes for I/O through the page cache (no alignment). Some are kept for reuse, so that a steady
 * stream of reads and writes neither maps and faults in fresh memory for every buffer nor leaves a trail of
 * garbage buffers for the collector.
 */
export function takePlainBuffer(size: number): Buffer {
  plainOut++;
  return plainFree.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
}
let plainOut = 0;

/** Returns a buffer from `takeBuffer` or `takePlainBuffer` once nothing uses it any more. */
export function giveBuffer(buffer: Buffer): void {
  if (aligned.has(buffer)) {
    free.push(buffer);
    if (free.length * BUFFER_SIZE === made && !releaseTimer) {
      releaseTimer = setTimeout(releaseAligned, IDLE_RELEASE_MS);
      releaseTimer.unref();
    }
    return;
  }
  plainOut--;
  let kept = plainFree.get(buffer.length);
  if (!kept) plainFree.set(buffer.length, (kept = []));
  if ((kept.length + 1) * buffer.length <= PLAIN_KEPT_BYTES) kept.push(buffer);
}

/** Lets go of every aligned buffer (all are back): their memories go with the next full garbage collection. */
function releaseAligned(): void {
  releaseTimer = undefined;
  if (made === 0 || free.length * BUFFER_SIZE !== made) return;
  free.length = 0;
  made = 0;
  // V8 does not count WebAssembly memories in its heap: nothing would start the collection that frees them.
  collectFully();
}

/** Aligned buffers handed out and not given back yet. */
export function alignedBuffersInUse(): number {
  return made / BUFFER_SIZE - free.length;
}

/** Bytes of aligned memory made and not let go (for tests). */
export function alignedBytesHeld(): number {
  return made;
}

/** Buffers (aligned or from `takePlainBuffer`) handed out and not given back yet. */
export function buffersInUse(): number {
  return alignedBuffersInUse() + plainOut;
}

/** Whether O_DIRECT may read or write this buffer's memory (from its start). */
export function isAligned(buffer: Buffer): boolean {
  return aligned.has(buffer);
}

const O_DIRECT: number | undefined = (constants as { O_DIRECT?: number }).O_DIRECT;

/** `path` opened with O_DIRECT for reading or writing; undefined when the platform or filesystem refuses it. */
export async function openDirect(path: string, mode: 'read' | 'write'): Promise<FileHandle | undefined> {
  if (O_DIRECT === undefined) return undefined;
  try {
    return await open(path, (mode === 'read' ? constants.O_RDONLY : constants.O_WRONLY) | O_DIRECT);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EINVAL') return undefined;
    throw e;
  }
}
