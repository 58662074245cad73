// The thread that hashes upload data (see uploads.ts). Messages come in order on one port: `update` hashes the
// first `length` bytes of a buffer into state `key` (made on first use) and sends the buffer back for reuse,
// `digest` answers with the hex SHA-256 of everything hashed into `key` so far, `forget` drops `key`.
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { ToHasher } from './uploads.ts';

const states = new Map<number, Hash>();
const port = parentPort!;

function state(key: number): Hash {
  let hash = states.get(key);
  if (!hash) states.set(key, (hash = createHash('sha256')));
  return hash;
}

port.on('message', (m: ToHasher) => {
  switch (m.op) {
    case 'update':
      state(m.key).update(new Uint8Array(m.buffer, 0, m.length));
      port.postMessage({ op: 'buffer', buffer: m.buffer }, [m.buffer]);
      break;
    case 'digest':
      port.postMessage({ op: 'digest', request: m.request, hex: state(m.key).copy().digest('hex') });
      break;
    case 'forget':
      states.delete(m.key);
      break;
  }
});
