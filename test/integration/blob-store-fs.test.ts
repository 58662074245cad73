// The blob store contract on the filesystem store (the default). Two instances on one directory stand for two
// processes on one data directory. Its filesystem-specific behaviour (O_DIRECT, ramfs, tmpfs) is in
// blob-store.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemBlobStore } from '../../src/storage/blobs/fs.ts';
import { blobStoreContract } from '../contracts/blob-store.contract.ts';

blobStoreContract('filesystem', async () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-blob-contract-'));
  return {
    async open() {
      const store = new FilesystemBlobStore(root);
      await store.init();
      return store;
    },
    async cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
});
