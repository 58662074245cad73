// The replication operations through the image's newer boto3 (`python3` on PATH, 1.43): test/e2e/python/ecr_replication.py
// sets the configuration, reads it back, and follows an image's replication to a plain OCI destination (here Berth's
// own /v2/, as an `oci` destination with Basic credentials) to COMPLETE. Fails (never skips) without that boto3.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { requireProgram } from '../helpers/ecr.ts';
import { configBlob, createClient, descriptor, imageManifest, MEDIA, randomBlob } from '../helpers/oci.ts';
import { describeResult, run, uniqueName } from '../helpers/tools.ts';

const script = join(dirname(fileURLToPath(import.meta.url)), 'python', 'ecr_replication.py');
const PYTHON = process.env.BERTH_TEST_NEWER_PYTHON ?? 'python3';
const ACCOUNT = '444455556666';

describe('the newer boto3 against Berth: replication', () => {
  let berth: Berth;

  before(async () => {
    await requireProgram(
      PYTHON,
      [
        '-c',
        'import boto3; assert "describe_image_replication_status" in dir(boto3.client("ecr", region_name="us-east-1")); print(boto3.__version__)',
      ],
      'a boto3 that knows DescribeImageReplicationStatus',
      'pip install boto3',
    );
    berth = await startBerth({ env: { BERTH_ACCOUNT_ID: ACCOUNT } });
  });

  after(async () => {
    await berth?.cleanup();
  });

  it('puts the configuration, describes it, and follows an image to COMPLETE', async () => {
    const repo = `${uniqueName('boto3-repl')}/app`;
    const oci = createClient(berth);
    const config = configBlob();
    const layer = randomBlob(4096);
    for (const blob of [config, layer]) assert.equal((await oci.pushBlob(repo, blob.bytes)).status, 201);
    const manifest = imageManifest({ config: descriptor(MEDIA.ociConfig, config), layers: [descriptor(MEDIA.ociLayerGzip, layer)] });
    assert.equal((await oci.pushManifest(repo, 'v1', manifest)).status, 201);
    const res = await fetch(`${berth.url}/_berth/admin/put-replication-destination`, {
      method: 'POST',
      headers: { authorization: berth.authHeader, 'content-type': 'application/json' },
      body: JSON.stringify({
        region: 'eu-west-1',
        registryId: '333333333333',
        url: berth.url,
        destinationType: 'oci',
        username: berth.accessKeyId,
        password: berth.secretAccessKey,
      }),
    });
    assert.equal(res.status, 200, await res.text());
    const r = await run(PYTHON, [script], {
      env: {
        BERTH_URL: berth.url,
        BERTH_ACCESS_KEY_ID: berth.accessKeyId,
        BERTH_SECRET_ACCESS_KEY: berth.secretAccessKey,
        BERTH_REPOSITORY: repo,
        BERTH_DIGEST: manifest.digest,
        BERTH_ACCOUNT: ACCOUNT,
        AWS_CONFIG_FILE: '/nonexistent/berth-test-aws-config',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/berth-test-aws-credentials',
        AWS_EC2_METADATA_DISABLED: 'true',
        PYTHONDONTWRITEBYTECODE: '1',
      },
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 0, describeResult(r));
    const done = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l).step as string);
    assert.deepEqual(done, ['versions', 'put_replication_configuration', 'describe_image_replication_status', 'done'], describeResult(r));
  });
});
