// Hashing stored bytes again: an upload whose in-memory hash state was lost, and fsck's check of every blob.
import { createHash } from 'node:crypto';

/** The digest (`algorithm:hex`) of everything a stream yields. */
export async function digestOfStream(algorithm: string, stream: AsyncIterable<unknown>): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return `${algorithm}:${hash.digest('hex')}`;
}
