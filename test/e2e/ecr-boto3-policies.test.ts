// The operations of botocore's model that no other boto3 walk calls, through the image's newer boto3 (`python3` on
// PATH, 1.43): test/e2e/python/ecr_policies_walk.py walks account settings, registry and repository policies,
// lifecycle policies and previews, the scanning configurations, StartImageScan and DescribeImageScanFindings, each
// exception by its boto3 class. Fails (never skips) without that boto3.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { requireProgram } from '../helpers/ecr.ts';
import { gzipSync } from 'node:zlib';
import { configBlob, content, createClient, descriptor, imageManifest, MEDIA } from '../helpers/oci.ts';
import { makeTar } from '../helpers/tar-layers.ts';
import { describeResult, run, uniqueName } from '../helpers/tools.ts';

const script = join(dirname(fileURLToPath(import.meta.url)), 'python', 'ecr_policies_walk.py');
const PYTHON = process.env.BERTH_TEST_NEWER_PYTHON ?? 'python3';

describe('the newer boto3 against Berth: settings, policies, lifecycle, scanning', () => {
  let berth: Berth;

  before(async () => {
    await requireProgram(
      PYTHON,
      ['-c', 'import boto3; assert "put_account_setting" in dir(boto3.client("ecr", region_name="us-east-1")); print(boto3.__version__)'],
      'a boto3 that knows PutAccountSetting',
      'pip install boto3',
    );
    berth = await startBerth();
  });

  after(async () => {
    await berth?.cleanup();
  });

  it('walks account settings, registry and repository policies, lifecycle, scanning configuration and scans', async () => {
    const repo = `${uniqueName('boto3pol')}/app`;
    const oci = createClient(berth);
    const config = configBlob();
    // A real layer (a Debian os-release, no package database): the scan completes with no findings.
    const layer = content(gzipSync(await makeTar([{ name: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' }])));
    for (const blob of [config, layer]) assert.equal((await oci.pushBlob(repo, blob.bytes)).status, 201);
    const manifest = imageManifest({ config: descriptor(MEDIA.ociConfig, config), layers: [descriptor(MEDIA.ociLayerGzip, layer)] });
    assert.equal((await oci.pushManifest(repo, 'v1', manifest)).status, 201);
    const r = await run(PYTHON, [script], {
      env: {
        BERTH_URL: berth.url,
        BERTH_ACCESS_KEY_ID: berth.accessKeyId,
        BERTH_SECRET_ACCESS_KEY: berth.secretAccessKey,
        BERTH_REPOSITORY: repo,
        AWS_CONFIG_FILE: '/nonexistent/berth-test-aws-config',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/berth-test-aws-credentials',
        AWS_EC2_METADATA_DISABLED: 'true',
        PYTHONDONTWRITEBYTECODE: '1',
      },
      timeoutMs: 180_000,
    });
    assert.equal(r.code, 0, describeResult(r));
    const done = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l).step as string);
    assert.deepEqual(
      done,
      ['account settings', 'registry policy', 'repository policy', 'lifecycle policy', 'scanning', 'done'],
      describeResult(r),
    );
  });
});
