// A real single-node S3 store for tests: Ceph's RADOS Gateway, started by scripts/ceph-rgw.sh (Berth's copy of the
// shared recipe, or $BERTH_TEST_CEPH_RGW) in a temporary directory, and
// stopped by it. Its generic exports (S3_ENDPOINT, AWS_*) are parsed and handed to tests, which map them onto
// Berth's own settings explicitly: nothing here relies on the AWS_* variables of the environment.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Rgw {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** The recipe's directory (its ceph.conf), for `ceph-rgw.sh stop DIR` from a signal handler. */
  dir: string;
  /** Creates a bucket of that name. */
  createBucket(name: string): Promise<void>;
  /** Berth's settings for a blob store in `bucket` (under `prefix`) on this gateway. */
  berthEnv(bucket: string, prefix?: string): Record<string, string>;
  /** Runs the gateway's garbage collection now (`radosgw-admin gc process --include-all`): deleted objects' data
   * otherwise stays in the in-memory store for rgw_gc_obj_min_wait (2 hours). */
  collectGarbage(): Promise<void>;
  stop(): Promise<void>;
}

function recipe(): string {
  const path = process.env.BERTH_TEST_CEPH_RGW ?? join(root, 'scripts', 'ceph-rgw.sh');
  if (!existsSync(path)) throw new Error(`the Ceph RGW recipe is not at ${path} (set BERTH_TEST_CEPH_RGW to its path)`);
  return path;
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [recipe(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** Starts a gateway; fails (never skips) when it cannot. A few attempts: on a busy machine a monitor just started
 * now and then refuses the recipe's first command ("EPERM: problem getting command descriptions from mon"). */
export async function startRgw(): Promise<Rgw> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-rgw-'));
  let started = await run(['start', dir]);
  for (let attempt = 2; attempt <= 4 && started.code !== 0; attempt++) {
    await sleep(2000 * attempt);
    started = await run(['start', dir]);
  }
  if (started.code !== 0) {
    await run(['stop', dir]);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`Ceph RGW did not start (exit ${started.code}):\n${started.stderr}`);
  }
  const vars: Record<string, string> = {};
  for (const m of started.stdout.matchAll(/([A-Z0-9_]+)=(\S+)/g)) vars[m[1]] = m[2];
  for (const name of ['S3_ENDPOINT', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
    if (!vars[name]) throw new Error(`the RGW recipe printed no ${name}:\n${started.stdout}`);
  }
  const rgw: Rgw = {
    endpoint: vars.S3_ENDPOINT,
    accessKeyId: vars.AWS_ACCESS_KEY_ID,
    secretAccessKey: vars.AWS_SECRET_ACCESS_KEY,
    region: vars.AWS_DEFAULT_REGION ?? 'us-east-1',
    dir,
    async createBucket(name) {
      const client = new S3Client({
        endpoint: rgw.endpoint,
        forcePathStyle: true,
        region: rgw.region,
        credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
      });
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }));
      } finally {
        client.destroy();
      }
    },
    berthEnv: (bucket, prefix = '') => ({
      BERTH_BLOB_STORE: `s3://${bucket}/${prefix}`,
      BERTH_S3_ENDPOINT: rgw.endpoint,
      BERTH_S3_REGION: rgw.region,
      BERTH_S3_ACCESS_KEY_ID: rgw.accessKeyId,
      BERTH_S3_SECRET_ACCESS_KEY: rgw.secretAccessKey,
    }),
    async collectGarbage() {
      await new Promise<void>((resolve, reject) => {
        const child = spawn('radosgw-admin', ['-c', join(dir, 'ceph.conf'), '-n', 'client.rgw.a', 'gc', 'process', '--include-all'], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d) => {
          stderr += d;
        });
        child.on('error', reject);
        child.on('close', (code) =>
          code === 0 ? resolve() : reject(new Error(`radosgw-admin gc process failed (exit ${code}):\n${stderr}`)),
        );
      });
    },
    async stop() {
      await run(['stop', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return rgw;
}
