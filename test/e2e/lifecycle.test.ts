// End to end: ECR lifecycle policies over images pushed by the real docker CLI, with push times set through the
// registry's test clock (`berth admin advance-clock`). The two policies of the lifecycle issue: "keep the latest 10
// v* images, keep 5 dev*, 5 feature* and 5 main* images, expire untagged images after 1 day", and "keep the last N
// images". For each: the preview (StartLifecyclePolicyPreview / GetLifecyclePolicyPreview over the JS SDK) must
// equal the list computed here by hand from the rules as the Amazon ECR User Guide documents them, then
// `berth lifecycle run <repo>` expires exactly that list (ListImages, DescribeImages, docker pull and the audit log
// agree), and garbage collection afterwards returns the expired images' own blobs to the file system while every
// kept image still pulls and fsck is clean. Also: ECR's validation errors for invalid policy documents.
//
// The rules, as ECR documents them ("Lifecycle policy evaluation rules"):
// - a tagPrefixList with several entries selects only images with tags matching ALL of them, so "keep 5 dev*,
//   feature* and main* images" is three rules, one prefix each;
// - imageCountMoreThan N: the rule's images sorted by push time, all but the N most recent are expired;
// - sinceImagePushed, countUnit days, N: images pushed more than N days ago are expired;
// - an image is expired by at most one rule, the one with the lowest rulePriority that selects it.
//
// Needs a running Docker daemon: without it the suite fails (it never skips).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  GetLifecyclePolicyCommand,
  GetLifecyclePolicyPreviewCommand,
  ListImagesCommand,
  PutLifecyclePolicyCommand,
  StartLifecyclePolicyPreviewCommand,
  type ECRClient,
  type LifecyclePolicyPreviewResult,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { dockerSession, type DockerSession } from '../helpers/dockerd.ts';
import { allPages, ecrClient, eventually, expectEcrError } from '../helpers/ecr.ts';
import { blobPath } from '../helpers/http.ts';
import {
  advanceClock,
  auditEvents,
  berthCli,
  berthOk,
  buildImage,
  completedPreview,
  dockerPush,
  inPool,
  manifestOf,
  type PushedImage,
} from '../helpers/lifecycle.ts';
import { randomData, uniqueName } from '../helpers/tools.ts';

const HOUR = 3600;
const DAY = 24 * HOUR;
/** The default GC grace period (a blob is leased for an hour after its last use). */
const GC_GRACE = 3600;

interface Planned {
  key: string; // our name for the image: v1, dev-3, u2, b4 ...
  tag: string; // the tag it is pushed under (u1..u4 all go to `tmp`, one after the other)
  buildRef: string; // the local name docker builds it as
  ref: string; // host/repo:tag, what docker pushes
  digest?: string; // of the manifest, as docker push printed it
  manifest?: PushedImage;
}

const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i + 1));

/** What we compare: digest, tags (sorted), the rule that applies. */
interface Expiry {
  imageDigest: string;
  imageTags: string[];
  appliedRulePriority: number;
}
const byDigest = (a: { imageDigest: string }, b: { imageDigest: string }) =>
  a.imageDigest < b.imageDigest ? -1 : a.imageDigest > b.imageDigest ? 1 : 0;
const expiries = (list: { imageDigest?: string; imageTags?: string[]; appliedRulePriority?: number }[]): Expiry[] =>
  list
    .map((r) => ({ imageDigest: r.imageDigest!, imageTags: [...(r.imageTags ?? [])].sort(), appliedRulePriority: r.appliedRulePriority! }))
    .sort(byDigest);

