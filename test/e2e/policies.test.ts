// End to end proof of issue 4 (IAM-style policies) with real clients: docker, skopeo and the AWS CLI, signed as
// users created with `berth admin` and carrying the canonical ECR policies, as a second account, and as nobody.
// - the pull-only CI policy pulls, but cannot push, create or delete repositories;
// - the administration policy creates and describes, but can neither push nor pull;
// - a repository policy opens one repository to another account, for pulling only;
// - a repository policy granting Principal "*" allows anonymous pulls there, and only there;
// - an explicit Deny in a repository policy beats an identity policy's Allow;
// - malformed policies are refused with a message, and nothing is stored;
// - every decision is in the audit log, with the deciding policy and statement, and no secret.
// Needs a running Docker daemon, skopeo and the AWS CLI: without them the suite fails (it never skips).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { dockerSession, type DockerSession } from '../helpers/dockerd.ts';
import {
  ADMINISTRATION,
  PULL_ACTIONS,
  PULL_ONLY,
  admin,
  adminRun,
  awsCli,
  createUser,
  eventually,
  literal,
  readAudit,
  type AwsCli,
  type Keys,
} from '../helpers/policies.ts';
import {
  makeTempDir,
  parseJson,
  randomData,
  removeDir,
  requireTool,
  run,
  runOk,
  uniqueName,
  writeFiles,
  writeOciImage,
  writeOciLayoutIndex,
  type BuiltImage,
} from '../helpers/tools.ts';

const ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';

