// GetLifecyclePolicyPreview pages, with the parsed results kept between pages: a walk of every page lists each
// expiring image once, and a new preview is never answered from the results of the one before it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  GetLifecyclePolicyPreviewCommand,
  StartLifecyclePolicyPreviewCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient } from '../helpers/ecr.ts';
import { pushImage } from '../helpers/http.ts';
import { completedPreview } from '../helpers/lifecycle.ts';

let berth: Berth;
let ecr: ECRClient;
const repositoryName = 'preview/pages';
const pushed: string[] = []; // digests, oldest first

before(async () => {
  berth = await startBerth();
  ecr = ecrClient(berth);
  await ecr.send(new CreateRepositoryCommand({ repositoryName }));
  for (let i = 0; i < 9; i++) {
    const image = await pushImage(berth, repositoryName, `t${i}`, { annotations: { n: String(i) } });
    pushed.push(image.digest);
    await new Promise((r) => setTimeout(r, 5)); // distinct push times
  }
});

after(async () => {
  ecr?.destroy();
  await berth?.cleanup();
});

const keepNewest = (count: number) =>
  JSON.stringify({
    rules: [
      { rulePriority: 1, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: count }, action: { type: 'expire' } },
    ],
  });

/** Every page of the completed preview, `maxResults` at a time. */
async function walk(maxResults: number): Promise<{ digests: string[]; pages: number; total: number | undefined }> {
  const digests: string[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  let total: number | undefined;
  do {
    const page = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName, maxResults, nextToken }));
    assert.equal(page.status, 'COMPLETE');
    assert.ok((page.previewResults ?? []).length <= maxResults);
    digests.push(...(page.previewResults ?? []).map((r) => r.imageDigest!));
    total = page.summary?.expiringImageTotalCount;
    nextToken = page.nextToken;
    pages++;
  } while (nextToken);
  return { digests, pages, total };
}

test('a walk over every page lists each expiring image once, and a new preview replaces the old results', async () => {
  await ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName, lifecyclePolicyText: keepNewest(2) }));
  await completedPreview(ecr, repositoryName);
  const first = await walk(2);
  assert.equal(first.total, 7);
  assert.equal(first.pages, 4);
  assert.deepEqual([...first.digests].sort(), pushed.slice(0, 7).sort(), 'the 7 oldest images expire, each listed once');
  assert.deepEqual((await walk(100)).digests, first.digests, 'the same results in the same order, whatever the page size');

  // A second preview with another policy: the results kept from the first must not be served.
  await ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName, lifecyclePolicyText: keepNewest(6) }));
  await completedPreview(ecr, repositoryName);
  const second = await walk(2);
  assert.equal(second.total, 3);
  assert.deepEqual([...second.digests].sort(), pushed.slice(0, 3).sort());

  // The first policy again, after one more push: computed anew (8 expire now), not taken from the first run.
  const image = await pushImage(berth, repositoryName, 't9', { annotations: { n: '9' } });
  await ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName, lifecyclePolicyText: keepNewest(2) }));
  await completedPreview(ecr, repositoryName);
  const third = await walk(5);
  assert.equal(third.total, 8);
  assert.deepEqual([...third.digests].sort(), [...pushed.slice(0, 8)].sort());
  assert.ok(!third.digests.includes(image.digest));
});

test("a repository made after the newest one was deleted (SQLite reuses its id) never sees the deleted one's preview", async () => {
  const digestsOf = async (name: string) => {
    const page = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: name, maxResults: 100 }));
    assert.equal(page.status, 'COMPLETE');
    return (page.previewResults ?? []).map((r) => r.imageDigest!).sort();
  };
  const previewed = async (name: string, tag: string) => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
    const old = await pushImage(berth, name, `${tag}-old`, { annotations: { n: `${name}-old` } });
    await new Promise((r) => setTimeout(r, 5));
    await pushImage(berth, name, `${tag}-new`, { annotations: { n: `${name}-new` } });
    await ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName: name, lifecyclePolicyText: keepNewest(1) }));
    await completedPreview(ecr, name);
    return old.digest;
  };
  const gone = await previewed('preview/gone', 'a');
  assert.deepEqual(await digestsOf('preview/gone'), [gone], 'its results are read, and kept');
  await ecr.send(new DeleteRepositoryCommand({ repositoryName: 'preview/gone', force: true }));
  const fresh = await previewed('preview/fresh', 'b');
  assert.deepEqual(await digestsOf('preview/fresh'), [fresh]);
});
