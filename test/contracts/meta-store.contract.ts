// One contract for every metadata store implementation (SQLite, PostgreSQL), as CNCF distribution runs one test
// suite against every storage driver. Grouped by the narrow interfaces of src/storage/meta/store.ts: ordering and
// pagination, uniqueness, idempotency, and concurrency between two stores on one database (two "nodes"), where
// the invariants must hold inside the store: one immutable tag, one winner; no manifest referencing a deleted
// manifest or blob; nothing left of a repository deleted during a push.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type {
  AuditRecord,
  StoredEvent,
  GcCandidate,
  ImageId,
  ImageRow,
  MetaStore,
  NewManifest,
  Repository,
  RepositorySettings,
  TagStatus,
} from '../../src/storage/meta/store.ts';
import { BERTH_ARTIFACT_ANNOTATION } from '../../src/storage/meta/own-artifacts.ts';

/** A fresh, empty database. */
export interface MetaStoreDatabase {
  /** A store on this database; each call opens another one (another node's), closed by `drop`. */
  open(): Promise<MetaStore>;
  /** Closes the stores opened and removes the database. */
  drop(): Promise<void>;
}

export type MetaStoreFactory = () => Promise<MetaStoreDatabase>;

const ACCOUNT = '111122223333';
const OTHER_ACCOUNT = '444455556666';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';
const SETTINGS: RepositorySettings = {
  imageTagMutability: 'MUTABLE',
  mutabilityExclusions: [],
  scanOnPush: false,
  encryptionType: 'AES256',
  kmsKey: null,
};
/** Names with bytes on either side of letters, digits and separators: the order must be byte order. */
const NAMES = ['zeta', 'alpha', 'alpha/beta', 'alpha-1', 'beta', 'alpha_2', 'alpha.3', '0day', 'Upper', 'alpha0'];

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A manifest (its content unique to `seed`) in the repository, referencing the blobs and manifests given. */
function manifest(
  repositoryId: number,
  seed: string,
  refs: { blobs?: string[]; manifests?: string[]; subject?: string; artifactType?: string } = {},
): NewManifest {
  const content = Buffer.from(JSON.stringify({ schemaVersion: 2, seed, refs }));
  return {
    repositoryId,
    digest: sha256(content),
    mediaType: refs.manifests ? INDEX_TYPE : MANIFEST_TYPE,
    artifactType: refs.artifactType ?? null,
    subjectDigest: refs.subject ?? null,
    size: content.length,
    content,
    annotations: refs.subject ? { seed } : null,
    pushedAt: 1000,
    blobs: refs.blobs ?? [],
    manifests: refs.manifests ?? [],
    imageSize: 10,
    configMediaType: refs.manifests ? null : 'application/vnd.oci.image.config.v1+json',
  };
}

/** Walks a paged list with pages of `limit`, each page's cursor from the one before. */
async function walk<T>(limit: number, page: (after: T | undefined) => Promise<T[]>): Promise<T[]> {
  const all: T[] = [];
  let after: T | undefined;
  for (let n = 0; n < 1000; n++) {
    const items = await page(after);
    assert.ok(items.length <= limit, `a page holds at most ${limit}`);
    all.push(...items);
    if (items.length < limit) return all;
    after = items[items.length - 1];
  }
  throw new Error('the walk does not end');
}

