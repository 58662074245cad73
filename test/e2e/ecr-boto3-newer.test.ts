// End to end with the image's newer boto3 (`python3` on PATH, boto3 1.43; Debian's python3-boto3 1.26 does not
// know these operations): test/e2e/python/ecr_newer_walk.py walks ListImageReferrers, the repository creation
// template operations and the pull time update exclusion operations, asserting each exception by its boto3 class.
// Needs a python3 whose botocore knows these operations: without it the suite fails (it never skips).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { requireProgram } from '../helpers/ecr.ts';
import { describeResult, run, uniqueName } from '../helpers/tools.ts';

const script = join(dirname(fileURLToPath(import.meta.url)), 'python', 'ecr_newer_walk.py');
const PYTHON = process.env.BERTH_TEST_NEWER_PYTHON ?? 'python3';

describe('the newer boto3 against Berth: referrers, creation templates, pull time update exclusions', () => {
  let berth: Berth;

  before(async () => {
    await requireProgram(
      PYTHON,
      ['-c', 'import boto3; assert "list_image_referrers" in dir(boto3.client("ecr", region_name="us-east-1")); print(boto3.__version__)'],
      'a boto3 that knows ListImageReferrers (1.40 or later)',
      'pip install boto3',
    );
    berth = await startBerth();
  });

  after(async () => {
    await berth?.cleanup();
  });

  it('walks ListImageReferrers, the creation template and the pull time update exclusion operations', async () => {
    const r = await run(PYTHON, [script], {
      env: {
        BERTH_URL: berth.url,
        BERTH_ACCESS_KEY_ID: berth.accessKeyId,
        BERTH_SECRET_ACCESS_KEY: berth.secretAccessKey,
        BERTH_PREFIX: uniqueName('boto3-newer'),
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
      ['versions', 'list_image_referrers', 'repository creation templates', 'pull time update exclusions', 'done'],
      describeResult(r),
    );
  });
});
