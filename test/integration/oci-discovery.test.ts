// OCI distribution-spec v1.1 conformance, workflow 3: Content Discovery (the official suite's
// 03_discovery_test.go, in its order), then tag and catalog pagination with `n`, `last` and `Link`, and the
// referrers API in detail.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type Berth } from '../helpers/berth.ts';
import {
  EMPTY_JSON,
  EMPTY_JSON_DIGEST,
  MEDIA,
  SUITE_LAYER,
  assert2xx,
  assertError,
  assertStatus,
  configBlob,
  content,
  createClient,
  descriptor,
  emptyJsonDescriptor,
  imageIndex,
  imageManifest,
  manifestDescriptor,
  parseLink,
  sha256,
  suiteDescriptor,
  suiteManifest,
  withQuery,
  type Content,
  type Descriptor,
  type Manifest,
  type OciClient,
} from '../helpers/oci.ts';

const repo = 'conformance/discovery';
const testTagName = 'tagtest0';
const dummyDigest = sha256('hello world');

// Fixtures, as the suite's setup.go builds them (configs/manifests 2, 3 and 4 are the ones this workflow uses).
const configs: Content[] = [0, 1, 2, 3, 4].map(() => configBlob());
const layer = SUITE_LAYER;
const manifests: Manifest[] = configs.map((config) => suiteManifest(config));
const testRefBlobA = content('NHL Peanut Butter on my NHL bagel');
const testRefBlobB = content('NBA Strawberry Jam on my NBA croissant');
const testRefArtifactTypeA = 'application/vnd.nhl.peanut.butter.bagel';
const testRefArtifactTypeB = 'application/vnd.nba.strawberry.jam.croissant';
const testRefArtifactTypeIndex = 'application/vnd.food.stand';
const testAnnotationKey = 'org.opencontainers.conformance.test';
const emptyJSONDescriptor = suiteDescriptor(MEDIA.ociEmpty, EMPTY_JSON);
const subject4 = suiteDescriptor(MEDIA.ociManifest, manifests[4]);
const subject3 = suiteDescriptor(MEDIA.ociManifest, manifests[3]);

// Referrers of manifests[4]: two whose artifact type is the config media type, two with artifactType, one index.
const refsManifestAConfigArtifact = imageManifest({
  config: suiteDescriptor(testRefArtifactTypeA, testRefBlobA),
  subject: subject4,
  layers: [emptyJSONDescriptor],
  annotations: { [testAnnotationKey]: 'test config a' },
});
const refsManifestBConfigArtifact = imageManifest({
  config: suiteDescriptor(testRefArtifactTypeB, testRefBlobB),
  subject: subject4,
  layers: [emptyJSONDescriptor],
  annotations: { [testAnnotationKey]: 'test config b' },
});
const refsManifestALayerArtifact = imageManifest({
  artifactType: testRefArtifactTypeA,
  config: emptyJSONDescriptor,
  subject: subject4,
  layers: [suiteDescriptor(testRefArtifactTypeA, testRefBlobA)],
  annotations: { [testAnnotationKey]: 'test layer a' },
});
const refsManifestBLayerArtifact = imageManifest({
  artifactType: testRefArtifactTypeB,
  config: emptyJSONDescriptor,
  subject: subject4,
  layers: [suiteDescriptor(testRefArtifactTypeB, testRefBlobB)],
  annotations: { [testAnnotationKey]: 'test layer b' },
});
// The same as B, on a subject (manifests[3]) that is never pushed in this workflow.
const refsManifestCLayerArtifact = imageManifest({
  artifactType: testRefArtifactTypeB,
  config: emptyJSONDescriptor,
  subject: subject3,
  layers: [suiteDescriptor(testRefArtifactTypeB, testRefBlobB)],
});
const refsIndexArtifact = imageIndex({
  artifactType: testRefArtifactTypeIndex,
  manifests: [
    suiteDescriptor(MEDIA.ociManifest, refsManifestAConfigArtifact),
    suiteDescriptor(MEDIA.ociManifest, refsManifestALayerArtifact),
  ],
  subject: subject4,
  annotations: { [testAnnotationKey]: 'test index' },
});
const testAnnotationValues: Record<string, string> = {
  [refsManifestAConfigArtifact.digest]: 'test config a',
  [refsManifestBConfigArtifact.digest]: 'test config b',
  [refsManifestALayerArtifact.digest]: 'test layer a',
  [refsManifestBLayerArtifact.digest]: 'test layer b',
  [refsIndexArtifact.digest]: 'test index',
};

