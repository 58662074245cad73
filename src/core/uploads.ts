// Hash state of upload sessions in progress, kept in memory while bytes pass through this process, so that
// completing an upload needs no second read of its data. State is lost on restart (or when a chunk failed half
// way); the upload's data is then hashed again from storage when it completes.
import { createHash, type Hash } from 'node:crypto';
import { KeyedLock } from './locks.ts';

interface State { hash: Hash; offset: number }

export class UploadHashes {
  private readonly states = new Map<string, State>();
  private readonly locks = new KeyedLock();

  start(id: string): void {
    this.states.set(id, { hash: createHash('sha256'), offset: 0 });
  }

  forget(id: string): void {
    this.states.delete(id);
  }

  /**
   * For a body appended at `offset`: a function that hashes each chunk as it passes (when the state is at that
   * offset), and one to call once the append is durable with the new size. Until then the state is unknown: a
   * failure half way leaves it out of step with the data, so it is set aside.
   */
  observe(id: string, offset: number): { chunk?: (chunk: Buffer) => void; appended: (size: number) => void } {
    const state = this.states.get(id);
    this.states.delete(id);
    if (!state || state.offset !== offset) return { appended: () => {} };
    let n = offset;
    return {
      chunk: (chunk) => {
        state.hash.update(chunk);
        n += chunk.length;
      },
      appended: (size) => {
        if (size !== n) return;
        state.offset = n;
        this.states.set(id, state);
      },
    };
  }

  /** The sha256 hex digest of the first `size` bytes, when the state holds exactly those. */
  sha256(id: string, size: number): string | undefined {
    const state = this.states.get(id);
    return state && state.offset === size ? state.hash.copy().digest('hex') : undefined;
  }

  /** Runs `fn` alone for this upload id: chunks of one upload are applied one at a time. */
  exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(id, fn);
  }

}
