// Repository creation templates with the AWS SDK for JavaScript: CreateRepositoryCreationTemplate,
// DescribeRepositoryCreationTemplates (prefix filter, pagination), UpdateRepositoryCreationTemplate,
// DeleteRepositoryCreationTemplate with ECR's fields and exceptions (TemplateAlreadyExistsException,
// TemplateNotFoundException, InvalidParameterException), and a template APPLIED: a push to a missing repository
// creates it when a CREATE_ON_PUSH template matches (the longest prefix, else ROOT), with the template's tag
// mutability, resource tags, repository policy and lifecycle policy; without a matching template the push is refused.
// Reference: the ECR API reference (RepositoryCreationTemplate) and the botocore model.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateRepositoryCreationTemplateCommand,
  DeleteRepositoryCreationTemplateCommand,
  DescribeRepositoriesCommand,
  DescribeRepositoryCreationTemplatesCommand,
  GetLifecyclePolicyCommand,
  GetRepositoryPolicyCommand,
  ListTagsForResourceCommand,
  UpdateRepositoryCreationTemplateCommand,
  type ECRClient,
  type RepositoryCreationTemplate,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { allPages, ecrClient, expectEcrError } from '../helpers/ecr.ts';
import { pushImage } from '../helpers/http.ts';
import { uniqueName } from '../helpers/tools.ts';

const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'pull', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: ['ecr:BatchGetImage'] }],
});
const LIFECYCLE = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 },
      action: { type: 'expire' },
    },
  ],
});

