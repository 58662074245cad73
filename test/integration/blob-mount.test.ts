// Cross-repository blob mounts (issue 16, item 1): `POST /v2/<name>/blobs/uploads/?mount=<digest>[&from=<repo>]`
// links a blob only from a repository that holds it and that the caller may pull from (`ecr:GetDownloadUrlForLayer`
// on it, as ECR requires: "Users need ecr:GetDownloadUrlForLayer IAM permission on a repository to mount layers from
// it"). Anything else answers exactly as a mount of a blob the registry does not have: 202 and an upload session,
// and the blob stays out of the target. Automatic mounts (no `from`) follow the account setting BLOB_MOUNTING
// (GetAccountSetting / PutAccountSetting, through the real @aws-sdk/client-ecr), ENABLED by default in Berth.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  DescribeRegistryCommand,
  GetAccountSettingCommand,
  PutAccountSettingCommand,
  SetRepositoryPolicyCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { createClient, randomBlob, withQuery, type OciClient, type OciResponse, type Content } from '../helpers/oci.ts';
import { ecrClient, expectEcrError } from '../helpers/ecr.ts';
import { admin, createUser, type Keys } from '../helpers/policies.ts';

let berth: Berth;
let root: OciClient;
let sdk: ECRClient;
let account: string;

const SOURCE = 'mount/source';
const TARGET = 'mount/target';
const PUSH = [
  'ecr:InitiateLayerUpload',
  'ecr:UploadLayerPart',
  'ecr:CompleteLayerUpload',
  'ecr:PutImage',
  'ecr:BatchCheckLayerAvailability',
];

const arn = (name: string) => `arn:aws:ecr:us-east-1:${account}:repository/${name}`;
const basic = (k: Keys) => 'Basic ' + Buffer.from(`${k.accessKeyId}:${k.secretAccessKey}`).toString('base64');
const clientOf = (k: Keys) => createClient({ ...berth, authHeader: basic(k) });

/** Push on the target (and reads of it: HEAD and GET, to see what it holds) and, optionally, pull on `pullFrom`. */
function policy(pullFrom?: string) {
  const statements: object[] = [{ Effect: 'Allow', Action: [...PUSH, 'ecr:GetDownloadUrlForLayer'], Resource: arn(TARGET) }];
  if (pullFrom) statements.push({ Effect: 'Allow', Action: ['ecr:GetDownloadUrlForLayer'], Resource: arn(pullFrom) });
  return { name: 'mount', document: { Version: '2012-10-17', Statement: statements } };
}

/** A blob pushed (by root) to the source repository only. */
async function sourceBlob(): Promise<Content> {
  const blob = randomBlob(1024);
  assert.equal((await root.pushBlob(SOURCE, blob.bytes)).status, 201);
  return blob;
}

const mount = (c: OciClient, digest: string, from?: string) =>
  c.post(withQuery(`/v2/${TARGET}/blobs/uploads/`, from === undefined ? { mount: digest } : { mount: digest, from }));

/** The answer of a mount that did not happen: exactly what a mount of an unknown blob gets (no oracle). */
function assertUploadSession(res: OciResponse, unknown: OciResponse, what: string): void {
  assert.equal(res.status, 202, `${what}: ${res.status} ${res.text()}`);
  assert.equal(res.status, unknown.status);
  assert.match(res.location, new RegExp(`^/v2/${TARGET}/blobs/uploads/[0-9a-f-]{36}$`), `${what}: an upload session in the target`);
  assert.equal(res.headers.get('range'), '0-0');
  assert.equal(res.headers.get('docker-upload-uuid'), res.location.split('/').pop());
  assert.equal(res.headers.get('content-length'), '0');
  assert.equal(res.headers.get('docker-content-digest'), null);
  const names = (r: OciResponse) => [...r.headers.keys()].filter((h) => h !== 'date').sort();
  assert.deepEqual(names(res), names(unknown), `${what}: the same headers as a mount of a blob the registry does not have`);
  assert.equal(res.text(), unknown.text());
}

/** The target does not hold the blob: not for the caller, and not for root. */
async function assertNotInTarget(c: OciClient, digest: string): Promise<void> {
  for (const who of [c, root]) {
    assert.equal((await who.head(`/v2/${TARGET}/blobs/${digest}`)).status, 404, 'HEAD in the target');
    assert.equal((await who.get(`/v2/${TARGET}/blobs/${digest}`)).status, 404, 'GET in the target');
  }
}

async function assertInTarget(c: OciClient, blob: Content): Promise<void> {
  const res = await c.get(`/v2/${TARGET}/blobs/${blob.digest}`);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, blob.bytes);
}

