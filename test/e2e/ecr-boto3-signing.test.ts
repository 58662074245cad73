// The signing operations through the image's newer boto3 (`python3` on PATH, 1.43): test/e2e/python/ecr_signing.py
// puts and reads the signing configuration, the test pushes an image, and the script follows its signing to
// COMPLETE, then deletes the configuration. Fails (never skips) without that boto3.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { requireProgram } from '../helpers/ecr.ts';
import { configBlob, createClient, descriptor, imageManifest, MEDIA, randomBlob } from '../helpers/oci.ts';
import { admin } from '../helpers/policies.ts';
import { describeResult, run, uniqueName } from '../helpers/tools.ts';

const script = join(dirname(fileURLToPath(import.meta.url)), 'python', 'ecr_signing.py');
const PYTHON = process.env.BERTH_TEST_NEWER_PYTHON ?? 'python3';

describe('the newer boto3 against Berth: signing', () => {
  let berth: Berth;

  before(async () => {
    await requireProgram(
      PYTHON,
      [
        '-c',
        'import boto3; assert "describe_image_signing_status" in dir(boto3.client("ecr", region_name="us-east-1")); print(boto3.__version__)',
      ],
      'a boto3 that knows DescribeImageSigningStatus',
      'pip install boto3',
    );
    berth = await startBerth();
  });

  after(async () => {
    await berth?.cleanup();
  });

  it('puts and reads the configuration, follows a pushed image to COMPLETE, deletes the configuration', async () => {
    const repo = `${uniqueName('boto3sign')}/app`;
    const profile = await admin<{ signingProfileArn: string }>(berth, 'create-signing-profile', '--name', 'boto3');
    const env = {
      BERTH_URL: berth.url,
      BERTH_ACCESS_KEY_ID: berth.accessKeyId,
      BERTH_SECRET_ACCESS_KEY: berth.secretAccessKey,
      BERTH_PROFILE_ARN: profile.signingProfileArn,
      BERTH_REPOSITORY: repo,
      AWS_CONFIG_FILE: '/nonexistent/berth-test-aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/berth-test-aws-credentials',
      AWS_EC2_METADATA_DISABLED: 'true',
      PYTHONDONTWRITEBYTECODE: '1',
    };
    const steps = (stdout: string) =>
      stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l).step as string);
    const configure = await run(PYTHON, [script, 'configure'], { env, timeoutMs: 60_000 });
    assert.equal(configure.code, 0, describeResult(configure));
    assert.deepEqual(steps(configure.stdout), ['not_found', 'put_get', 'unknown_profile', 'done'], describeResult(configure));

    const oci = createClient(berth);
    const config = configBlob();
    const layer = randomBlob(4096);
    for (const blob of [config, layer]) assert.equal((await oci.pushBlob(repo, blob.bytes)).status, 201);
    const manifest = imageManifest({ config: descriptor(MEDIA.ociConfig, config), layers: [descriptor(MEDIA.ociLayerGzip, layer)] });
    assert.equal((await oci.pushManifest(repo, 'v1', manifest)).status, 201);

    const follow = await run(PYTHON, [script, 'follow'], { env: { ...env, BERTH_DIGEST: manifest.digest }, timeoutMs: 120_000 });
    assert.equal(follow.code, 0, describeResult(follow));
    assert.deepEqual(steps(follow.stdout), ['complete', 'image_not_found', 'deleted', 'done'], describeResult(follow));
  });
});
