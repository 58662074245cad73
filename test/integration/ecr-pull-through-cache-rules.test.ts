// The five pull through cache rule operations with the AWS SDK for JavaScript, with ECR's fields, validation and
// exceptions: CreatePullThroughCacheRule (ECR's known upstreams, their URLs and the secret or role each needs; a generic
// OCI registry as Berth's extension; the model's constraints; PullThroughCacheRuleAlreadyExistsException;
// LimitExceededException at 50 rules; SecretNotFoundException, UnableToDecryptSecretValueException and
// UnableToAccessSecretException for the secret a credentialArn names), DescribePullThroughCacheRules (filter, pages),
// UpdatePullThroughCacheRule, ValidatePullThroughCacheRule (the upstream reached with the rule's credentials: this
// Berth itself), DeletePullThroughCacheRule; and the secret store's admin actions.
// References: the ECR API reference (CreatePullThroughCacheRule and the others), the user guide's pull through cache
// pages, and the botocore model.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  CreatePullThroughCacheRuleCommand,
  DeletePullThroughCacheRuleCommand,
  DescribePullThroughCacheRulesCommand,
  UpdatePullThroughCacheRuleCommand,
  ValidatePullThroughCacheRuleCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { SecretBox } from '../../src/auth/secrets.ts';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { allPages, ecrClient, expectEcrError } from '../helpers/ecr.ts';
import { req } from '../helpers/http.ts';

