// Keeping memory flat while blobs stream in. Every socket read arrives in a fresh buffer whose memory V8 counts
// as external: it is freed only when a garbage collection finds the buffer dead, and V8 lets tens of MiB of
// such buffers pile up before it collects. A young-generation collection (cheap: the buffers are young) after
// every RELEASE_EVERY bytes received keeps that pile small.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// 4 MiB rather than 16 (issue 21; `bench/run.ts --berth-only --rounds 1`, three rounds each way on a shared
// 2-core machine): the 1 GiB monolithic and chunked uploads peaked at 103-109 MiB instead of 119-123, the ECR
// upload (the round's peak) at 200-203 instead of 211-237; 16 parallel uploads stayed at 150-160. Server CPU of
// the uploads did not move beyond the noise (monolithic 2.13-2.66 s against 2.38-2.62 s): a scavenge of the 1 MiB
// young generation is a fraction of a millisecond, 256 of them per GiB.
const RELEASE_EVERY = 4 << 20;

setFlagsFromString('--expose-gc');
// V8 sizes the old generation's next limit after each full collection by a factor it picks from how the
// program runs. While blobs stream in, the heap stays near 10 MB, yet V8 at times fell into starting a full
// (concurrent) marking every 50-60 ms: 7 to 38 full collections over a 1 GiB upload plus 16 parallel 64 MiB ones,
// which cost the upload 0.4-0.6 s of CPU on the marking threads. A fixed factor of 3 (limit = 3 x the live heap)
// keeps it to 2-4 (parallel uploads: 545 -> 677 MB/s, server CPU 2.36 -> 1.74 s), and peak RSS did not grow
// (end of a benchmark round 219 -> 201 MiB; bench/scale.ts with 100,000 images 438 -> 394 MiB). Unlike the heap
// size flags, this one takes effect when set at run time: V8 reads it each time it computes a limit.
setFlagsFromString('--heap-growing-percent=200');
const gc = runInNewContext('gc') as (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

let received = 0;

/** Counts bytes received; now and then lets the garbage collector free the buffers they came in. */
export function bytesReceived(bytes: number): void {
  received += bytes;
  if (received >= RELEASE_EVERY) {
    received = 0;
    gc({ type: 'minor' });
  }
}

/**
 * A full garbage collection now, on this thread (a few ms with Berth's heap of 10-40 MB): for memory the collector
 * frees but does not know to collect for (the WebAssembly memories of aligned.ts once let go).
 */
export function collectFully(): void {
  gc({ type: 'major' });
}
