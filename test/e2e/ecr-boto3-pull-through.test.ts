// End to end with the image's newer boto3 (`python3` on PATH, boto3 1.43): test/e2e/python/ecr_pull_through_walk.py
// walks the five pull through cache rule operations, asserting each exception by its boto3 class. The secret the
// rules name is stored first with `berth admin put-secret`. Needs a python3 whose botocore knows these operations:
// without it the suite fails (it never skips).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { requireProgram } from '../helpers/ecr.ts';
import { admin } from '../helpers/policies.ts';
import { describeResult, run } from '../helpers/tools.ts';

const script = join(dirname(fileURLToPath(import.meta.url)), 'python', 'ecr_pull_through_walk.py');
const PYTHON = process.env.BERTH_TEST_NEWER_PYTHON ?? 'python3';

describe('the newer boto3 against Berth: pull through cache rules', () => {
  let berth: Berth;

  before(async () => {
    await requireProgram(
      PYTHON,
      [
        '-c',
        'import boto3; assert "validate_pull_through_cache_rule" in dir(boto3.client("ecr", region_name="us-east-1")); print(boto3.__version__)',
      ],
      'a boto3 that knows ValidatePullThroughCacheRule (1.33 or later)',
      'pip install boto3',
    );
    berth = await startBerth();
  });

  after(async () => {
    await berth?.cleanup();
  });

  it('walks CreatePullThroughCacheRule, Describe, Update, Validate and Delete with their exceptions', async () => {
    const secret = await admin(
      berth,
      'put-secret',
      '--name',
      'ecr-pullthroughcache/self',
      '--secret-string',
      JSON.stringify({ username: berth.accessKeyId, accessToken: berth.secretAccessKey }),
    );
    const r = await run(PYTHON, [script], {
      env: {
        BERTH_URL: berth.url,
        BERTH_ACCESS_KEY_ID: berth.accessKeyId,
        BERTH_SECRET_ACCESS_KEY: berth.secretAccessKey,
        BERTH_SECRET_ARN: secret.arn,
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
    assert.deepEqual(
      done,
      [
        'versions',
        'create_pull_through_cache_rule',
        'describe_pull_through_cache_rules',
        'update_pull_through_cache_rule',
        'validate_pull_through_cache_rule',
        'delete_pull_through_cache_rule',
        'done',
      ],
      describeResult(r),
    );
  });
});
