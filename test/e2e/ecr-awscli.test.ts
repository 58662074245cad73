// End to end with the AWS CLI (Debian `awscli`, /usr/bin/aws) and docker, as ECR users work: create-repository,
// get-login-password | docker login, docker build/tag/push, describe-images, list-images, an immutable re-push
// refused, batch-delete-image, delete-repository --force. Also: a push to a repository that does not exist is
// refused as ECR refuses it; an image put with the layer-upload operations and PutImage is pullable by docker, and
// the pull is recorded; the CLI's auto-pagination; and the errors the CLI prints. Berth runs with create-on-push
// off, as ECR does. Needs the AWS CLI and a running Docker daemon: without them the suite fails (it never skips).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateRepositoryCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { dockerSession, type DockerSession } from '../helpers/dockerd.ts';
import { MEDIA, awsCli, cliError, ecrClient, eventually, makeImage, putImageViaUpload, type AwsCli } from '../helpers/ecr.ts';
import { makeTempDir, parseJson, randomData, removeDir, uniqueName, writeFiles } from '../helpers/tools.ts';

interface ImageDetail {
  registryId: string;
  repositoryName: string;
  imageDigest: string;
  imageTags?: string[];
  imageSizeInBytes: number;
  imagePushedAt: string | number;
  imageManifestMediaType: string;
  artifactMediaType?: string;
  lastRecordedPullTime?: string | number;
}

/** A CLI timestamp (ISO text in CLI v2, epoch seconds in v1) as epoch milliseconds. */
function cliTime(t: string | number): number {
  return typeof t === 'number' ? t * 1000 : Date.parse(t);
}