describe('IAM-style policies with docker, skopeo and the AWS CLI', () => {
  let berth: Berth;
  let work: string;
  let layout: string; // an OCI layout holding the image every repository gets
  let image: BuiltImage; // ... that image
  let digest: string; // its manifest digest
  let localImage: string; // a local docker image (never pushed) that the refused pushes try to push
  let accountA: string;
  let rootAws: AwsCli;
  const sessions: DockerSession[] = [];
  const clis: AwsCli[] = [];
  const secrets: string[] = []; // every secret the test knows: none may appear in the audit log

  // Repositories of account A, all holding `image` as :v1.
  const tag = uniqueName('t');
  const repos = {
    app: `pol/${uniqueName('app')}`, // no repository policy
    shared: `pol/${uniqueName('shared')}`, // opened to account B
    public: `pol/${uniqueName('public')}`, // opened to "*"
    denied: `pol/${uniqueName('denied')}`, // denies BatchGetImage to the user dev
  };
  const ref = (repo: string) => `${berth.host}/${repo}:v1`;

  const newDocker = async () => {
    const s = await dockerSession();
    sessions.push(s);
    return s;
  };
  const newCli = async (keys: Keys) => {
    const c = await awsCli(berth, keys);
    clis.push(c);
    return c;
  };
  /** `aws ecr get-login-password | docker login --username AWS --password-stdin HOST` in the session. */
  const loginWithToken = async (docker: DockerSession, aws: AwsCli) => {
    const password = await aws.loginPassword();
    secrets.push(password);
    const r = await docker.ok(['login', '--username', 'AWS', '--password-stdin', berth.host], { input: password + '\n' });
    assert.match(r.stdout, /Login Succeeded/);
  };
  /**
   * `docker pull REF`, which must download the image (it is not in the daemon before) and report its digest;
   * the image is removed from the daemon afterwards, so that the next pull downloads it again.
   */
  const pullOk = async (docker: DockerSession, reference: string) => {
    docker.trackImage(reference);
    const r = await docker.ok(['pull', reference]);
    assert.match(r.stdout, new RegExp(`Digest: ${digest}`), `docker pull reports the pushed digest:\n${r.stdout}`);
    assert.match(r.stdout, /Downloaded newer image/, `the image was downloaded, not found locally:\n${r.stdout}`);
    const inspected = parseJson((await docker.ok(['image', 'inspect', reference])).stdout, 'docker image inspect')[0];
    assert.equal(inspected.Id, image.config.digest, 'the pulled image is the one pushed');
    await docker.ok(['rmi', reference]);
  };
  /** `docker pull REF`, which must fail; returns what docker printed. */
  const pullRefused = async (docker: DockerSession, reference: string) => {
    docker.trackImage(reference);
    const r = await docker.fails(['pull', reference]);
    return r.stdout + r.stderr;
  };
  /** Tags the local never-pushed image as REF and `docker push`es it, which must fail; returns what docker printed. */
  const pushRefused = async (docker: DockerSession, reference: string) => {
    docker.trackImage(reference);
    await docker.ok(['tag', localImage, reference]);
    const r = await docker.fails(['push', reference]);
    await docker.run(['rmi', reference]);
    return r.stdout + r.stderr;
  };
  const repoArn = (account: string, repo: string) => `arn:aws:ecr:us-east-1:${account}:repository/${repo}`;
  const rootRepoNames = async () =>
    (await rootAws.ok<{ repositories: { repositoryName: string }[] }>(['describe-repositories'])).repositories.map((r) => r.repositoryName);

  before(async () => {
    await requireTool('skopeo');
    berth = await startBerth();
    secrets.push(berth.secretAccessKey);
    work = makeTempDir('berth-e2e-policies-');
    rootAws = await newCli(berth);
    accountA = (await rootAws.ok<{ registryId: string }>(['describe-registry'])).registryId;
    assert.match(accountA, /^\d{12}$/);

    // The image every repository holds, pushed by the root with skopeo from an OCI layout.
    layout = join(work, 'layout');
    image = writeOciImage(layout, {
      architecture: ARCH,
      layers: [{ 'data/a.bin': randomData(200 * 1024) }, { 'data/b.txt': Buffer.from(`${uniqueName('b')}\n`) }],
    });
    writeOciLayoutIndex(layout, { v1: image.descriptor });
    digest = image.descriptor.digest;
    const creds = `${berth.accessKeyId}:${berth.secretAccessKey}`;
    const authFile = join(work, 'no-auth.json');
    for (const repo of Object.values(repos)) {
      await runOk('skopeo', ['copy', '--dest-tls-verify=false', '--dest-creds', creds, `oci:${layout}:v1`, `docker://${ref(repo)}`], {
        env: { REGISTRY_AUTH_FILE: authFile },
      });
    }

    // A local image that is never pushed: the refused pushes try to push it (its blobs are in no repository).
    const builder = await newDocker();
    const ctx = join(work, 'ctx');
    writeFiles(ctx, { 'q.bin': randomData(64 * 1024), 'q.txt': Buffer.from(`${uniqueName('q')}\n`) });
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY q.bin /q.bin\nCOPY q.txt /q.txt\nCMD ["/q.bin"]\n');
    localImage = `berth-e2e-policies-local:${tag}`;
    builder.trackImage(localImage);
    await builder.ok(['build', '--network=none', '-t', localImage, ctx]);
  });

  after(async () => {
    for (const s of sessions) await s.cleanup();
    for (const c of clis) c.cleanup();
    await berth?.cleanup();
    removeDir(work);
  });

  it('the pull-only CI policy: docker pull works; docker push, create-repository and delete-repository are refused', async () => {
    const ci = await createUser(berth, 'ci');
    secrets.push(ci.secretAccessKey);
    assert.equal(ci.arn, `arn:aws:iam::${accountA}:user/ci`);
    const aws = await newCli(ci);

    // A user with no policy may do nothing, not even obtain a token.
    const noToken = await aws.fails(['get-authorization-token']);
    assert.equal(noToken.name, 'AccessDeniedException');
    assert.match(
      noToken.message,
      new RegExp(`^User: ${literal(ci.arn)} is not authorized to perform: ecr:GetAuthorizationToken on resource: `),
    );

    await admin(berth, 'put-user-policy', '--user', 'ci', '--policy-name', 'pull', '--policy-document', JSON.stringify(PULL_ONLY));
    const docker = await newDocker();
    await loginWithToken(docker, aws);
    await pullOk(docker, ref(repos.app));

    // docker push to an existing repository, and to a new one (create-on-push must not create it either).
    const pushed = await pushRefused(docker, `${berth.host}/${repos.app}:ci-${tag}`);
    assert.match(
      pushed,
      new RegExp(
        `denied: User: ${literal(ci.arn)} is not authorized to perform: ecr:InitiateLayerUpload on resource: ${literal(repoArn(accountA, repos.app))}`,
      ),
      `docker shows the OCI DENIED error:\n${pushed}`,
    );
    const newRepo = `pol/${uniqueName('ci-new')}`;
    const pushedNew = await pushRefused(docker, `${berth.host}/${newRepo}:v1`);
    assert.match(pushedNew, /denied: .*not authorized to perform: ecr:InitiateLayerUpload/, pushedNew);
    assert.ok(!(await rootRepoNames()).includes(newRepo), 'a refused push creates no repository');
    const tags = await rootAws.ok<{ imageIds: { imageTag?: string }[] }>(['list-images', '--repository-name', repos.app]);
    assert.deepEqual(
      tags.imageIds.map((i) => i.imageTag),
      ['v1'],
      'the refused push left no tag',
    );

    const ciMade = `pol/${uniqueName('ci-made')}`;
    const create = await aws.fails(['create-repository', '--repository-name', ciMade]);
    assert.equal(create.name, 'AccessDeniedException');
    assert.match(
      create.message,
      new RegExp(
        `^User: ${literal(ci.arn)} is not authorized to perform: ecr:CreateRepository on resource: ${literal(repoArn(accountA, ciMade))} because no identity-based policy allows the ecr:CreateRepository action$`,
      ),
    );
    assert.ok(!(await rootRepoNames()).includes(ciMade));

    const del = await aws.fails(['delete-repository', '--repository-name', repos.app, '--force']);
    assert.equal(del.name, 'AccessDeniedException');
    assert.match(
      del.message,
      new RegExp(
        `^User: ${literal(ci.arn)} is not authorized to perform: ecr:DeleteRepository on resource: ${literal(repoArn(accountA, repos.app))} because no identity-based policy allows the ecr:DeleteRepository action$`,
      ),
    );
    assert.ok((await rootRepoNames()).includes(repos.app), 'the repository is still there');
  });

  it('the administration policy: create-repository and describe-repositories work; docker push and pull are refused', async () => {
    const ops = await createUser(berth, 'ops', { name: 'admin', document: ADMINISTRATION });
    secrets.push(ops.secretAccessKey);
    const aws = await newCli(ops);

    const name = `pol/${uniqueName('ops-made')}`;
    const created = await aws.ok<{ repository: { repositoryName: string; repositoryArn: string } }>([
      'create-repository',
      '--repository-name',
      name,
    ]);
    assert.equal(created.repository.repositoryName, name);
    assert.equal(created.repository.repositoryArn, repoArn(accountA, name));
    const described = await aws.ok<{ repositories: { repositoryName: string }[] }>(['describe-repositories']);
    const names = described.repositories.map((r) => r.repositoryName);
    assert.ok(names.includes(name) && names.includes(repos.app), `describe-repositories lists the account's repositories: ${names}`);

    const docker = await newDocker();
    await loginWithToken(docker, aws);
    const pushed = await pushRefused(docker, `${berth.host}/${name}:v1`);
    assert.match(
      pushed,
      new RegExp(
        `denied: User: ${literal(ops.arn)} is not authorized to perform: ecr:(BatchCheckLayerAvailability|InitiateLayerUpload) on resource: ${literal(repoArn(accountA, name))}`,
      ),
      `docker shows the OCI DENIED error:\n${pushed}`,
    );
    const images = await aws.ok<{ imageDetails: unknown[] }>(['describe-images', '--repository-name', name]);
    assert.deepEqual(images.imageDetails, [], 'nothing was pushed');

    const pulled = await pullRefused(docker, ref(repos.app));
    assert.match(
      pulled,
      new RegExp(
        `denied: User: ${literal(ops.arn)} is not authorized to perform: ecr:BatchGetImage on resource: ${literal(repoArn(accountA, repos.app))}`,
      ),
      `docker shows the OCI DENIED error:\n${pulled}`,
    );
  });

  it('a repository policy grants another account pull access, to that repository only, and not push', async () => {
    const b = await admin<Keys & { accountId: string }>(berth, 'create-account');
    assert.match(b.accountId, /^\d{12}$/);
    assert.notEqual(b.accountId, accountA);
    secrets.push(b.secretAccessKey);
    const awsB = await newCli(b);
    const docker = await newDocker();
    await loginWithToken(docker, awsB);
    const sharedRef = `${berth.host}/${accountA}/${repos.shared}:v1`;
    const bArn = `arn:aws:iam::${b.accountId}:root`;

    // Before: closed.
    const before = await pullRefused(docker, sharedRef);
    assert.match(
      before,
      new RegExp(
        `denied: User: ${literal(bArn)} is not authorized to perform: ecr:BatchGetImage on resource: ${literal(repoArn(accountA, repos.shared))}`,
      ),
      before,
    );
    const getBefore = await awsB.fails([
      'batch-get-image',
      '--registry-id',
      accountA,
      '--repository-name',
      repos.shared,
      '--image-ids',
      'imageTag=v1',
    ]);
    assert.equal(getBefore.name, 'AccessDeniedException');
    assert.match(
      getBefore.message,
      new RegExp(
        `^User: ${literal(bArn)} is not authorized to perform: ecr:BatchGetImage on resource: ${literal(repoArn(accountA, repos.shared))} because no resource-based policy allows the ecr:BatchGetImage action$`,
      ),
    );

    // Root A opens the repository to account B for pulling.
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Sid: 'CrossAccountPull', Effect: 'Allow', Principal: { AWS: bArn }, Action: PULL_ACTIONS }],
    };
    const set = await rootAws.ok<{ policyText: string; registryId: string }>([
      'set-repository-policy',
      '--repository-name',
      repos.shared,
      '--policy-text',
      JSON.stringify(policy),
    ]);
    assert.deepEqual(JSON.parse(set.policyText), policy);
    assert.equal(set.registryId, accountA);

    // After: B pulls with docker and with the ECR API...
    await pullOk(docker, sharedRef);
    const got = await awsB.ok<{
      images: { registryId: string; imageId: { imageDigest: string; imageTag: string }; imageManifest: string }[];
      failures: unknown[];
    }>(['batch-get-image', '--registry-id', accountA, '--repository-name', repos.shared, '--image-ids', 'imageTag=v1']);
    assert.deepEqual(got.failures, []);
    assert.equal(got.images.length, 1);
    assert.equal(got.images[0].registryId, accountA);
    assert.equal(got.images[0].imageId.imageDigest, digest);
    assert.equal(got.images[0].imageManifest, image.manifest.toString());

    // ...but cannot push there,
    const pushed = await pushRefused(docker, `${berth.host}/${accountA}/${repos.shared}:b-${tag}`);
    assert.match(
      pushed,
      new RegExp(
        `denied: User: ${literal(bArn)} is not authorized to perform: ecr:InitiateLayerUpload on resource: ${literal(repoArn(accountA, repos.shared))}`,
      ),
      pushed,
    );
    // ...and a repository of A without such a policy stays closed.
    const other = await pullRefused(docker, `${berth.host}/${accountA}/${repos.app}:v1`);
    assert.match(
      other,
      new RegExp(
        `denied: User: ${literal(bArn)} is not authorized to perform: ecr:BatchGetImage on resource: ${literal(repoArn(accountA, repos.app))}`,
      ),
      other,
    );
    const getOther = await awsB.fails([
      'batch-get-image',
      '--registry-id',
      accountA,
      '--repository-name',
      repos.app,
      '--image-ids',
      'imageTag=v1',
    ]);
    assert.equal(getOther.name, 'AccessDeniedException');
    const list = await rootAws.ok<{ imageIds: { imageTag?: string }[] }>(['list-images', '--repository-name', repos.shared]);
    assert.deepEqual(
      list.imageIds.map((i) => i.imageTag),
      ['v1'],
      'the refused push left no tag',
    );
  });

  it('anonymous: skopeo --no-creds reads the repository whose policy grants "*", and only that one, and cannot push', async () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Sid: 'PublicPull', Effect: 'Allow', Principal: '*', Action: PULL_ACTIONS }],
    };
    await rootAws.ok(['set-repository-policy', '--repository-name', repos.public, '--policy-text', JSON.stringify(policy)]);

    const env = { REGISTRY_AUTH_FILE: join(work, 'no-such-auth.json') };
    // --no-tags: listing tags is ecr:ListImages, which the pull actions do not include.
    const inspected = parseJson(
      (await runOk('skopeo', ['inspect', '--tls-verify=false', '--no-creds', '--no-tags', `docker://${ref(repos.public)}`], { env }))
        .stdout,
      'skopeo inspect',
    );
    assert.equal(inspected.Digest, digest);
    assert.deepEqual(
      inspected.Layers,
      image.layers.map((l) => l.digest),
    );

    const refused = await run('skopeo', ['inspect', '--tls-verify=false', '--no-creds', '--no-tags', `docker://${ref(repos.app)}`], {
      env,
    });
    assert.notEqual(refused.code, 0, `skopeo inspect without credentials is refused:\n${refused.stdout}`);
    assert.match(refused.stderr, /reading manifest v1 .*unauthorized/i, refused.stderr);
    assert.doesNotMatch(refused.stderr, /invalid username or password/i, 'refused as anonymous by policy, not as bad credentials');

    // "*" grants pulling, not pushing.
    const pushed = await run(
      'skopeo',
      ['copy', '--dest-tls-verify=false', '--dest-no-creds', `oci:${layout}:v1`, `docker://${berth.host}/${repos.public}:anon-${tag}`],
      { env },
    );
    assert.notEqual(pushed.code, 0, `an anonymous push is refused:\n${pushed.stdout}`);
    assert.match(pushed.stderr, /unauthorized/i, pushed.stderr);
    assert.doesNotMatch(pushed.stderr, /invalid username or password/i, 'refused as anonymous by policy, not as bad credentials');
    const list = await rootAws.ok<{ imageIds: { imageTag?: string }[] }>(['list-images', '--repository-name', repos.public]);
    assert.deepEqual(
      list.imageIds.map((i) => i.imageTag),
      ['v1'],
      'the refused anonymous push left no tag',
    );
  });

  it('anonymous: docker with no login pulls from the repository whose policy grants "*", and only from that one', async () => {
    const docker = await newDocker(); // a fresh DOCKER_CONFIG: no credentials at all
    await pullOk(docker, ref(repos.public));
    // (docker prints the bare status of the HEAD request it makes first, or the error the registry sent; but not
    // "no basic auth credentials", which is docker refusing to send an anonymous request at all.)
    const refused = await pullRefused(docker, ref(repos.app));
    assert.match(refused, /unauthorized|authentication required/i, refused);
  });

  it("an explicit Deny in a repository policy beats the identity policy's Allow", async () => {
    const dev = await createUser(berth, 'dev', {
      name: 'everything',
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }] },
    });
    secrets.push(dev.secretAccessKey);
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Sid: 'DenyDevPull', Effect: 'Deny', Principal: { AWS: dev.arn }, Action: 'ecr:BatchGetImage' }],
    };
    await rootAws.ok(['set-repository-policy', '--repository-name', repos.denied, '--policy-text', JSON.stringify(policy)]);

    // This time docker logs in with the access key itself.
    const docker = await newDocker();
    const login = await docker.ok(['login', '--username', dev.accessKeyId, '--password-stdin', berth.host], {
      input: dev.secretAccessKey + '\n',
    });
    assert.match(login.stdout, /Login Succeeded/);
    const refused = await pullRefused(docker, ref(repos.denied));
    assert.match(
      refused,
      new RegExp(
        `denied: User: ${literal(dev.arn)} is not authorized to perform: ecr:BatchGetImage on resource: ${literal(repoArn(accountA, repos.denied))}`,
      ),
      refused,
    );
    const aws = await newCli(dev);
    const get = await aws.fails(['batch-get-image', '--repository-name', repos.denied, '--image-ids', 'imageTag=v1']);
    assert.equal(get.name, 'AccessDeniedException');
    assert.equal(
      get.message,
      `User: ${dev.arn} is not authorized to perform: ecr:BatchGetImage on resource: ${repoArn(accountA, repos.denied)} with an explicit deny in a resource-based policy`,
    );

    // The Deny names one action on one repository: the rest of ecr:* still holds.
    const described = await aws.ok<{ imageDetails: { imageDigest: string }[] }>(['describe-images', '--repository-name', repos.denied]);
    assert.deepEqual(
      described.imageDetails.map((d) => d.imageDigest),
      [digest],
    );
    await pullOk(docker, ref(repos.app));
  });

  it('malformed policies are refused with a message that says what is wrong, and nothing is stored', async () => {
    const bad = async (document: string, pattern: RegExp, repo = repos.app) => {
      const e = await rootAws.fails(['set-repository-policy', '--repository-name', repo, '--policy-text', document]);
      assert.equal(e.name, 'InvalidParameterException', `${document}: ${e.message}`);
      assert.match(e.message, pattern, `the message says what is wrong with ${document}`);
      return e;
    };
    await bad(
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Maybe', Principal: '*', Action: 'ecr:BatchGetImage' }] }),
      /Effect/,
    );
    await bad('{"Version": "2012-10-17", "Statement": [', /JSON|parse|syntax/i);
    await bad(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:BatchGetImage' }] }), /Principal/);
    const none = await rootAws.fails(['get-repository-policy', '--repository-name', repos.app]);
    assert.equal(none.name, 'RepositoryPolicyNotFoundException');

    // A refused policy does not replace the one in place.
    const current = await rootAws.ok<{ policyText: string }>(['get-repository-policy', '--repository-name', repos.public]);
    await bad(
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Maybe', Principal: '*', Action: 'ecr:*' }] }),
      /Effect/,
      repos.public,
    );
    const after = await rootAws.ok<{ policyText: string }>(['get-repository-policy', '--repository-name', repos.public]);
    assert.equal(after.policyText, current.policyText);

    // An identity policy through berth admin: a non-zero exit and a message, and the user keeps only what it had.
    const r = await adminRun(berth, [
      'put-user-policy',
      '--user',
      'ci',
      '--policy-name',
      'broken',
      '--policy-document',
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Maybe', Action: 'ecr:*', Resource: '*' }] }),
    ]);
    assert.notEqual(r.code, 0, 'berth admin put-user-policy fails');
    assert.match(r.stderr, /invalid policy document: .*Effect/, r.stderr);
    const listed = await admin<{ policies: { name: string }[] }>(berth, 'list-user-policies', '--user', 'ci');
    assert.deepEqual(
      listed.policies.map((p) => p.name),
      ['pull'],
    );
  });

  it('the audit log holds every decision as a JSON line, with the deciding policy and statement, and no secret', async () => {
    const ciArn = `arn:aws:iam::${accountA}:user/ci`;
    const devArn = `arn:aws:iam::${accountA}:user/dev`;
    await eventually(() => {
      const { entries } = readAudit(berth);
      const find = (what: string, p: (e: (typeof entries)[number]) => boolean) => {
        const e = entries.find(p);
        assert.ok(e, `the audit log has ${what}`);
        return e;
      };
      // The CI user's pull, allowed by its identity policy.
      const pull = find('the CI pull', (e) => e.principal === ciArn && e.action === 'ecr:BatchGetImage' && e.allowed === true);
      assert.equal(pull.resource, repoArn(accountA, repos.app));
      assert.equal(pull.policy, 'user/ci/pull');
      // The CI user's push, denied (no policy allows it).
      const push = find(
        'the CI push',
        (e) => e.principal === ciArn && e.action === 'ecr:InitiateLayerUpload' && e.resource === repoArn(accountA, repos.app),
      );
      assert.equal(push.allowed, false);
      // The cross-account pull, allowed by the repository policy's statement.
      const cross = find(
        'the cross-account pull',
        (e) =>
          /^arn:aws:iam::\d{12}:root$/.test(e.principal) &&
          e.principal !== `arn:aws:iam::${accountA}:root` &&
          e.action === 'ecr:BatchGetImage' &&
          e.resource === repoArn(accountA, repos.shared) &&
          e.allowed === true,
      );
      assert.equal(cross.policy, `repository/${repos.shared}`);
      assert.equal(cross.sid, 'CrossAccountPull');
      // The explicit deny, with the statement that decided.
      const deny = find(
        'the explicit deny',
        (e) => e.principal === devArn && e.action === 'ecr:BatchGetImage' && e.resource === repoArn(accountA, repos.denied),
      );
      assert.equal(deny.allowed, false);
      assert.equal(deny.policy, `repository/${repos.denied}`);
      assert.equal(deny.sid, 'DenyDevPull');
      // The administration user's refused pull.
      find(
        'the refused administration pull',
        (e) => e.principal === `arn:aws:iam::${accountA}:user/ops` && e.action === 'ecr:BatchGetImage' && e.allowed === false,
      );
    });
    const { text, decisions } = readAudit(berth);
    assert.ok(decisions.length > 20, `the audit log has many decisions (${decisions.length})`);
    for (const e of decisions) {
      assert.equal(typeof e.principal, 'string', JSON.stringify(e));
      assert.equal(typeof e.action, 'string', JSON.stringify(e));
      assert.equal(typeof e.resource, 'string', JSON.stringify(e));
      assert.equal(typeof e.allowed, 'boolean', JSON.stringify(e));
    }
    assert.ok(secrets.length >= 8, 'the root, user and account secrets and the login passwords');
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `a secret (${secret.slice(0, 4)}...) is in the audit log`);
    }
  });

  it('the audit log records the anonymous decisions too', async () => {
    await eventually(() => {
      const { entries } = readAudit(berth);
      const anon = entries.find(
        (e) => e.principal === '*' && e.action === 'ecr:BatchGetImage' && e.resource === repoArn(accountA, repos.public) && e.allowed,
      );
      assert.ok(anon, 'the audit log has the anonymous pull, allowed');
      assert.equal(anon.policy, `repository/${repos.public}`);
      assert.equal(anon.sid, 'PublicPull');
      assert.ok(
        entries.some((e) => e.principal === '*' && e.resource === repoArn(accountA, repos.app) && e.allowed === false),
        'the audit log has the anonymous pull refused on the repository without a policy',
      );
    });
  });
});
