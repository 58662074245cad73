// End to end with boto3 (Debian python3-boto3, run by /usr/bin/python3): test/e2e/python/ecr_walk.py walks the
// repository operations, the image and layer operations and the authorization token, asserting each answer and
// each exception by its boto3 class (client.exceptions.RepositoryNotFoundException, ...). Needs boto3 for the Debian
// python3: without it the suite fails (it never skips).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { PYTHON, requireBoto3 } from '../helpers/ecr.ts';
import { describeResult, run, uniqueName } from '../helpers/tools.ts';

const script = join(dirname(fileURLToPath(import.meta.url)), 'python', 'ecr_walk.py');

describe('boto3 against Berth', () => {
  let berth: Berth;

  before(async () => {
    await requireBoto3();
    berth = await startBerth({ env: { BERTH_CREATE_ON_PUSH: 'false' } });
  });

  after(async () => {
    await berth?.cleanup();
  });

  /** Runs one section of the script; it must exit 0 having printed every expected step. */
  const walk = async (section: string, steps: string[]) => {
    const r = await run(PYTHON, [script, section], {
      env: {
        BERTH_URL: berth.url,
        BERTH_HOST: berth.host,
        BERTH_ACCESS_KEY_ID: berth.accessKeyId,
        BERTH_SECRET_ACCESS_KEY: berth.secretAccessKey,
        BERTH_PREFIX: uniqueName(`boto3-${section}`),
        AWS_CONFIG_FILE: '/nonexistent/berth-test-aws-config',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/berth-test-aws-credentials',
        AWS_EC2_METADATA_DISABLED: 'true',
        PYTHONDONTWRITEBYTECODE: '1',
      },
      timeoutMs: 300_000,
    });
    assert.equal(r.code, 0, describeResult(r));
    const done = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l).step as string);
    assert.deepEqual(done, ['versions', ...steps, 'done'], describeResult(r));
  };

  it('walks the repository operations', async () => {
    await walk('repositories', [
      'describe_registry',
      'create_repository',
      'create_repository errors',
      'describe_repositories',
      'describe_repositories paginator',
      'tags',
      'put_image_tag_mutability and scanning',
      'delete_repository',
    ]);
  });

  it('walks the image and layer operations: upload, put, list, describe, get, delete', async () => {
    await walk('images', [
      'layer upload',
      'layer upload errors',
      'batch_check_layer_availability',
      'put_image and its errors',
      'get_download_url_for_layer',
      'list_images',
      'describe_images',
      'batch_get_image',
      'batch_delete_image',
      'delete_repository force',
    ]);
  });

  it('gets an authorization token the data plane accepts, and sees the SigV4 errors', async () => {
    await walk('auth', ['get_authorization_token', 'sigv4 errors']);
  });
});
