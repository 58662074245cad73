// Hash state of upload sessions in progress, kept while bytes pass through this process, so that completing an
// upload needs no second read of its data. State is lost on restart (or when a chunk failed half way); the
// upload's data is then hashed again from storage when it completes.
//
// The SHA-256 itself runs on a worker thread (hash-worker.ts). Hashing is most of the CPU an upload costs, and
// with many uploads at once the event loop, which also reads the sockets and copies the data, was the limit on
// a 2-core machine. The bytes the blob store writes are copied into 1 MiB transferable buffers, sent to the
// worker, and sent back empty; at most IN_FLIGHT of them are out at once, which holds uploads back (through the
// blob store's backpressure) whenever the worker falls behind. Messages on one port arrive in order, so a
// digest asked for after the last update covers every byte. Should the worker die, every state goes, and
// uploads then complete by hashing from storage.
import { Worker } from 'node:worker_threads';
import type { Observer } from '../storage/blobs/store.ts';
import { KeyedLock } from './locks.ts';

/** Messages to the hashing thread. */
export type ToHasher =
  | { op: 'update'; key: number; buffer: ArrayBuffer; length: number }
  | { op: 'digest'; key: number; request: number }
  | { op: 'forget'; key: number };
/** Messages from it. */
export type FromHasher = { op: 'buffer'; buffer: ArrayBuffer } | { op: 'digest'; request: number; hex: string };

const PIECE = 1 << 20;
/** Buffers on their way to the worker or back, at most (and so the bytes waiting to be hashed). */
const IN_FLIGHT = 8;

interface State {
  key: number;
  offset: number;
  hasher: Hasher;
}

export class UploadHashes {
  private readonly states = new Map<string, State>();
  private readonly locks = new KeyedLock();

  start(id: string): void {
    const hasher = Hasher.get();
    this.states.set(id, { key: hasher.newKey(), offset: 0, hasher });
  }

  forget(id: string): void {
    const state = this.states.get(id);
    this.states.delete(id);
    state?.hasher.forget(state.key);
  }

  /**
   * For a body appended at `offset`: a function that hashes each piece as it is stored (when the state is at
   * that offset; a returned promise asks for no more until it settles), and one to call once the append is over,
   * with the new size, or with nothing when it failed. Until then the state is unknown: a failure half way leaves
   * it out of step with the data, so it is dropped.
   */
  observe(id: string, offset: number): { piece?: Observer; appended: (size?: number) => void } {
    const state = this.states.get(id);
    this.states.delete(id);
    if (!state || state.offset !== offset || !state.hasher.alive) {
      state?.hasher.forget(state.key);
      return { appended: () => {} };
    }
    let n = offset;
    return {
      piece: (piece) => {
        n += piece.length;
        return state.hasher.update(state.key, piece);
      },
      appended: (size) => {
        if (size !== n) {
          state.hasher.forget(state.key);
          return;
        }
        state.offset = n;
        this.states.set(id, state);
      },
    };
  }

  /** The sha256 hex digest of the first `size` bytes, when the state holds exactly those. */
  async sha256(id: string, size: number): Promise<string | undefined> {
    const state = this.states.get(id);
    return state && state.offset === size ? state.hasher.digest(state.key) : undefined;
  }

  /** Runs `fn` alone for this upload id: chunks of one upload are applied one at a time. */
  exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(id, fn);
  }
}

/** Stops the hashing thread as if it had died (for tests: the process can exit without it). */
export async function stopHashWorker(): Promise<void> {
  await Hasher.stop();
}

/** One worker thread, shared by every registry in the process, started on first use. */
class Hasher {
  private static current: Hasher | undefined;

  static async stop(): Promise<void> {
    await Hasher.current?.worker.terminate();
  }

  static get(): Hasher {
    if (!Hasher.current?.alive) Hasher.current = new Hasher();
    return Hasher.current;
  }

  alive = true;
  private readonly worker: Worker;
  private nextKey = 0;
  private nextRequest = 0;
  private readonly free: ArrayBuffer[] = [];
  /** Buffers sent and not back yet. */
  private out = 0;
  private readonly waiting: ((buffer: ArrayBuffer) => void)[] = [];
  private readonly digests = new Map<number, (hex: string | undefined) => void>();

  private constructor() {
    const here = import.meta.url;
    this.worker = new Worker(new URL(`./hash-worker${here.slice(here.lastIndexOf('.'))}`, here));
    this.worker.unref();
    this.worker.on('message', (m: FromHasher) => {
      if (m.op === 'buffer') {
        // A buffer back goes straight to the first upload waiting for one, if any (it stays counted as out).
        const next = this.waiting.shift();
        if (next) next(m.buffer);
        else {
          this.out--;
          this.free.push(m.buffer);
        }
      } else {
        this.digests.get(m.request)?.(m.hex);
        this.digests.delete(m.request);
      }
      this.updateRef();
    });
    this.worker.on('error', () => this.die());
    this.worker.on('exit', () => this.die());
  }

  newKey(): number {
    return this.nextKey++;
  }

  /** Sends a copy of `piece` to be hashed into `key`; a promise when it must wait for a buffer to come back. */
  update(key: number, piece: Buffer, from = 0): Promise<void> | undefined {
    for (let at = from; at < piece.length && this.alive; at += PIECE) {
      const buffer = this.take();
      if (buffer instanceof Promise) {
        return buffer.then((b) => {
          this.send(key, piece, at, b);
          return this.update(key, piece, at + PIECE);
        });
      }
      this.send(key, piece, at, buffer);
    }
    return undefined;
  }

  digest(key: number): Promise<string | undefined> {
    if (!this.alive) return Promise.resolve(undefined);
    const request = this.nextRequest++;
    const answer = new Promise<string | undefined>((resolve) => this.digests.set(request, resolve));
    this.post({ op: 'digest', key, request });
    return answer;
  }

  forget(key: number): void {
    if (this.alive) this.post({ op: 'forget', key });
  }

  /** A buffer to send, counted as out; a promise of one (in turn) while IN_FLIGHT are out. */
  private take(): ArrayBuffer | Promise<ArrayBuffer> {
    if (this.out >= IN_FLIGHT || this.waiting.length > 0) return new Promise((resolve) => this.waiting.push(resolve));
    this.out++;
    return this.free.pop() ?? new ArrayBuffer(PIECE);
  }

  private send(key: number, piece: Buffer, at: number, buffer: ArrayBuffer): void {
    if (!this.alive) return;
    const length = Math.min(PIECE, piece.length - at);
    piece.copy(new Uint8Array(buffer), 0, at, at + length);
    this.post({ op: 'update', key, buffer, length }, [buffer]);
  }

  private post(message: ToHasher, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(message, transfer);
    this.updateRef();
  }

  /** The worker keeps the process alive only while an answer from it is awaited. */
  private updateRef(): void {
    if (this.out > 0 || this.digests.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  private die(): void {
    if (!this.alive) return;
    this.alive = false;
    for (const resolve of this.digests.values()) resolve(undefined);
    this.digests.clear();
    for (const resume of this.waiting.splice(0)) resume(new ArrayBuffer(0));
    this.worker.unref();
  }
}