before(async () => {
  berth = await startBerth();
  root = createClient(berth);
  sdk = ecrClient(berth);
  account = (await sdk.send(new DescribeRegistryCommand({}))).registryId!;
  // The repositories exist before the users' pushes (a user may not create them).
  assert.equal((await root.pushBlob(SOURCE, Buffer.from('seed'))).status, 201);
  assert.equal((await root.pushBlob(TARGET, Buffer.from('seed'))).status, 201);
});
after(async () => {
  sdk?.destroy();
  await berth?.cleanup();
});

describe('a caller with push on the target only', () => {
  let pusher: OciClient;
  before(async () => {
    pusher = clientOf(await createUser(berth, 'pusher', policy()));
  });

  it('mount of a blob held by another repository, with and without from: 202 and an upload session, and nothing mounted', async () => {
    const blob = await sourceBlob();
    const unknown = await mount(pusher, randomBlob(16).digest);
    assertUploadSession(await mount(pusher, blob.digest), unknown, 'automatic mount');
    const unknownFrom = await mount(pusher, randomBlob(16).digest, SOURCE);
    const fromSource = await mount(pusher, blob.digest, SOURCE);
    assertUploadSession(fromSource, unknownFrom, 'mount from the source');
    await assertNotInTarget(pusher, blob.digest);
    // The session it gets is an ordinary upload: completing it with the other repository's digest fails.
    const put = await pusher.put(withQuery(fromSource.location, { digest: blob.digest }));
    assert.equal(put.status, 400, `an empty upload does not have the blob's digest: ${put.text()}`);
    await assertNotInTarget(pusher, blob.digest);
  });

  it('a repository policy on the source that grants only other actions does not open it', async () => {
    const blob = await sourceBlob();
    const unknown = await mount(pusher, randomBlob(16).digest, SOURCE);
    // BatchGetImage (manifests) is not GetDownloadUrlForLayer (layers).
    const other = clientOf(
      await createUser(berth, 'manifest-reader', {
        name: 'mount',
        document: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: [...PUSH, 'ecr:GetDownloadUrlForLayer'], Resource: arn(TARGET) },
            {
              Effect: 'Allow',
              Action: ['ecr:BatchGetImage', 'ecr:BatchCheckLayerAvailability', 'ecr:DescribeImages'],
              Resource: arn(SOURCE),
            },
          ],
        },
      }),
    );
    assertUploadSession(await mount(other, blob.digest, SOURCE), unknown, 'mount with BatchGetImage only');
    assertUploadSession(await mount(other, blob.digest), unknown, 'automatic mount with BatchGetImage only');
    await assertNotInTarget(other, blob.digest);
  });
});

describe('a caller with push on the target and pull (GetDownloadUrlForLayer) on the source', () => {
  let puller: OciClient;
  before(async () => {
    puller = clientOf(await createUser(berth, 'puller', policy(SOURCE)));
  });

  it('mount with from and without: 201 Created, and the blob is then readable from the target', async () => {
    const blob = await sourceBlob();
    const res = await mount(puller, blob.digest, SOURCE);
    assert.equal(res.status, 201, res.text());
    assert.equal(res.location, `/v2/${TARGET}/blobs/${blob.digest}`);
    assert.equal(res.headers.get('docker-content-digest'), blob.digest);
    await assertInTarget(puller, blob);
    const other = await sourceBlob();
    assert.equal((await mount(puller, other.digest)).status, 201, 'automatic mount');
    await assertInTarget(puller, other);
  });

  it('without from, only the repositories it may pull from count', async () => {
    // Held only by a repository it may not pull from: 202, with and without from (and from a repository that does
    // not hold it).
    const hidden = randomBlob(512);
    assert.equal((await root.pushBlob('mount/a-hidden', hidden.bytes)).status, 201);
    const unknown = await mount(puller, randomBlob(16).digest, 'mount/a-hidden');
    assertUploadSession(await mount(puller, hidden.digest, 'mount/a-hidden'), unknown, 'mount from a repository it may not pull');
    assertUploadSession(await mount(puller, hidden.digest), unknown, 'automatic mount');
    assertUploadSession(await mount(puller, hidden.digest, SOURCE), unknown, 'mount from a repository that does not hold it');
    await assertNotInTarget(puller, hidden.digest);
    // Held by `mount/a-hidden` (sorted first) and by the source: mounted from the source.
    assert.equal((await root.pushBlob(SOURCE, hidden.bytes)).status, 201);
    assert.equal((await mount(puller, hidden.digest)).status, 201);
    await assertInTarget(puller, hidden);
  });
});

