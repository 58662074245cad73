// End to end: `berth apply` (the real command, node bin/berth.js) on a real server. It applies the example file
// (examples/registry.yaml) and checks with @aws-sdk/client-ecr and the admin API that everything is there and works
// (the training user may pull from a training repository and nothing more); applies it again (no changes); changes
// the file and checks that --dry-run shows exactly that change and changes nothing, then applies it; prunes what
// the file no longer names but not a repository made by hand, nor one holding images without
// --force-delete-images; and points at the line of a schema error, a YAML syntax error and a refused change. Webhooks:
// created (their secret printed once), updated in place (same id), pruned, a URL named twice refused at its line.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BatchCheckLayerAvailabilityCommand,
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  GetLifecyclePolicyCommand,
  GetRegistryPolicyCommand,
  GetRegistryScanningConfigurationCommand,
  GetRepositoryPolicyCommand,
  InitiateLayerUploadCommand,
  ListTagsForResourceCommand,
  type ECRClient,
  type Repository,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient, expectEcrError, makeImage, putImageViaUpload } from '../helpers/ecr.ts';
import { berthRun } from '../helpers/policies.ts';
import { describeResult, makeTempDir, removeDir, type RunResult } from '../helpers/tools.ts';

const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'registry.yaml');
const TEAMS = ['acme-sm-risk-fraud', 'acme-sm-risk-churn', 'acme-sm-growth-recs'];
const ALL = [
  ...['sklearn', 'pytorch', 'xgboost'].map((f) => `acme-sagemaker-shared/base-${f}`),
  ...TEAMS.flatMap((t) => ['preprocessing', 'training', 'inference'].map((s) => `${t}/${s}`)),
];

