// The blob store contract on S3, against a real Ceph RADOS Gateway (started here, stopped after; the test fails
// when it cannot start). Two store instances on one bucket and prefix stand for two nodes.
import { before, after } from 'node:test';
import { randomUUID } from 'node:crypto';
import { S3BlobStore } from '../../src/storage/blobs/s3.ts';
import { blobStoreContract } from '../contracts/blob-store.contract.ts';
import { startRgw, type Rgw } from '../helpers/rgw.ts';

let rgw: Rgw;
const bucket = `berth-contract-${randomUUID().slice(0, 8)}`;
before(async () => {
  rgw = await startRgw();
  await rgw.createBucket(bucket);
}, { timeout: 600_000 });
after(async () => {
  await rgw?.stop();
});

blobStoreContract('S3 (Ceph RGW)', async () => {
  const prefix = `contract/${randomUUID()}`;
  const stores: S3BlobStore[] = [];
  return {
    async open() {
      // The gateway's settings, mapped explicitly: the store never falls back to AWS_* variables here.
      const store = new S3BlobStore({
        bucket, prefix, endpoint: rgw.endpoint, region: rgw.region,
        accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey,
      });
      await store.init();
      stores.push(store);
      return store;
    },
    async cleanup() {
      for (const s of stores) s.close();
    },
  };
});
