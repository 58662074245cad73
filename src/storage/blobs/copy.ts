// Serving a byte range of a stored blob into a writable (an HTTP response), through a ring of reused 1 MiB
// buffers: the next read fills a buffer only once `out` has taken it, so nothing is allocated per chunk and memory
// stays at the ring's size however large the blob. A blob known to be cold (written with O_DIRECT and not read
// since: none of it is in the page cache) is read with O_DIRECT too. Reading it through the page cache would cost
// the disk read plus filling fresh cache pages, which on this project's machines made a first read 3 to 4 times
// slower; the read after that goes through the page cache and leaves the blob there for the reads that follow.
import { open, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { ALIGN, BUFFER_SIZE, giveBuffer, isAligned, openDirect, takeBuffer, takePlainBuffer } from './aligned.ts';

/** Reads in flight per blob being served. */
const READ_RING = 4;

/** Copies bytes `range.start` to `range.end` (inclusive) of the file to `out`, with backpressure. */
export async function copyRange(path: string, range: { start: number; end: number }, out: Writable, cold: boolean): Promise<void> {
  // As many buffers as the range needs (a config blob needs one), READ_RING at most; an O_DIRECT read may also
  // take the head of the first block.
  const slots = Math.min(READ_RING, Math.ceil((range.end - range.start + 1 + ALIGN) / BUFFER_SIZE));
  const ring = Array.from({ length: slots }, () => (cold ? takeBuffer() : takePlainBuffer(BUFFER_SIZE)));
  const writes: (Promise<void> | undefined)[] = new Array(slots);
  let direct = cold && ring.every(isAligned);
  let fh: FileHandle | undefined;
  try {
    fh = direct ? await openDirect(path, 'read') : undefined;
    direct = fh !== undefined;
    fh ??= await open(path, 'r');
    // O_DIRECT reads whole blocks: start at the block that holds the first byte, and skip its head.
    let position = direct ? range.start - (range.start % ALIGN) : range.start;
    let skip = range.start - position;
    for (let i = 0; position <= range.end; i++) {
      const slot = i % slots;
      if (writes[slot]) await writes[slot];
      if (out.destroyed) throw new Error('the destination closed');
      const left = range.end - position + 1;
      const want = direct ? Math.min(BUFFER_SIZE, Math.ceil(left / ALIGN) * ALIGN) : Math.min(BUFFER_SIZE, left);
      let bytesRead: number;
      try {
        ({ bytesRead } = await fh.read(ring[slot], 0, want, position));
      } catch (e) {
        if (!direct || (e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
        // The device wants a larger alignment: read the rest through the page cache.
        await fh.close();
        fh = await open(path, 'r');
        direct = false;
        i--;
        continue;
      }
      const usable = Math.min(bytesRead, left);
      if (usable <= skip) throw new Error(`${path} is shorter than expected`);
      const chunk = ring[slot].subarray(skip, usable);
      writes[slot] = new Promise<void>((resolve, reject) => {
        out.write(chunk, (err) => (err ? reject(err) : resolve()));
      });
      position += usable;
      skip = 0;
    }
    await Promise.all(writes);
  } finally {
    await Promise.allSettled(writes);
    ring.forEach(giveBuffer);
    await fh?.close();
  }
}
