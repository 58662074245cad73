// ECR repository operations with the AWS SDK for JavaScript: CreateRepository (defaults, tags, every tag
// mutability mode with exclusion filters, scanning and encryption configuration, KMS refused, duplicates, invalid
// names), DescribeRepositories (by name, pagination), DeleteRepository (empty, not empty, force),
// PutImageTagMutability, PutImageScanningConfiguration and the resource tag operations.
// Reference: the ECR API reference and the botocore model (data/ecr/2015-09-21/service-2.json).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeRepositoriesCommand,
  ListImagesCommand,
  ListTagsForResourceCommand,
  PutImageScanningConfigurationCommand,
  PutImageTagMutabilityCommand,
  TagResourceCommand,
  UntagResourceCommand,
  paginateDescribeRepositories,
  type ECRClient,
  type Repository,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient, expectEcrError, literal, makeImage, putImageViaUpload } from '../helpers/ecr.ts';
import { uniqueName } from '../helpers/tools.ts';

describe('ECR repositories', () => {
  let berth: Berth;
  let ecr: ECRClient;
  let account: string;
  const started = Date.now();

  const arnOf = (name: string) => `arn:aws:ecr:us-east-1:${account}:repository/${name}`;
  const notFound = (name: string) => `The repository with name '${name}' does not exist in the registry with id '${account}'`;
  const describeOne = async (name: string): Promise<Repository> => {
    const r = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }));
    assert.equal(r.repositories?.length, 1);
    return r.repositories![0];
  };

  before(async () => {
    berth = await startBerth();
    ecr = ecrClient(berth);
  });

  after(async () => {
    ecr?.destroy();
    await berth?.cleanup();
  });

  describe('CreateRepository', () => {
    it('creates a repository with ECR defaults: MUTABLE, no scan on push, AES256', async () => {
      const name = uniqueName('repos/plain');
      const r = await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
      const repo = r.repository!;
      assert.match(repo.registryId ?? '', /^\d{12}$/, 'registryId is a 12-digit account');
      account = repo.registryId!;
      assert.equal(repo.repositoryName, name);
      assert.equal(repo.repositoryArn, arnOf(name));
      assert.equal(repo.repositoryUri, `${berth.host}/${name}`);
      assert.ok(repo.createdAt instanceof Date, 'createdAt is a timestamp');
      assert.ok(
        repo.createdAt.getTime() >= started - 60_000 && repo.createdAt.getTime() <= Date.now() + 60_000,
        `createdAt ${repo.createdAt.toISOString()} is now`,
      );
      assert.equal(repo.imageTagMutability, 'MUTABLE');
      assert.equal(repo.imageTagMutabilityExclusionFilters, undefined, 'no exclusion filters unless given');
      assert.deepEqual(repo.imageScanningConfiguration, { scanOnPush: false });
      assert.deepEqual(repo.encryptionConfiguration, { encryptionType: 'AES256' });

      const described = await describeOne(name);
      assert.deepEqual(described, repo, 'DescribeRepositories answers what CreateRepository answered');
    });

    it('creates an IMMUTABLE repository that scans on push, with AES256 named explicitly', async () => {
      const name = uniqueName('repos/immutable');
      const r = await ecr.send(
        new CreateRepositoryCommand({
          repositoryName: name,
          imageTagMutability: 'IMMUTABLE',
          imageScanningConfiguration: { scanOnPush: true },
          encryptionConfiguration: { encryptionType: 'AES256' },
        }),
      );
      assert.equal(r.repository?.imageTagMutability, 'IMMUTABLE');
      assert.deepEqual(r.repository?.imageScanningConfiguration, { scanOnPush: true });
      assert.deepEqual(r.repository?.encryptionConfiguration, { encryptionType: 'AES256' });
      const d = await describeOne(name);
      assert.equal(d.imageTagMutability, 'IMMUTABLE');
      assert.deepEqual(d.imageScanningConfiguration, { scanOnPush: true });
    });

    it('creates IMMUTABLE_WITH_EXCLUSION and MUTABLE_WITH_EXCLUSION repositories with their filters', async () => {
      for (const mode of ['IMMUTABLE_WITH_EXCLUSION', 'MUTABLE_WITH_EXCLUSION'] as const) {
        const name = uniqueName(`repos/${mode.toLowerCase().replace(/_/g, '-')}`);
        const filters = [
          { filterType: 'WILDCARD' as const, filter: 'latest' },
          { filterType: 'WILDCARD' as const, filter: 'dev-*' },
        ];
        const r = await ecr.send(
          new CreateRepositoryCommand({
            repositoryName: name,
            imageTagMutability: mode,
            imageTagMutabilityExclusionFilters: filters,
          }),
        );
        assert.equal(r.repository?.imageTagMutability, mode);
        assert.deepEqual(r.repository?.imageTagMutabilityExclusionFilters, filters);
        const d = await describeOne(name);
        assert.equal(d.imageTagMutability, mode);
        assert.deepEqual(d.imageTagMutabilityExclusionFilters, filters);
      }
    });

    it('refuses a *_WITH_EXCLUSION mode without filters with InvalidParameterException', async () => {
      const name = uniqueName('repos/no-filters');
      await expectEcrError(
        ecr.send(new CreateRepositoryCommand({ repositoryName: name, imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION' })),
        'InvalidParameterException',
      );
      await expectEcrError(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] })), 'RepositoryNotFoundException');
    });

    it('refuses an exclusion filter with characters outside [0-9a-zA-Z._*-] or more than 5 filters', async () => {
      const name = uniqueName('repos/bad-filter');
      await expectEcrError(
        ecr.send(
          new CreateRepositoryCommand({
            repositoryName: name,
            imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
            imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'bad/filter' }],
          }),
        ),
        'InvalidParameterException',
      );
      await expectEcrError(
        ecr.send(
          new CreateRepositoryCommand({
            repositoryName: name,
            imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
            imageTagMutabilityExclusionFilters: ['a', 'b', 'c', 'd', 'e', 'f'].map((f) => ({ filterType: 'WILDCARD' as const, filter: f })),
          }),
        ),
        'InvalidParameterException',
      );
    });

    it('refuses an unknown imageTagMutability value with InvalidParameterException', async () => {
      await expectEcrError(
        ecr.send(
          new CreateRepositoryCommand({
            repositoryName: uniqueName('repos/bad-mode'),
            imageTagMutability: 'SOMETIMES' as never,
          }),
        ),
        'InvalidParameterException',
      );
    });

    it('creates a repository with tags, listed by ListTagsForResource', async () => {
      const name = uniqueName('repos/tagged');
      const tags = [
        { Key: 'team', Value: 'platform' },
        { Key: 'env', Value: 'test' },
      ];
      await ecr.send(new CreateRepositoryCommand({ repositoryName: name, tags }));
      const listed = await ecr.send(new ListTagsForResourceCommand({ resourceArn: arnOf(name) }));
      const byKey = (a: { Key?: string }, b: { Key?: string }) => (a.Key ?? '').localeCompare(b.Key ?? '');
      assert.deepEqual([...listed.tags!].sort(byKey), [...tags].sort(byKey));
    });

    it('refuses KMS encryption with KmsException, since Berth has no KMS, and creates nothing', async () => {
      const name = uniqueName('repos/kms');
      await expectEcrError(
        ecr.send(
          new CreateRepositoryCommand({
            repositoryName: name,
            encryptionConfiguration: { encryptionType: 'KMS' },
          }),
        ),
        'KmsException',
      );
      await expectEcrError(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] })), 'RepositoryNotFoundException');
    });

    it('refuses a name that already exists with RepositoryAlreadyExistsException', async () => {
      const name = uniqueName('repos/twice');
      await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
      await expectEcrError(
        ecr.send(new CreateRepositoryCommand({ repositoryName: name })),
        'RepositoryAlreadyExistsException',
        `The repository with name '${name}' already exists in the registry with id '${account}'`,
      );
    });

    it('refuses invalid names with InvalidParameterException at repositoryName', async () => {
      const invalid = [
        'UpperCase',
        'a',
        '-leading-dash',
        'trailing-dash-',
        'trailing/',
        '/leading',
        'double//slash',
        'dot..dot',
        'has space',
        'under___three',
        'x'.repeat(257),
        'tag:colon',
      ];
      for (const repositoryName of invalid) {
        await expectEcrError(
          ecr.send(new CreateRepositoryCommand({ repositoryName })),
          'InvalidParameterException',
          /^Invalid parameter at 'repositoryName' failed to satisfy constraint: '.+'$/s,
        );
      }
    });

    it('accepts every separator the name grammar allows, and a 256-character name', async () => {
      const unique = uniqueName('n');
      const valid = [uniqueName('a.b_c__d-e---f/g'), `${uniqueName('deep')}/x/y/z`, 'x'.repeat(256 - unique.length - 1) + '-' + unique];
      assert.equal(valid[2].length, 256);
      for (const repositoryName of valid) {
        const r = await ecr.send(new CreateRepositoryCommand({ repositoryName }));
        assert.equal(r.repository?.repositoryName, repositoryName);
      }
    });

    it('refuses a tag key longer than 128 characters with InvalidTagParameterException', async () => {
      await expectEcrError(
        ecr.send(
          new CreateRepositoryCommand({
            repositoryName: uniqueName('repos/long-tag'),
            tags: [{ Key: 'k'.repeat(129), Value: 'v' }],
          }),
        ),
        'InvalidTagParameterException',
      );
    });

    it('refuses more than 50 tags with TooManyTagsException', async () => {
      await expectEcrError(
        ecr.send(
          new CreateRepositoryCommand({
            repositoryName: uniqueName('repos/many-tags'),
            tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` })),
          }),
        ),
        'TooManyTagsException',
      );
    });
  });

  describe('DescribeRepositories', () => {
    const prefix = uniqueName('pages');
    const names = Array.from({ length: 25 }, (_, i) => `${prefix}/r${String(i).padStart(2, '0')}`);

    before(async () => {
      for (const repositoryName of names) await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    });

    it('describes the repositories named, in one call', async () => {
      const r = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [names[3], names[7]] }));
      assert.deepEqual(r.repositories!.map((x) => x.repositoryName).sort(), [names[3], names[7]]);
      for (const repo of r.repositories!) assert.equal(repo.repositoryArn, arnOf(repo.repositoryName!));
    });

    it('refuses a list with a missing repository with RepositoryNotFoundException naming it', async () => {
      const missing = `${prefix}/missing`;
      await expectEcrError(
        ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [names[0], missing] })),
        'RepositoryNotFoundException',
        notFound(missing),
      );
    });

    it('walks every repository in pages of 10 with maxResults and nextToken', async () => {
      const all = await ecr.send(new DescribeRepositoriesCommand({ maxResults: 1000 }));
      assert.equal(all.nextToken, undefined, 'everything fits in one page of 1000');
      const total = all.repositories!.length;
      assert.ok(total >= 25, `at least the 25 created (${total})`);

      const seen: string[] = [];
      const sizes: number[] = [];
      let nextToken: string | undefined;
      do {
        const page = await ecr.send(new DescribeRepositoriesCommand({ maxResults: 10, nextToken }));
        sizes.push(page.repositories!.length);
        seen.push(...page.repositories!.map((x) => x.repositoryName!));
        nextToken = page.nextToken;
        assert.ok(sizes.length <= Math.ceil(total / 10) + 1, 'pagination ends');
      } while (nextToken);
      assert.equal(seen.length, total, 'every repository exactly once');
      assert.equal(new Set(seen).size, total, 'no repository twice');
      assert.deepEqual(new Set(seen), new Set(all.repositories!.map((x) => x.repositoryName!)));
      for (const name of names) assert.ok(seen.includes(name), name);
      assert.equal(sizes.length, Math.ceil(total / 10));
      assert.ok(
        sizes.slice(0, -1).every((s) => s === 10),
        `full pages of 10: ${sizes}`,
      );
    });

    it('walks the same set with the SDK paginator', async () => {
      const seen: string[] = [];
      for await (const page of paginateDescribeRepositories({ client: ecr, pageSize: 7 }, {})) {
        assert.ok(page.repositories!.length <= 7);
        seen.push(...page.repositories!.map((x) => x.repositoryName!));
      }
      assert.equal(new Set(seen).size, seen.length);
      for (const name of names) assert.ok(seen.includes(name), name);
    });

    it('refuses maxResults outside 1..1000 with InvalidParameterException', async () => {
      await expectEcrError(ecr.send(new DescribeRepositoriesCommand({ maxResults: 0 })), 'InvalidParameterException');
      await expectEcrError(ecr.send(new DescribeRepositoriesCommand({ maxResults: 1001 })), 'InvalidParameterException');
    });

    it('refuses a nextToken it never gave with InvalidParameterException', async () => {
      await expectEcrError(
        ecr.send(new DescribeRepositoriesCommand({ maxResults: 10, nextToken: 'not-a-token' })),
        'InvalidParameterException',
      );
    });

    it('refuses maxResults together with repositoryNames with InvalidParameterException', async () => {
      await expectEcrError(
        ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [names[0]], maxResults: 5 })),
        'InvalidParameterException',
      );
    });

    it('refuses a registry id of another shape with InvalidParameterException', async () => {
      await expectEcrError(ecr.send(new DescribeRepositoriesCommand({ registryId: 'abc' })), 'InvalidParameterException');
    });
  });

  describe('DeleteRepository', () => {
    it('deletes an empty repository and answers it', async () => {
      const name = uniqueName('repos/delete-empty');
      const created = (await ecr.send(new CreateRepositoryCommand({ repositoryName: name }))).repository!;
      const r = await ecr.send(new DeleteRepositoryCommand({ repositoryName: name }));
      assert.equal(r.repository?.repositoryName, name);
      assert.equal(r.repository?.repositoryArn, created.repositoryArn);
      assert.equal(r.repository?.registryId, account);
      await expectEcrError(
        ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] })),
        'RepositoryNotFoundException',
        notFound(name),
      );
    });

    it('refuses a missing repository with RepositoryNotFoundException', async () => {
      const name = uniqueName('repos/never');
      await expectEcrError(ecr.send(new DeleteRepositoryCommand({ repositoryName: name })), 'RepositoryNotFoundException', notFound(name));
    });

    it('refuses a repository with images without force (RepositoryNotEmptyException); force deletes it and them', async () => {
      const name = uniqueName('repos/delete-full');
      await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
      await putImageViaUpload(ecr, name, makeImage(), 'v1');
      await expectEcrError(
        ecr.send(new DeleteRepositoryCommand({ repositoryName: name })),
        'RepositoryNotEmptyException',
        `The repository with name '${name}' in registry with id '${account}' cannot be deleted because it still contains images`,
      );
      await expectEcrError(ecr.send(new DeleteRepositoryCommand({ repositoryName: name, force: false })), 'RepositoryNotEmptyException');
      assert.equal((await ecr.send(new ListImagesCommand({ repositoryName: name }))).imageIds?.length, 1, 'the image is still there');

      const r = await ecr.send(new DeleteRepositoryCommand({ repositoryName: name, force: true }));
      assert.equal(r.repository?.repositoryName, name);
      await expectEcrError(ecr.send(new ListImagesCommand({ repositoryName: name })), 'RepositoryNotFoundException');
      const res = await fetch(`${berth.url}/v2/${name}/manifests/v1`, { headers: { authorization: berth.authHeader } });
      assert.equal(res.status, 404, 'the image is gone from the data plane too');

      // The name can be used again, and the new repository is empty.
      await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
      const again = await ecr.send(new ListImagesCommand({ repositoryName: name }));
      assert.deepEqual(again.imageIds ?? [], []);
    });
  });

  describe('PutImageTagMutability and PutImageScanningConfiguration', () => {
    it('changes the tag mutability, with and without exclusion filters', async () => {
      const name = uniqueName('repos/mutability');
      await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
      const r = await ecr.send(new PutImageTagMutabilityCommand({ repositoryName: name, imageTagMutability: 'IMMUTABLE' }));
      assert.equal(r.repositoryName, name);
      assert.equal(r.registryId, account);
      assert.equal(r.imageTagMutability, 'IMMUTABLE');
      assert.equal((await describeOne(name)).imageTagMutability, 'IMMUTABLE');

      const filters = [{ filterType: 'WILDCARD' as const, filter: 'latest' }];
      const r2 = await ecr.send(
        new PutImageTagMutabilityCommand({
          repositoryName: name,
          imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
          imageTagMutabilityExclusionFilters: filters,
        }),
      );
      assert.equal(r2.imageTagMutability, 'IMMUTABLE_WITH_EXCLUSION');
      assert.deepEqual(r2.imageTagMutabilityExclusionFilters, filters);
      const d = await describeOne(name);
      assert.equal(d.imageTagMutability, 'IMMUTABLE_WITH_EXCLUSION');
      assert.deepEqual(d.imageTagMutabilityExclusionFilters, filters);

      const r3 = await ecr.send(new PutImageTagMutabilityCommand({ repositoryName: name, imageTagMutability: 'MUTABLE' }));
      assert.equal(r3.imageTagMutability, 'MUTABLE');
      const d3 = await describeOne(name);
      assert.equal(d3.imageTagMutability, 'MUTABLE');
      assert.equal(d3.imageTagMutabilityExclusionFilters, undefined, 'the filters went with the exclusion mode');
    });

    it('refuses a missing repository and a bad mode', async () => {
      const name = uniqueName('repos/mutability-missing');
      await expectEcrError(
        ecr.send(new PutImageTagMutabilityCommand({ repositoryName: name, imageTagMutability: 'IMMUTABLE' })),
        'RepositoryNotFoundException',
        notFound(name),
      );
      const existing = uniqueName('repos/mutability-bad');
      await ecr.send(new CreateRepositoryCommand({ repositoryName: existing }));
      await expectEcrError(
        ecr.send(new PutImageTagMutabilityCommand({ repositoryName: existing, imageTagMutability: 'FROZEN' as never })),
        'InvalidParameterException',
      );
      await expectEcrError(
        ecr.send(new PutImageTagMutabilityCommand({ repositoryName: existing, imageTagMutability: 'MUTABLE_WITH_EXCLUSION' })),
        'InvalidParameterException',
        undefined,
      );
    });

    it('changes scan on push', async () => {
      const name = uniqueName('repos/scanning');
      await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
      const r = await ecr.send(
        new PutImageScanningConfigurationCommand({ repositoryName: name, imageScanningConfiguration: { scanOnPush: true } }),
      );
      assert.equal(r.repositoryName, name);
      assert.equal(r.registryId, account);
      assert.deepEqual(r.imageScanningConfiguration, { scanOnPush: true });
      assert.deepEqual((await describeOne(name)).imageScanningConfiguration, { scanOnPush: true });
      await ecr.send(new PutImageScanningConfigurationCommand({ repositoryName: name, imageScanningConfiguration: { scanOnPush: false } }));
      assert.deepEqual((await describeOne(name)).imageScanningConfiguration, { scanOnPush: false });
      const missing = uniqueName('repos/scanning-missing');
      await expectEcrError(
        ecr.send(
          new PutImageScanningConfigurationCommand({
            repositoryName: missing,
            imageScanningConfiguration: { scanOnPush: true },
          }),
        ),
        'RepositoryNotFoundException',
        notFound(missing),
      );
    });
  });

  describe('TagResource, UntagResource, ListTagsForResource', () => {
    it('adds, overwrites and removes tags by repository ARN', async () => {
      const name = uniqueName('repos/tags');
      const arn = (await ecr.send(new CreateRepositoryCommand({ repositoryName: name, tags: [{ Key: 'a', Value: '1' }] }))).repository!
        .repositoryArn!;
      assert.equal(arn, arnOf(name));
      const list = async () => {
        const tags = (await ecr.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags ?? [];
        return Object.fromEntries(tags.map((t) => [t.Key, t.Value]));
      };
      assert.deepEqual(await list(), { a: '1' });
      await ecr.send(
        new TagResourceCommand({
          resourceArn: arn,
          tags: [
            { Key: 'b', Value: '2' },
            { Key: 'a', Value: 'one' },
          ],
        }),
      );
      assert.deepEqual(await list(), { a: 'one', b: '2' }, 'TagResource adds b and overwrites a, leaving nothing else changed');
      await ecr.send(new TagResourceCommand({ resourceArn: arn, tags: [{ Key: 'c', Value: '' }] }));
      assert.deepEqual(await list(), { a: 'one', b: '2', c: '' }, 'an empty value is a value');
      await ecr.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['a', 'c', 'not-there'] }));
      assert.deepEqual(await list(), { b: '2' });
    });

    it('refuses an ARN of a missing repository with RepositoryNotFoundException', async () => {
      const name = uniqueName('repos/tags-missing');
      await expectEcrError(
        ecr.send(new ListTagsForResourceCommand({ resourceArn: arnOf(name) })),
        'RepositoryNotFoundException',
        new RegExp(literal(name)),
      );
      await expectEcrError(
        ecr.send(new TagResourceCommand({ resourceArn: arnOf(name), tags: [{ Key: 'k', Value: 'v' }] })),
        'RepositoryNotFoundException',
      );
      await expectEcrError(ecr.send(new UntagResourceCommand({ resourceArn: arnOf(name), tagKeys: ['k'] })), 'RepositoryNotFoundException');
    });

    it('refuses something that is not a repository ARN with InvalidParameterException', async () => {
      for (const resourceArn of ['not-an-arn', 'arn:aws:s3:::bucket', `arn:aws:ecr:us-east-1:${account}:something/x`]) {
        await expectEcrError(ecr.send(new ListTagsForResourceCommand({ resourceArn })), 'InvalidParameterException', undefined);
      }
    });

    it('refuses a bad tag with InvalidTagParameterException and more than 50 tags with TooManyTagsException', async () => {
      const name = uniqueName('repos/tags-limits');
      const arn = (await ecr.send(new CreateRepositoryCommand({ repositoryName: name }))).repository!.repositoryArn!;
      await expectEcrError(
        ecr.send(new TagResourceCommand({ resourceArn: arn, tags: [{ Key: 'k', Value: 'v'.repeat(257) }] })),
        'InvalidTagParameterException',
      );
      await ecr.send(
        new TagResourceCommand({ resourceArn: arn, tags: Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) }),
      );
      await expectEcrError(
        ecr.send(new TagResourceCommand({ resourceArn: arn, tags: [{ Key: 'one-more', Value: 'v' }] })),
        'TooManyTagsException',
      );
      assert.equal((await ecr.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags?.length, 50);
    });
  });
});
