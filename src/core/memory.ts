// Keeping memory flat while blobs stream in. Every socket read arrives in a fresh buffer whose memory V8 counts
// as external: it is freed only when a garbage collection finds the buffer dead, and V8 lets tens of MiB of
// such buffers pile up before it collects. A young-generation collection (cheap: the buffers are young) after
// every RELEASE_EVERY bytes received keeps that pile small.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const RELEASE_EVERY = 16 << 20;

setFlagsFromString('--expose-gc');
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