describe('the AWS CLI and docker against Berth (create-on-push off, as ECR)', () => {
  let berth: Berth;
  let aws: AwsCli;
  let docker: DockerSession;
  let ecr: ECRClient;
  let work: string;
  let account: string;

  const login = async () => {
    const password = (await aws.text(['get-login-password'])).trim();
    assert.ok(password.length > 0, 'get-login-password prints a password');
    const r = await docker.ok(['login', '--username', 'AWS', '--password-stdin', berth.host], { input: password + '\n' });
    assert.match(r.stdout, /Login Succeeded/);
  };

  /** Builds FROM scratch an image holding `files` under /data, tagged `ref`. */
  const build = async (ref: string, files: Record<string, Buffer>) => {
    const ctx = makeTempDir('berth-e2e-ecr-ctx-');
    try {
      writeFiles(ctx, files);
      writeFileSync(
        join(ctx, 'Dockerfile'),
        ['FROM scratch', ...Object.keys(files).map((p) => `COPY ${p} /data/${p}`), 'CMD ["/data/none"]', ''].join('\n'),
      );
      docker.trackImage(ref);
      await docker.ok(['build', '--network=none', '-t', ref, ctx]);
    } finally {
      removeDir(ctx);
    }
  };

  before(async () => {
    berth = await startBerth({ env: { BERTH_CREATE_ON_PUSH: 'false' } });
    aws = await awsCli(berth);
    docker = await dockerSession();
    ecr = ecrClient(berth);
    work = makeTempDir('berth-e2e-ecr-');
    account = (await aws.ok<{ registryId: string }>(['describe-registry'])).registryId;
    assert.match(account, /^\d{12}$/);
  });

  after(async () => {
    ecr?.destroy();
    await docker?.cleanup();
    await berth?.cleanup();
    removeDir(work);
  });

  it('walks the everyday flow: create, login, build, push, describe, list, immutable re-push refused, delete', async () => {
    const name = uniqueName('team/service');
    // create-repository
    const created = await aws.ok<{ repository: Record<string, any> }>([
      'create-repository',
      '--repository-name',
      name,
      '--image-tag-mutability',
      'IMMUTABLE',
      '--image-scanning-configuration',
      'scanOnPush=true',
    ]);
    const repo = created.repository;
    assert.equal(repo.repositoryName, name);
    assert.equal(repo.registryId, account);
    assert.equal(repo.repositoryArn, `arn:aws:ecr:us-east-1:${account}:repository/${name}`);
    assert.equal(repo.repositoryUri, `${berth.host}/${name}`);
    assert.equal(repo.imageTagMutability, 'IMMUTABLE');
    assert.deepEqual(repo.imageScanningConfiguration, { scanOnPush: true });
    assert.deepEqual(repo.encryptionConfiguration, { encryptionType: 'AES256' });
    const uri: string = repo.repositoryUri;

    // get-login-password | docker login
    await login();
    const config = parseJson(readFileSync(join(docker.configDir, 'config.json'), 'utf8'), 'docker config.json');
    assert.match(Buffer.from(config.auths[berth.host].auth, 'base64').toString(), /^AWS:/, 'docker stored AWS:<token>');

    // docker build, tag, push
    const files = { 'app.bin': randomData(300 * 1024), 'notes.txt': Buffer.from(`v1 ${uniqueName('n')}\n`) };
    await build(`local-${name.replace('/', '-')}:build`, files);
    docker.trackImage(`${uri}:v1`);
    await docker.ok(['tag', `local-${name.replace('/', '-')}:build`, `${uri}:v1`]);
    const push = await docker.ok(['push', `${uri}:v1`]);
    const m = /v1: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(push.stdout);
    assert.ok(m, `docker push printed the digest:\n${push.stdout}`);
    const digest = m[1];

    // describe-images: at once, with the digest docker printed and the sizes of the manifest's layers
    const described = await aws.ok<{ imageDetails: ImageDetail[] }>(['describe-images', '--repository-name', name]);
    assert.equal(described.imageDetails.length, 1);
    const detail = described.imageDetails[0];
    assert.equal(detail.imageDigest, digest);
    assert.deepEqual(detail.imageTags, ['v1']);
    assert.equal(detail.registryId, account);
    assert.equal(detail.repositoryName, name);
    assert.equal(detail.imageManifestMediaType, MEDIA.dockerManifest);
    assert.equal(detail.artifactMediaType, MEDIA.dockerConfig);
    assert.ok(Math.abs(cliTime(detail.imagePushedAt) - Date.now()) < 5 * 60_000, `imagePushedAt ${detail.imagePushedAt} is now`);
    const got = await aws.ok<{ images: { imageManifest: string; imageId: { imageDigest: string } }[]; failures: unknown[] }>([
      'batch-get-image',
      '--repository-name',
      name,
      '--image-ids',
      'imageTag=v1',
      '--accepted-media-types',
      MEDIA.dockerManifest,
      MEDIA.ociManifest,
    ]);
    assert.equal(got.images.length, 1);
    assert.equal(got.images[0].imageId.imageDigest, digest);
    const manifest = parseJson(got.images[0].imageManifest, 'the manifest batch-get-image printed');
    const layerSum = manifest.layers.reduce((s: number, l: { size: number }) => s + l.size, 0);
    assert.equal(manifest.layers.length, 2, 'one layer per COPY');
    assert.equal(detail.imageSizeInBytes, layerSum, 'imageSizeInBytes is the sum of the layer sizes');

    // list-images
    const listed = await aws.ok<{ imageIds: { imageDigest: string; imageTag?: string }[] }>(['list-images', '--repository-name', name]);
    assert.deepEqual(listed.imageIds, [{ imageDigest: digest, imageTag: 'v1' }]);

    // An immutable re-push (a different image under the same tag) is refused by docker push with ECR's message.
    const files2 = { 'app.bin': randomData(100 * 1024), 'notes.txt': Buffer.from(`v2 ${uniqueName('n')}\n`) };
    await build(`${uri}:v1`, files2);
    const refused = await docker.fails(['push', `${uri}:v1`]);
    assert.ok(
      (refused.stdout + refused.stderr).includes(
        `The image tag 'v1' already exists in the '${name}' repository and cannot be overwritten because the repository is immutable.`,
      ),
      `docker push shows ECR's immutable message:\n${refused.stdout}\n${refused.stderr}`,
    );
    const stillOne = await aws.ok<{ imageDetails: ImageDetail[] }>([
      'describe-images',
      '--repository-name',
      name,
      '--image-ids',
      'imageTag=v1',
    ]);
    assert.equal(stillOne.imageDetails[0].imageDigest, digest, 'v1 still names the first image');
    // The new image goes up under a new tag.
    docker.trackImage(`${uri}:v2`);
    await docker.ok(['tag', `${uri}:v1`, `${uri}:v2`]);
    await docker.ok(['push', `${uri}:v2`]);

    // batch-delete-image
    const deleted = await aws.ok<{ imageIds: { imageDigest: string; imageTag?: string }[]; failures: unknown[] }>([
      'batch-delete-image',
      '--repository-name',
      name,
      '--image-ids',
      'imageTag=v2',
      'imageTag=no-such-tag',
    ]);
    assert.equal(deleted.imageIds.length, 1);
    assert.equal(deleted.imageIds[0].imageTag, 'v2');
    assert.equal(deleted.failures.length, 1);
    const afterDelete = await aws.ok<{ imageIds: { imageTag?: string }[] }>(['list-images', '--repository-name', name]);
    assert.deepEqual(
      afterDelete.imageIds.map((i) => i.imageTag),
      ['v1'],
    );

    // delete-repository: refused while it holds an image, then --force
    const notEmpty = cliError(await aws.fails(['delete-repository', '--repository-name', name]));
    assert.equal(notEmpty.name, 'RepositoryNotEmptyException');
    assert.equal(notEmpty.operation, 'DeleteRepository');
    const gone = await aws.ok<{ repository: { repositoryName: string } }>(['delete-repository', '--repository-name', name, '--force']);
    assert.equal(gone.repository.repositoryName, name);
    const missing = cliError(await aws.fails(['describe-repositories', '--repository-names', name]));
    assert.equal(missing.name, 'RepositoryNotFoundException');
    assert.equal(missing.message, `The repository with name '${name}' does not exist in the registry with id '${account}'`);
    const pull = await docker.fails(['pull', `${uri}:v1`]);
    assert.match(pull.stdout + pull.stderr, /name unknown|not found|manifest unknown/i, 'the image went with the repository');
  });

  it("refuses a docker push to a repository that does not exist, with ECR's message", async () => {
    await login();
    const name = uniqueName('team/never-created');
    const ref = `${berth.host}/${name}:v1`;
    await build(ref, { 'x.txt': Buffer.from(uniqueName('x')) });
    const r = await docker.fails(['push', ref]);
    assert.ok(
      (r.stdout + r.stderr).includes(
        `name unknown: The repository with name '${name}' does not exist in the registry with id '${account}'`,
      ),
      `docker push shows ECR's message:\n${r.stdout}\n${r.stderr}`,
    );
    const missing = cliError(await aws.fails(['describe-repositories', '--repository-names', name]));
    assert.equal(missing.name, 'RepositoryNotFoundException', 'the push did not create it');
  });

  it('pulls with docker an image put with the layer upload operations and PutImage, and records the pull', async () => {
    await login();
    const name = uniqueName('team/api-put');
    await aws.ok(['create-repository', '--repository-name', name]);
    const files = { 'data/one.bin': randomData(64 * 1024), 'data/two.txt': Buffer.from(`two ${uniqueName('t')}\n`) };
    const image = makeImage({ layers: [{ 'data/one.bin': files['data/one.bin'] }, { 'data/two.txt': files['data/two.txt'] }] });
    await putImageViaUpload(ecr, name, image, 'v1');
    const before = await aws.ok<{ imageDetails: ImageDetail[] }>([
      'describe-images',
      '--repository-name',
      name,
      '--image-ids',
      'imageTag=v1',
    ]);
    assert.equal(before.imageDetails[0].lastRecordedPullTime, undefined, 'not pulled yet');

    const ref = `${berth.host}/${name}:v1`;
    docker.trackImage(ref);
    const pull = await docker.ok(['pull', ref]);
    assert.match(pull.stdout, new RegExp(`Digest: ${image.digest}`));
    const inspected = parseJson((await docker.ok(['image', 'inspect', ref])).stdout, 'docker image inspect')[0];
    assert.equal(inspected.Id, image.config.digest, 'the image id is the config uploaded');
    const cid = (await docker.ok(['create', ref])).stdout.trim();
    docker.trackContainer(cid);
    const out = join(work, 'api-put');
    await docker.ok(['cp', `${cid}:/data`, out]);
    for (const [path, data] of Object.entries(files)) {
      assert.ok(readFileSync(join(out, path.slice('data/'.length))).equals(data), `${path} has the content uploaded`);
    }

    const pulled = await eventually(async () => {
      const d = await aws.ok<{ imageDetails: ImageDetail[] }>(['describe-images', '--repository-name', name, '--image-ids', 'imageTag=v1']);
      return d.imageDetails[0].lastRecordedPullTime;
    });
    assert.ok(pulled !== undefined, 'lastRecordedPullTime is set after docker pull');
    assert.ok(Math.abs(cliTime(pulled) - Date.now()) < 5 * 60_000, `lastRecordedPullTime ${pulled} is now`);
  });

  it('lets docker move a tag that matches an exclusion filter of an IMMUTABLE_WITH_EXCLUSION repository, and no other', async () => {
    await login();
    const name = uniqueName('team/excl');
    // The Debian CLI predates the *_WITH_EXCLUSION modes, so the SDK creates the repository.
    await ecr.send(
      new CreateRepositoryCommand({
        repositoryName: name,
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }],
      }),
    );
    const uri = `${berth.host}/${name}`;
    const digestOf = (out: string, tag: string) => {
      const m = new RegExp(`${tag}: digest: (sha256:[0-9a-f]{64})`).exec(out);
      assert.ok(m, `docker push printed the digest:\n${out}`);
      return m[1];
    };
    for (const tag of ['latest', 'v1']) docker.trackImage(`${uri}:${tag}`);
    await build(`${uri}:latest`, { 'a.txt': Buffer.from(uniqueName('a')) });
    await docker.ok(['tag', `${uri}:latest`, `${uri}:v1`]);
    const first = digestOf((await docker.ok(['push', `${uri}:latest`])).stdout, 'latest');
    await docker.ok(['push', `${uri}:v1`]);

    await build(`${uri}:latest`, { 'b.txt': Buffer.from(uniqueName('b')) });
    await docker.ok(['tag', `${uri}:latest`, `${uri}:v1`]);
    const second = digestOf((await docker.ok(['push', `${uri}:latest`])).stdout, 'latest');
    assert.notEqual(second, first);
    const refused = await docker.fails(['push', `${uri}:v1`]);
    assert.ok(
      (refused.stdout + refused.stderr).includes(
        `The image tag 'v1' already exists in the '${name}' repository and cannot be overwritten because the repository is immutable.`,
      ),
      `docker push shows ECR's immutable message:\n${refused.stdout}\n${refused.stderr}`,
    );
    const tags = await aws.ok<{ imageIds: { imageDigest: string; imageTag?: string }[] }>([
      'list-images',
      '--repository-name',
      name,
      '--filter',
      'tagStatus=TAGGED',
    ]);
    assert.deepEqual(tags.imageIds.map((i) => `${i.imageTag} ${i.imageDigest}`).sort(), [`latest ${second}`, `v1 ${first}`]);
  });

  it('auto-paginates describe-repositories and list-images, and honours --max-items / --starting-token', async () => {
    const prefix = uniqueName('cli-pages');
    const names = Array.from({ length: 25 }, (_, i) => `${prefix}/r${String(i).padStart(2, '0')}`);
    for (const n of names) await ecr.send(new CreateRepositoryCommand({ repositoryName: n }));
    const all = await aws.ok<{ repositories: { repositoryName: string }[] }>(['describe-repositories', '--page-size', '10']);
    const seen = all.repositories.map((r) => r.repositoryName);
    assert.equal(new Set(seen).size, seen.length, 'no repository twice');
    for (const n of names) assert.ok(seen.includes(n), `${n} is in the merged pages`);

    const first = await aws.ok<{ repositories: unknown[]; NextToken?: string }>([
      'describe-repositories',
      '--page-size',
      '4',
      '--max-items',
      '10',
    ]);
    assert.equal(first.repositories.length, 10);
    assert.ok(first.NextToken, 'the CLI hands back a NextToken');
    const rest = await aws.ok<{ repositories: { repositoryName: string }[] }>([
      'describe-repositories',
      '--page-size',
      '4',
      '--starting-token',
      first.NextToken!,
    ]);
    assert.equal(first.repositories.length + rest.repositories.length, seen.length);

    // list-images over a repository of 7 images pushed with the SDK, in pages of 2.
    const repo = `${prefix}/images`;
    await aws.ok(['create-repository', '--repository-name', repo]);
    for (let i = 0; i < 7; i++) await putImageViaUpload(ecr, repo, makeImage(), `t${i}`);
    const listed = await aws.ok<{ imageIds: { imageTag: string }[] }>(['list-images', '--repository-name', repo, '--page-size', '2']);
    assert.deepEqual(listed.imageIds.map((i) => i.imageTag).sort(), ['t0', 't1', 't2', 't3', 't4', 't5', 't6']);
    const tagged = await aws.ok<{ imageIds: unknown[] }>(['list-images', '--repository-name', repo, '--filter', 'tagStatus=UNTAGGED']);
    assert.deepEqual(tagged.imageIds, []);
    const details = await aws.ok<{ imageDetails: unknown[] }>(['describe-images', '--repository-name', repo, '--page-size', '3']);
    assert.equal(details.imageDetails.length, 7);
  });

  it('prints the AWS errors the CLI prints against ECR', async () => {
    const invalid = cliError(await aws.fails(['create-repository', '--repository-name', 'Not_Valid']));
    assert.equal(invalid.name, 'InvalidParameterException');
    assert.match(invalid.message, /^Invalid parameter at 'repositoryName' failed to satisfy constraint: '.+'$/s);

    const name = uniqueName('cli-errors');
    await aws.ok(['create-repository', '--repository-name', name]);
    const twice = cliError(await aws.fails(['create-repository', '--repository-name', name]));
    assert.equal(twice.name, 'RepositoryAlreadyExistsException');
    assert.equal(twice.message, `The repository with name '${name}' already exists in the registry with id '${account}'`);

    const noImage = cliError(await aws.fails(['describe-images', '--repository-name', name, '--image-ids', 'imageTag=nope']));
    assert.equal(noImage.name, 'ImageNotFoundException');

    const kms = cliError(
      await aws.fails([
        'create-repository',
        '--repository-name',
        uniqueName('cli-kms'),
        '--encryption-configuration',
        'encryptionType=KMS',
      ]),
    );
    assert.equal(kms.name, 'KmsException');

    const wrongSecret = await awsCli(berth, { secretAccessKey: berth.secretAccessKey + 'x' });
    assert.equal(cliError(await wrongSecret.fails(['describe-repositories'])).name, 'InvalidSignatureException');
    const unknownKey = await awsCli(berth, { accessKeyId: 'AKIANOSUCHKEY0000000' });
    assert.equal(cliError(await unknownKey.fails(['describe-repositories'])).name, 'UnrecognizedClientException');
    const noLogin = await unknownKey.run(['get-login-password']);
    assert.notEqual(noLogin.code, 0, 'no password for an unknown key');
  });
});