interface Index {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
}
interface TagList {
  name: string;
  tags: string[];
}

let berth: Berth;
let c: OciClient;

before(async () => {
  berth = await startBerth();
  c = createClient(berth);
});
after(async () => {
  await berth?.cleanup();
});

describe('Content Discovery (conformance 03)', () => {
  let numTags = 4;
  let tagList: string[] = [];

  describe('Setup', () => {
    it('Populate registry with test blob', async () => {
      assert2xx(await c.pushBlob(repo, configs[2].bytes));
    });
    it('Populate registry with test layer', async () => {
      assert2xx(await c.pushBlob(repo, layer.bytes));
    });
    it('Populate registry with test tags', async () => {
      for (let i = 0; i < numTags; i++) {
        assert2xx(await c.pushManifest(repo, `test${i}`, manifests[2]), `test${i}`);
      }
      const res = await c.get(`/v2/${repo}/tags/list`);
      tagList = res.json<TagList>().tags;
    });
    it('References setup', async () => {
      assert.equal(EMPTY_JSON.digest, EMPTY_JSON_DIGEST);
      assert2xx(await c.pushBlob(repo, EMPTY_JSON.bytes));
      // the reference blob, before the image manifest is pushed
      assert2xx(await c.pushBlob(repo, testRefBlobA.bytes));

      let res = await c.pushManifest(repo, refsManifestAConfigArtifact.digest, refsManifestAConfigArtifact);
      assert2xx(res, 'A (config artifact)');
      assert.equal(res.headers.get('oci-subject'), manifests[4].digest, 'A (config artifact) OCI-Subject');
      res = await c.pushManifest(repo, refsManifestALayerArtifact.digest, refsManifestALayerArtifact);
      assert2xx(res, 'A (layer artifact)');
      assert.equal(res.headers.get('oci-subject'), manifests[4].digest, 'A (layer artifact) OCI-Subject');
      res = await c.pushManifest(repo, refsIndexArtifact.digest, refsIndexArtifact);
      assert2xx(res, 'index');
      assert.equal(res.headers.get('oci-subject'), manifests[4].digest, 'index OCI-Subject');

      // the subject itself
      assert2xx(await c.pushBlob(repo, configs[4].bytes));
      assert2xx(await c.pushBlob(repo, layer.bytes));
      assert2xx(await c.pushManifest(repo, testTagName, manifests[4]), 'subject manifest');

      // the reference blob, after the image manifest is pushed
      assert2xx(await c.pushBlob(repo, testRefBlobB.bytes));
      res = await c.pushManifest(repo, refsManifestBConfigArtifact.digest, refsManifestBConfigArtifact);
      assert2xx(res, 'B (config artifact)');
      assert.equal(res.headers.get('oci-subject'), manifests[4].digest, 'B (config artifact) OCI-Subject');
      res = await c.pushManifest(repo, refsManifestBLayerArtifact.digest, refsManifestBLayerArtifact);
      assert2xx(res, 'B (layer artifact)');
      assert.equal(res.headers.get('oci-subject'), manifests[4].digest, 'B (layer artifact) OCI-Subject');

      // a referrer of a subject that does not exist
      res = await c.pushManifest(repo, refsManifestCLayerArtifact.digest, refsManifestCLayerArtifact);
      assert2xx(res, 'C (dangling subject)');
      assert.equal(res.headers.get('oci-subject'), manifests[3].digest, 'C OCI-Subject');
    });
  });

  describe('Test content discovery endpoints (listing tags)', () => {
    it('GET request to list tags should yield 200 response', async () => {
      const res = await c.get(`/v2/${repo}/tags/list`);
      assertStatus(res, 200);
      tagList = res.json<TagList>().tags;
      numTags = tagList.length;
    });
    it('GET number of tags should be limitable by `n` query parameter', async () => {
      const numResults = Math.floor(numTags / 2);
      const res = await c.get(withQuery(`/v2/${repo}/tags/list`, { n: String(numResults) }));
      assertStatus(res, 200);
      assert.equal(res.json<TagList>().tags.length, numResults);
    });
    it('GET start of tag is set by `last` query parameter', async () => {
      const numResults = Math.floor(numTags / 2);
      const first = await c.get(withQuery(`/v2/${repo}/tags/list`, { n: String(numResults) }));
      const firstTags = first.json<TagList>().tags;
      const last = firstTags[numResults - 1];
      const res = await c.get(withQuery(`/v2/${repo}/tags/list`, { n: String(numResults), last }));
      assertStatus(res, 200);
      const next = res.json<TagList>().tags;
      assert.ok(next.length <= numResults, 'at most n tags');
      assert.ok(!next.includes(last), '`last` itself is not repeated');
      for (const t of next) assert.ok(t > last, `${t} comes after ${last}`);
    });
  });

  describe('Test content discovery endpoints (listing references)', () => {
    it('GET request to nonexistent blob should result in empty 200 response', async () => {
      const res = await c.get(`/v2/${repo}/referrers/${dummyDigest}`);
      assertStatus(res, 200);
      assert.equal(res.headers.get('content-type'), MEDIA.ociIndex);
      assert.equal(res.json<Index>().manifests.length, 0);
    });
    it('GET request to existing blob should yield 200', async () => {
      const res = await c.get(`/v2/${repo}/referrers/${manifests[4].digest}`);
      assertStatus(res, 200);
      assert.equal(res.headers.get('content-type'), MEDIA.ociIndex);
      const index = res.json<Index>();
      assert.equal(index.manifests.length, 5);
      assert.notEqual(index.manifests[0].digest, index.manifests[1].digest);
      for (const d of index.manifests) {
        assert.equal(Object.keys(d.annotations ?? {}).length, 1, `${d.digest} has one annotation`);
        assert.equal(d.annotations?.[testAnnotationKey], testAnnotationValues[d.digest]);
      }
    });
    it('GET request to existing blob with filter should yield 200', async () => {
      const res = await c.get(withQuery(`/v2/${repo}/referrers/${manifests[4].digest}`, { artifactType: testRefArtifactTypeA }));
      assertStatus(res, 200);
      assert.equal(res.headers.get('content-type'), MEDIA.ociIndex);
      const index = res.json<Index>();
      // The suite tolerates a registry that ignores the filter (with a warning); Berth filters.
      assert.equal(res.headers.get('oci-filters-applied'), 'artifactType');
      assert.equal(index.manifests.length, 2);
      for (const d of index.manifests) {
        assert.equal(Object.keys(d.annotations ?? {}).length, 1);
        assert.equal(d.annotations?.[testAnnotationKey], testAnnotationValues[d.digest]);
      }
    });
    it('GET request to missing manifest should yield 200', async () => {
      const res = await c.get(`/v2/${repo}/referrers/${manifests[3].digest}`);
      assertStatus(res, 200);
      assert.equal(res.headers.get('content-type'), MEDIA.ociIndex);
      const index = res.json<Index>();
      assert.equal(index.manifests.length, 1);
      assert.equal(index.manifests[0].digest, refsManifestCLayerArtifact.digest);
    });
  });

  describe('Teardown', () => {
    const ok = [200, 201, 202, 203, 204, 405];
    it('Delete created manifest & associated tags', async () => {
      const references = [
        refsIndexArtifact.digest,
        manifests[2].digest,
        manifests[4].digest,
        refsManifestAConfigArtifact.digest,
        refsManifestALayerArtifact.digest,
        testTagName,
        refsManifestBConfigArtifact.digest,
        refsManifestBLayerArtifact.digest,
        refsManifestCLayerArtifact.digest,
      ];
      for (const ref of references) {
        assertStatus(await c.delete(`/v2/${repo}/manifests/${ref}`), [...ok, 404], `DELETE ${ref}`);
      }
    });
    it('Delete config blob created in tests', async () => {
      assertStatus(await c.delete(`/v2/${repo}/blobs/${configs[2].digest}`), ok);
    });
    it('Delete layer blob created in setup', async () => {
      assertStatus(await c.delete(`/v2/${repo}/blobs/${layer.digest}`), ok);
    });
    it('References teardown', async () => {
      for (const d of [
        refsIndexArtifact,
        refsManifestAConfigArtifact,
        refsManifestALayerArtifact,
        manifests[4],
        refsManifestBConfigArtifact,
        refsManifestBLayerArtifact,
      ]) {
        assertStatus(await c.delete(`/v2/${repo}/manifests/${d.digest}`), [...ok, 404], `DELETE ${d.digest}`);
      }
      for (const b of [configs[4], testRefBlobA, testRefBlobB, EMPTY_JSON]) {
        assertStatus(await c.delete(`/v2/${repo}/blobs/${b.digest}`), [...ok, 404], `DELETE blob ${b.digest}`);
      }
    });
  });
});

