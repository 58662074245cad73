// Opening the configured blob store: the data directory by default, S3 with `blobStore: s3://bucket/prefix`.
// The S3 client is loaded only when it is used, so that the embedded default starts as fast as before.
import type { Config } from '../../config.ts';
import type { CollectableBlobStore } from '../../gc/collector.ts';
import { FilesystemBlobStore } from './fs.ts';

/** `onFull` hears of a write refused for lack of space (the filesystem store). */
export async function openBlobStore(config: Config, dataDir: string, options: { onFull?: () => void } = {}): Promise<CollectableBlobStore> {
  if (config.blobStore === undefined) {
    const blobs = new FilesystemBlobStore(dataDir, { directIO: config.directIO, onFull: options.onFull });
    await blobs.init();
    return blobs;
  }
  const { S3BlobStore, parseS3Url } = await import('./s3.ts');
  const location = parseS3Url(config.blobStore);
  if (!location) throw new Error(`blobStore must be s3://bucket/prefix, not "${config.blobStore}"`);
  const blobs = new S3BlobStore({
    ...location,
    endpoint: config.s3Endpoint,
    region: config.s3Region,
    accessKeyId: config.s3AccessKeyId,
    secretAccessKey: config.s3SecretAccessKey,
  });
  await blobs.init();
  return blobs;
}