describe('ECR repository creation templates', () => {
  let berth: Berth;
  let ecr: ECRClient;

  before(async () => {
    // No create-on-push shortcut: only a template creates a repository on push.
    berth = await startBerth({ env: { BERTH_CREATE_ON_PUSH: 'false' } });
    ecr = ecrClient(berth);
  });

  after(async () => {
    ecr?.destroy();
    await berth?.cleanup();
  });

  const describeTemplates = async (prefixes?: string[]) =>
    (await ecr.send(new DescribeRepositoryCreationTemplatesCommand({ prefixes }))).repositoryCreationTemplates!;

  describe('the operations', () => {
    it('creates a template with its fields and defaults, and refuses a second one of the prefix', async () => {
      const before = Date.now();
      const r = await ecr.send(
        new CreateRepositoryCreationTemplateCommand({
          prefix: 'crud',
          description: 'for crud',
          appliedFor: ['REPLICATION', 'PULL_THROUGH_CACHE'],
          resourceTags: [{ Key: 'team', Value: 'a' }],
          repositoryPolicy: POLICY,
          lifecyclePolicy: LIFECYCLE,
        }),
      );
      assert.match(r.registryId ?? '', /^\d{12}$/);
      const t = r.repositoryCreationTemplate!;
      assert.equal(t.prefix, 'crud');
      assert.equal(t.description, 'for crud');
      assert.deepEqual(t.appliedFor, ['REPLICATION', 'PULL_THROUGH_CACHE']);
      assert.equal(t.imageTagMutability, 'MUTABLE', 'MUTABLE by default');
      assert.deepEqual(t.encryptionConfiguration, { encryptionType: 'AES256' }, 'AES256 by default');
      assert.deepEqual(t.resourceTags, [{ Key: 'team', Value: 'a' }]);
      assert.equal(t.repositoryPolicy, POLICY);
      assert.equal(t.lifecyclePolicy, LIFECYCLE);
      assert.ok(t.createdAt!.getTime() >= before - 1000 && t.updatedAt!.getTime() === t.createdAt!.getTime());
      await expectEcrError(
        ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'crud', appliedFor: ['REPLICATION'] })),
        'TemplateAlreadyExistsException',
        /crud/,
      );
      const [described] = await describeTemplates(['crud']);
      assert.deepEqual(described, t);
    });

    it('updates only the fields given, and answers TemplateNotFoundException for a missing prefix', async () => {
      await ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'upd/', appliedFor: ['CREATE_ON_PUSH'], description: 'old' }));
      const r = await ecr.send(
        new UpdateRepositoryCreationTemplateCommand({
          prefix: 'upd/',
          imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
          imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest*' }],
        }),
      );
      const t = r.repositoryCreationTemplate!;
      assert.equal(t.description, 'old', 'a field not given is kept');
      assert.equal(t.imageTagMutability, 'IMMUTABLE_WITH_EXCLUSION');
      assert.deepEqual(t.imageTagMutabilityExclusionFilters, [{ filterType: 'WILDCARD', filter: 'latest*' }]);
      assert.deepEqual(t.appliedFor, ['CREATE_ON_PUSH']);
      assert.ok(t.updatedAt!.getTime() >= t.createdAt!.getTime());
      assert.deepEqual((await describeTemplates(['upd/']))[0], t);
      await expectEcrError(
        ecr.send(new UpdateRepositoryCreationTemplateCommand({ prefix: 'nothing', description: 'x' })),
        'TemplateNotFoundException',
        /nothing/,
      );
    });

    it('deletes a template, answering it, then TemplateNotFoundException', async () => {
      await ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'gone', appliedFor: ['REPLICATION'] }));
      const r = await ecr.send(new DeleteRepositoryCreationTemplateCommand({ prefix: 'gone' }));
      assert.equal(r.repositoryCreationTemplate?.prefix, 'gone');
      assert.deepEqual(await describeTemplates(['gone']), []);
      await expectEcrError(ecr.send(new DeleteRepositoryCreationTemplateCommand({ prefix: 'gone' })), 'TemplateNotFoundException');
    });

    it('describes every template in pages', async () => {
      for (const p of ['page/a', 'page/b', 'page/c'])
        await ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: p, appliedFor: ['REPLICATION'] }));
      const first = await ecr.send(new DescribeRepositoryCreationTemplatesCommand({ maxResults: 1 }));
      assert.equal(first.repositoryCreationTemplates!.length, 1);
      assert.ok(first.nextToken);
      const all = await allPages(
        (nextToken) => ecr.send(new DescribeRepositoryCreationTemplatesCommand({ maxResults: 2, nextToken })),
        (p) => p.repositoryCreationTemplates as RepositoryCreationTemplate[],
      );
      const prefixes = all.map((t) => t.prefix!);
      assert.equal(new Set(prefixes).size, prefixes.length, 'each template once');
      for (const p of ['page/a', 'page/b', 'page/c']) assert.ok(prefixes.includes(p), `${p} listed`);
      assert.deepEqual(
        (await describeTemplates(['page/b', 'page/none'])).map((t) => t.prefix),
        ['page/b'],
      );
    });

    it('validates as ECR does', async () => {
      const create = (input: object) =>
        ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: uniqueName('bad'), appliedFor: ['REPLICATION'], ...input }));
      await expectEcrError(create({ prefix: 'Not/Valid' }), 'InvalidParameterException', /prefix/);
      await expectEcrError(create({ appliedFor: [] }), 'InvalidParameterException', /appliedFor/);
      await expectEcrError(
        create({ imageTagMutability: 'MUTABLE_WITH_EXCLUSION' }),
        'InvalidParameterException',
        /imageTagMutabilityExclusionFilters/,
      );
      await expectEcrError(create({ repositoryPolicy: '{"Statement": "nope"}' }), 'InvalidParameterException');
      await expectEcrError(create({ lifecyclePolicy: '{"rules": []}' }), 'InvalidParameterException');
      await expectEcrError(create({ encryptionConfiguration: { encryptionType: 'KMS' } }), 'InvalidParameterException', /KMS/);
      await expectEcrError(create({ resourceTags: [{ Key: 'aws:x', Value: 'y' }] }), 'InvalidTagParameterException');
    });
  });

  describe('applied when a push creates a repository', () => {
    before(async () => {
      await ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'ROOT', appliedFor: ['CREATE_ON_PUSH'] }));
      await ecr.send(
        new CreateRepositoryCreationTemplateCommand({
          prefix: 'team',
          appliedFor: ['CREATE_ON_PUSH', 'REPLICATION'],
          imageTagMutability: 'IMMUTABLE',
          resourceTags: [{ Key: 'owner', Value: 'team' }],
          repositoryPolicy: POLICY,
          lifecyclePolicy: LIFECYCLE,
        }),
      );
      // Longer, but not for CREATE_ON_PUSH: it must not apply.
      await ecr.send(
        new CreateRepositoryCreationTemplateCommand({
          prefix: 'team/cache',
          appliedFor: ['PULL_THROUGH_CACHE'],
          imageTagMutability: 'MUTABLE',
        }),
      );
    });

    const repository = async (repositoryName: string) =>
      (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [repositoryName] }))).repositories![0];

    it('takes the settings of the longest matching CREATE_ON_PUSH template', async () => {
      const name = 'team/cache/app';
      await pushImage(berth, name, 'v1');
      const repo = await repository(name);
      assert.equal(repo.imageTagMutability, 'IMMUTABLE');
      const tags = await ecr.send(new ListTagsForResourceCommand({ resourceArn: repo.repositoryArn }));
      assert.deepEqual(tags.tags, [{ Key: 'owner', Value: 'team' }]);
      assert.equal((await ecr.send(new GetRepositoryPolicyCommand({ repositoryName: name }))).policyText, POLICY);
      assert.equal((await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: name }))).lifecyclePolicyText, LIFECYCLE);
      await assert.rejects(pushImage(berth, name, 'v1'), 'the tag is immutable, as the template says');
    });

    it('falls back to ROOT, and refuses the push once no template matches', async () => {
      await pushImage(berth, 'other/app', 'v1');
      const repo = await repository('other/app');
      assert.equal(repo.imageTagMutability, 'MUTABLE');
      await expectEcrError(ecr.send(new GetRepositoryPolicyCommand({ repositoryName: 'other/app' })), 'RepositoryPolicyNotFoundException');
      await ecr.send(new DeleteRepositoryCreationTemplateCommand({ prefix: 'ROOT' }));
      await assert.rejects(pushImage(berth, 'another/app', 'v1'), /404|NAME_UNKNOWN/);
      await expectEcrError(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['another/app'] })), 'RepositoryNotFoundException');
    });
  });
});