describe('berth apply', () => {
  let berth: Berth;
  let ecr: ECRClient;
  let work: string;
  let example: string;
  const file = () => join(work, 'registry.yaml');

  /** `berth apply ARGS` against the server's URL with the root key (`--url`), or on its data directory. */
  const apply = (args: string[], via: 'url' | 'data-dir' = 'url'): Promise<RunResult> =>
    berthRun(
      berth,
      ['apply', ...args, ...(via === 'url' ? ['--url', berth.url] : [])],
      60_000,
      via === 'url'
        ? { BERTH_ACCESS_KEY_ID: berth.accessKeyId, BERTH_SECRET_ACCESS_KEY: berth.secretAccessKey, BERTH_DATA_DIR: join(work, 'not-used') }
        : {},
    );
  const ok = async (args: string[], via: 'url' | 'data-dir' = 'url'): Promise<string[]> => {
    const r = await apply(args, via);
    assert.equal(r.code, 0, describeResult(r));
    return r.stdout.trimEnd().split('\n').slice(1); // without the "# file -> target" line
  };
  const write = (text: string) => writeFileSync(file(), text);
  /** `text` with `from` replaced by `to`, which must occur once. */
  const edit = (text: string, from: string, to: string): string => {
    assert.equal(text.split(from).length, 2, `"${from}" occurs once in the file`);
    return text.replace(from, to);
  };
  const api = async (action: string, args: object) => {
    const res = await fetch(`${berth.url}/_berth/admin/${action}`, {
      method: 'POST',
      headers: { authorization: berth.authHeader, 'content-type': 'application/json' },
      body: JSON.stringify(args),
    });
    assert.equal(res.status, 200, `${action}: ${res.status}`);
    return res.json() as Promise<any>;
  };
  const repositories = async (): Promise<Map<string, Repository>> => {
    const { repositories: list } = await ecr.send(new DescribeRepositoriesCommand({ maxResults: 1000 }));
    return new Map((list ?? []).map((r) => [r.repositoryName!, r]));
  };
  const tagsOf = async (r: Repository) =>
    Object.fromEntries(
      ((await ecr.send(new ListTagsForResourceCommand({ resourceArn: r.repositoryArn }))).tags ?? []).map((t) => [t.Key, t.Value]),
    );

  before(async () => {
    berth = await startBerth({ env: { BERTH_CREATE_ON_PUSH: 'false' } });
    ecr = ecrClient(berth);
    work = makeTempDir('berth-e2e-apply-');
    example = readFileSync(EXAMPLE, 'utf8');
  });
  after(async () => {
    ecr?.destroy();
    await berth?.cleanup();
    if (work) removeDir(work);
  });

  it('applies the example: repositories with their settings, tags and policies, registry scanning, users', async () => {
    write(example);
    const out = await ok(['-f', file()]);
    assert.equal(out.at(-1), 'applied: 14 created, 1 updated, 0 deleted');
    const repos = await repositories();
    assert.deepEqual([...repos.keys()].sort(), [...ALL].sort());
    for (const name of ALL) {
      const r = repos.get(name)!;
      const base = name.startsWith('acme-sagemaker-shared/');
      assert.equal(r.imageTagMutability, base ? 'IMMUTABLE_WITH_EXCLUSION' : 'IMMUTABLE', name);
      assert.deepEqual(r.imageTagMutabilityExclusionFilters, base ? [{ filterType: 'WILDCARD', filter: 'latest' }] : undefined, name);
      assert.equal(r.imageScanningConfiguration?.scanOnPush, true, name);
      const tags = await tagsOf(r);
      assert.equal(tags['berth:managed-by'], 'apply', `${name} carries apply's mark`);
      assert.equal(tags.team, base ? 'platform' : name.split('-')[2], name);
      const lifecycle = JSON.parse((await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: name }))).lifecyclePolicyText!);
      assert.deepEqual(
        lifecycle.rules.map((rule: any) => [rule.selection.countType, rule.selection.countNumber, rule.action.type]),
        [['imageCountMoreThan', 10, 'expire']],
        name,
      );
      if (name.endsWith('/training')) {
        const policy = JSON.parse((await ecr.send(new GetRepositoryPolicyCommand({ repositoryName: name }))).policyText!);
        assert.deepEqual(policy.Statement[0].Action, [
          'ecr:BatchGetImage',
          'ecr:GetDownloadUrlForLayer',
          'ecr:BatchCheckLayerAvailability',
        ]);
      } else {
        await expectEcrError(ecr.send(new GetRepositoryPolicyCommand({ repositoryName: name })), 'RepositoryPolicyNotFoundException');
      }
    }
    const scanning = await ecr.send(new GetRegistryScanningConfigurationCommand({}));
    assert.deepEqual(scanning.scanningConfiguration?.rules, [
      { scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'acme-*', filterType: 'WILDCARD' }] },
    ]);
    const { users } = await api('list-users', {});
    assert.deepEqual(users.map((u: any) => [u.name, u.managedBy]).sort(), [
      ['acme-sm-ci', 'apply'],
      ['sagemaker-training', 'apply'],
    ]);
    const { policies } = await api('list-user-policies', { user: 'sagemaker-training' });
    assert.deepEqual(
      policies.map((p: any) => p.name),
      ['ecr-login'],
    );

    // The policies work: the training user pulls from a training repository, and may not push to it nor pull others.
    const key = await api('create-access-key', { user: 'sagemaker-training' });
    const training = ecrClient(berth, key);
    try {
      const check = await training.send(
        new BatchCheckLayerAvailabilityCommand({
          repositoryName: 'acme-sm-risk-fraud/training',
          layerDigests: [`sha256:${'0'.repeat(64)}`],
        }),
      );
      assert.equal(check.layers?.[0]?.layerAvailability ?? check.failures?.[0]?.failureCode, 'MissingLayerDigest');
      await expectEcrError(
        training.send(new InitiateLayerUploadCommand({ repositoryName: 'acme-sm-risk-fraud/training' })),
        'AccessDeniedException',
      );
      await expectEcrError(
        training.send(
          new BatchCheckLayerAvailabilityCommand({
            repositoryName: 'acme-sm-risk-fraud/inference',
            layerDigests: [`sha256:${'0'.repeat(64)}`],
          }),
        ),
        'AccessDeniedException',
      );
    } finally {
      training.destroy();
    }
  });

  it('a second apply (on the data directory this time) changes nothing', async () => {
    assert.deepEqual(await ok(['-f', file()], 'data-dir'), ['no changes: the registry holds what ' + file() + ' says']);
  });

  it('--dry-run shows exactly what changed in the file, field by field, and changes nothing; apply then makes it', async () => {
    const registryPolicy = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'Backup',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::210987654321:root' },
          Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'],
          Resource: '*',
        },
      ],
    };
    let text = edit(
      example,
      'acme-sagemaker-shared/base-pytorch\n    imageTagMutability: IMMUTABLE_WITH_EXCLUSION\n    imageTagMutabilityExclusionFilters: [latest]',
      'acme-sagemaker-shared/base-pytorch\n    imageTagMutability: IMMUTABLE_WITH_EXCLUSION\n    imageTagMutabilityExclusionFilters: [latest, nightly-*]',
    );
    text = edit(
      text,
      'tags: { team: growth, project: recs }\n    lifecyclePolicy: *keep-last-10\n    policy: *training-pull-only',
      'tags: { team: growth, project: recommendations, cost-center: "4711" }\n    lifecyclePolicy: *keep-last-10',
    );
    text = edit(text, 'registry:\n  scanning:', `registry:\n  policy: ${JSON.stringify(registryPolicy)}\n  scanning:`);
    write(text);
    assert.deepEqual(await ok(['-f', file(), '--dry-run']), [
      '~ repository acme-sagemaker-shared/base-pytorch',
      '    ~ imageTagMutabilityExclusionFilters: ["latest"] -> ["latest","nightly-*"]',
      '~ repository acme-sm-growth-recs/training',
      '    ~ tags.project: "recs" -> "recommendations"',
      '    + tags.cost-center: "4711"',
      `    - policy: ${JSON.stringify(TRAINING_POLICY)}`,
      '~ registry settings',
      `    + policy: ${JSON.stringify(registryPolicy)}`,
      'dry run: 0 to create, 3 to update, 0 to delete (nothing was changed)',
    ]);
    const before = await repositories();
    assert.deepEqual(before.get('acme-sagemaker-shared/base-pytorch')!.imageTagMutabilityExclusionFilters, [
      { filterType: 'WILDCARD', filter: 'latest' },
    ]);
    assert.equal((await tagsOf(before.get('acme-sm-growth-recs/training')!)).project, 'recs');
    await ecr.send(new GetRepositoryPolicyCommand({ repositoryName: 'acme-sm-growth-recs/training' }));
    await expectEcrError(ecr.send(new GetRegistryPolicyCommand({})), 'RegistryPolicyNotFoundException');

    assert.equal((await ok(['-f', file()])).at(-1), 'applied: 0 created, 3 updated, 0 deleted');
    const now = await repositories();
    assert.deepEqual(
      now.get('acme-sagemaker-shared/base-pytorch')!.imageTagMutabilityExclusionFilters?.map((f) => f.filter),
      ['latest', 'nightly-*'],
    );
    assert.deepEqual(await tagsOf(now.get('acme-sm-growth-recs/training')!), {
      team: 'growth',
      project: 'recommendations',
      'cost-center': '4711',
      'berth:managed-by': 'apply',
    });
    await expectEcrError(
      ecr.send(new GetRepositoryPolicyCommand({ repositoryName: 'acme-sm-growth-recs/training' })),
      'RepositoryPolicyNotFoundException',
    );
    assert.deepEqual(JSON.parse((await ecr.send(new GetRegistryPolicyCommand({}))).policyText!), registryPolicy);
    assert.deepEqual(await ok(['-f', file()]), [`no changes: the registry holds what ${file()} says`]);
  });

  it('--prune deletes what apply created and the file no longer names; never a repository made by hand, nor images unless told', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'hand-made/tools' }));
    // A repository apply created now holds an image.
    await putImageViaUpload(ecr, 'acme-sm-growth-recs/training', makeImage({ label: 'apply-prune' }), 'v1');
    let text = readFileSync(file(), 'utf8');
    for (const step of ['preprocessing', 'training', 'inference']) {
      const start = text.indexOf(`  - name: acme-sm-growth-recs/${step}\n`);
      const end = text.indexOf('\n\n', start);
      text = text.slice(0, start) + text.slice(end + 2);
    }
    const ci = text.indexOf('  # The CI that builds');
    text = text.slice(0, ci);
    write(text);

    // Without --prune, nothing named no more is touched.
    assert.deepEqual(await ok(['-f', file()]), [`no changes: the registry holds what ${file()} says`]);
    const dry = await ok(['-f', file(), '--prune', '--dry-run']);
    assert.deepEqual(dry, [
      '- repository acme-sm-growth-recs/inference',
      '- repository acme-sm-growth-recs/preprocessing',
      '! repository acme-sm-growth-recs/training (not deleted): it holds images: --force-delete-images deletes it with them',
      '- user acme-sm-ci',
      'dry run: 0 to create, 0 to update, 3 to delete (nothing was changed)',
    ]);
    assert.equal((await repositories()).size, ALL.length + 1, 'the dry run deleted nothing');

    assert.equal((await ok(['-f', file(), '--prune'])).at(-1), 'applied: 0 created, 0 updated, 3 deleted');
    let repos = await repositories();
    assert.ok(repos.has('hand-made/tools'), 'a repository made by hand stays');
    assert.ok(repos.has('acme-sm-growth-recs/training'), 'a repository with images stays');
    assert.ok(!repos.has('acme-sm-growth-recs/inference') && !repos.has('acme-sm-growth-recs/preprocessing'));
    assert.deepEqual(
      (await api('list-users', {})).users.map((u: any) => u.name),
      ['sagemaker-training'],
    );

    const forced = await ok(['-f', file(), '--prune', '--force-delete-images']);
    assert.deepEqual(forced.slice(0, 1), ['- repository acme-sm-growth-recs/training: with its images (--force-delete-images)']);
    repos = await repositories();
    assert.ok(!repos.has('acme-sm-growth-recs/training'));
    assert.ok(repos.has('hand-made/tools'));
    assert.deepEqual(await ok(['-f', file(), '--prune']), [`no changes: the registry holds what ${file()} says`]);
  });

  it('points at the line and column of a schema error and of a YAML syntax error, and changes nothing', async () => {
    const before = await repositories();
    const bad = edit(
      example,
      '  - name: acme-sm-risk-churn/inference\n    imageTagMutability: IMMUTABLE',
      '  - name: acme-sm-risk-churn/inference\n    imageTagMutability: SOMETIMES\n    scanOnPsuh: true',
    );
    write(bad);
    const lines = bad.split('\n');
    const line = (needle: string) => lines.findIndex((l) => l.includes(needle)) + 1;
    let r = await apply(['-f', file()]);
    assert.equal(r.code, 1, describeResult(r));
    const cells = r.stderr.trimEnd().split('\n');
    const idx = ALL.indexOf('acme-sm-risk-churn/inference');
    assert.deepEqual(cells, [
      `${file()}:${line('imageTagMutability: SOMETIMES')}:25: repositories[${idx}].imageTagMutability: must be one of MUTABLE, IMMUTABLE, MUTABLE_WITH_EXCLUSION, IMMUTABLE_WITH_EXCLUSION, not "SOMETIMES"`,
      `${file()}:${line('scanOnPsuh')}:5: repositories[${idx}].scanOnPsuh: unknown key "scanOnPsuh" (known keys: name, imageTagMutability, imageTagMutabilityExclusionFilters, scanOnPush, encryption, tags, policy, lifecyclePolicy)`,
    ]);

    // An error inside an anchor used by every repository is told once, where it is written.
    write(edit(example, 'countNumber: 10 }', 'countNumber: ten }'));
    r = await apply(['-f', file()]);
    assert.equal(r.code, 1, describeResult(r));
    const anchored = example.split('\n').findIndex((l) => l.includes('countNumber: 10 }')) + 1;
    assert.match(
      r.stderr,
      new RegExp(
        `^${literal(file())}:${anchored}:\\d+: repositories\\[0\\]\\.lifecyclePolicy\\.rules\\[0\\]\\.selection\\.countNumber: must be integer \\(and in 11 more places that use it\\)\\n$`,
      ),
    );

    write(
      edit(
        example,
        '  - name: acme-sm-risk-churn/inference\n    imageTagMutability: IMMUTABLE',
        '  - name: acme-sm-risk-churn/inference\n    imageTagMutability: "IMMUTABLE',
      ),
    );
    r = await apply(['-f', file()]);
    assert.equal(r.code, 1, describeResult(r));
    assert.equal(r.stderr, `${file()}:${line('acme-sm-risk-churn/inference') + 1}:35: YAML: Missing closing "quote\n`);

    const twice = edit(example, 'version: 1', 'version: 1\nrepositories: []');
    write(twice);
    r = await apply(['-f', file()]);
    assert.equal(r.stderr, `${file()}:${twice.split('\n').indexOf('repositories:') + 1}:1: YAML: Map keys must be unique\n`);
    assert.deepEqual([...(await repositories()).keys()].sort(), [...before.keys()].sort(), 'nothing changed');
  });

  it('a change the registry refuses is reported at the line of its resource', async () => {
    write('version: 1\nrepositories:\n  - name: acme-kms/secret\n    encryption: { type: KMS }\n');
    const r = await apply(['-f', file()]);
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stderr, new RegExp(`^berth apply: ${literal(file())}:3: repository acme-kms/secret: CreateRepository: KmsException: `));
    assert.match(r.stderr, /stopped after 0 of 1 changes/);
  });

  it('webhooks: created with their secret shown once, left alone when unchanged, updated in place, pruned; a URL named twice is refused at its line', async () => {
    const hooks = async () => new Map<string, any>((await api('list-webhooks', {})).webhooks.map((w: any) => [w.url, w]));
    const [a, b, hand] = ['a', 'b', 'hand'].map((n) => `http://127.0.0.1:9/hooks/${n}`);
    await api('put-webhook', { url: hand });
    // Only a webhooks: section: the repositories and users of the tests above are not managed by this file.
    const text = `version: 1\nwebhooks:\n  - url: ${a}\n    eventTypes: [ECR Image Action]\n    repositories: ["app/*"]\n  - url: ${b}\n`;
    write(text);
    assert.deepEqual(await ok(['-f', file(), '--dry-run', '--prune']), [
      `+ webhook ${a}`,
      '    + eventTypes: ["ECR Image Action"]',
      '    + repositories: ["app/*"]',
      `+ webhook ${b}`,
      'dry run: 2 to create, 0 to update, 0 to delete (nothing was changed)',
    ]);
    assert.deepEqual([...(await hooks()).keys()], [hand], 'the dry run created nothing');

    const out = await ok(['-f', file()]);
    const secrets = out.filter((l) => l.startsWith('secret of webhook '));
    assert.equal(secrets.length, 2, out.join('\n'));
    assert.match(
      secrets[0],
      new RegExp(`^secret of webhook ${literal(a)} \\(shown once, keep it now: it signs the deliveries\\): whsec_[A-Za-z0-9+/]{32}$`),
    );
    assert.equal(out.at(-1), 'applied: 2 created, 0 updated, 0 deleted');
    let now = await hooks();
    assert.deepEqual(
      [...now.values()].map((w) => [w.url, w.eventTypes, w.repositories, w.managedBy]),
      [
        [hand, [], [], null],
        [a, ['ECR Image Action'], ['app/*'], 'apply'],
        [b, [], [], 'apply'],
      ],
    );
    assert.ok(!JSON.stringify([...now.values()]).includes('whsec_'), 'list-webhooks never shows a secret');
    const id = now.get(a).id;

    // Again: no changes (and no new secret); on the data directory too.
    assert.deepEqual(await ok(['-f', file()]), [`no changes: the registry holds what ${file()} says`]);
    assert.deepEqual(await ok(['-f', file()], 'data-dir'), [`no changes: the registry holds what ${file()} says`]);

    // New filters: the same webhook (id, so its secret and cursor) with them.
    write(
      edit(
        text,
        '    eventTypes: [ECR Image Action]\n    repositories: ["app/*"]\n',
        '    eventTypes: [ECR Image Scan, ECR Image Action]\n',
      ),
    );
    const update = [
      `~ webhook ${a}`,
      '    ~ eventTypes: ["ECR Image Action"] -> ["ECR Image Scan","ECR Image Action"]',
      '    ~ repositories: ["app/*"] -> []',
    ];
    assert.deepEqual(await ok(['-f', file(), '--dry-run']), [
      ...update,
      'dry run: 0 to create, 1 to update, 0 to delete (nothing was changed)',
    ]);
    assert.deepEqual(await ok(['-f', file()]), [...update, 'applied: 0 created, 1 updated, 0 deleted']);
    now = await hooks();
    assert.equal(now.get(a).id, id, 'the same webhook: its secret and delivery cursor are kept');
    assert.deepEqual([now.get(a).eventTypes, now.get(a).repositories], [['ECR Image Scan', 'ECR Image Action'], []]);
    assert.deepEqual(await ok(['-f', file()]), [`no changes: the registry holds what ${file()} says`]);

    // b leaves the file: kept without --prune; with it, deleted; the webhook made by hand never is.
    write(`version: 1\nwebhooks:\n  - url: ${a}\n    eventTypes: [ECR Image Scan, ECR Image Action]\n`);
    assert.deepEqual(await ok(['-f', file()]), [`no changes: the registry holds what ${file()} says`]);
    assert.deepEqual(await ok(['-f', file(), '--prune', '--dry-run']), [
      `- webhook ${b}`,
      'dry run: 0 to create, 0 to update, 1 to delete (nothing was changed)',
    ]);
    assert.equal((await hooks()).size, 3);
    assert.deepEqual(await ok(['-f', file(), '--prune']), [`- webhook ${b}`, 'applied: 0 created, 0 updated, 1 deleted']);
    assert.deepEqual([...(await hooks()).keys()], [hand, a]);
    assert.deepEqual(await ok(['-f', file(), '--prune']), [`no changes: the registry holds what ${file()} says`]);

    // A URL named twice (as the registry writes it: the scheme's case does not matter), and one that is not http(s).
    write(`version: 1\nwebhooks:\n  - url: ${a}\n  - url: ftp://127.0.0.1/x\n  - url: ${a.replace('http:', 'HTTP:')}\n`);
    const r = await apply(['-f', file()]);
    assert.equal(r.code, 1, describeResult(r));
    assert.deepEqual(r.stderr.trimEnd().split('\n'), [
      `${file()}:4:10: webhooks[1].url: "ftp://127.0.0.1/x" is not valid: an http:// or https:// URL, where events are delivered: what identifies the webhook`,
    ]);
    write(
      `version: 1\nwebhooks:\n  - url: ${a}\n  - url: ${b}\n  - url: ${a.replace('http:', 'HTTP:')}\n    eventTypes: [ECR Image Scan]\n`,
    );
    const twice = await apply(['-f', file()]);
    assert.equal(twice.code, 1, describeResult(twice));
    assert.equal(twice.stderr, `${file()}:5:10: webhook ${a.replace('http:', 'HTTP:')} is named twice (first at line 3)\n`);
    assert.deepEqual([...(await hooks()).keys()], [hand, a], 'nothing changed');
  });
});

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The example's pull-only policy of the training repositories (its anchor &training-pull-only). */
const TRAINING_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'TrainingPullOnly',
      Effect: 'Allow',
      Principal: '*',
      Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
      Condition: {
        ArnLike: { 'aws:PrincipalArn': ['arn:aws:iam::*:role/acme-sagemaker-training', 'arn:aws:iam::*:user/sagemaker-training'] },
      },
    },
  ],
};