describe('lifecycle policies over docker-pushed images, with the test clock', () => {
  let berth: Berth;
  let docker: DockerSession;
  let ecr: ECRClient;
  const base = `berth-e2e-lc-base-${uniqueName('b')}:1`;
  const repoA = `lc/${uniqueName('app')}`;
  const repoB = `lc/${uniqueName('last-n')}`;
  const A = new Map<string, Planned>();
  const B = new Map<string, Planned>();
  let baseLayer: string;
  /** Expected expiries, by key, with the rulePriority that expires each: computed by hand in the tests. */
  const expiredA: [string, number][] = [];
  const expiredB: [string, number][] = [];

  /** How far the registry clock is ahead of this machine's, in milliseconds. */
  let clockOffsetMs = 0;
  /**
   * Moves the registry clock (`berth admin advance-clock`). The registry checks SigV4 request times against its own
   * clock, as ECR checks them against AWS's, so the SDK client signs with the registry's time, as a client on a
   * machine whose clock agrees with the service would.
   */
  const tick = async (seconds: number): Promise<Date> => {
    const now = await advanceClock(berth, seconds);
    clockOffsetMs = now.getTime() - Date.now();
    return now;
  };
  /**
   * The SDK client, signing at the registry's time from the first request on (the SDK would otherwise learn the
   * offset only from a failed request's `Date` header, which Berth sends from the same clock its SigV4 check uses).
   */
  const makeClient = (): ECRClient => {
    const client = ecrClient(berth);
    client.middlewareStack.add(
      (next) => (args) => {
        client.config.systemClockOffset = clockOffsetMs;
        return next(args);
      },
      { step: 'initialize', name: 'berthTestClockOffset' },
    );
    return client;
  };

  const plan = (into: Map<string, Planned>, repo: string, key: string, tag: string, buildTag = tag) => {
    into.set(key, { key, tag, buildRef: `${berth.host}/${repo}:${buildTag}`, ref: `${berth.host}/${repo}:${tag}` });
  };
  const img = (m: Map<string, Planned>, key: string): Planned & { digest: string; manifest: PushedImage } => {
    const p = m.get(key);
    assert.ok(p?.digest && p.manifest, `${key} was pushed`);
    return p as Planned & { digest: string; manifest: PushedImage };
  };
  /** Pushes a planned image (moving its tag to it first when it was built under another name). */
  const push = async (m: Map<string, Planned>, repo: string, key: string) => {
    const p = m.get(key)!;
    if (p.buildRef !== p.ref) {
      docker.trackImage(p.ref);
      await docker.ok(['tag', p.buildRef, p.ref]);
    }
    p.digest = await dockerPush(docker, p.ref);
    p.manifest = await manifestOf(berth, repo, p.digest);
  };

  const describeAll = (repositoryName: string) =>
    allPages(
      (nextToken) => ecr.send(new DescribeImagesCommand({ repositoryName, nextToken })),
      (p) => p.imageDetails,
    );
  const listAll = (repositoryName: string) =>
    allPages(
      (nextToken) => ecr.send(new ListImagesCommand({ repositoryName, nextToken })),
      (p) => p.imageIds,
    );
  /** The images a repository holds, as "digest tag,tag" lines (sorted): what DescribeImages says. */
  const heldImages = async (repositoryName: string) =>
    (await describeAll(repositoryName)).map((d) => `${d.imageDigest} ${[...(d.imageTags ?? [])].sort().join(',')}`).sort();
  const expectedHeld = (m: Map<string, Planned>, keys: string[], tagsOf: (p: Planned) => string[]) =>
    keys.map((k) => `${img(m, k).digest} ${tagsOf(m.get(k)!).sort().join(',')}`).sort();

  before(async () => {
    berth = await startBerth({ env: { BERTH_TEST_CLOCK: '1', BERTH_LIFECYCLE_INTERVAL_SECONDS: '0', BERTH_GC_INTERVAL_SECONDS: '0' } });
    docker = await dockerSession();
    ecr = makeClient();
    const login = await docker.ok(['login', '--username', berth.accessKeyId, '--password-stdin', berth.host], {
      input: berth.secretAccessKey + '\n',
    });
    assert.match(login.stdout, /Login Succeeded/);

    // Repository A: four images pushed one after the other as `tmp` (the first three end up untagged), 12 v*,
    // 7 dev-*, 6 feature-*, 5 main-*. Repository B: six images.
    for (const i of [1, 2, 3, 4]) plan(A, repoA, `u${i}`, 'tmp', `build-u${i}`);
    for (const key of [
      ...range(12, (i) => `v${i}`),
      ...range(7, (i) => `dev-${i}`),
      ...range(6, (i) => `feature-${i}`),
      ...range(5, (i) => `main-${i}`),
    ]) {
      plan(A, repoA, key, key);
    }
    for (const key of range(6, (i) => `b${i}`)) plan(B, repoB, key, key);

    // Every image is FROM one base (itself FROM scratch) plus a small file of its own: distinct images that
    // share one layer, so that collection after the expiries must keep the shared layer and free the rest.
    await buildImage(docker, base, { from: 'scratch', file: 'base.bin', data: randomData(64 * 1024) });
    await inPool([...A.values(), ...B.values()], 4, (p) =>
      buildImage(docker, p.buildRef, {
        from: base,
        file: 'own.txt',
        data: Buffer.from(`${p.key} ${uniqueName('own')}\n${randomData(512).toString('base64')}\n`),
        cmd: ['/data/none'],
      }),
    );
  });

  after(async () => {
    ecr?.destroy();
    await docker?.cleanup();
    await berth?.cleanup();
  });

  it('"keep the latest 10 v*, 5 dev*, 5 feature*, 5 main*, expire untagged after 1 day": preview, run, pull, audit', async () => {
    // Push, moving the registry clock an hour forward between pushes so the push order is unambiguous:
    //   t=0 h u1 (tmp), t=1 h u2 (tmp: u1 is now untagged), v1..v12 at 2..13 h, dev-1..dev-7 at 14..20 h,
    //   feature-1..feature-6 at 21..26 h, main-1..main-5 at 27..31 h; then 25 h later, u3 (tmp: u2 untagged) at
    //   56 h and u4 (tmp: u3 untagged) at 57 h.
    const order = [
      'u1',
      'u2',
      ...range(12, (i) => `v${i}`),
      ...range(7, (i) => `dev-${i}`),
      ...range(6, (i) => `feature-${i}`),
      ...range(5, (i) => `main-${i}`),
    ];
    const gaps: number[] = []; // the clock step after each push of `sequence`
    for (const key of order) {
      await push(A, repoA, key);
      const gap = key === 'main-5' ? 25 * HOUR : HOUR;
      await tick(gap);
      gaps.push(gap);
    }
    await push(A, repoA, 'u3');
    gaps.push(HOUR);
    await tick(HOUR);
    await push(A, repoA, 'u4');
    const sequence = [...order, 'u3', 'u4'];
    const registryNow = (await tick(0)).getTime();

    // Every image is distinct, and all share the base layer and nothing else.
    const digests = new Set(sequence.map((k) => img(A, k).digest));
    assert.equal(digests.size, sequence.length, 'every push is a distinct image');
    baseLayer = img(A, 'u1').manifest.layers[0].digest;
    for (const k of sequence) {
      const m = img(A, k).manifest;
      assert.equal(m.layers.length, 2, `${k}: the base layer and its own`);
      assert.equal(m.layers[0].digest, baseLayer, `${k} shares the base layer`);
    }

    // The setup the expectations rest on: push times as the registry recorded them follow the clock steps.
    const details = await describeAll(repoA);
    const pushedAt = new Map(details.map((d) => [d.imageDigest!, d.imagePushedAt!.getTime()]));
    for (let i = 1; i < sequence.length; i++) {
      const step = (pushedAt.get(img(A, sequence[i]).digest)! - pushedAt.get(img(A, sequence[i - 1]).digest)!) / 1000;
      assert.ok(
        step >= gaps[i - 1] && step < gaps[i - 1] + 120,
        `${sequence[i]} was pushed ${gaps[i - 1]} s (plus the real time a push takes) after ${sequence[i - 1]}, not ${step} s`,
      );
    }
    const age = (k: string) => (registryNow - pushedAt.get(img(A, k).digest)!) / 1000;
    assert.ok(age('u1') > DAY && age('u2') > DAY, `u1 and u2 were pushed more than a day ago (${age('u1')} s, ${age('u2')} s)`);
    assert.ok(age('u3') < DAY, `u3 was pushed less than a day ago (${age('u3')} s)`);
    const untagged = await ecr.send(new ListImagesCommand({ repositoryName: repoA, filter: { tagStatus: 'UNTAGGED' } }));
    assert.deepEqual(
      untagged.imageIds!.map((i) => i.imageDigest).sort(),
      ['u1', 'u2', 'u3'].map((k) => img(A, k).digest).sort(),
      'u1, u2 and u3 lost the tag tmp to the next push',
    );

    const policy = {
      rules: [
        {
          rulePriority: 1,
          description: 'Keep the latest 10 v* images',
          selection: { tagStatus: 'tagged', tagPrefixList: ['v'], countType: 'imageCountMoreThan', countNumber: 10 },
          action: { type: 'expire' },
        },
        {
          rulePriority: 2,
          description: 'Keep 5 dev* images',
          selection: { tagStatus: 'tagged', tagPrefixList: ['dev'], countType: 'imageCountMoreThan', countNumber: 5 },
          action: { type: 'expire' },
        },
        {
          rulePriority: 3,
          description: 'Keep 5 feature* images',
          selection: { tagStatus: 'tagged', tagPrefixList: ['feature'], countType: 'imageCountMoreThan', countNumber: 5 },
          action: { type: 'expire' },
        },
        {
          rulePriority: 4,
          description: 'Keep 5 main* images',
          selection: { tagStatus: 'tagged', tagPrefixList: ['main'], countType: 'imageCountMoreThan', countNumber: 5 },
          action: { type: 'expire' },
        },
        {
          rulePriority: 5,
          description: 'Expire untagged images older than 1 day',
          selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 },
          action: { type: 'expire' },
        },
      ],
    };
    const policyText = JSON.stringify(policy, null, 2);
    const put = await ecr.send(new PutLifecyclePolicyCommand({ repositoryName: repoA, lifecyclePolicyText: policyText }));
    assert.equal(put.repositoryName, repoA);
    assert.match(put.registryId ?? '', /^\d{12}$/);
    assert.deepEqual(JSON.parse(put.lifecyclePolicyText!), policy);
    const got = await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: repoA }));
    assert.equal(got.repositoryName, repoA);
    assert.deepEqual(JSON.parse(got.lifecyclePolicyText!), policy);

    // By hand, from the rules:
    //   rule 1 (v*, keep 10): 12 v images, the 2 oldest go: v1, v2.
    //   rule 2 (dev*, keep 5): 7 dev images: dev-1, dev-2.
    //   rule 3 (feature*, keep 5): 6 feature images: feature-1.
    //   rule 4 (main*, keep 5): 5 main images: none.
    //   rule 5 (untagged, pushed more than 1 day ago): u1 (~57 h) and u2 (~56 h); not u3 (~1 h).
    //   u4 is tagged `tmp`, which no rule selects: kept.
    expiredA.push(['v1', 1], ['v2', 1], ['dev-1', 2], ['dev-2', 2], ['feature-1', 3], ['u1', 5], ['u2', 5]);
    const tagsAfter = (p: Planned) => (p.key.startsWith('u') ? (p.key === 'u4' ? ['tmp'] : []) : [p.tag]);
    const expected: Expiry[] = expiries(
      expiredA.map(([k, rule]) => ({ imageDigest: img(A, k).digest, imageTags: tagsAfter(A.get(k)!), appliedRulePriority: rule })),
    );
    const expiredKeys = new Set(expiredA.map(([k]) => k));
    const keptKeys = sequence.filter((k) => !expiredKeys.has(k));
    assert.equal(keptKeys.length, 27);

    // Preview.
    const started = await ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName: repoA }));
    assert.equal(started.status, 'IN_PROGRESS');
    assert.equal(started.repositoryName, repoA);
    assert.deepEqual(JSON.parse(started.lifecyclePolicyText!), policy, 'the preview is of the stored policy');
    const preview = await completedPreview(ecr, repoA);
    assert.equal(preview.repositoryName, repoA);
    assert.deepEqual(JSON.parse(preview.lifecyclePolicyText!), policy);
    const results: LifecyclePolicyPreviewResult[] = preview.previewResults ?? [];
    assert.deepEqual(expiries(results), expected, 'the preview lists exactly the images the rules expire');
    for (const r of results) {
      assert.deepEqual(r.action, { type: 'EXPIRE' }, `${r.imageDigest}: action`);
      assert.equal(
        r.imagePushedAt?.getTime(),
        pushedAt.get(r.imageDigest!),
        `${r.imageDigest}: imagePushedAt is the push time DescribeImages shows`,
      );
    }
    assert.equal(preview.summary?.expiringImageTotalCount, expected.length);
    assert.equal((await heldImages(repoA)).length, sequence.length, 'a preview expires nothing');

    // Run.
    const ran = await berthOk(berth, ['lifecycle', 'run', repoA]);
    assert.equal(ran.results.length, 1, `one repository: ${JSON.stringify(ran)}`);
    assert.equal(ran.results[0].repositoryName, repoA);
    assert.deepEqual(expiries(ran.results[0].expired), expected, 'the run expires exactly the previewed images');

    assert.deepEqual(await heldImages(repoA), expectedHeld(A, keptKeys, tagsAfter), 'DescribeImages shows exactly the kept images');
    const listed = (await listAll(repoA)).map((i) => `${i.imageDigest} ${i.imageTag ?? ''}`).sort();
    const expectedListed = keptKeys.map((k) => `${img(A, k).digest} ${tagsAfter(A.get(k)!)[0] ?? ''}`).sort();
    assert.deepEqual(listed, expectedListed, 'ListImages shows exactly the kept images');
    const evaluated = await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: repoA }));
    assert.ok(evaluated.lastEvaluatedAt instanceof Date, 'GetLifecyclePolicy tells when the policy was last evaluated');

    // docker: an expired tag or digest is gone, a kept one pulls.
    for (const ref of [
      `${berth.host}/${repoA}:v1`,
      `${berth.host}/${repoA}:dev-2`,
      `${berth.host}/${repoA}:feature-1`,
      `${berth.host}/${repoA}@${img(A, 'u1').digest}`,
    ]) {
      const r = await docker.fails(['pull', ref]);
      assert.match(r.stdout + r.stderr, /manifest unknown/i, `pull ${ref}`);
    }
    for (const key of ['v3', 'main-1']) {
      const p = img(A, key);
      await docker.ok(['rmi', p.ref]);
      const r = await docker.ok(['pull', p.ref]);
      assert.match(r.stdout, new RegExp(`Digest: ${p.digest}`), `pull ${p.ref}`);
    }

    // The audit log: one lifecycle-expire line per expired image.
    const lines = await eventually(async () => {
      const l = auditEvents(berth, 'lifecycle-expire').filter((e) => e.repository === repoA);
      return l.length >= expected.length ? l : undefined;
    });
    // The message reads the whole audit log again: only when it is needed.
    if (!lines) assert.fail(`the audit log has the expiries: ${JSON.stringify(auditEvents(berth, 'lifecycle-expire'))}`);
    assert.deepEqual(expiries(lines), expected, 'one lifecycle-expire line per expired image, with its tags and rule');

    // Applied again at once, the policy expires nothing more (u3 is still younger than a day).
    const again = await berthOk(berth, ['lifecycle', 'run', repoA]);
    assert.deepEqual(again.results[0].expired, []);
  });

  it('"keep the last 3 images" (tagStatus any) over six docker-pushed images: the three oldest go', async () => {
    const order = range(6, (i) => `b${i}`);
    for (const key of order) {
      await push(B, repoB, key);
      await tick(HOUR);
    }
    const pushedAt = new Map((await describeAll(repoB)).map((d) => [d.imageDigest!, d.imagePushedAt!.getTime()]));
    for (let i = 1; i < order.length; i++) {
      assert.ok(
        pushedAt.get(img(B, order[i]).digest)! - pushedAt.get(img(B, order[i - 1]).digest)! >= HOUR * 1000,
        `${order[i]} pushed an hour after ${order[i - 1]}`,
      );
    }
    const policy = {
      rules: [
        {
          rulePriority: 1,
          description: 'Keep the last 3 images',
          selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 3 },
          action: { type: 'expire' },
        },
      ],
    };
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName: repoB, lifecyclePolicyText: JSON.stringify(policy) }));

    // By hand: six images, all selected by `any`; all but the 3 most recently pushed go: b1, b2, b3.
    expiredB.push(['b1', 1], ['b2', 1], ['b3', 1]);
    const expected = expiries(expiredB.map(([k, rule]) => ({ imageDigest: img(B, k).digest, imageTags: [k], appliedRulePriority: rule })));

    const started = await ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName: repoB }));
    assert.equal(started.status, 'IN_PROGRESS');
    const preview = await completedPreview(ecr, repoB);
    assert.deepEqual(expiries(preview.previewResults ?? []), expected);
    assert.equal(preview.summary?.expiringImageTotalCount, 3);

    const ran = await berthOk(berth, ['lifecycle', 'run', repoB]);
    assert.equal(ran.results[0].repositoryName, repoB);
    assert.deepEqual(expiries(ran.results[0].expired), expected);
    assert.deepEqual(
      await heldImages(repoB),
      expectedHeld(B, ['b4', 'b5', 'b6'], (p) => [p.tag]),
      'the three newest remain',
    );
    const lines = await eventually(async () => {
      const l = auditEvents(berth, 'lifecycle-expire').filter((e) => e.repository === repoB);
      return l.length >= 3 ? l : undefined;
    });
    assert.deepEqual(expiries(lines ?? []), expected);
  });

  it("the Date header follows the registry's clock, which SigV4 is checked against", async () => {
    const now = await tick(0);
    const served = Date.parse((await fetch(`${berth.url}/v2/`)).headers.get('date') ?? '');
    assert.ok(Math.abs(served - now.getTime()) < 60_000, `Date ${new Date(served).toISOString()} vs registry clock ${now.toISOString()}`);
    assert.ok(served - Date.now() > 24 * 3600_000, 'the clock was moved more than a day ahead of the system clock');
  });

  it('refuses invalid policy documents with InvalidParameterException and stores nothing', async () => {
    const repositoryName = `lc/${uniqueName('validation')}`;
    await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    await expectEcrError(ecr.send(new GetLifecyclePolicyCommand({ repositoryName })), 'LifecyclePolicyNotFoundException');
    await expectEcrError(ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName })), 'LifecyclePolicyPreviewNotFoundException');

    const expire = { type: 'expire' };
    const keep = (prefix: string, n: number) => ({
      tagStatus: 'tagged',
      tagPrefixList: [prefix],
      countType: 'imageCountMoreThan',
      countNumber: n,
    });
    // ECR's message: "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy
    // validation failure: <what>'"; each <what> must say what is wrong.
    const invalid: { what: string; policy: unknown; says: RegExp[] }[] = [
      {
        what: 'tagStatus tagged without a tagPrefixList or tagPatternList',
        policy: {
          rules: [
            {
              rulePriority: 1,
              description: 'tagged but no prefixes',
              selection: { tagStatus: 'tagged', countType: 'imageCountMoreThan', countNumber: 5 },
              action: expire,
            },
          ],
        },
        says: [/tagPrefixList/, /tagPatternList/, /tagStatus=TAGGED|tagged/i],
      },
      {
        what: 'tagStatus any in a rule that is not the last',
        policy: {
          rules: [
            {
              rulePriority: 1,
              description: 'any first',
              selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 5 },
              action: expire,
            },
            { rulePriority: 2, description: 'v after', selection: keep('v', 3), action: expire },
          ],
        },
        says: [/tagStatus=ANY|"any"/i, /priority/i],
      },
      {
        what: 'two rules with the same rulePriority',
        policy: {
          rules: [
            { rulePriority: 1, description: 'v', selection: keep('v', 3), action: expire },
            { rulePriority: 1, description: 'dev', selection: keep('dev', 3), action: expire },
          ],
        },
        says: [/rulePriority/, /unique|duplicate|more than one|same/i],
      },
      {
        what: 'countUnit with imageCountMoreThan',
        policy: {
          rules: [
            {
              rulePriority: 1,
              description: 'count with a unit',
              selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countUnit: 'days', countNumber: 5 },
              action: expire,
            },
          ],
        },
        says: [/countUnit/, /imageCountMoreThan/],
      },
      {
        what: 'a transition action on archived images',
        policy: {
          rules: [
            {
              rulePriority: 1,
              description: 'archive archived ones',
              selection: {
                tagStatus: 'any',
                storageClass: 'archive',
                countType: 'sinceImageTransitioned',
                countUnit: 'days',
                countNumber: 90,
              },
              action: { type: 'transition', targetStorageClass: 'archive' },
            },
          ],
        },
        says: [/archive/, /can only expire/i],
      },
    ];
    for (const c of invalid) {
      const text = JSON.stringify(c.policy);
      assert.ok(
        text.length >= 100,
        `${c.what}: at least the 100 characters ECR's API model requires, so it is the document that is refused`,
      );
      const err = await expectEcrError(
        ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: text })),
        'InvalidParameterException',
      );
      assert.match(
        err.message,
        /^Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: /,
        `${c.what}: ${err.message}`,
      );
      for (const re of c.says) assert.match(err.message, re, `${c.what}: the message says what is wrong: ${err.message}`);
      await expectEcrError(ecr.send(new GetLifecyclePolicyCommand({ repositoryName })), 'LifecyclePolicyNotFoundException', undefined);
    }
    await expectEcrError(ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName })), 'LifecyclePolicyPreviewNotFoundException');

    // A refused document does not replace a stored one either.
    const valid = JSON.stringify({
      rules: [
        {
          rulePriority: 1,
          description: 'Keep the last 10 images',
          selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 },
          action: expire,
        },
      ],
    });
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: valid }));
    await expectEcrError(
      ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: JSON.stringify(invalid[0].policy) })),
      'InvalidParameterException',
    );
    assert.equal((await ecr.send(new GetLifecyclePolicyCommand({ repositoryName }))).lifecyclePolicyText, valid);
  });

  it("garbage collection after the runs frees the expired images' own blobs, keeps the rest pullable; fsck is clean", async () => {
    assert.ok(expiredA.length > 0 && expiredB.length > 0, 'the lifecycle runs happened');
    const expiredImages = [...expiredA.map(([k]) => img(A, k)), ...expiredB.map(([k]) => img(B, k))];
    const expiredKeys = new Set([...expiredA, ...expiredB].map(([k]) => k));
    const keptImages = [
      ...[...A.keys()].filter((k) => !expiredKeys.has(k)).map((k) => img(A, k)),
      ...[...B.keys()].filter((k) => !expiredKeys.has(k)).map((k) => img(B, k)),
    ];
    // Each expired image's config and own layer are referenced by nothing else; the base layer is shared by all.
    const own = (p: PushedImage) => [{ digest: p.configDigest, size: p.configSize }, p.layers[1]];
    const garbage = expiredImages.flatMap((p) => own(p.manifest));
    const garbageDigests = garbage.map((b) => b.digest).sort();
    assert.equal(new Set(garbageDigests).size, garbage.length);
    for (const d of garbageDigests) assert.ok(existsSync(blobPath(berth.dataDir, d)), `${d} is still on disk before collection`);

    await tick(GC_GRACE + 120);
    const dry = await berthOk(berth, ['gc', '--dry-run']);
    assert.deepEqual([...dry.deleted].sort(), garbageDigests, "a dry run names exactly the expired images' own blobs");
    for (const d of garbageDigests) assert.ok(existsSync(blobPath(berth.dataDir, d)), 'a dry run deletes nothing');

    const gc = await berthOk(berth, ['gc']);
    assert.deepEqual([...gc.deleted].sort(), garbageDigests, "collection deletes exactly the expired images' own blobs");
    assert.equal(
      gc.bytesDeleted,
      garbage.reduce((s, b) => s + b.size, 0),
    );
    for (const d of garbageDigests) assert.equal(existsSync(blobPath(berth.dataDir, d)), false, `${d} is gone from the file system`);
    assert.ok(existsSync(blobPath(berth.dataDir, baseLayer)), 'the shared base layer stays');
    for (const p of keptImages) {
      for (const b of [p.manifest.configDigest, ...p.manifest.layers.map((l) => l.digest)]) {
        assert.ok(existsSync(blobPath(berth.dataDir, b)), `${p.key}: ${b} stays`);
      }
    }

    // Kept images still pull, for real: the local copies go first.
    const u3 = img(A, 'u3');
    const pulls: { remove: string; pull: string; digest: string }[] = [
      ...['v12', 'dev-3', 'feature-2', 'main-5'].map((k) => ({ remove: img(A, k).ref, pull: img(A, k).ref, digest: img(A, k).digest })),
      { remove: u3.buildRef, pull: `${berth.host}/${repoA}@${u3.digest}`, digest: u3.digest },
      { remove: img(B, 'b4').ref, pull: img(B, 'b4').ref, digest: img(B, 'b4').digest },
    ];
    for (const p of pulls) {
      await docker.ok(['rmi', p.remove]);
      docker.trackImage(p.pull);
      const r = await docker.ok(['pull', p.pull]);
      assert.match(r.stdout, new RegExp(`Digest: ${p.digest}`), `pull ${p.pull}`);
    }

    const fsck = await berthCli(berth, ['fsck']);
    assert.equal(fsck.code, 0, `fsck exits 0:\n${fsck.stdout}\n${fsck.stderr}`);
    assert.deepEqual(fsck.json.problems, []);
  });
});