/** Follow `Link: <...>; rel="next"` from `first`, collecting one array field of each page. */
async function walk(first: string, field: 'tags' | 'repositories', max = 100): Promise<{ pages: string[][]; links: string[] }> {
  const pages: string[][] = [];
  const links: string[] = [];
  let next: string | undefined = first;
  while (next) {
    assert.ok(pages.length < max, 'pagination ends');
    const res = await c.get(next);
    assertStatus(res, 200, `GET ${next}`);
    pages.push(res.json<Record<string, string[]>>()[field] ?? []);
    const link = res.headers.get('link');
    if (link) links.push(link);
    next = parseLink(link, berth.url).next;
  }
  return { pages, links };
}

describe('Tag listing', () => {
  const trepo = 'conformance/tags';
  // Deliberately pushed out of order, with mixed case, digits, dots, dashes and underscores.
  const tags = ['v2', 'latest', 'v10', '1.0', '1.0.1', 'alpha_1', 'Beta', 'a-b', '0', 'z'];
  const manifest = imageManifest({ config: emptyJsonDescriptor(), layers: [], artifactType: 'application/vnd.example.tags' });

  before(async () => {
    assert2xx(await c.pushBlob(trepo, EMPTY_JSON.bytes));
    for (const tag of tags) assertStatus(await c.pushManifest(trepo, tag, manifest), 201, tag);
  });

  it('lists every tag once, with the repository name', async () => {
    const res = await c.get(`/v2/${trepo}/tags/list`);
    assertStatus(res, 200);
    const body = res.json<TagList>();
    assert.equal(body.name, trepo);
    assert.deepEqual([...body.tags].sort(), [...tags].sort());
    assert.equal(new Set(body.tags).size, body.tags.length);
  });

  it('tags are in lexical order', async () => {
    const body = (await c.get(`/v2/${trepo}/tags/list`)).json<TagList>();
    const lexical = [...body.tags].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const caseInsensitive = [...body.tags].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
    assert.ok(
      JSON.stringify(body.tags) === JSON.stringify(lexical) || JSON.stringify(body.tags) === JSON.stringify(caseInsensitive),
      `tags in lexical order: ${body.tags.join(', ')}`,
    );
  });

  it('n limits the page and a Link rel="next" leads to the rest; the pages add up to the whole list', async () => {
    const all = (await c.get(`/v2/${trepo}/tags/list`)).json<TagList>().tags;
    const { pages, links } = await walk(withQuery(`/v2/${trepo}/tags/list`, { n: '3' }), 'tags');
    assert.equal(pages.length, Math.ceil(tags.length / 3));
    for (const page of pages.slice(0, -1)) assert.equal(page.length, 3);
    assert.deepEqual(pages.flat(), all);
    assert.equal(links.length, pages.length - 1, 'every page but the last has a Link');
    for (const link of links) {
      assert.match(link, /^<[^>]+>;\s*rel="next"$/, `Link header form: ${link}`);
      const next = parseLink(link, berth.url).next;
      assert.ok(next.startsWith(`/v2/${trepo}/tags/list?`), `Link target: ${next}`);
      const q = new URL(next, berth.url).searchParams;
      assert.equal(q.get('n'), '3', 'the Link keeps n');
      assert.ok(q.get('last'), 'the Link carries last');
    }
  });

  it('n larger than the number of tags: all tags, no Link', async () => {
    const res = await c.get(withQuery(`/v2/${trepo}/tags/list`, { n: '1000' }));
    assertStatus(res, 200);
    assert.equal(res.json<TagList>().tags.length, tags.length);
    assert.equal(res.headers.get('link'), null);
  });

  it('n equal to the number of tags: all tags', async () => {
    const res = await c.get(withQuery(`/v2/${trepo}/tags/list`, { n: String(tags.length) }));
    assertStatus(res, 200);
    assert.equal(res.json<TagList>().tags.length, tags.length);
  });

  it('n=0: an empty list and no Link header', async () => {
    const res = await c.get(withQuery(`/v2/${trepo}/tags/list`, { n: '0' }));
    assertStatus(res, 200);
    assert.deepEqual(res.json<TagList>().tags ?? [], []);
    assert.equal(res.headers.get('link'), null);
  });

  it('last without n: every tag after `last`, `last` excluded', async () => {
    const all = (await c.get(`/v2/${trepo}/tags/list`)).json<TagList>().tags;
    const last = all[3];
    const res = await c.get(withQuery(`/v2/${trepo}/tags/list`, { last }));
    assertStatus(res, 200);
    assert.deepEqual(res.json<TagList>().tags, all.slice(4));
  });

  it('last with n', async () => {
    const all = (await c.get(`/v2/${trepo}/tags/list`)).json<TagList>().tags;
    const res = await c.get(withQuery(`/v2/${trepo}/tags/list`, { n: '2', last: all[1] }));
    assertStatus(res, 200);
    assert.deepEqual(res.json<TagList>().tags, all.slice(2, 4));
  });

  it('last past every tag: an empty list', async () => {
    const res = await c.get(withQuery(`/v2/${trepo}/tags/list`, { last: 'zzzz' }));
    assertStatus(res, 200);
    assert.deepEqual(res.json<TagList>().tags ?? [], []);
  });

  it('a repository whose manifests have no tags lists no tags (200)', async () => {
    const untagged = 'conformance/untagged';
    assert2xx(await c.pushBlob(untagged, EMPTY_JSON.bytes));
    assertStatus(await c.pushManifest(untagged, manifest.digest, manifest), 201);
    const res = await c.get(`/v2/${untagged}/tags/list`);
    assertStatus(res, 200);
    assert.deepEqual(res.json<TagList>().tags ?? [], []);
  });

  it('an unknown repository: 404 NAME_UNKNOWN', async () => {
    assertError(await c.get('/v2/conformance/no-such-repository/tags/list'), 404, 'NAME_UNKNOWN');
  });
});