describe('BLOB_MOUNTING, through GetAccountSetting and PutAccountSetting', () => {
  let puller: OciClient;
  before(async () => {
    puller = clientOf(await createUser(berth, 'setting-puller', policy(SOURCE)));
  });
  after(async () => {
    await sdk.send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'ENABLED' }));
  });

  it('is ENABLED by default in Berth', async () => {
    const got = await sdk.send(new GetAccountSettingCommand({ name: 'BLOB_MOUNTING' }));
    assert.deepEqual([got.name, got.value], ['BLOB_MOUNTING', 'ENABLED']);
  });

  it('DISABLED: an automatic mount answers 202, a mount with from still works', async () => {
    const put = await sdk.send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'DISABLED' }));
    assert.deepEqual([put.name, put.value], ['BLOB_MOUNTING', 'DISABLED']);
    const got = await sdk.send(new GetAccountSettingCommand({ name: 'BLOB_MOUNTING' }));
    assert.equal(got.value, 'DISABLED');
    const blob = await sourceBlob();
    const unknown = await mount(puller, randomBlob(16).digest);
    assertUploadSession(await mount(puller, blob.digest), unknown, 'automatic mount with BLOB_MOUNTING DISABLED');
    await assertNotInTarget(puller, blob.digest);
    assert.equal((await mount(puller, blob.digest, SOURCE)).status, 201, 'a mount with from');
    await assertInTarget(puller, blob);
  });

  it('ENABLED again: automatic mounts work again', async () => {
    await sdk.send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'ENABLED' }));
    const blob = await sourceBlob();
    assert.equal((await mount(puller, blob.digest)).status, 201);
  });

  it('refuses a value other than ENABLED or DISABLED with ValidationException, and keeps the setting', async () => {
    await expectEcrError(
      sdk.send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'enabled' })),
      'ValidationException',
      /ENABLED, DISABLED/,
    );
    await expectEcrError(sdk.send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'MAYBE' })), 'ValidationException', /MAYBE/);
    assert.equal((await sdk.send(new GetAccountSettingCommand({ name: 'BLOB_MOUNTING' }))).value, 'ENABLED');
  });

  it('refuses a name ECR does not know with ValidationException', async () => {
    await expectEcrError(
      sdk.send(new GetAccountSettingCommand({ name: 'NO_SUCH_SETTING' })),
      'ValidationException',
      /NO_SUCH_SETTING.*BLOB_MOUNTING/,
    );
    await expectEcrError(
      sdk.send(new PutAccountSettingCommand({ name: 'NO_SUCH_SETTING', value: 'ENABLED' })),
      'ValidationException',
      /NO_SUCH_SETTING/,
    );
  });

  it('needs ecr:GetAccountSetting / ecr:PutAccountSetting on the registry', async () => {
    const keys = await createUser(berth, 'setting-reader', {
      name: 'read',
      document: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'ecr:GetAccountSetting', Resource: `arn:aws:ecr:us-east-1:${account}:registry` }],
      },
    });
    const user = ecrClient(berth, keys);
    try {
      assert.equal((await user.send(new GetAccountSettingCommand({ name: 'BLOB_MOUNTING' }))).value, 'ENABLED');
      await expectEcrError(
        user.send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'DISABLED' })),
        'AccessDeniedException',
        /not authorized to perform: ecr:PutAccountSetting on resource: arn:aws:ecr:us-east-1:\d{12}:registry/,
      );
      assert.equal((await sdk.send(new GetAccountSettingCommand({ name: 'BLOB_MOUNTING' }))).value, 'ENABLED', 'unchanged');
    } finally {
      user.destroy();
    }
  });
});

describe('another account', () => {
  it("has its own BLOB_MOUNTING, and mounts from this account's repository only where its policy allows", async () => {
    const other = await admin<{ accountId: string; accessKeyId: string; secretAccessKey: string }>(berth, 'create-account');
    const otherSdk = ecrClient(berth, other);
    try {
      await otherSdk.send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'DISABLED' }));
      assert.equal(
        (await sdk.send(new GetAccountSettingCommand({ name: 'BLOB_MOUNTING' }))).value,
        'ENABLED',
        'this account keeps its own',
      );
      assert.equal((await otherSdk.send(new GetAccountSettingCommand({ name: 'BLOB_MOUNTING' }))).value, 'DISABLED');

      const c = createClient({ ...berth, authHeader: basic(other) });
      const mine = 'theirs/target';
      assert.equal((await c.pushBlob(mine, Buffer.from('seed'))).status, 201);
      const blob = await sourceBlob();
      const from = `${account}/${SOURCE}`;
      const crossMount = () => c.post(withQuery(`/v2/${mine}/blobs/uploads/`, { mount: blob.digest, from }));
      assert.equal((await crossMount()).status, 202, 'no repository policy opens the source to the other account');
      assert.equal((await c.get(`/v2/${mine}/blobs/${blob.digest}`)).status, 404);
      await sdk.send(
        new SetRepositoryPolicyCommand({
          repositoryName: SOURCE,
          policyText: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${other.accountId}:root` }, Action: 'ecr:GetDownloadUrlForLayer' },
            ],
          }),
        }),
      );
      assert.equal((await crossMount()).status, 201, "the source's policy opens it");
      assert.deepEqual((await c.get(`/v2/${mine}/blobs/${blob.digest}`)).body, blob.bytes);
    } finally {
      otherSdk.destroy();
    }
  });
});