export function metaStoreContract(name: string, factory: MetaStoreFactory): void {
  /** A test on a fresh database, with one store (and `db` for a second node). */
  const it = (title: string, fn: (store: MetaStore, db: MetaStoreDatabase) => Promise<void>) =>
    test(title, async () => {
      const db = await factory();
      try {
        const store = await db.open();
        await store.ensureAccount(ACCOUNT, 1);
        await fn(store, db);
      } finally {
        await db.drop();
      }
    });

  /** A repository with a blob linked to it, recorded at `now`. */
  async function repoWithBlob(store: MetaStore, repoName: string, blobSeed: string, now = 1000) {
    const repo = (await store.createRepository(ACCOUNT, repoName, SETTINGS, [], now))!;
    const blob = sha256(blobSeed);
    await store.recordBlob({ digest: blob, size: 100 }, now);
    await store.linkBlob(repo.id, blob, now);
    return { repo, blob };
  }

  describe(`MetaStore contract: ${name}`, () => {
    describe('SettingsStore', () => {
      it('a setting is absent, then set, then overwritten', async (store) => {
        assert.equal(await store.getSetting('k'), undefined);
        await store.setSetting('k', 'one');
        await store.setSetting('k', 'two');
        assert.equal(await store.getSetting('k'), 'two');
      });

      it('addSetting keeps the first value: of nodes racing, one wins and all read it', async (store, db) => {
        const other = await db.open();
        const values = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? other : store).addSetting('key', `v${i}`)));
        assert.equal(new Set(values).size, 1, 'every node gets the same value');
        assert.ok(/^v[0-7]$/.test(values[0]));
        assert.equal(await store.addSetting('key', 'later'), values[0], 'a later value does not replace it');
        assert.equal(await other.getSetting('key'), values[0]);
      });
    });

    describe('RepositoryStore', () => {
      it('repository names are unique per account; ensureRepository returns the existing one', async (store) => {
        const a = await store.createRepository(
          ACCOUNT,
          'app',
          { ...SETTINGS, scanOnPush: true, imageTagMutability: 'IMMUTABLE' },
          [{ Key: 'team', Value: 'x' }],
          5,
        );
        assert.ok(a);
        assert.equal(a.name, 'app');
        assert.equal(a.scanOnPush, true);
        assert.equal(a.imageTagMutability, 'IMMUTABLE');
        assert.equal(a.createdAt, 5);
        assert.equal(await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 6), undefined, 'a second create of the name is refused');
        assert.equal((await store.ensureRepository(ACCOUNT, 'app', 7)).id, a.id);
        await store.ensureAccount(OTHER_ACCOUNT, 1);
        const other = await store.createRepository(OTHER_ACCOUNT, 'app', SETTINGS, [], 8);
        assert.ok(other && other.id !== a.id, 'the same name in another account is another repository');
        assert.deepEqual(await store.getResourceTags(a.id), [{ Key: 'team', Value: 'x' }]);
        const fetched = await store.getRepository(ACCOUNT, 'app');
        assert.deepEqual(fetched, a);
      });

      it('concurrent ensureRepository calls on two nodes get one repository', async (store, db) => {
        const other = await db.open();
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 ? store : other).ensureRepository(ACCOUNT, 'race', i)),
        );
        assert.equal(new Set(results.map((r) => r.id)).size, 1);
        assert.equal((await store.listRepositories(ACCOUNT, { limit: 10 })).length, 1);
      });

      it('repositories are listed in byte order of name, in pages that join up', async (store) => {
        await store.ensureAccount(OTHER_ACCOUNT, 1);
        for (const n of NAMES) await store.createRepository(ACCOUNT, n, SETTINGS, [], 1);
        await store.createRepository(OTHER_ACCOUNT, 'other-account', SETTINGS, [], 1);
        const expected = [...NAMES].sort(byteOrder);
        for (const limit of [1, 2, 3, 100]) {
          const names = (await walk<Repository>(limit, (after) => store.listRepositories(ACCOUNT, { last: after?.name, limit }))).map(
            (r) => r.name,
          );
          assert.deepEqual(names, expected, `pages of ${limit}`);
        }
      });

      it('settings and resource tags are updated; tags listed by key', async (store) => {
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        await store.updateRepository(repo.id, {
          imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
          mutabilityExclusions: [{ filterType: 'WILDCARD', filter: 'dev-*' }],
          scanOnPush: true,
        });
        const updated = (await store.getRepository(ACCOUNT, 'app'))!;
        assert.equal(updated.imageTagMutability, 'IMMUTABLE_WITH_EXCLUSION');
        assert.deepEqual(updated.mutabilityExclusions, [{ filterType: 'WILDCARD', filter: 'dev-*' }]);
        assert.equal(updated.scanOnPush, true);
        assert.equal(updated.encryptionType, 'AES256');
        await store.putResourceTags(repo.id, [
          { Key: 'b', Value: '1' },
          { Key: 'a', Value: '2' },
          { Key: 'B', Value: '3' },
        ]);
        await store.putResourceTags(repo.id, [{ Key: 'b', Value: 'changed' }]);
        assert.deepEqual(await store.getResourceTags(repo.id), [
          { Key: 'B', Value: '3' },
          { Key: 'a', Value: '2' },
          { Key: 'b', Value: 'changed' },
        ]);
        await store.deleteResourceTags(repo.id, ['a', 'B', 'missing']);
        assert.deepEqual(await store.getResourceTags(repo.id), [{ Key: 'b', Value: 'changed' }]);
      });

      it('deleting a repository deletes its images, tags, links, uploads and previews', async (store) => {
        const { repo, blob } = await repoWithBlob(store, 'app', 'layer');
        const m = manifest(repo.id, 'one', { blobs: [blob] });
        await store.putManifest(m, 'latest', 1, false);
        await store.createUpload({ id: 'u1', repositoryId: repo.id, startedAt: 1 });
        await store.startLifecyclePreview(repo.id, '{}', 1);
        assert.equal(await store.countImages(repo.id), 1);
        await store.deleteRepository(repo.id);
        assert.equal(await store.getRepository(ACCOUNT, 'app'), undefined);
        assert.equal(await store.getManifest(repo.id, m.digest), undefined);
        assert.equal(await store.getTag(repo.id, 'latest'), undefined);
        assert.equal(await store.getRepositoryBlob(repo.id, blob), undefined);
        assert.equal(await store.getUpload('u1'), undefined);
        assert.equal(await store.getLifecyclePreview(repo.id), undefined);
        assert.equal(await store.countImages(repo.id), 0);
        assert.deepEqual(await store.getBlob(blob), { digest: blob, size: 100 }, 'the blob itself stays, for garbage collection');
      });
    });

    describe('ImageStore', () => {
      it('putManifest is idempotent by digest and keeps what it stored', async (store) => {
        const { repo, blob } = await repoWithBlob(store, 'app', 'layer');
        const m = manifest(repo.id, 'one', { blobs: [blob] });
        assert.deepEqual(await store.putManifest(m, undefined, 1, false), { created: true, previousTagDigest: undefined, refused: false });
        const again = await store.putManifest({ ...m, pushedAt: 2000 }, 'v1', 2, false);
        assert.equal(again.created, false);
        assert.equal(again.refused, false);
        assert.equal(await store.countImages(repo.id), 1);
        const stored = (await store.getManifest(repo.id, m.digest))!;
        assert.deepEqual(stored.content, m.content);
        assert.equal(stored.pushedAt, 1000, 'the first push is kept');
        assert.equal(stored.mediaType, MANIFEST_TYPE);
        assert.equal(stored.lastPulledAt, null);
        assert.equal((await store.getTaggedManifest(repo.id, 'v1'))!.digest, m.digest);
        const refs = await store.listManifestReferences(0, '', 10);
        assert.deepEqual(refs, [{ repositoryId: repo.id, digest: m.digest, blobs: [blob], manifests: [] }]);
        // A blob named twice (the config is also a layer) is one reference.
        const twice = manifest(repo.id, 'twice', { blobs: [blob, blob] });
        assert.equal((await store.putManifest(twice, undefined, 3, false)).created, true);
        assert.deepEqual(
          (await store.listManifestReferences(0, '', 10)).filter((r) => r.digest === twice.digest).map((r) => r.blobs),
          [[blob]],
        );
      });

      it('a tag is unique: a mutable tag moves, an immutable one is refused, the same digest is not a move', async (store) => {
        const { repo, blob } = await repoWithBlob(store, 'app', 'layer');
        const [a, b] = [manifest(repo.id, 'a', { blobs: [blob] }), manifest(repo.id, 'b', { blobs: [blob] })];
        await store.putManifest(a, 'latest', 1, false);
        const moved = await store.putManifest(b, 'latest', 2, false);
        assert.deepEqual(moved, { created: true, previousTagDigest: a.digest, refused: false });
        assert.equal(await store.getTag(repo.id, 'latest'), b.digest);
        const refused = await store.putManifest(a, 'latest', 3, true);
        assert.deepEqual(refused, { created: false, previousTagDigest: b.digest, refused: true });
        assert.equal(await store.getTag(repo.id, 'latest'), b.digest);
        const same = await store.putManifest(b, 'latest', 4, true);
        assert.deepEqual(same, { created: false, previousTagDigest: b.digest, refused: false });
        const c = manifest(repo.id, 'c', { blobs: [blob] });
        assert.equal((await store.putManifest(c, 'latest', 5, true)).refused, true);
        assert.equal(await store.getManifest(repo.id, c.digest), undefined, 'a refused write stores nothing');
        assert.deepEqual((await store.getImage(repo.id, a.digest))!.tags, []);
      });

      it('references not in the repository are refused in the write, and nothing is stored', async (store) => {
        const { repo, blob } = await repoWithBlob(store, 'app', 'layer');
        const unlinked = sha256('elsewhere');
        await store.recordBlob({ digest: unlinked, size: 1 }, 1);
        const m = manifest(repo.id, 'one', { blobs: [blob, unlinked] });
        const write = await store.putManifest(m, 'latest', 1, false);
        assert.deepEqual(write.missingBlobs, [unlinked]);
        assert.deepEqual(write.missingManifests, []);
        const child = manifest(repo.id, 'child');
        const index = manifest(repo.id, 'index', { manifests: [child.digest] });
        assert.deepEqual((await store.putManifest(index, 'multi', 1, false)).missingManifests, [child.digest]);
        assert.equal(await store.countImages(repo.id), 0);
        assert.equal(await store.getTag(repo.id, 'latest'), undefined);
        assert.deepEqual(await store.missingManifests(repo.id, [child.digest]), [child.digest]);
        await store.putManifest(child, undefined, 1, false);
        assert.deepEqual(await store.missingManifests(repo.id, [child.digest, index.digest]), [index.digest]);
        assert.equal((await store.putManifest(index, 'multi', 1, false)).created, true);
        assert.deepEqual(await store.manifestParents(repo.id, child.digest), [index.digest]);
      });

      it('deleting images in a batch: one transaction, each as deleteManifest would, with its event', async (store) => {
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        const child = manifest(repo.id, 'child');
        const index = manifest(repo.id, 'index', { manifests: [child.digest] });
        const lone = manifest(repo.id, 'lone');
        const other = manifest(repo.id, 'other');
        for (const [m, tag] of [
          [child, 'c'],
          [index, 'multi'],
          [lone, 'l'],
          [other, 'o'],
        ] as const)
          await store.putManifest(m, tag, 1, false);
        const after = (await store.listEvents(0, 100)).at(-1)?.seq ?? 0;
        const event = (detail: string) => ({ at: 7, detailType: 'ECR Image Action', accountId: ACCOUNT, repositoryName: 'app', detail });
        const deleted = await store.deleteManifests(repo.id, [
          { digest: lone.digest, event: event('lone') },
          { digest: child.digest, event: event('child') },
          { digest: sha256('never pushed'), event: event('never pushed') },
          { digest: other.digest, event: event('other') },
        ]);
        assert.deepEqual([...deleted].sort(), [lone.digest, other.digest].sort(), 'not the one an index references, nor one not there');
        assert.equal(await store.getManifest(repo.id, lone.digest), undefined);
        assert.ok(await store.getManifest(repo.id, child.digest));
        assert.deepEqual(await store.listTags(repo.id, { limit: 10 }), ['c', 'multi']);
        assert.deepEqual((await store.listEvents(after, 10)).map((e) => e.detail).sort(), ['lone', 'other']);
        assert.deepEqual(await store.deleteManifests(repo.id, []), []);
      });

      it('a manifest an index references is not deleted; deleting one takes its tags', async (store) => {
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        const child = manifest(repo.id, 'child');
        const index = manifest(repo.id, 'index', { manifests: [child.digest] });
        await store.putManifest(child, 'c1', 1, false);
        await store.putManifest(child, 'c2', 1, false);
        await store.putManifest(index, 'multi', 1, false);
        assert.equal(await store.deleteManifest(repo.id, child.digest), false);
        assert.ok(await store.getManifest(repo.id, child.digest));
        assert.equal(await store.deleteManifest(repo.id, index.digest), true);
        assert.equal(await store.deleteManifest(repo.id, index.digest), false, 'no longer there');
        assert.equal(await store.deleteManifest(repo.id, child.digest), true, 'no index references it now');
        assert.deepEqual(await store.listTags(repo.id, { limit: 10 }), []);
        assert.equal(await store.deleteTag(repo.id, 'c1'), false);
      });

      it('tags are listed in byte order, in pages that join up; deleteTag removes one', async (store) => {
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        const m = manifest(repo.id, 'one');
        const tags = ['v1', 'V2', 'latest', '1.0', 'a_b', 'a-b', 'a.b', 'Latest', 'z'];
        for (const t of tags) await store.putManifest(m, t, 1, false);
        const expected = [...tags].sort(byteOrder);
        for (const limit of [1, 2, 4, 100]) {
          assert.deepEqual(
            await walk<string>(limit, (after) => store.listTags(repo.id, { last: after, limit })),
            expected,
            `pages of ${limit}`,
          );
        }
        assert.deepEqual((await store.getImage(repo.id, m.digest))!.tags, expected, "an image's tags, sorted");
        assert.equal(await store.deleteTag(repo.id, 'z'), true);
        assert.equal(await store.getTag(repo.id, 'z'), undefined);
      });

      it('image ids are listed by digest then tag, untagged first, in pages that join up for each status', async (store) => {
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        const all: ImageId[] = [];
        for (const [i, tags] of [[], ['v1', 'latest', 'stable'], ['a'], [], ['z', 'y'], ['only'], []].entries()) {
          const m = manifest(repo.id, `image ${i}`);
          if (tags.length === 0) await store.putManifest(m, undefined, i, false);
          for (const tag of tags) await store.putManifest(m, tag, i, false);
          if (tags.length === 0) all.push({ digest: m.digest, tag: null });
          for (const tag of tags) all.push({ digest: m.digest, tag });
        }
        const key = (e: ImageId) => `${e.digest} ${e.tag ?? ''}`;
        all.sort((a, b) => byteOrder(key(a), key(b)));
        const expected: Record<TagStatus, ImageId[]> = {
          ANY: all,
          TAGGED: all.filter((e) => e.tag !== null),
          UNTAGGED: all.filter((e) => e.tag === null),
        };
        for (const status of ['ANY', 'TAGGED', 'UNTAGGED'] as TagStatus[]) {
          for (const limit of [1, 2, 3, 100]) {
            const walked = await walk<ImageId>(limit, (after) => store.listImageIds(repo.id, status, after && key(after), limit));
            assert.deepEqual(walked, expected[status], `${status} in pages of ${limit}`);
          }
        }
      });

      it('images are listed by digest with their tags, filtered by status, in pages that join up', async (store) => {
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        const digests: { digest: string; tags: string[] }[] = [];
        for (let i = 0; i < 7; i++) {
          const m = manifest(repo.id, `image ${i}`);
          const tags = i % 3 === 0 ? [] : [`t${i}`, `a${i}`];
          await store.putManifest(m, undefined, i, false);
          for (const t of tags) await store.putManifest(m, t, i, false);
          digests.push({ digest: m.digest, tags: tags.sort(byteOrder) });
        }
        digests.sort((a, b) => byteOrder(a.digest, b.digest));
        const filters: Record<TagStatus, typeof digests> = {
          ANY: digests,
          TAGGED: digests.filter((d) => d.tags.length > 0),
          UNTAGGED: digests.filter((d) => d.tags.length === 0),
        };
        for (const status of ['ANY', 'TAGGED', 'UNTAGGED'] as TagStatus[]) {
          for (const limit of [1, 3, 100]) {
            const walked = await walk<ImageRow>(limit, (after) => store.listImages(repo.id, status, after?.digest, limit));
            assert.deepEqual(
              walked.map((r) => ({ digest: r.digest, tags: r.tags })),
              filters[status],
              `${status} in pages of ${limit}`,
            );
          }
        }
        const image = (await store.getImage(repo.id, digests[0].digest))!;
        assert.equal(image.imageSize, 10);
        assert.equal(image.mediaType, MANIFEST_TYPE);
        assert.equal(image.lastPulledAt, null);
        await store.recordUse({ blobs: [], pulls: [{ repositoryId: repo.id, digest: image.digest, at: 12345 }] });
        assert.equal((await store.getImage(repo.id, image.digest))!.lastPulledAt, 12345);
        await store.recordUse({ blobs: [], pulls: [{ repositoryId: repo.id, digest: image.digest, at: 12000 }] });
        assert.equal((await store.getImage(repo.id, image.digest))!.lastPulledAt, 12345, 'a late write never moves the last pull back');
      });

      it('referrers of a subject are listed by digest, filtered by artifact type', async (store) => {
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        const subject = manifest(repo.id, 'subject');
        await store.putManifest(subject, 'v1', 1, false);
        const refs = ['sbom 1', 'sig 1', 'sbom 2'].map((seed) =>
          manifest(repo.id, seed, {
            subject: subject.digest,
            artifactType: seed.startsWith('sbom') ? 'application/spdx+json' : 'application/vnd.sig',
          }),
        );
        for (const r of refs) await store.putManifest(r, undefined, 1, false);
        const all = await store.listReferrers(repo.id, subject.digest);
        assert.deepEqual(
          all.map((r) => r.digest),
          refs.map((r) => r.digest).sort(byteOrder),
        );
        assert.deepEqual(all[0].annotations !== null && typeof all[0].annotations, 'object');
        const sboms = await store.listReferrers(repo.id, subject.digest, 'application/spdx+json');
        assert.deepEqual(
          sboms.map((r) => r.digest),
          refs
            .filter((r) => r.artifactType === 'application/spdx+json')
            .map((r) => r.digest)
            .sort(byteOrder),
        );
        assert.deepEqual(await store.listReferrers(repo.id, sha256('nothing')), []);
      });

      it("the referrers Berth wrote for an image are deleted in its delete's transaction, others are kept", async (store) => {
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        const subject = manifest(repo.id, 'subject');
        await store.putManifest(subject, 'v1', 1, false);
        const own = (seed: string, of: string): NewManifest => ({
          ...manifest(repo.id, seed, { subject: of, artifactType: 'application/vnd.cyclonedx+json' }),
          annotations: { [BERTH_ARTIFACT_ANNOTATION]: 'scanner' },
        });
        const sbom = own('sbom', subject.digest);
        const ofSbom = own('berth artifact of the sbom', sbom.digest);
        const users = manifest(repo.id, "a user's signature", { subject: subject.digest, artifactType: 'application/vnd.sig' });
        const kept = own('sbom an index keeps', subject.digest);
        for (const m of [sbom, ofSbom, users, kept]) await store.putManifest(m, undefined, 1, false);
        const index = manifest(repo.id, 'index', { manifests: [kept.digest] });
        await store.putManifest(index, 'idx', 1, false);
        await store.startImageScan(repo.id, subject.digest, 'BASIC', 1, undefined);

        assert.equal(await store.deleteManifest(repo.id, subject.digest), true);
        assert.equal(await store.getManifest(repo.id, subject.digest), undefined);
        assert.equal(await store.getManifest(repo.id, sbom.digest), undefined, "Berth's SBOM went with its image");
        assert.equal(await store.getManifest(repo.id, ofSbom.digest), undefined, 'and what Berth wrote for the SBOM');
        assert.ok(await store.getManifest(repo.id, users.digest), "a user's referrer is the user's to delete");
        assert.ok(await store.getManifest(repo.id, kept.digest), 'an index keeps what it references');
        assert.deepEqual(
          (await store.listReferrers(repo.id, subject.digest)).map((r) => r.digest),
          [kept.digest, users.digest].sort(byteOrder),
        );
        assert.equal(await store.getImageScan(repo.id, subject.digest), undefined);

        // A delete that does not happen (an index references the image) takes nothing with it.
        const child = manifest(repo.id, 'child');
        await store.putManifest(child, undefined, 1, false);
        const childSbom = own('sbom of child', child.digest);
        await store.putManifest(childSbom, undefined, 1, false);
        await store.putManifest(manifest(repo.id, 'parent', { manifests: [child.digest] }), 'parent', 1, false);
        assert.equal(await store.deleteManifest(repo.id, child.digest), false);
        assert.ok(await store.getManifest(repo.id, childSbom.digest));
      });
    });

    describe('BlobRecordStore', () => {
      it('recordBlob is idempotent; blobs are listed by digest in pages that join up', async (store) => {
        const digests = Array.from({ length: 7 }, (_, i) => sha256(`blob ${i}`));
        for (const d of digests) await store.recordBlob({ digest: d, size: 10 }, 1);
        for (const d of digests) await store.recordBlob({ digest: d, size: 10 }, 2);
        const expected = [...digests].sort(byteOrder);
        for (const limit of [1, 2, 100]) {
          const walked = await walk<GcCandidate>(limit, (after) => store.listBlobs(after?.digest ?? '', limit));
          assert.deepEqual(
            walked.map((b) => b.digest),
            expected,
            `pages of ${limit}`,
          );
        }
        const usage = await store.usage();
        assert.equal(usage.storedBlobs, 7);
        assert.equal(usage.storedBytes, 70);
      });

      it('the largest images of the registry, every account, largest first with their tags', async (store) => {
        const a = (await store.createRepository(ACCOUNT, 'a', SETTINGS, [], 1))!;
        const b = (await store.createRepository(OTHER_ACCOUNT, 'b', SETTINGS, [], 1))!;
        const sized = (repo: number, seed: string, imageSize: number) => ({ ...manifest(repo, seed), imageSize, pushedAt: imageSize });
        const small = sized(a.id, 'small', 5);
        const big = sized(b.id, 'big', 500);
        const middle = sized(a.id, 'middle', 50);
        await store.putManifest(small, 'v1', 1, false);
        await store.putManifest(big, undefined, 1, false);
        await store.putManifest(middle, 'z', 1, false);
        await store.putManifest(middle, 'b', 1, false);
        assert.deepEqual(await store.largestImages(2), [
          { accountId: OTHER_ACCOUNT, repositoryName: 'b', digest: big.digest, tags: [], imageSize: 500, pushedAt: 500 },
          { accountId: ACCOUNT, repositoryName: 'a', digest: middle.digest, tags: ['b', 'z'], imageSize: 50, pushedAt: 50 },
        ]);
        assert.equal((await store.largestImages(10)).length, 3);
      });

      it('links: reachable from a repository once linked, until unlinked; found across the account; mounted from a holder', async (store) => {
        const { repo, blob } = await repoWithBlob(store, 'app', 'layer', 100);
        await store.linkBlob(repo.id, blob, 200);
        assert.deepEqual(await store.getRepositoryBlob(repo.id, blob), { digest: blob, size: 100, touchedAt: 200 });
        assert.deepEqual(
          (await store.repositoriesHoldingBlob(ACCOUNT, blob, 10)).map((r) => r.name),
          ['app'],
        );
        assert.deepEqual(await store.repositoriesHoldingBlob(OTHER_ACCOUNT, blob, 10), []);
        await store.touchBlob(blob, 150);
        assert.equal((await store.getRepositoryBlob(repo.id, blob))!.touchedAt, 200, 'touching never moves the time back');
        const other = (await store.createRepository(ACCOUNT, 'other', SETTINGS, [], 1))!;
        assert.equal(await store.mountBlob(other.id, other.id, blob, 300), undefined, 'no mount from a repository without the blob');
        assert.deepEqual(await store.mountBlob(other.id, repo.id, blob, 300), { digest: blob, size: 100 });
        assert.deepEqual(
          (await store.repositoriesHoldingBlob(ACCOUNT, blob, 10)).map((r) => r.name),
          ['app', 'other'],
        );
        assert.equal(await store.unlinkBlobIfUnreferenced(repo.id, blob), 'unlinked');
        assert.equal(await store.unlinkBlobIfUnreferenced(repo.id, blob), 'unknown');
        assert.equal(await store.getRepositoryBlob(repo.id, blob), undefined);
      });

      it('the mark goes over the blob records a slice at a time, in digest order, each once', async (store) => {
        const { repo, blob } = await repoWithBlob(store, 'app', 'kept', 100);
        await store.putManifest(manifest(repo.id, 'one', { blobs: [blob] }), 'v1', 100, false);
        const loose = ['a', 'b', 'c', 'd', 'e'].map((s) => sha256(`loose ${s}`));
        for (const d of loose) await store.recordBlob({ digest: d, size: 5 }, 100);
        await store.recordBlob({ digest: sha256('young'), size: 5 }, 300);
        const seen: string[] = [];
        const slices: number[] = [];
        for (let after = ''; ; ) {
          const { candidates, last } = await store.unreferencedBlobs(200, after, 2);
          seen.push(...candidates.map((c) => c.digest));
          slices.push(candidates.length);
          if (last === undefined) break;
          assert.ok(last > after, 'the slices move forward');
          after = last;
        }
        assert.deepEqual(seen, [...loose].sort(), 'every unreferenced, untouched blob, once, in digest order');
        assert.ok(slices.length >= 4, `7 records in slices of 2: ${slices.length} slices`);
        assert.ok(
          slices.every((n) => n <= 2),
          'no slice holds more than it looked at',
        );
      });

      it('a blob is collected only when unreferenced and untouched since the cutoff', async (store) => {
        const { repo, blob } = await repoWithBlob(store, 'app', 'kept', 100);
        const loose = sha256('loose');
        await store.recordBlob({ digest: loose, size: 5 }, 100);
        await store.linkBlob(repo.id, loose, 100);
        await store.putManifest(manifest(repo.id, 'one', { blobs: [blob] }), 'v1', 100, false);
        assert.deepEqual(await store.unreferencedBlobs(101, '', 10), { candidates: [{ digest: loose, size: 5 }], last: undefined });
        assert.deepEqual(await store.unreferencedBlobs(100, '', 10), { candidates: [], last: undefined }, 'touched at the cutoff is kept');
        assert.deepEqual(await store.unrecordedBlobs([blob, sha256('never recorded'), loose]), [sha256('never recorded')]);
        assert.deepEqual(await store.unrecordedBlobs([]), []);
        assert.equal(await store.deleteBlobIfUnreferenced(blob, 1000), false, 'referenced');
        await store.touchBlob(loose, 500);
        assert.equal(await store.deleteBlobIfUnreferenced(loose, 400), false, 'touched since');
        assert.equal(await store.deleteBlobIfUnreferenced(loose, 1000), true);
        assert.equal(await store.getBlob(loose), undefined);
        assert.equal(await store.getRepositoryBlob(repo.id, loose), undefined);
        const usage = await store.usage();
        assert.equal(usage.storedBlobs, 1);
        assert.equal(usage.referencedBlobBytes, 100);
        assert.deepEqual(
          usage.repositories.map((r) => [r.name, r.images]),
          [['app', 1]],
        );
      });
    });

    describe('UploadStore', () => {
      it('uploads are created, listed by start, read and deleted', async (store) => {
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        await store.createUpload({ id: 'b', repositoryId: repo.id, startedAt: 20 });
        await store.createUpload({ id: 'a', repositoryId: repo.id, startedAt: 10 });
        await assert.rejects(store.createUpload({ id: 'a', repositoryId: repo.id, startedAt: 30 }), 'an upload id is unique');
        assert.deepEqual(
          (await store.listUploads()).map((u) => u.id),
          ['a', 'b'],
        );
        assert.deepEqual(await store.getUpload('a'), { id: 'a', repositoryId: repo.id, startedAt: 10 });
        await store.deleteUpload('a');
        assert.equal(await store.getUpload('a'), undefined);
      });

      it('parts recorded on any node: a small part followed by another is a small part before the last', async (store, db) => {
        const other = await db.open();
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        await store.createUpload({ id: 'big', repositoryId: repo.id, startedAt: 1 });
        await store.createUpload({ id: 'small', repositoryId: repo.id, startedAt: 1 });
        assert.equal(await store.smallPartBeforeLast('big'), false);
        await store.recordUploadPart('big', 10, 10);
        await other.recordUploadPart('big', 10, 10);
        await store.recordUploadPart('big', 3, 10);
        assert.equal(await other.smallPartBeforeLast('big'), false, 'only the last part is under the minimum');
        await store.recordUploadPart('small', 3, 10);
        assert.equal(await other.smallPartBeforeLast('small'), false, 'one small part is the last one');
        await other.recordUploadPart('small', 10, 10);
        assert.equal(await store.smallPartBeforeLast('small'), true);
        await store.recordUploadPart('small', 10, 10);
        assert.equal(await store.smallPartBeforeLast('small'), true, 'once small, always');
        assert.equal(await store.smallPartBeforeLast('unknown'), false);
      });
    });

    describe('AuditStore', () => {
      it('events are written with their change only (push, tag move, deletes, scan end), in order, in pages that join up', async (store, db) => {
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        const event = (detail: string) => ({ at: 7, detailType: 'ECR Image Action', accountId: ACCOUNT, repositoryName: 'app', detail });
        const m = manifest(repo.id, 'one');
        const other = manifest(repo.id, 'two');
        await store.putManifest(m, 'v1', 1, false, undefined, event('push v1'));
        await store.putManifest(m, 'v1', 1, false, undefined, event('same again: no change, no event'));
        await store.putManifest(other, 'v1', 1, true, undefined, event('refused: immutable'));
        await store.putManifest(m, 'v2', 1, false, undefined, event('tag v2'));
        assert.equal(await store.deleteTag(repo.id, 'v2', event('untag v2')), true);
        assert.equal(await store.deleteTag(repo.id, 'v2', event('no such tag')), false);
        const second = await db.open();
        await second.startImageScan(repo.id, m.digest, 'BASIC', 1, undefined);
        await second.finishImageScan(
          repo.id,
          m.digest,
          { status: 'COMPLETE', description: 'd', findings: '[]', severityCounts: '{}', vulnerabilitySourceUpdatedAt: null },
          2,
          event('scan'),
        );
        assert.equal(await store.deleteManifest(repo.id, m.digest, event('delete')), true);
        assert.equal(await store.deleteManifest(repo.id, m.digest, event('already gone')), false);
        const all = await walk<StoredEvent>(2, async (after) => store.listEvents(after?.seq ?? 0, 2));
        assert.deepEqual(
          all.map((e) => e.detail),
          ['push v1', 'tag v2', 'untag v2', 'scan', 'delete'],
        );
        assert.ok(all.every((e, i) => i === 0 || e.seq > all[i - 1].seq));
        assert.deepEqual({ ...all[0], seq: 0 }, { seq: 0, ...event('push v1') });
        assert.deepEqual(
          (await second.listEvents(all[2].seq, 10)).map((e) => e.detail),
          ['scan', 'delete'],
        );
      });

      it('webhooks start at the newest event, are listed by account, move their cursor and are deleted', async (store, db) => {
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        const event = { at: 7, detailType: 'ECR Image Action', accountId: ACCOUNT, repositoryName: 'app', detail: '{}' };
        await store.putManifest(manifest(repo.id, 'one'), 'v1', 1, false, undefined, event);
        const [before] = await store.listEvents(0, 10);
        const w = await store.createWebhook({
          id: 'w1',
          accountId: ACCOUNT,
          url: 'http://127.0.0.1:1/',
          eventTypes: ['ECR Image Action'],
          repositories: ['a*'],
          secretCiphertext: 'c',
          createdAt: 3,
        });
        assert.deepEqual(w, {
          id: 'w1',
          accountId: ACCOUNT,
          url: 'http://127.0.0.1:1/',
          eventTypes: ['ECR Image Action'],
          repositories: ['a*'],
          secretCiphertext: 'c',
          createdAt: 3,
          cursor: before.seq,
          failures: 0,
          nextAttemptAt: 0,
          lastError: null,
          managedBy: null,
        });
        const other = await db.open();
        await other.createWebhook({
          id: 'w2',
          accountId: OTHER_ACCOUNT,
          url: 'http://127.0.0.1:2/',
          eventTypes: [],
          repositories: [],
          secretCiphertext: 'd',
          createdAt: 4,
        });
        assert.deepEqual(
          (await store.listWebhooks()).map((x) => x.id),
          ['w1', 'w2'],
        );
        assert.deepEqual(
          (await store.listWebhooks(OTHER_ACCOUNT)).map((x) => x.id),
          ['w2'],
        );
        await other.updateWebhookDelivery('w1', { cursor: 9, failures: 2, nextAttemptAt: 50, lastError: 'down' });
        assert.deepEqual(
          (await store.listWebhooks(ACCOUNT)).map((x) => [x.cursor, x.failures, x.nextAttemptAt, x.lastError]),
          [[9, 2, 50, 'down']],
        );
        assert.equal(await store.deleteWebhook(OTHER_ACCOUNT, 'w1'), false, "another account's webhook");
        assert.equal(await store.deleteWebhook(ACCOUNT, 'w1'), true);
        assert.deepEqual(
          (await store.listWebhooks()).map((x) => x.id),
          ['w2'],
        );
      });

      it("a webhook's filters are changed in place (secret, cursor and backoff kept); a manager is kept", async (store, db) => {
        const w = await store.createWebhook({
          id: 'w1',
          accountId: ACCOUNT,
          url: 'http://127.0.0.1:1/',
          eventTypes: ['ECR Image Action'],
          repositories: ['a*'],
          secretCiphertext: 'c',
          createdAt: 3,
          managedBy: 'apply',
        });
        assert.equal(w.managedBy, 'apply');
        const other = await db.open();
        await other.updateWebhookDelivery('w1', { cursor: 9, failures: 2, nextAttemptAt: 50, lastError: 'down' });
        assert.equal(
          await other.updateWebhookFilters(ACCOUNT, 'w1', { eventTypes: ['ECR Image Scan', 'ECR Image Action'], repositories: [] }),
          true,
        );
        assert.deepEqual(await store.listWebhooks(ACCOUNT), [
          {
            ...w,
            eventTypes: ['ECR Image Scan', 'ECR Image Action'],
            repositories: [],
            cursor: 9,
            failures: 2,
            nextAttemptAt: 50,
            lastError: 'down',
          },
        ]);
        assert.equal(await store.updateWebhookFilters(ACCOUNT, 'w1', { repositories: ['b'] }), true, 'a filter not given is kept');
        assert.deepEqual(
          (await store.listWebhooks(ACCOUNT)).map((x) => [x.eventTypes, x.repositories]),
          [[['ECR Image Scan', 'ECR Image Action'], ['b']]],
        );
        assert.equal(await store.updateWebhookFilters(OTHER_ACCOUNT, 'w1', { repositories: [] }), false, "another account's webhook");
        assert.equal(await store.updateWebhookFilters(ACCOUNT, 'nope', { repositories: [] }), false);
        assert.deepEqual(
          (await store.listWebhooks(ACCOUNT)).map((x) => x.repositories),
          [['b']],
        );
      });

      it('audit records from two nodes are kept in the order appended, in pages that join up', async (store, db) => {
        const other = await db.open();
        await store.appendAuditRecords([
          { at: 5, record: '{"n":1}' },
          { at: 4, record: '{"n":2}' },
        ]);
        await other.appendAuditRecords([{ at: 6, record: '{"n":3}' }]);
        await other.appendAuditRecords([]);
        const all = await walk<AuditRecord>(2, async (after) => store.listAuditRecords(after?.id ?? 0, 2));
        assert.deepEqual(
          all.map((r) => [r.at, JSON.parse(r.record).n]),
          [
            [5, 1],
            [4, 2],
            [6, 3],
          ],
        );
        assert.ok(all[0].id < all[1].id && all[1].id < all[2].id);
      });

      it('audit records are searched newest first by text and time, in pages, and pruned by age', async (store, db) => {
        const other = await db.open();
        await store.appendAuditRecords([
          { at: 10, record: '{"principal":"arn:aws:iam::1:user/ci","action":"ecr:BatchGetImage"}' },
          { at: 20, record: '{"principal":"arn:aws:iam::1:user/ci","action":"ecr:PutImage"}' },
        ]);
        await other.appendAuditRecords([
          { at: 30, record: '{"principal":"arn:aws:iam::1:root","action":"ecr:PutImage"}' },
          { at: 40, record: '{"x":"100%_"}' },
        ]);
        const n = (rs: AuditRecord[]) => rs.map((r) => r.at);
        assert.deepEqual(n(await store.searchAuditRecords({ limit: 10 })), [40, 30, 20, 10]);
        assert.deepEqual(n(await store.searchAuditRecords({ contains: 'user/ci', limit: 10 })), [20, 10]);
        assert.deepEqual(n(await store.searchAuditRecords({ contains: 'ecr:PutImage', since: 20, until: 30, limit: 10 })), [20]);
        assert.deepEqual(
          n(await store.searchAuditRecords({ contains: '%_', limit: 10 })),
          [40],
          'the text is matched as it is, no wildcard',
        );
        assert.deepEqual(n(await store.searchAuditRecords({ contains: 'USER/CI', limit: 10 })), [], 'case-sensitive');
        const first = await store.searchAuditRecords({ contains: 'ecr:', limit: 2 });
        assert.deepEqual(n(first), [30, 20]);
        assert.deepEqual(n(await store.searchAuditRecords({ contains: 'ecr:', beforeId: first[1].id, limit: 2 })), [10]);
        assert.equal(await other.pruneAuditRecords(30), 2);
        assert.deepEqual(n(await store.searchAuditRecords({ limit: 10 })), [40, 30]);
        assert.equal(await store.pruneAuditRecords(30), 0);
      });
    });

    describe('UsageHistoryStore', () => {
      it('one snapshot a day, replaced when taken again that day, listed oldest first from a day on', async (store, db) => {
        const other = await db.open();
        const snap = (day: string, at: number, storedBytes: number) => ({
          day,
          at,
          storedBytes,
          referencedBytes: storedBytes - 1,
          repositories: 2,
          images: 5_000_000_000,
        });
        await store.recordUsageSnapshot(snap('2025-01-02', 2, 200));
        await other.recordUsageSnapshot(snap('2025-01-01', 1, 100));
        await other.recordUsageSnapshot(snap('2025-01-02', 3, 10_000_000_000_000));
        assert.deepEqual(await store.listUsageSnapshots('2025-01-01', 10), [
          snap('2025-01-01', 1, 100),
          snap('2025-01-02', 3, 10_000_000_000_000),
        ]);
        assert.deepEqual(
          (await store.listUsageSnapshots('2025-01-02', 10)).map((s) => s.day),
          ['2025-01-02'],
        );
        assert.deepEqual(
          (await store.listUsageSnapshots('2024-12-31', 1)).map((s) => s.day),
          ['2025-01-01'],
        );
      });
    });

    describe('CreationTemplateStore', () => {
      it('one template per account and prefix, listed in byte order, updated and deleted', async (store) => {
        const t = (prefix: string, body = '{}') => ({ accountId: ACCOUNT, prefix, body, createdAt: 10, updatedAt: 10 });
        for (const p of ['zeta', 'ROOT', 'alpha/beta', 'alpha']) assert.equal(await store.createCreationTemplate(t(p)), true);
        assert.equal(await store.createCreationTemplate(t('alpha', '{"x":1}')), false, 'a second template of a prefix is refused');
        assert.equal(await store.createCreationTemplate({ ...t('alpha'), accountId: OTHER_ACCOUNT }), true, 'another account has its own');
        assert.deepEqual(
          (await store.listCreationTemplates(ACCOUNT)).map((r) => r.prefix),
          ['ROOT', 'alpha', 'alpha/beta', 'zeta'],
        );
        assert.equal(await store.updateCreationTemplate(ACCOUNT, 'alpha', '{"y":2}', 20), true);
        assert.equal(await store.updateCreationTemplate(ACCOUNT, 'missing', '{}', 20), false);
        const alpha = (await store.listCreationTemplates(ACCOUNT)).find((r) => r.prefix === 'alpha');
        assert.deepEqual(alpha, { accountId: ACCOUNT, prefix: 'alpha', body: '{"y":2}', createdAt: 10, updatedAt: 20 });
        assert.deepEqual(await store.deleteCreationTemplate(ACCOUNT, 'alpha'), alpha);
        assert.equal(await store.deleteCreationTemplate(ACCOUNT, 'alpha'), undefined);
        assert.deepEqual(
          (await store.listCreationTemplates(OTHER_ACCOUNT)).map((r) => r.prefix),
          ['alpha'],
        );
      });
    });

    describe('PullTimeExclusionStore', () => {
      it('one exclusion per account and principal, listed in byte order, removed once', async (store) => {
        const user = (n: string) => `arn:aws:iam::${ACCOUNT}:user/${n}`;
        for (const n of ['zed', 'Alice', 'bob']) assert.equal(await store.addPullTimeExclusion(ACCOUNT, user(n), 5), true);
        assert.equal(await store.addPullTimeExclusion(ACCOUNT, user('bob'), 6), false, 'a second registration is refused');
        assert.equal(await store.addPullTimeExclusion(OTHER_ACCOUNT, user('bob'), 6), true, 'another account has its own');
        assert.deepEqual(
          await store.listPullTimeExclusions(ACCOUNT),
          ['Alice', 'bob', 'zed'].map((n) => ({ principalArn: user(n), createdAt: 5 })),
        );
        assert.equal(await store.hasPullTimeExclusion(ACCOUNT, user('bob')), true);
        assert.equal(await store.removePullTimeExclusion(ACCOUNT, user('bob')), true);
        assert.equal(await store.removePullTimeExclusion(ACCOUNT, user('bob')), false);
        assert.equal(await store.hasPullTimeExclusion(ACCOUNT, user('bob')), false);
        assert.equal(await store.hasPullTimeExclusion(OTHER_ACCOUNT, user('bob')), true);
      });
    });

    describe('ReplicationStore', () => {
      const job = (n: string) => ({ kind: 'replication', payload: JSON.stringify({ n }), runAt: 1, maxAttempts: 3 });
      const WEST = { region: 'us-west-2', registryId: OTHER_ACCOUNT };
      const EAST = { region: 'eu-east-1', registryId: OTHER_ACCOUNT };

      it('destinations: one per account, region and registry id, replaced, listed in order, deleted once', async (store) => {
        const row = (region: string, endpoint: string) => ({
          accountId: ACCOUNT,
          region,
          registryId: OTHER_ACCOUNT,
          kind: 'berth' as const,
          endpoint,
          username: 'AKIA',
          secretCiphertext: 'v1.x',
          createdAt: 1,
          updatedAt: 1,
        });
        await store.putReplicationDestination(row('us-west-2', 'http://a'));
        await store.putReplicationDestination(row('eu-east-1', 'http://b'));
        await store.putReplicationDestination({
          ...row('us-west-2', 'http://c'),
          kind: 'oci',
          username: null,
          secretCiphertext: null,
          updatedAt: 2,
        });
        assert.deepEqual(
          (await store.listReplicationDestinations(ACCOUNT)).map((d) => `${d.region} ${d.endpoint} ${d.kind} ${d.username}`),
          ['eu-east-1 http://b berth AKIA', 'us-west-2 http://c oci null'],
        );
        assert.deepEqual(await store.listReplicationDestinations(OTHER_ACCOUNT), []);
        assert.equal((await store.getReplicationDestination(ACCOUNT, 'us-west-2', OTHER_ACCOUNT))?.updatedAt, 2);
        assert.equal(await store.deleteReplicationDestination(ACCOUNT, 'us-west-2', OTHER_ACCOUNT), true);
        assert.equal(await store.deleteReplicationDestination(ACCOUNT, 'us-west-2', OTHER_ACCOUNT), false);
      });

      it('a push starts replication in its transaction when the manifest is new or its tag moves; statuses per destination', async (store) => {
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        const m = manifest(repo.id, 'replicated');
        await store.putManifest(m, 'v1', 10, false, undefined, undefined, { destinations: [WEST, EAST], jobs: [job('w'), job('e')] });
        assert.deepEqual(
          (await store.listReplicationStatuses(repo.id, m.digest)).map((s) => `${s.region} ${s.status}`),
          ['eu-east-1 IN_PROGRESS', 'us-west-2 IN_PROGRESS'],
        );
        assert.equal((await store.listJobs({ kind: 'replication' }, undefined, 10)).length, 2);
        await store.putManifest(m, 'v1', 11, false, undefined, undefined, { destinations: [WEST], jobs: [job('again')] });
        assert.equal((await store.listJobs({ kind: 'replication' }, undefined, 10)).length, 2, 'nothing new: no replication');
        await store.setReplicationStatus(repo.id, m.digest, WEST, 'FAILED', 'refused', 12);
        await store.putManifest(m, 'v2', 13, false, undefined, undefined, { destinations: [WEST], jobs: [job('tag')] });
        assert.equal((await store.listJobs({ kind: 'replication' }, undefined, 10)).length, 3, 'a new tag is replicated');
        assert.deepEqual(
          (await store.listReplicationStatuses(repo.id, m.digest)).map((s) => `${s.region} ${s.status} ${s.failureReason}`),
          ['eu-east-1 IN_PROGRESS null', 'us-west-2 IN_PROGRESS null'],
        );
        await store.setReplicationStatus(repo.id, m.digest, EAST, 'COMPLETE', null, 14);
        assert.equal((await store.listReplicationStatuses(repo.id, m.digest))[0].status, 'COMPLETE');
        await store.startReplication(repo.id, 'sha256:' + '0'.repeat(64), { destinations: [WEST], jobs: [job('missing')] }, 15);
        assert.equal((await store.listJobs({ kind: 'replication' }, undefined, 10)).length, 3, 'an image that is gone starts nothing');
        await store.deleteRepository(repo.id);
        assert.deepEqual(await store.listReplicationStatuses(repo.id, m.digest), [], 'statuses go with their repository');
      });

      it('backfills: one in progress per region, at most N in all; stopping; progress; results', async (store) => {
        const row = (id: string, region: string, startedAt: number) => ({
          id,
          accountId: ACCOUNT,
          region,
          registryId: OTHER_ACCOUNT,
          status: 'PREPARING' as const,
          failureCode: null,
          total: null,
          completed: 0,
          failed: 0,
          failureCodes: [],
          startedAt,
          endedAt: null,
        });
        const bf = { kind: 'replication-backfill', payload: '{}', runAt: 1, maxAttempts: 1 };
        assert.equal(await store.startReplicationBackfill(row('b1', 'us-west-2', 1), 2, bf), 'started');
        assert.equal(await store.startReplicationBackfill(row('b2', 'us-west-2', 2), 2, bf), 'in-progress');
        assert.equal(await store.startReplicationBackfill(row('b3', 'eu-east-1', 3), 2, bf), 'started');
        assert.equal(await store.startReplicationBackfill(row('b4', 'ap-south-1', 4), 2, bf), 'limit');
        assert.equal((await store.listJobs({ kind: 'replication-backfill' }, undefined, 10)).length, 2);
        assert.deepEqual(
          (await store.listReplicationBackfills(ACCOUNT)).map((b) => b.id),
          ['b3', 'b1'],
          'newest first',
        );
        assert.equal(await store.getReplicationBackfill(OTHER_ACCOUNT, 'b1'), undefined);
        assert.equal(
          (await store.updateReplicationBackfill('b1', { status: 'IN_PROGRESS', total: 3, completed: 1, failureCodes: ['X'] }))?.status,
          'IN_PROGRESS',
        );
        assert.equal(((await store.stopReplicationBackfill(ACCOUNT, 'b1')) as { status: string }).status, 'STOPPING');
        assert.equal(
          (await store.updateReplicationBackfill('b1', { status: 'IN_PROGRESS', completed: 2 }))?.status,
          'STOPPING',
          'a backfill being stopped stays STOPPING',
        );
        const ended = await store.updateReplicationBackfill('b1', { status: 'COMPLETE', endedAt: 9 });
        assert.deepEqual([ended?.status, ended?.completed, ended?.total, ended?.failureCodes], ['STOPPED', 2, 3, ['X']]);
        assert.equal(await store.stopReplicationBackfill(ACCOUNT, 'b1'), 'invalid');
        assert.equal(await store.stopReplicationBackfill(ACCOUNT, 'nope'), undefined);
        assert.equal(
          await store.startReplicationBackfill(row('b5', 'us-west-2', 5), 2, bf),
          'started',
          'a region whose backfill ended takes a new one',
        );
        await store.putReplicationBackfillResult('b1', {
          repositoryName: 'b',
          digest: 'sha256:2',
          tag: null,
          status: 'FAILED',
          failureCode: 'F',
        });
        await store.putReplicationBackfillResult('b1', {
          repositoryName: 'a',
          digest: 'sha256:1',
          tag: 'v1',
          status: 'FAILED',
          failureCode: 'F',
        });
        await store.putReplicationBackfillResult('b1', {
          repositoryName: 'a',
          digest: 'sha256:1',
          tag: 'v1',
          status: 'COMPLETE',
          failureCode: null,
        });
        assert.deepEqual(
          (await store.listReplicationBackfillResults('b1')).map((r) => `${r.repositoryName} ${r.tag} ${r.status}`),
          ['a v1 COMPLETE', 'b null FAILED'],
        );
        assert.deepEqual(
          (await store.listReplicationBackfillResults('b1', 'FAILED')).map((r) => r.repositoryName),
          ['b'],
        );
      });
    });

    describe('PullThroughStore', () => {
      it('one rule per account and prefix, at most `max` per account, listed in byte order, updated and deleted', async (store) => {
        const r = (prefix: string, body = '{}') => ({ accountId: ACCOUNT, prefix, body, createdAt: 10, updatedAt: 10 });
        for (const p of ['quay', 'ROOT', 'docker-hub', 'alpha/beta']) assert.equal(await store.createPullThroughRule(r(p), 5), 'created');
        assert.equal(await store.createPullThroughRule(r('quay', '{"x":1}'), 5), 'exists', 'a second rule of a prefix is refused');
        assert.equal(await store.createPullThroughRule(r('k8s'), 5), 'created');
        assert.equal(await store.createPullThroughRule(r('ghcr'), 5), 'limit', 'an account holds at most max rules');
        assert.equal(
          await store.createPullThroughRule({ ...r('quay'), accountId: OTHER_ACCOUNT }, 5),
          'created',
          'another account has its own',
        );
        assert.deepEqual(
          (await store.listPullThroughRules(ACCOUNT)).map((x) => x.prefix),
          ['ROOT', 'alpha/beta', 'docker-hub', 'k8s', 'quay'],
        );
        assert.equal(await store.updatePullThroughRule(ACCOUNT, 'quay', '{"y":2}', 20), true);
        assert.equal(await store.updatePullThroughRule(ACCOUNT, 'missing', '{}', 20), false);
        const quay = (await store.listPullThroughRules(ACCOUNT)).find((x) => x.prefix === 'quay');
        assert.deepEqual(quay, { accountId: ACCOUNT, prefix: 'quay', body: '{"y":2}', createdAt: 10, updatedAt: 20 });
        assert.deepEqual(await store.deletePullThroughRule(ACCOUNT, 'quay'), quay);
        assert.equal(await store.deletePullThroughRule(ACCOUNT, 'quay'), undefined);
        assert.deepEqual(
          (await store.listPullThroughRules(OTHER_ACCOUNT)).map((x) => x.prefix),
          ['quay'],
        );
      });

      it("a tag's upstream check time is kept per repository, moves forward, and goes with the repository", async (store) => {
        const repo = (await store.createRepository(ACCOUNT, 'cache/app', SETTINGS, [], 1))!;
        assert.equal(await store.upstreamTagCheckedAt(repo.id, 'latest'), undefined);
        await store.recordUpstreamTagCheck(repo.id, 'latest', 100);
        await store.recordUpstreamTagCheck(repo.id, 'v1', 50);
        await store.recordUpstreamTagCheck(repo.id, 'latest', 200);
        assert.equal(await store.upstreamTagCheckedAt(repo.id, 'latest'), 200);
        assert.equal(await store.upstreamTagCheckedAt(repo.id, 'v1'), 50);
        await store.deleteRepository(repo.id);
        assert.equal(await store.upstreamTagCheckedAt(repo.id, 'latest'), undefined);
        await store.recordUpstreamTagCheck(repo.id, 'latest', 300);
        assert.equal(await store.upstreamTagCheckedAt(repo.id, 'latest'), undefined, 'nothing is written for a deleted repository');
      });
    });

    describe('SecretStore', () => {
      it('one secret per account and name; a put replaces the value and keeps the creation time; listed without values', async (store) => {
        const s = (name: string, ciphertext: string, at: number) => ({
          accountId: ACCOUNT,
          name,
          ciphertext,
          createdAt: at,
          updatedAt: at,
        });
        assert.equal(await store.putSecret(s('ecr-pullthroughcache/b', 'c1', 10)), true);
        assert.equal(await store.putSecret(s('ecr-pullthroughcache/a', 'c2', 11)), true);
        assert.equal(await store.putSecret(s('ecr-pullthroughcache/b', 'c3', 12)), false, 'a second put replaces the value');
        assert.equal(
          await store.putSecret({ ...s('ecr-pullthroughcache/b', 'o1', 13), accountId: OTHER_ACCOUNT }),
          true,
          'another account has its own',
        );
        assert.deepEqual(await store.getSecret(ACCOUNT, 'ecr-pullthroughcache/b'), {
          accountId: ACCOUNT,
          name: 'ecr-pullthroughcache/b',
          ciphertext: 'c3',
          createdAt: 10,
          updatedAt: 12,
        });
        assert.deepEqual(await store.listSecrets(ACCOUNT), [
          { accountId: ACCOUNT, name: 'ecr-pullthroughcache/a', createdAt: 11, updatedAt: 11 },
          { accountId: ACCOUNT, name: 'ecr-pullthroughcache/b', createdAt: 10, updatedAt: 12 },
        ]);
        assert.equal(await store.deleteSecret(ACCOUNT, 'ecr-pullthroughcache/b'), true);
        assert.equal(await store.deleteSecret(ACCOUNT, 'ecr-pullthroughcache/b'), false);
        assert.equal(await store.getSecret(ACCOUNT, 'ecr-pullthroughcache/b'), undefined);
        assert.equal((await store.getSecret(OTHER_ACCOUNT, 'ecr-pullthroughcache/b'))?.ciphertext, 'o1');
      });
    });

    describe('IdentityStore', () => {
      it('accounts and users are unique, listed in order; deleting a user takes its keys and tokens', async (store) => {
        await store.ensureAccount(ACCOUNT, 2);
        await store.ensureAccount(OTHER_ACCOUNT, 2);
        assert.deepEqual(await store.listAccounts(), [ACCOUNT, OTHER_ACCOUNT]);
        assert.equal(await store.createUser(ACCOUNT, 'bob', 1), true);
        assert.equal(await store.createUser(ACCOUNT, 'bob', 2), false, 'a user name is unique in its account');
        assert.equal(await store.createUser(ACCOUNT, 'Alice', 3), true);
        assert.equal(await store.createUser(OTHER_ACCOUNT, 'bob', 4), true);
        assert.deepEqual(await store.listUsers(ACCOUNT), [
          { name: 'Alice', createdAt: 3, managedBy: null },
          { name: 'bob', createdAt: 1, managedBy: null },
        ]);
        await store.createAccessKey({
          accessKeyId: 'AKIABOB',
          accountId: ACCOUNT,
          userName: 'bob',
          secretCiphertext: 'c',
          status: 'Active',
          createdAt: 5,
        });
        await store.createRefreshToken({ tokenHash: 'h1', accessKeyId: 'AKIABOB', principalArn: 'arn', createdAt: 5, expiresAt: 100 }, 5);
        assert.equal(await store.deleteUser(ACCOUNT, 'bob'), true);
        assert.equal(await store.getAccessKey('AKIABOB'), undefined);
        assert.equal(await store.getRefreshToken('h1'), undefined);
        assert.equal(await store.deleteUser(ACCOUNT, 'bob'), false);
      });

      it('a user created with a manager keeps it (what berth apply --prune may delete)', async (store) => {
        await store.ensureAccount(ACCOUNT, 2);
        assert.equal(await store.createUser(ACCOUNT, 'ci', 1, 'apply'), true);
        assert.equal(await store.createUser(ACCOUNT, 'ci', 2), false);
        assert.equal(await store.createUser(ACCOUNT, 'ops', 3, null), true);
        assert.deepEqual(await store.listUsers(ACCOUNT), [
          { name: 'ci', createdAt: 1, managedBy: 'apply' },
          { name: 'ops', createdAt: 3, managedBy: null },
        ]);
      });

      it('access keys are unique; deactivating or deleting one revokes its refresh tokens', async (store) => {
        await store.createUser(ACCOUNT, 'bob', 1);
        const key = {
          accessKeyId: 'AKIA1',
          accountId: ACCOUNT,
          userName: 'bob',
          secretCiphertext: 'c1',
          status: 'Active' as const,
          createdAt: 10,
        };
        await store.createAccessKey(key);
        await assert.rejects(store.createAccessKey({ ...key, secretCiphertext: 'c2' }), 'an access key id is unique');
        await store.createAccessKey({ ...key, accessKeyId: 'AKIA2', createdAt: 20 });
        await store.createAccessKey({ ...key, accessKeyId: 'AKIAROOT', userName: null, createdAt: 5 });
        assert.deepEqual(
          (await store.listAccessKeys(ACCOUNT, 'bob')).map((k) => k.accessKeyId),
          ['AKIA1', 'AKIA2'],
        );
        assert.deepEqual(
          (await store.listAccessKeys(ACCOUNT, null)).map((k) => k.accessKeyId),
          ['AKIAROOT'],
        );
        assert.deepEqual(await store.getAccessKey('AKIA1'), key);
        await store.createRefreshToken(
          { tokenHash: 'h1', accessKeyId: 'AKIA1', principalArn: 'arn:bob', createdAt: 10, expiresAt: 100 },
          10,
        );
        await store.createRefreshToken(
          { tokenHash: 'h2', accessKeyId: 'AKIA2', principalArn: 'arn:bob', createdAt: 10, expiresAt: 100 },
          10,
        );
        await store.createRefreshToken(
          { tokenHash: 'old', accessKeyId: 'AKIA2', principalArn: 'arn:bob', createdAt: 10, expiresAt: 50 },
          10,
        );
        assert.deepEqual(await store.getRefreshToken('h1'), {
          tokenHash: 'h1',
          accessKeyId: 'AKIA1',
          principalArn: 'arn:bob',
          createdAt: 10,
          expiresAt: 100,
        });
        await store.createRefreshToken(
          { tokenHash: 'h3', accessKeyId: 'AKIA2', principalArn: 'arn:bob', createdAt: 60, expiresAt: 200 },
          60,
        );
        assert.equal(await store.getRefreshToken('old'), undefined, 'expired tokens are dropped');
        assert.equal(await store.setAccessKeyStatus('AKIA1', 'Inactive'), true);
        assert.equal((await store.getAccessKey('AKIA1'))!.status, 'Inactive');
        assert.equal(await store.getRefreshToken('h1'), undefined);
        assert.equal(await store.deleteAccessKey('AKIA2'), true);
        assert.equal(await store.getRefreshToken('h2'), undefined);
        assert.equal(await store.deleteAccessKey('AKIA2'), false);
        assert.equal(await store.setAccessKeyStatus('AKIA2', 'Active'), false);
        await store.createRefreshToken(
          { tokenHash: 'r1', accessKeyId: 'CONFIGURED', principalArn: 'arn:root', createdAt: 60, expiresAt: 200 },
          60,
        );
        await store.createRefreshToken(
          { tokenHash: 'r2', accessKeyId: 'CONFIGURED', principalArn: 'arn:root', createdAt: 60, expiresAt: 200 },
          60,
        );
        assert.equal(await store.deleteRefreshTokens('CONFIGURED'), 2);
      });

      it('console sessions: stored by hash, expired ones dropped, ended one by one, revoked with their key or user', async (store) => {
        await store.createUser(ACCOUNT, 'bob', 1);
        await store.createUser(ACCOUNT, 'carol', 1);
        const key = { accountId: ACCOUNT, userName: 'bob', secretCiphertext: 'c', status: 'Active' as const, createdAt: 10 };
        await store.createAccessKey({ ...key, accessKeyId: 'AKIA1' });
        await store.createAccessKey({ ...key, accessKeyId: 'AKIA2' });
        await store.createAccessKey({ ...key, accessKeyId: 'AKIA3', userName: 'carol' });
        const session = (tokenHash: string, accessKeyId: string, createdAt: number, expiresAt: number) => ({
          tokenHash,
          accessKeyId,
          principalArn: 'arn:bob',
          createdAt,
          expiresAt,
        });
        await store.createConsoleSession(session('s1', 'AKIA1', 10, 100), 10);
        await store.createConsoleSession(session('s1b', 'AKIA1', 10, 100), 10);
        await store.createConsoleSession(session('s2', 'AKIA2', 10, 100), 10);
        await store.createConsoleSession(session('s3', 'AKIA3', 10, 100), 10);
        await store.createConsoleSession(session('old', 'AKIA2', 10, 50), 10);
        assert.deepEqual(await store.getConsoleSession('s1'), session('s1', 'AKIA1', 10, 100));
        await store.createConsoleSession(session('s4', 'AKIA2', 60, 200), 60);
        assert.equal(await store.getConsoleSession('old'), undefined, 'expired sessions are dropped');
        assert.equal(await store.deleteConsoleSession('s1b'), true, 'sign out ends one session');
        assert.equal(await store.getConsoleSession('s1b'), undefined);
        assert.equal(await store.deleteConsoleSession('s1b'), false);
        assert.ok(await store.getConsoleSession('s1'), 'and only that one');
        await store.createRefreshToken(
          { tokenHash: 'h1', accessKeyId: 'AKIA1', principalArn: 'arn:bob', createdAt: 10, expiresAt: 100 },
          10,
        );
        assert.equal(await store.setAccessKeyStatus('AKIA1', 'Inactive'), true);
        assert.equal(await store.getConsoleSession('s1'), undefined, 'deactivating the key ends its sessions');
        assert.equal(await store.getRefreshToken('h1'), undefined);
        assert.ok(await store.getConsoleSession('s2'), 'another key keeps its sessions');
        assert.equal(await store.deleteAccessKey('AKIA2'), true);
        assert.equal(await store.getConsoleSession('s2'), undefined, 'deleting the key ends its sessions');
        assert.equal(await store.getConsoleSession('s4'), undefined);
        assert.equal(await store.deleteUser(ACCOUNT, 'carol'), true);
        assert.equal(await store.getConsoleSession('s3'), undefined, 'deleting the user ends its sessions');
      });
    });

    describe('PolicyStore', () => {
      it('repository, registry and user policies are set, read and removed', async (store) => {
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        await store.setRepositoryPolicy(repo.id, '{"Version":"2012-10-17"}');
        assert.equal((await store.getRepository(ACCOUNT, 'app'))!.policyText, '{"Version":"2012-10-17"}');
        await store.setRepositoryPolicy(repo.id, null);
        assert.equal((await store.getRepository(ACCOUNT, 'app'))!.policyText, null);
        assert.equal(await store.getRegistryPolicy(ACCOUNT), undefined);
        await store.setRegistryPolicy(ACCOUNT, 'one');
        await store.setRegistryPolicy(ACCOUNT, 'two');
        assert.equal(await store.getRegistryPolicy(ACCOUNT), 'two');
        await store.setRegistryPolicy(ACCOUNT, null);
        assert.equal(await store.getRegistryPolicy(ACCOUNT), undefined);
        await store.createUser(ACCOUNT, 'bob', 1);
        for (const n of ['pull', 'Push', 'admin']) await store.putUserPolicy(ACCOUNT, 'bob', { name: n, text: n });
        await store.putUserPolicy(ACCOUNT, 'bob', { name: 'pull', text: 'replaced' });
        assert.deepEqual(await store.listUserPolicies(ACCOUNT, 'bob'), [
          { name: 'Push', text: 'Push' },
          { name: 'admin', text: 'admin' },
          { name: 'pull', text: 'replaced' },
        ]);
        assert.equal(await store.deleteUserPolicy(ACCOUNT, 'bob', 'admin'), true);
        assert.equal(await store.deleteUserPolicy(ACCOUNT, 'bob', 'admin'), false);
      });
    });

    describe('LifecycleStore', () => {
      it('policies, images as rules see them, and previews (one at a time, generations never reused)', async (store) => {
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        await store.createRepository(ACCOUNT, 'none', SETTINGS, [], 1);
        await store.setLifecyclePolicy(repo.id, '{"rules":[]}');
        await store.setLifecycleEvaluatedAt(repo.id, 77);
        const withPolicy = await store.repositoriesWithLifecyclePolicy();
        assert.deepEqual(
          withPolicy.map((r) => [r.name, r.lifecyclePolicyText, r.lifecycleEvaluatedAt]),
          [['app', '{"rules":[]}', 77]],
        );
        const child = manifest(repo.id, 'child');
        await store.putManifest(child, 'b', 1, false);
        await store.putManifest(child, 'a', 1, false);
        await store.putManifest(manifest(repo.id, 'index', { manifests: [child.digest] }), undefined, 2, false);
        await store.recordUse({ blobs: [], pulls: [{ repositoryId: repo.id, digest: child.digest, at: 9 }] });
        const images = await store.lifecycleImages(repo.id);
        assert.equal(images.length, 2);
        assert.deepEqual(
          images.find((i) => i.digest === child.digest),
          {
            digest: child.digest,
            tags: ['a', 'b'],
            pushedAt: 1000,
            lastPulledAt: 9,
            referencedByIndex: true,
            storageClass: 'STANDARD',
            lastArchivedAt: null,
            lastActivatedAt: null,
          },
        );
        assert.equal(await store.startLifecyclePreview(repo.id, 'p1', 10), true);
        assert.equal(await store.startLifecyclePreview(repo.id, 'p2', 11), false, 'one in progress');
        const first = (await store.getLifecyclePreview(repo.id))!;
        assert.deepEqual(
          { ...first, generation: 0 },
          { policyText: 'p1', status: 'IN_PROGRESS', startedAt: 10, generation: 0, results: null },
        );
        await store.finishLifecyclePreview(repo.id, 'COMPLETE', '[1]');
        assert.equal((await store.getLifecyclePreview(repo.id))!.results, '[1]');
        assert.equal((await store.getLifecyclePreview(repo.id, false))!.results, null);
        assert.equal(await store.startLifecyclePreview(repo.id, 'p3', 12), true);
        assert.ok((await store.getLifecyclePreview(repo.id))!.generation > first.generation);
        await store.setLifecyclePolicy(repo.id, null);
        assert.deepEqual(await store.repositoriesWithLifecyclePolicy(), []);
      });

      it('two nodes starting a preview of one repository at once: exactly one starts it', async (store, db) => {
        const other = await db.open();
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        for (let round = 0; round < 10; round++) {
          const started = await Promise.all([
            store.startLifecyclePreview(repo.id, 'a', round),
            other.startLifecyclePreview(repo.id, 'b', round),
          ]);
          assert.equal(started.filter(Boolean).length, 1, `round ${round}: ${started}`);
          await store.finishLifecyclePreview(repo.id, 'COMPLETE', '[]');
        }
      });
    });

    describe('ScanStore', () => {
      const job = (digest: string) => ({ kind: 'scan', payload: JSON.stringify({ digest }), runAt: 1, maxAttempts: 3 });

      it('a manifest written with a scan starts it in the same transaction; a rewrite does not; the scan goes with the image', async (store) => {
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        const m = manifest(repo.id, 'image');
        await store.putManifest(m, 'v1', 5, false, { scanType: 'BASIC', job: job(m.digest) });
        const scan = (await store.getImageScan(repo.id, m.digest))!;
        assert.deepEqual(
          {
            status: scan.status,
            scanType: scan.scanType,
            startedAt: scan.startedAt,
            findings: scan.findings,
            manualScanAt: scan.manualScanAt,
          },
          { status: 'IN_PROGRESS', scanType: 'BASIC', startedAt: 5, findings: null, manualScanAt: null },
        );
        assert.deepEqual(
          (await store.listJobs({ kind: 'scan' }, undefined, 10)).map((j) => JSON.parse(j.payload).digest),
          [m.digest],
        );
        await store.putManifest(m, 'v2', 6, false, { scanType: 'BASIC', job: job(m.digest) });
        assert.equal((await store.listJobs({ kind: 'scan' }, undefined, 10)).length, 1, 'a manifest stored already is not scanned again');
        await store.finishImageScan(
          repo.id,
          m.digest,
          {
            status: 'COMPLETE',
            description: 'done',
            findings: '[1]',
            severityCounts: '{"HIGH":1}',
            inventory: '{"packages":[]}',
            vulnerabilitySourceUpdatedAt: 3,
          },
          7,
        );
        const done = (await store.getImageScan(repo.id, m.digest))!;
        assert.deepEqual(
          [
            done.status,
            done.description,
            done.completedAt,
            done.findings,
            done.severityCounts,
            done.inventory,
            done.vulnerabilitySourceUpdatedAt,
          ],
          ['COMPLETE', 'done', 7, '[1]', '{"HIGH":1}', '{"packages":[]}', 3],
        );
        assert.deepEqual(await store.listScannedImages(undefined, 10), [
          { repositoryId: repo.id, digest: m.digest, accountId: ACCOUNT, repositoryName: 'app', scanType: 'BASIC' },
        ]);
        // A rescan from the stored inventory keeps it.
        await store.finishImageScan(
          repo.id,
          m.digest,
          { status: 'COMPLETE', description: null, findings: '[]', severityCounts: '{}', vulnerabilitySourceUpdatedAt: 4 },
          8,
        );
        assert.equal((await store.getImageScan(repo.id, m.digest))!.inventory, '{"packages":[]}');
        assert.equal(await store.deleteManifest(repo.id, m.digest), true);
        assert.equal(await store.getImageScan(repo.id, m.digest), undefined);
      });

      it('the scans of several images at once: those scanned, by digest; none for an empty list', async (store) => {
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        const other = (await store.createRepository(ACCOUNT, 'other', SETTINGS, [], 1))!;
        const [a, b, c] = ['a', 'b', 'c'].map((n) => manifest(repo.id, n));
        await store.putManifest(a, 'a', 5, false, { scanType: 'BASIC', job: job(a.digest) });
        await store.putManifest(b, 'b', 5, false);
        await store.putManifest(c, 'c', 5, false, { scanType: 'BASIC', job: job(c.digest) });
        await store.finishImageScan(
          repo.id,
          c.digest,
          { status: 'COMPLETE', description: null, findings: '[]', severityCounts: '{"LOW":2}', vulnerabilitySourceUpdatedAt: 3 },
          7,
        );
        const scans = await store.getImageScans(repo.id, [a.digest, b.digest, c.digest, 'sha256:' + '0'.repeat(64)]);
        assert.deepEqual([...scans.keys()].sort(), [a.digest, c.digest].sort());
        assert.equal(scans.get(a.digest)!.status, 'IN_PROGRESS');
        assert.deepEqual([scans.get(c.digest)!.status, scans.get(c.digest)!.severityCounts], ['COMPLETE', '{"LOW":2}']);
        assert.deepEqual(scans.get(c.digest), await store.getImageScan(repo.id, c.digest), 'the same rows as one by one');
        assert.equal((await store.getImageScans(other.id, [a.digest, c.digest])).size, 0, "another repository's images have none");
        assert.equal((await store.getImageScans(repo.id, [])).size, 0);
      });

      it('manual scans: one after the time given, refused otherwise; a missing image is missing', async (store) => {
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        const m = manifest(repo.id, 'image');
        await store.putManifest(m, undefined, 1, false);
        assert.equal(await store.startImageScan(repo.id, sha256('nope'), 'BASIC', 10, job('x'), 0), 'missing');
        assert.equal(await store.startImageScan(repo.id, m.digest, 'BASIC', 100, job(m.digest), 0), 'started');
        assert.equal((await store.getImageScan(repo.id, m.digest))!.manualScanAt, 100);
        assert.equal(await store.startImageScan(repo.id, m.digest, 'BASIC', 150, job(m.digest), 50), 'limited');
        assert.equal(
          await store.startImageScan(repo.id, m.digest, 'ENHANCED', 160, job(m.digest)),
          'started',
          'a scan that is not manual is not limited',
        );
        assert.equal((await store.getImageScan(repo.id, m.digest))!.manualScanAt, 100, 'and keeps the time of the manual one');
        assert.equal(await store.startImageScan(repo.id, m.digest, 'BASIC', 300, job(m.digest), 200), 'started');
        assert.equal((await store.listJobs({ kind: 'scan' }, undefined, 10)).length, 3);
      });

      it('vulnerability data: staged, swapped in per source in one transaction, counted, paged; a discarded import changes nothing', async (store) => {
        assert.equal(await store.vulnDataVersion(), 0);
        await store.stageVulnRecords('i1', [
          { id: 'DSA-1', modified: 'm', record: '{"id":"DSA-1"}' },
          { id: 'DSA-2', modified: 'm', record: '{"id":"DSA-2"}' },
        ]);
        await store.stageVulnRecords('i1', [{ id: 'DSA-1', modified: 'm2', record: '{"id":"DSA-1","v":2}' }]);
        assert.deepEqual(await store.listVulnRecords(undefined, 10), [], 'staged records are not seen');
        const v1 = await store.commitVulnImport(
          'i1',
          { name: 'Debian', records: 0, importedAt: 50, sha256: 'ab', origin: '/x/all.zip' },
          { kind: 'rescan', payload: '{}', runAt: 50, maxAttempts: 1 },
        );
        assert.equal(v1, 1);
        assert.equal((await store.listJobs({ kind: 'rescan' }, undefined, 10)).length, 1, 'the rescans are enqueued with the swap');
        await store.stageVulnRecords('i2', [{ id: 'GHSA-1', modified: 'm', record: '{"id":"GHSA-1"}' }]);
        await store.commitVulnImport('i2', { name: 'npm', records: 0, importedAt: 60, sha256: null, origin: '/d' });
        await store.stageVulnRecords('i3', [{ id: 'GHSA-9', modified: 'm', record: '{}' }]);
        await store.discardVulnImport('i3');
        assert.deepEqual(await store.listVulnSources(), [
          { name: 'Debian', records: 2, importedAt: 50, sha256: 'ab', origin: '/x/all.zip' },
          { name: 'npm', records: 1, importedAt: 60, sha256: null, origin: '/d' },
        ]);
        const all = await walk(2, async (after: { key: string; record: string } | undefined) => store.listVulnRecords(after?.key, 2));
        assert.deepEqual(
          all.map((r) => r.record),
          ['{"id":"DSA-1","v":2}', '{"id":"DSA-2"}', '{"id":"GHSA-1"}'],
        );
        // Importing a source again replaces its records.
        await store.stageVulnRecords('i4', [{ id: 'DSA-3', modified: 'm', record: '{"id":"DSA-3"}' }]);
        assert.equal(await store.commitVulnImport('i4', { name: 'Debian', records: 0, importedAt: 70, sha256: null, origin: '/y' }), 3);
        assert.deepEqual(
          (await store.listVulnRecords(undefined, 10)).map((r) => r.record),
          ['{"id":"DSA-3"}', '{"id":"GHSA-1"}'],
        );
        assert.equal(await store.vulnDataVersion(), 3);
        await store.commitVulnImport('i3', { name: 'empty', records: 0, importedAt: 80, sha256: null, origin: '/e' });
        assert.equal((await store.listVulnSources()).find((s) => s.name === 'empty')!.records, 0, 'the discarded records are gone');
      });
    });

    describe('ImageArchiveStore', () => {
      it('an image moves to ARCHIVE and back, stamped each way; listings filter by class; usage counts per class', async (store) => {
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        const a = manifest(repo.id, 'a');
        const b = manifest(repo.id, 'b');
        await store.putManifest(a, 'v1', 1, false);
        await store.putManifest(b, undefined, 1, false);
        const before = (await store.getImage(repo.id, a.digest))!;
        assert.deepEqual([before.storageClass, before.lastArchivedAt, before.lastActivatedAt], ['STANDARD', null, null]);
        assert.equal(await store.setImageStorageClass(repo.id, a.digest, 'ARCHIVE', 50), 'changed');
        assert.equal(await store.setImageStorageClass(repo.id, a.digest, 'ARCHIVE', 60), 'unchanged');
        assert.equal(await store.setImageStorageClass(repo.id, sha256('none'), 'ARCHIVE', 60), 'missing');
        const archived = (await store.getImage(repo.id, a.digest))!;
        assert.deepEqual([archived.storageClass, archived.lastArchivedAt, archived.lastActivatedAt], ['ARCHIVE', 50, null]);
        assert.equal((await store.getManifest(repo.id, a.digest))!.storageClass, 'ARCHIVE');
        assert.deepEqual(
          (await store.listImages(repo.id, 'ANY', undefined, 10, 'ARCHIVE')).map((i) => i.digest),
          [a.digest],
        );
        assert.deepEqual(
          (await store.listImages(repo.id, 'ANY', undefined, 10, 'STANDARD')).map((i) => i.digest),
          [b.digest],
        );
        assert.equal((await store.listImages(repo.id, 'ANY', undefined, 10)).length, 2);
        assert.deepEqual(await store.listImageIds(repo.id, 'TAGGED', undefined, 10, 'ARCHIVE'), [{ digest: a.digest, tag: 'v1' }]);
        assert.deepEqual(await store.listImageIds(repo.id, 'TAGGED', undefined, 10, 'STANDARD'), []);
        assert.deepEqual(await store.listImageIds(repo.id, 'UNTAGGED', undefined, 10, 'STANDARD'), [{ digest: b.digest, tag: null }]);
        assert.deepEqual(await store.listImageIds(repo.id, 'ANY', undefined, 10, 'ARCHIVE'), [{ digest: a.digest, tag: 'v1' }]);
        assert.deepEqual((await store.usage()).storageClasses, [
          { storageClass: 'STANDARD', images: 1, bytes: 10 },
          { storageClass: 'ARCHIVE', images: 1, bytes: 10 },
        ]);
        const seen = (await store.lifecycleImages(repo.id)).find((i) => i.digest === a.digest)!;
        assert.deepEqual([seen.storageClass, seen.lastArchivedAt], ['ARCHIVE', 50]);
        assert.equal(await store.setImageStorageClass(repo.id, a.digest, 'STANDARD', 70), 'changed');
        const restored = (await store.getImage(repo.id, a.digest))!;
        assert.deepEqual([restored.storageClass, restored.lastArchivedAt, restored.lastActivatedAt], ['STANDARD', 50, 70]);
      });
    });

    describe('SigningStore', () => {
      const ARN = `arn:aws:signer:us-east-1:${ACCOUNT}:/signing-profiles/main`;
      const job = (digest: string) => ({ kind: 'image-sign', payload: JSON.stringify({ digest }), runAt: 1, maxAttempts: 3 });

      it('profiles: created once per account and name, listed by name, never replaced', async (store) => {
        const row = (name: string, accountId = ACCOUNT) => ({
          accountId,
          name,
          keyCiphertext: `k-${name}`,
          certificatePem: `c-${name}`,
          createdAt: 5,
        });
        assert.equal(await store.createSigningProfile(row('zeta')), true);
        assert.equal(await store.createSigningProfile(row('alpha')), true);
        assert.equal(await store.createSigningProfile({ ...row('alpha'), keyCiphertext: 'other' }), false);
        assert.equal(await store.createSigningProfile(row('alpha', OTHER_ACCOUNT)), true);
        assert.deepEqual(
          (await store.listSigningProfiles(ACCOUNT)).map((p) => p.name),
          ['alpha', 'zeta'],
        );
        assert.deepEqual(await store.getSigningProfile(ACCOUNT, 'alpha'), row('alpha'));
        assert.equal(await store.getSigningProfile(ACCOUNT, 'none'), undefined);
      });

      it('a manifest written with signing starts it in the same transaction; a rewrite does not; the status goes with the image', async (store) => {
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        const m = manifest(repo.id, 'image');
        await store.putManifest(m, 'v1', 5, false, undefined, undefined, undefined, { signingProfileArns: [ARN], job: job(m.digest) });
        assert.deepEqual(await store.listImageSigning(repo.id, m.digest), [
          { signingProfileArn: ARN, status: 'IN_PROGRESS', failureCode: null, failureReason: null, signatureDigest: null, updatedAt: 5 },
        ]);
        assert.deepEqual(
          (await store.listJobs({ kind: 'image-sign' }, undefined, 10)).map((j) => JSON.parse(j.payload).digest),
          [m.digest],
        );
        await store.putManifest(m, 'v2', 6, false, undefined, undefined, undefined, { signingProfileArns: [ARN], job: job(m.digest) });
        assert.equal(
          (await store.listJobs({ kind: 'image-sign' }, undefined, 10)).length,
          1,
          'a manifest stored already is not signed again',
        );
        await store.finishImageSigning(
          repo.id,
          m.digest,
          ARN,
          { status: 'COMPLETE', failureCode: null, failureReason: null, signatureDigest: sha256('sig') },
          7,
        );
        assert.deepEqual(await store.listImageSigning(repo.id, m.digest), [
          {
            signingProfileArn: ARN,
            status: 'COMPLETE',
            failureCode: null,
            failureReason: null,
            signatureDigest: sha256('sig'),
            updatedAt: 7,
          },
        ]);
        assert.equal(await store.deleteManifest(repo.id, m.digest), true);
        assert.deepEqual(await store.listImageSigning(repo.id, m.digest), []);
        await store.finishImageSigning(
          repo.id,
          m.digest,
          ARN,
          { status: 'FAILED', failureCode: 'X', failureReason: 'gone', signatureDigest: null },
          8,
        );
        assert.deepEqual(await store.listImageSigning(repo.id, m.digest), [], 'an image gone gets no status');
      });
    });

    describe('concurrency between two nodes', () => {
      const ROUNDS = 20;

      it('racing different manifests to one immutable tag: exactly one wins, the other stores nothing', async (store, db) => {
        const other = await db.open();
        const { repo, blob } = await repoWithBlob(store, 'app', 'layer');
        const results = await Promise.all(
          Array.from({ length: ROUNDS }, async (_, i) => {
            const [a, b] = [manifest(repo.id, `a ${i}`, { blobs: [blob] }), manifest(repo.id, `b ${i}`, { blobs: [blob] })];
            const [wa, wb] = await Promise.all([store.putManifest(a, `v${i}`, 1, true), other.putManifest(b, `v${i}`, 1, true)]);
            return { i, a, b, wa, wb };
          }),
        );
        for (const { i, a, b, wa, wb } of results) {
          assert.equal([wa, wb].filter((w) => !w.refused).length, 1, `tag v${i}: exactly one write lands (${JSON.stringify([wa, wb])})`);
          const winner = wa.refused ? b : a;
          const loser = wa.refused ? a : b;
          assert.equal(await store.getTag(repo.id, `v${i}`), winner.digest);
          assert.equal(await other.getManifest(repo.id, loser.digest), undefined, 'the refused manifest is not stored');
          assert.equal((wa.refused ? wa : wb).previousTagDigest, winner.digest);
        }
      });

      it('racing the same manifest to one tag from both nodes: stored once, one creation', async (store, db) => {
        const other = await db.open();
        const { repo, blob } = await repoWithBlob(store, 'app', 'layer');
        for (let i = 0; i < ROUNDS; i++) {
          const m = manifest(repo.id, `same ${i}`, { blobs: [blob] });
          const writes = await Promise.all([store.putManifest(m, `t${i}`, 1, true), other.putManifest(m, `t${i}`, 1, true)]);
          assert.equal(writes.filter((w) => w.created).length, 1);
          assert.ok(writes.every((w) => !w.refused));
        }
        assert.equal(await store.countImages(repo.id), ROUNDS);
      });

      it('deleting a manifest while an index referencing it is pushed: never an index without its child', async (store, db) => {
        const other = await db.open();
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        for (let i = 0; i < ROUNDS; i++) {
          const child = manifest(repo.id, `child ${i}`);
          await store.putManifest(child, undefined, 1, false);
          const index = manifest(repo.id, `index ${i}`, { manifests: [child.digest] });
          const [deleted, write] = await Promise.all([
            store.deleteManifest(repo.id, child.digest),
            other.putManifest(index, `multi${i}`, 1, false),
          ]);
          const indexStored = (await store.getManifest(repo.id, index.digest)) !== undefined;
          const childStored = (await store.getManifest(repo.id, child.digest)) !== undefined;
          assert.notEqual(deleted, childStored, 'deleteManifest reports what it did');
          assert.equal(indexStored, write.created);
          if (indexStored) assert.ok(childStored, `round ${i}: the index's child was deleted under it`);
          else assert.deepEqual(write.missingManifests, [child.digest]);
        }
        const refs = await store.listManifestReferences(0, '', 1000);
        for (const r of refs)
          assert.deepEqual(await store.missingManifests(r.repositoryId, r.manifests), [], `${r.digest} references a deleted manifest`);
      });

      it('deleting a repository during a push: nothing of the push outlives the repository', async (store, db) => {
        const other = await db.open();
        for (let i = 0; i < ROUNDS; i++) {
          const { repo, blob } = await repoWithBlob(store, `app${i}`, `layer ${i}`);
          const m = manifest(repo.id, `image ${i}`, { blobs: [blob] });
          const [, write] = await Promise.all([store.deleteRepository(repo.id), other.putManifest(m, 'latest', 1, false)]);
          assert.equal(write.refused, false);
          if (!write.created)
            assert.ok(write.repositoryMissing || (write.missingBlobs ?? []).length > 0, `round ${i}: ${JSON.stringify(write)}`);
          assert.equal(await store.getRepository(ACCOUNT, `app${i}`), undefined);
          assert.equal(await other.getManifest(repo.id, m.digest), undefined, `round ${i}: a manifest outlived its repository`);
          assert.equal(await other.getTag(repo.id, 'latest'), undefined);
          assert.equal(await other.countImages(repo.id), 0);
        }
        assert.deepEqual(await store.listManifestReferences(0, '', 1000), []);
        const after = await other.putManifest(manifest(1_000_000, 'gone'), 'x', 1, false);
        assert.equal(after.repositoryMissing, true, 'a write to a repository that does not exist stores nothing');
      });

      it('collecting a blob while a manifest referencing it is pushed: never a manifest referencing a deleted blob', async (store, db) => {
        const other = await db.open();
        const repo = (await store.createRepository(ACCOUNT, 'app', SETTINGS, [], 1))!;
        for (let i = 0; i < ROUNDS; i++) {
          const blob = sha256(`blob ${i}`);
          await store.recordBlob({ digest: blob, size: 7 }, 100);
          await store.linkBlob(repo.id, blob, 100);
          const m = manifest(repo.id, `image ${i}`, { blobs: [blob] });
          const [collected, write] = await Promise.all([
            store.deleteBlobIfUnreferenced(blob, 1000),
            other.putManifest(m, `t${i}`, 1000, false),
          ]);
          const stored = (await store.getManifest(repo.id, m.digest)) !== undefined;
          const blobThere = (await store.getBlob(blob)) !== undefined;
          assert.equal(stored, write.created);
          assert.notEqual(collected, blobThere);
          if (stored) {
            assert.ok(blobThere, `round ${i}: a pushed manifest references a collected blob`);
            assert.ok(await store.getRepositoryBlob(repo.id, blob), 'and its link is kept');
          } else {
            assert.deepEqual(write.missingBlobs, [blob]);
          }
        }
        for (const r of await store.listManifestReferences(0, '', 1000)) {
          for (const b of r.blobs) assert.ok(await store.getBlob(b), `${r.digest} references the deleted blob ${b}`);
        }
      });
    });
  });
}