describe('Catalog', () => {
  const names = ['conformance/catalog/a', 'conformance/catalog/b', 'conformance/catalog/c', 'other/x', 'zeta'];

  before(async () => {
    for (const name of names) assert2xx(await c.pushBlob(name, EMPTY_JSON.bytes));
  });

  it('GET /v2/_catalog lists repositories in lexical order', async () => {
    const res = await c.get('/v2/_catalog');
    assertStatus(res, 200);
    const repos = res.json<{ repositories: string[] }>().repositories;
    for (const name of names) assert.ok(repos.includes(name), `${name} is listed`);
    assert.deepEqual(repos, [...repos].sort());
  });

  it('n and Link rel="next" paginate the catalog; the pages add up to the whole list', async () => {
    const all = (await c.get('/v2/_catalog')).json<{ repositories: string[] }>().repositories;
    const { pages, links } = await walk(withQuery('/v2/_catalog', { n: '2' }), 'repositories');
    assert.deepEqual(pages.flat(), all);
    for (const page of pages) assert.ok(page.length <= 2);
    assert.equal(links.length, pages.length - 1);
    for (const link of links) {
      assert.match(link, /^<[^>]+>;\s*rel="next"$/, `Link header form: ${link}`);
      const next = parseLink(link, berth.url).next;
      assert.ok(next.startsWith('/v2/_catalog?'), `Link target: ${next}`);
    }
  });

  it('last: repositories after the given one', async () => {
    const all = (await c.get('/v2/_catalog')).json<{ repositories: string[] }>().repositories;
    const i = all.indexOf('conformance/catalog/a');
    const res = await c.get(withQuery('/v2/_catalog', { n: '2', last: 'conformance/catalog/a' }));
    assertStatus(res, 200);
    assert.deepEqual(res.json<{ repositories: string[] }>().repositories, all.slice(i + 1, i + 3));
  });

  it('n=0: an empty list and no Link', async () => {
    const res = await c.get(withQuery('/v2/_catalog', { n: '0' }));
    assertStatus(res, 200);
    assert.deepEqual(res.json<{ repositories: string[] }>().repositories ?? [], []);
    assert.equal(res.headers.get('link'), null);
  });

  it('requires credentials: 401 UNAUTHORIZED without them', async () => {
    assertError(await c.get('/v2/_catalog', { auth: null }), 401, 'UNAUTHORIZED');
  });
});