describe('ECR pull through cache rules', () => {
  let berth: Berth;
  let ecr: ECRClient;
  let account: string;
  const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:${account}:secret:${name}`;

  async function adminApi(action: string, body: object): Promise<{ status: number; body: any }> {
    const r = await req(berth, 'POST', `/_berth/admin/${action}`, {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: JSON.parse(r.body.toString()) };
  }

  async function putSecret(name: string, value: object): Promise<string> {
    const r = await adminApi('put-secret', { name, secretString: JSON.stringify(value) });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.arn;
  }

  before(async () => {
    berth = await startBerth();
    ecr = ecrClient(berth);
    // This Berth is its own upstream for the generic rule: its root key is the secret.
    account = (await putSecret('ecr-pullthroughcache/self', { username: berth.accessKeyId, accessToken: berth.secretAccessKey })).split(
      ':',
    )[4];
    assert.match(account, /^\d{12}$/);
  });

  after(async () => {
    ecr?.destroy();
    await berth?.cleanup();
  });

  it('the secret store: put (replace), list without values, delete; names and values checked', async () => {
    const created = await adminApi('put-secret', {
      name: 'ecr-pullthroughcache/docker',
      secretString: JSON.stringify({ username: 'u', accessToken: 't1' }),
    });
    assert.equal(created.status, 200);
    assert.equal(created.body.created, true);
    assert.equal(created.body.arn, arn('ecr-pullthroughcache/docker'));
    const replaced = await adminApi('put-secret', {
      name: 'ecr-pullthroughcache/docker',
      secretString: JSON.stringify({ username: 'u', accessToken: 't2' }),
    });
    assert.equal(replaced.body.created, false);
    const listed = await adminApi('list-secrets', {});
    assert.deepEqual(
      listed.body.secrets.map((s: { name: string }) => s.name),
      ['ecr-pullthroughcache/docker', 'ecr-pullthroughcache/self'],
    );
    assert.ok(!JSON.stringify(listed.body).includes('t2'), 'values are never listed');
    assert.equal((await adminApi('put-secret', { name: 'other/docker', secretString: '{"username":"u","accessToken":"t"}' })).status, 400);
    assert.equal((await adminApi('put-secret', { name: 'ecr-pullthroughcache/x', secretString: '{"username":"u"}' })).status, 400);
    assert.equal(
      (await adminApi('put-secret', { name: 'ecr-pullthroughcache/x y', secretString: '{"username":"u","accessToken":"t"}' })).status,
      400,
    );
    await putSecret('ecr-pullthroughcache/gone', { username: 'u', accessToken: 't' });
    assert.deepEqual((await adminApi('delete-secret', { name: 'ecr-pullthroughcache/gone' })).body, {
      deleted: 'ecr-pullthroughcache/gone',
      arn: arn('ecr-pullthroughcache/gone'),
    });
    assert.equal((await adminApi('delete-secret', { name: 'ecr-pullthroughcache/gone' })).status, 400);
  });

  it("CreatePullThroughCacheRule: ECR's known upstreams as ECR checks them, a generic OCI registry, the model's constraints", async () => {
    await expectEcrError(
      ecr.send(new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'docker-hub', upstreamRegistryUrl: 'registry-1.docker.io' })),
      'UnsupportedUpstreamRegistryException',
      'The specified upstream registry requires authentication. Specify a valid Secrets Manager ARN',
    );
    await expectEcrError(
      ecr.send(
        new CreatePullThroughCacheRuleCommand({
          ecrRepositoryPrefix: 'docker-hub',
          upstreamRegistryUrl: 'registry-1.docker.io',
          credentialArn: arn('ecr-pullthroughcache/missing'),
        }),
      ),
      'SecretNotFoundException',
    );
    await expectEcrError(
      ecr.send(
        new CreatePullThroughCacheRuleCommand({
          ecrRepositoryPrefix: 'docker-hub',
          upstreamRegistryUrl: 'registry-1.docker.io',
          credentialArn: `arn:aws:secretsmanager:eu-west-1:${account}:secret:ecr-pullthroughcache/docker`,
        }),
      ),
      'SecretNotFoundException',
      /could not be found/,
    );
    const before = Date.now();
    const hub = await ecr.send(
      new CreatePullThroughCacheRuleCommand({
        ecrRepositoryPrefix: 'docker-hub',
        upstreamRegistryUrl: 'registry-1.docker.io',
        credentialArn: arn('ecr-pullthroughcache/docker'),
      }),
    );
    assert.equal(hub.ecrRepositoryPrefix, 'docker-hub');
    assert.equal(hub.upstreamRegistryUrl, 'registry-1.docker.io');
    assert.equal(hub.upstreamRegistry, 'docker-hub', 'inferred from the URL');
    assert.equal(hub.registryId, account);
    assert.equal(hub.credentialArn, arn('ecr-pullthroughcache/docker'));
    assert.ok(hub.createdAt!.getTime() >= before - 1000);
    await expectEcrError(
      ecr.send(new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'docker-hub/', upstreamRegistryUrl: 'quay.io' })),
      'PullThroughCacheRuleAlreadyExistsException',
      /docker-hub/,
    );
    // A secret named with Secrets Manager's random suffix is the same secret.
    await ecr.send(
      new CreatePullThroughCacheRuleCommand({
        ecrRepositoryPrefix: 'ghcr',
        upstreamRegistryUrl: 'ghcr.io',
        upstreamRegistry: 'github-container-registry',
        credentialArn: `${arn('ecr-pullthroughcache/docker')}-AbC123`,
      }),
    );
    for (const [prefix, url] of [
      ['ecr-public', 'public.ecr.aws'],
      ['quay', 'quay.io'],
      ['k8s', 'registry.k8s.io'],
    ]) {
      const r = await ecr.send(new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: prefix, upstreamRegistryUrl: url }));
      assert.equal(r.credentialArn, undefined);
    }
    await expectEcrError(
      ecr.send(
        new CreatePullThroughCacheRuleCommand({
          ecrRepositoryPrefix: 'public2',
          upstreamRegistryUrl: 'public.ecr.aws',
          credentialArn: arn('ecr-pullthroughcache/docker'),
        }),
      ),
      'InvalidParameterException',
      /does not take a credentialArn/,
    );
    await expectEcrError(
      ecr.send(
        new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'wrong', upstreamRegistryUrl: 'ghcr.io', upstreamRegistry: 'quay' }),
      ),
      'UnsupportedUpstreamRegistryException',
      /quay/,
    );
    await expectEcrError(
      ecr.send(
        new CreatePullThroughCacheRuleCommand({
          ecrRepositoryPrefix: 'azure',
          upstreamRegistryUrl: 'my.registry.example',
          upstreamRegistry: 'azure-container-registry',
          credentialArn: arn('ecr-pullthroughcache/docker'),
        }),
      ),
      'UnsupportedUpstreamRegistryException',
    );
    await ecr.send(
      new CreatePullThroughCacheRuleCommand({
        ecrRepositoryPrefix: 'azure',
        upstreamRegistryUrl: 'myteam.azurecr.io',
        credentialArn: arn('ecr-pullthroughcache/docker'),
      }),
    );
    await expectEcrError(
      ecr.send(
        new CreatePullThroughCacheRuleCommand({
          ecrRepositoryPrefix: 'quay2',
          upstreamRegistryUrl: 'quay.io',
          customRoleArn: `arn:aws:iam::${account}:role/r`,
        }),
      ),
      'InvalidParameterException',
      /customRoleArn/,
    );
    await expectEcrError(
      ecr.send(new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'ROOT', upstreamRegistryUrl: 'quay.io' })),
      'InvalidParameterException',
      /ROOT/,
    );
    const ecrUp = await ecr.send(
      new CreatePullThroughCacheRuleCommand({
        ecrRepositoryPrefix: 'private',
        upstreamRegistryUrl: '123456789012.dkr.ecr.us-west-2.amazonaws.com',
        customRoleArn: `arn:aws:iam::${account}:role/ptc`,
        upstreamRepositoryPrefix: 'team',
      }),
    );
    assert.equal(ecrUp.upstreamRegistry, 'ecr');
    assert.equal(ecrUp.upstreamRepositoryPrefix, 'team');
    // Berth's extension: any OCI registry URL (here this Berth itself), with or without a secret.
    const generic = await ecr.send(
      new CreatePullThroughCacheRuleCommand({
        ecrRepositoryPrefix: 'self',
        upstreamRegistryUrl: berth.url,
        credentialArn: arn('ecr-pullthroughcache/self'),
      }),
    );
    assert.equal(generic.upstreamRegistry, undefined);
    await ecr.send(new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'anonymous', upstreamRegistryUrl: berth.host }));
    await expectEcrError(
      ecr.send(new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'bad-url', upstreamRegistryUrl: 'ftp://example.com/x' })),
      'InvalidParameterException',
      /upstreamRegistryUrl/,
    );
    // The model's constraints.
    await expectEcrError(
      ecr.send(new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'Upper', upstreamRegistryUrl: 'quay.io' })),
      'InvalidParameterException',
      /ecrRepositoryPrefix/,
    );
    await expectEcrError(
      ecr.send(new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'x', upstreamRegistryUrl: 'quay.io' })),
      'InvalidParameterException',
      /ecrRepositoryPrefix/,
    );
    await expectEcrError(
      ecr.send(
        new CreatePullThroughCacheRuleCommand({
          ecrRepositoryPrefix: 'hub2',
          upstreamRegistryUrl: 'registry-1.docker.io',
          credentialArn: `arn:aws:secretsmanager:us-east-1:${account}:secret:other/docker`,
        }),
      ),
      'InvalidParameterException',
      /credentialArn/,
    );
  });

  it('DescribePullThroughCacheRules: every rule in prefix order, a filter (a missing prefix is not found), pages', async () => {
    const all = await allPages(
      (nextToken) => ecr.send(new DescribePullThroughCacheRulesCommand({ maxResults: 2, nextToken })),
      (p) => p.pullThroughCacheRules,
    );
    assert.deepEqual(
      all.map((r) => r.ecrRepositoryPrefix),
      ['anonymous', 'azure', 'docker-hub', 'ecr-public', 'ghcr', 'k8s', 'private', 'quay', 'self'],
    );
    const hub = all.find((r) => r.ecrRepositoryPrefix === 'docker-hub')!;
    assert.equal(hub.upstreamRegistry, 'docker-hub');
    assert.ok(hub.updatedAt instanceof Date);
    const some = await ecr.send(new DescribePullThroughCacheRulesCommand({ ecrRepositoryPrefixes: ['quay', 'k8s/'] }));
    assert.deepEqual(
      some.pullThroughCacheRules!.map((r) => r.ecrRepositoryPrefix),
      ['k8s', 'quay'],
    );
    await expectEcrError(
      ecr.send(new DescribePullThroughCacheRulesCommand({ ecrRepositoryPrefixes: ['quay', 'nope'] })),
      'PullThroughCacheRuleNotFoundException',
      /nope/,
    );
  });

  it('UpdatePullThroughCacheRule: a new secret (checked), or a role for Amazon ECR; nothing to update is refused', async () => {
    await expectEcrError(
      ecr.send(new UpdatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'docker-hub' })),
      'InvalidParameterException',
      'Invalid input: Please set either credential arn or role arn to update the credentials',
    );
    await expectEcrError(
      ecr.send(new UpdatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'nope', credentialArn: arn('ecr-pullthroughcache/docker') })),
      'PullThroughCacheRuleNotFoundException',
    );
    await expectEcrError(
      ecr.send(
        new UpdatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'docker-hub', credentialArn: arn('ecr-pullthroughcache/missing') }),
      ),
      'SecretNotFoundException',
    );
    const other = await putSecret('ecr-pullthroughcache/docker-2', { username: 'v', accessToken: 'w' });
    const r = await ecr.send(new UpdatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'docker-hub', credentialArn: other }));
    assert.equal(r.credentialArn, other);
    assert.equal(r.ecrRepositoryPrefix, 'docker-hub');
    assert.ok(r.updatedAt instanceof Date);
    const role = await ecr.send(
      new UpdatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'private', customRoleArn: `arn:aws:iam::${account}:role/other` }),
    );
    assert.equal(role.customRoleArn, `arn:aws:iam::${account}:role/other`);
    await expectEcrError(
      ecr.send(new UpdatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'k8s', credentialArn: other })),
      'InvalidParameterException',
    );
    // A secret the registry key does not decrypt, and one that holds no credentials.
    // The server writes too (audit records): wait for its lock rather than fail.
    const db = new DatabaseSync(join(berth.dataDir, 'meta.db'), { timeout: 10_000 });
    const box = new SecretBox(Buffer.from(readFileSync(join(berth.dataDir, 'secret.key'), 'utf8').trim(), 'base64'));
    try {
      await putSecret('ecr-pullthroughcache/broken', { username: 'u', accessToken: 't' });
      db.prepare('UPDATE secrets SET ciphertext = ? WHERE name = ?').run(
        new SecretBox(Buffer.alloc(32, 1)).encrypt('{}'),
        'ecr-pullthroughcache/broken',
      );
      await expectEcrError(
        ecr.send(
          new UpdatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'docker-hub', credentialArn: arn('ecr-pullthroughcache/broken') }),
        ),
        'UnableToDecryptSecretValueException',
      );
      db.prepare('UPDATE secrets SET ciphertext = ? WHERE name = ?').run(box.encrypt('{"user":"u"}'), 'ecr-pullthroughcache/broken');
      await expectEcrError(
        ecr.send(
          new UpdatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'docker-hub', credentialArn: arn('ecr-pullthroughcache/broken') }),
        ),
        'UnableToAccessSecretException',
      );
    } finally {
      db.close();
    }
  });

  it("ValidatePullThroughCacheRule: reaches the upstream with the rule's credentials", async () => {
    const ok = await ecr.send(new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'self' }));
    assert.equal(ok.isValid, true, ok.failure);
    assert.equal(ok.upstreamRegistryUrl, berth.url);
    assert.equal(ok.credentialArn, arn('ecr-pullthroughcache/self'));
    assert.equal(ok.registryId, account);
    await putSecret('ecr-pullthroughcache/self', { username: berth.accessKeyId, accessToken: 'wrong' });
    // The rule's client reads its secret again once its version changes: update the rule to the same secret.
    await ecr.send(new UpdatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'self', credentialArn: arn('ecr-pullthroughcache/self') }));
    const bad = await ecr.send(new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'self' }));
    assert.equal(bad.isValid, false);
    assert.match(bad.failure!, /refused|401/);
    const role = await ecr.send(new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'private' }));
    assert.equal(role.isValid, false);
    assert.match(role.failure!, /IAM roles/);
    await expectEcrError(
      ecr.send(new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'nope' })),
      'PullThroughCacheRuleNotFoundException',
    );
  });

  it('DeletePullThroughCacheRule answers the rule deleted; a second delete is not found; at most 50 rules', async () => {
    const d = await ecr.send(new DeletePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'quay' }));
    assert.equal(d.ecrRepositoryPrefix, 'quay');
    assert.equal(d.upstreamRegistryUrl, 'quay.io');
    assert.equal(d.registryId, account);
    assert.ok(d.createdAt instanceof Date);
    await expectEcrError(
      ecr.send(new DeletePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'quay' })),
      'PullThroughCacheRuleNotFoundException',
      /quay/,
    );
    const existing = (await ecr.send(new DescribePullThroughCacheRulesCommand({}))).pullThroughCacheRules!.length;
    for (let i = existing; i < 50; i++)
      await ecr.send(new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: `many-${i}`, upstreamRegistryUrl: 'quay.io' }));
    await expectEcrError(
      ecr.send(new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'one-too-many', upstreamRegistryUrl: 'quay.io' })),
      'LimitExceededException',
    );
  });
});
