// The PostgreSQL + S3 backend of the benchmarks (issue 17): a private PostgreSQL and a single-node Ceph RGW (in
// memory, RGW_MEMSTORE_GB), started by the project's recipes through the tests' helpers. The recipes print generic
// names (DATABASE_URL, S3_ENDPOINT, AWS_*); they are mapped here onto Berth's settings and distribution's s3 driver
// explicitly. Each registry has its own bucket, emptied (and the gateway's garbage collected) between rounds, and each
// Berth instance its own fresh database.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { startPostgres, type Postgres } from '../../test/helpers/postgres.ts';
import { startRgw, type Rgw } from '../../test/helpers/rgw.ts';
import { ROOT, stopOnSignal, type Kind, type S3Settings, type StartOptions } from './servers.ts';

/** A recipe's `stop DIR`, synchronously (from a signal handler). */
function stopRecipe(recipe: string, dir: string): void {
  execFileSync('bash', [join(ROOT, 'scripts', recipe), 'stop', dir], { stdio: 'ignore' });
}

/** A private PostgreSQL alone (bench/scale.ts --backend pg), stopped on SIGINT/SIGTERM too. */
export async function privatePostgres(): Promise<Postgres> {
  const postgres = await startPostgres();
  const unregister = stopOnSignal(() => stopRecipe('postgres.sh', postgres.dir));
  return {
    ...postgres,
    stop: async () => {
      try {
        await postgres.stop();
      } finally {
        unregister();
      }
    },
  };
}

export const BUCKETS: Record<Kind, string> = { berth: 'bench-berth', distribution: 'bench-distribution' };
const BERTH_PREFIX = 'berth';

export class PgS3 {
  readonly postgres: Postgres;
  readonly rgw: Rgw;
  private readonly client: S3Client;
  private readonly unregister: () => void;
  private databases = 0;
  private constructor(postgres: Postgres, rgw: Rgw, client: S3Client, unregister: () => void) {
    this.postgres = postgres;
    this.rgw = rgw;
    this.client = client;
    this.unregister = unregister;
  }

  /** Starts PostgreSQL and the gateway (side by side) and creates the two buckets. */
  static async start(): Promise<PgS3> {
    const [pg, rgw] = await Promise.allSettled([startPostgres(), startRgw()]);
    if (pg.status === 'rejected' || rgw.status === 'rejected') {
      if (pg.status === 'fulfilled') await pg.value.stop();
      if (rgw.status === 'fulfilled') await rgw.value.stop();
      throw (pg.status === 'rejected' ? pg.reason : (rgw as PromiseRejectedResult).reason) as Error;
    }
    const unregister = stopOnSignal(() => {
      stopRecipe('ceph-rgw.sh', rgw.value.dir);
      stopRecipe('postgres.sh', pg.value.dir);
    });
    const client = new S3Client({
      endpoint: rgw.value.endpoint,
      forcePathStyle: true,
      region: rgw.value.region,
      credentials: { accessKeyId: rgw.value.accessKeyId, secretAccessKey: rgw.value.secretAccessKey },
    });
    const backend = new PgS3(pg.value, rgw.value, client, unregister);
    for (const bucket of Object.values(BUCKETS)) await rgw.value.createBucket(bucket);
    return backend;
  }

  private settings(bucket: string): S3Settings {
    return {
      endpoint: this.rgw.endpoint,
      region: this.rgw.region,
      accessKeyId: this.rgw.accessKeyId,
      secretAccessKey: this.rgw.secretAccessKey,
      bucket,
    };
  }

  /** A fresh database, for one Berth instance. */
  async database(): Promise<string> {
    return this.postgres.createDatabase(`bench_${process.pid}_${++this.databases}`);
  }

  /** What startRegistry() needs to run `kind` on this backend: for Berth a fresh database, the bucket and keys. */
  async startOptions(kind: Kind): Promise<StartOptions> {
    const bucket = BUCKETS[kind];
    if (kind === 'distribution') return { s3Settings: this.settings(bucket) };
    return {
      env: {
        BERTH_DATABASE_URL: await this.database(),
        BERTH_SECRET_KEY: randomBytes(32).toString('base64'),
        ...this.rgw.berthEnv(bucket, BERTH_PREFIX),
      },
      s3: { bucket, key: (digest) => `${BERTH_PREFIX}/blobs/${digest.replace(':', '/')}` },
    };
  }

  /** A presigned GET of an object, straight to the gateway: the store's own read, without a registry. */
  presign(bucket: string, key: string): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 3600 });
  }

  /** Deletes every object and aborts every multipart upload in the bucket, then has the gateway free their data. */
  async empty(bucket: string): Promise<{ objects: number; multipart: number }> {
    let objects = 0;
    let multipart = 0;
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length > 0) await this.client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
      objects += keys.length;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    for (;;) {
      const uploads = (await this.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];
      if (uploads.length === 0) break;
      for (const u of uploads)
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key!, UploadId: u.UploadId! }));
      multipart += uploads.length;
    }
    await this.rgw.collectGarbage();
    return { objects, multipart };
  }

  async stop(): Promise<void> {
    this.client.destroy();
    try {
      await this.rgw.stop();
    } finally {
      await this.postgres.stop();
      this.unregister();
    }
  }
}