describe('Referrers API', () => {
  const rrepo = 'conformance/referrers';
  const config = configBlob();
  const subject = imageManifest({ config: descriptor(MEDIA.ociConfig, config), layers: [] });
  const sbomBlob = content('{"sbom":1}');
  const sigBlob = content('signature bytes');
  const sbom = imageManifest({
    artifactType: 'application/vnd.example.sbom.v1',
    config: emptyJsonDescriptor(),
    layers: [descriptor('application/spdx+json', sbomBlob)],
    subject: manifestDescriptor(subject),
    annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z', 'org.example.format': 'spdx' },
  });
  const sig = imageManifest({
    config: descriptor('application/vnd.example.signature.config.v1+json', sigBlob),
    layers: [emptyJsonDescriptor()],
    subject: manifestDescriptor(subject),
  });
  const bundle = imageIndex({
    manifests: [manifestDescriptor(sbom)],
    subject: manifestDescriptor(subject),
    annotations: { 'org.example.bundle': 'yes' },
  });

  before(async () => {
    for (const b of [config, sbomBlob, sigBlob, EMPTY_JSON]) assert2xx(await c.pushBlob(rrepo, b.bytes));
    assertStatus(await c.pushManifest(rrepo, 'subject', subject), 201);
    for (const m of [sbom, sig, bundle]) {
      const res = await c.pushManifest(rrepo, m.digest, m);
      assertStatus(res, 201);
      assert.equal(res.headers.get('oci-subject'), subject.digest);
    }
  });

  async function referrers(digest: string, artifactType?: string) {
    const path = `/v2/${rrepo}/referrers/${digest}`;
    const res = await c.get(artifactType === undefined ? path : withQuery(path, { artifactType }));
    assertStatus(res, 200);
    assert.equal(res.headers.get('content-type'), MEDIA.ociIndex);
    const index = res.json<Index>();
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.mediaType, MEDIA.ociIndex);
    assert.ok(Array.isArray(index.manifests), 'manifests is an array (never null)');
    return { res, index, byDigest: new Map(index.manifests.map((d) => [d.digest, d])) };
  }

  it('lists each referrer with mediaType, digest, size, artifactType and annotations', async () => {
    const { index, byDigest } = await referrers(subject.digest);
    assert.equal(index.manifests.length, 3);
    const s = byDigest.get(sbom.digest);
    assert.ok(s, 'the SBOM is listed');
    assert.equal(s.mediaType, MEDIA.ociManifest);
    assert.equal(s.size, sbom.size);
    assert.equal(s.artifactType, 'application/vnd.example.sbom.v1', 'artifactType from the manifest');
    assert.deepEqual(s.annotations, { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z', 'org.example.format': 'spdx' });
    const g = byDigest.get(sig.digest);
    assert.ok(g, 'the signature is listed');
    assert.equal(g.artifactType, 'application/vnd.example.signature.config.v1+json', 'artifactType falls back to the config mediaType');
    assert.equal(g.size, sig.size);
    assert.ok(g.annotations === undefined || Object.keys(g.annotations).length === 0, 'no annotations invented');
    const b = byDigest.get(bundle.digest);
    assert.ok(b, 'the index is listed');
    assert.equal(b.mediaType, MEDIA.ociIndex);
    assert.equal(b.size, bundle.size);
    assert.equal(b.artifactType, undefined, 'an index without artifactType has none in its descriptor');
    assert.deepEqual(b.annotations, { 'org.example.bundle': 'yes' });
  });

  it('?artifactType= filters, with OCI-Filters-Applied: artifactType', async () => {
    const { res, index } = await referrers(subject.digest, 'application/vnd.example.sbom.v1');
    assert.equal(res.headers.get('oci-filters-applied'), 'artifactType');
    assert.deepEqual(
      index.manifests.map((d) => d.digest),
      [sbom.digest],
    );
  });

  it('filtering on the config-derived artifact type works too', async () => {
    const { res, index } = await referrers(subject.digest, 'application/vnd.example.signature.config.v1+json');
    assert.equal(res.headers.get('oci-filters-applied'), 'artifactType');
    assert.deepEqual(
      index.manifests.map((d) => d.digest),
      [sig.digest],
    );
  });

  it('a filter that matches nothing: an empty list, still with OCI-Filters-Applied', async () => {
    const { res, index } = await referrers(subject.digest, 'application/vnd.example.nothing');
    assert.equal(res.headers.get('oci-filters-applied'), 'artifactType');
    assert.equal(index.manifests.length, 0);
  });

  it('without a filter there is no OCI-Filters-Applied header', async () => {
    const { res } = await referrers(subject.digest);
    assert.equal(res.headers.get('oci-filters-applied'), null);
  });

  it('a subject that does not exist yet: 200 with an empty list', async () => {
    const { index } = await referrers(sha256('no such subject'));
    assert.deepEqual(index.manifests, []);
  });

  it('a referrer pushed before its subject is listed, and stays listed once the subject arrives', async () => {
    const later = imageManifest({ config: descriptor(MEDIA.ociConfig, config), annotations: { later: 'subject' } });
    const early = imageManifest({
      artifactType: 'application/vnd.example.early',
      config: emptyJsonDescriptor(),
      layers: [emptyJsonDescriptor()],
      subject: manifestDescriptor(later),
    });
    assertStatus(await c.pushManifest(rrepo, early.digest, early), 201);
    assert.deepEqual(
      (await referrers(later.digest)).index.manifests.map((d) => d.digest),
      [early.digest],
    );
    assertStatus(await c.pushManifest(rrepo, later.digest, later), 201);
    assert.deepEqual(
      (await referrers(later.digest)).index.manifests.map((d) => d.digest),
      [early.digest],
    );
  });

  it('referrers are per repository', async () => {
    const other = 'conformance/referrers-other';
    assert2xx(await c.pushBlob(other, config.bytes));
    assertStatus(await c.pushManifest(other, 'subject', subject), 201);
    const res = await c.get(`/v2/${other}/referrers/${subject.digest}`);
    assertStatus(res, 200);
    assert.deepEqual(res.json<Index>().manifests, []);
  });

  it('a deleted referrer is no longer listed', async () => {
    const gone = imageManifest({
      artifactType: 'application/vnd.example.gone',
      config: emptyJsonDescriptor(),
      layers: [emptyJsonDescriptor()],
      subject: manifestDescriptor(subject),
    });
    assertStatus(await c.pushManifest(rrepo, gone.digest, gone), 201);
    assert.ok((await referrers(subject.digest)).byDigest.has(gone.digest));
    assertStatus(await c.delete(`/v2/${rrepo}/manifests/${gone.digest}`), 202);
    assert.ok(!(await referrers(subject.digest)).byDigest.has(gone.digest));
  });

  it('an invalid digest: 400', async () => {
    const res = await c.get(`/v2/${rrepo}/referrers/sha256:not-a-digest`);
    assertStatus(res, 400);
  });

  it('a tag instead of a digest: 400', async () => {
    assertStatus(await c.get(`/v2/${rrepo}/referrers/subject`), 400);
  });
});
