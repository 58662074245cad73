// Name and reference grammar of the distribution spec v1.1, and the error codes of unknown things:
//   <name>      [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*   (Berth: at most 256)
//   tag         [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}
// The spec names the codes (NAME_INVALID, NAME_UNKNOWN, MANIFEST_UNKNOWN, BLOB_UNKNOWN, ...); the statuses follow the
// original API description (detail.md): an invalid name is a 400 NAME_INVALID, an unknown one a 404 NAME_UNKNOWN.
// A read of an invalid name names nothing that exists, so 404 NAME_UNKNOWN is accepted there as well.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type Berth } from '../helpers/berth.ts';
import {
  EMPTY_JSON,
  MEDIA,
  assert2xx,
  assertError,
  assertStatus,
  createClient,
  emptyJsonDescriptor,
  imageManifest,
  randomBlob,
  sha256,
  withQuery,
  type OciClient,
} from '../helpers/oci.ts';

let berth: Berth;
let c: OciClient;

before(async () => {
  berth = await startBerth();
  c = createClient(berth);
});
after(async () => {
  await berth?.cleanup();
});

const artifact = imageManifest({
  artifactType: 'application/vnd.example.grammar',
  config: emptyJsonDescriptor(),
  layers: [emptyJsonDescriptor()],
});

describe('Repository name grammar', () => {
  const invalid: Array<[string, string]> = [
    ['uppercase component', 'conformance/Upper'],
    ['uppercase first component', 'Conformance/lower'],
    ['too long (257 characters)', 'conformance/' + 'a'.repeat(245)],
    ['empty component (double slash)', 'conformance//double'],
    ['trailing slash', 'conformance/trailing/'],
    ['component starting with a dash', 'conformance/-dash'],
    ['component ending with a dash', 'conformance/dash-'],
    ['component starting with an underscore', 'conformance/_under'],
    ['component starting with a period', 'conformance/.dot'],
    ['two periods', 'conformance/a..b'],
    ['three underscores', 'conformance/a___b'],
    ['period then dash', 'conformance/a.-b'],
    ['a character outside the grammar', 'conformance/a+b'],
    ['a space', 'conformance/a b'],
  ];
  assert.equal(invalid[2][1].length, 257);

  for (const [what, name] of invalid) {
    it(`${what} (${name.length > 40 ? name.slice(0, 40) + '…' : name}): POST upload is 400 NAME_INVALID`, async () => {
      assertError(await c.post(`/v2/${name}/blobs/uploads/`), 400, 'NAME_INVALID');
    });
    it(`${what}: single-POST blob upload is 400 NAME_INVALID`, async () => {
      const blob = randomBlob(8);
      const res = await c.post(withQuery(`/v2/${name}/blobs/uploads/`, { digest: blob.digest }), {
        headers: { 'Content-Type': MEDIA.octetStream },
        body: blob.bytes,
      });
      assertError(res, 400, 'NAME_INVALID');
    });
    it(`${what}: PUT manifest is 400 NAME_INVALID`, async () => {
      assertError(await c.pushManifest(name, 'latest', artifact), 400, 'NAME_INVALID');
    });
    it(`${what}: reads are 400 NAME_INVALID or 404 NAME_UNKNOWN`, async () => {
      for (const path of [`/v2/${name}/tags/list`, `/v2/${name}/manifests/latest`, `/v2/${name}/blobs/${sha256('x')}`]) {
        assertError(await c.get(path), [400, 404], ['NAME_INVALID', 'NAME_UNKNOWN'], `GET ${path}`);
      }
    });
  }

  const valid: Array<[string, string]> = [
    ['double underscore separator', 'conformance/a__b'],
    ['several dashes', 'conformance/a---b'],
    ['period, underscore and dash separators', 'conformance/a.b_c-d'],
    ['digits only', 'conformance/0123'],
    ['many components', 'conformance/x/y/z/deep'],
    ['256 characters', 'conformance/' + 'a'.repeat(244)],
    ['a component named like an API path', 'conformance/blobs/uploads'],
    ['a component named manifests', 'conformance/manifests/tags'],
  ];
  assert.equal(valid[5][1].length, 256);

  for (const [what, name] of valid) {
    it(`${what} is a valid name: push creates the repository and pull works`, async () => {
      assert2xx(await c.pushBlob(name, EMPTY_JSON.bytes));
      assertStatus(await c.pushManifest(name, 'latest', artifact), 201);
      const res = await c.get(`/v2/${name}/manifests/latest`);
      assertStatus(res, 200);
      assert.ok(res.body.equals(artifact.bytes));
      const tags = await c.get(`/v2/${name}/tags/list`);
      assertStatus(tags, 200);
      assert.equal(tags.json<{ name: string }>().name, name);
    });
  }
});

describe('Tag grammar', () => {
  const repo = 'conformance/tag-grammar';

  before(async () => {
    assert2xx(await c.pushBlob(repo, EMPTY_JSON.bytes));
  });

  const invalid: Array<[string, string]> = [
    ['129 characters', 'a'.repeat(129)],
    ['starting with a period', '.dot'],
    ['starting with a dash', '-dash'],
    ['a character outside the grammar (!)', 'bad!tag'],
    ['a plus sign', 'v1+build'],
  ];
  for (const [what, tag] of invalid) {
    it(`${what}: PUT is 400 (MANIFEST_INVALID or TAG_INVALID) and nothing is tagged`, async () => {
      const res = await c.pushManifest(repo, encodeURIComponent(tag), artifact);
      assertError(res, 400, ['MANIFEST_INVALID', 'TAG_INVALID']);
      const tags = (await c.get(`/v2/${repo}/tags/list`)).json<{ tags: string[] }>().tags ?? [];
      assert.ok(!tags.includes(tag), 'the invalid tag is not listed');
    });
    it(`${what}: GET is 404 (or 400) with an OCI error`, async () => {
      assertError(
        await c.get(`/v2/${repo}/manifests/${encodeURIComponent(tag)}`),
        [400, 404],
        ['MANIFEST_UNKNOWN', 'MANIFEST_INVALID', 'TAG_INVALID', 'NAME_INVALID'],
      );
    });
  }

  const valid = ['a'.repeat(128), '_underscore', 'A.b-c_D', '0', 'v1.2.3-rc.1_build'];
  for (const tag of valid) {
    it(`${tag.length > 20 ? tag.length + ' characters' : tag} is a valid tag`, async () => {
      assertStatus(await c.pushManifest(repo, tag, artifact), 201);
      assertStatus(await c.get(`/v2/${repo}/manifests/${tag}`), 200);
      const tags = (await c.get(`/v2/${repo}/tags/list`)).json<{ tags: string[] }>().tags;
      assert.ok(tags.includes(tag), 'listed');
    });
  }

  it('tags are case-sensitive', async () => {
    const other = imageManifest({ artifactType: 'application/vnd.example.case', config: emptyJsonDescriptor(), layers: [] });
    assertStatus(await c.pushManifest(repo, 'case', artifact), 201);
    assertStatus(await c.pushManifest(repo, 'CASE', other), 201);
    assert.equal((await c.head(`/v2/${repo}/manifests/case`)).headers.get('docker-content-digest'), artifact.digest);
    assert.equal((await c.head(`/v2/${repo}/manifests/CASE`)).headers.get('docker-content-digest'), other.digest);
  });
});

describe('Unknown repository, manifest, blob and upload', () => {
  const repo = 'conformance/known';
  const unknownRepo = 'conformance/unknown';

  before(async () => {
    assert2xx(await c.pushBlob(repo, EMPTY_JSON.bytes));
    assertStatus(await c.pushManifest(repo, 'latest', artifact), 201);
  });

  it('unknown repository: tags/list is 404 NAME_UNKNOWN', async () => {
    assertError(await c.get(`/v2/${unknownRepo}/tags/list`), 404, 'NAME_UNKNOWN');
  });
  it('unknown repository: GET manifest by tag and by digest is 404 NAME_UNKNOWN', async () => {
    assertError(await c.get(`/v2/${unknownRepo}/manifests/latest`), 404, 'NAME_UNKNOWN', 'by tag');
    assertError(await c.get(`/v2/${unknownRepo}/manifests/${artifact.digest}`), 404, 'NAME_UNKNOWN', 'by digest');
  });
  it('unknown repository: HEAD manifest is 404', async () => {
    assertStatus(await c.head(`/v2/${unknownRepo}/manifests/latest`), 404);
  });
  it('unknown repository: GET blob is 404 NAME_UNKNOWN', async () => {
    assertError(await c.get(`/v2/${unknownRepo}/blobs/${EMPTY_JSON.digest}`), 404, 'NAME_UNKNOWN');
  });
  it('unknown repository: HEAD blob is 404', async () => {
    assertStatus(await c.head(`/v2/${unknownRepo}/blobs/${EMPTY_JSON.digest}`), 404);
  });
  it('unknown repository: DELETE blob is 404 (NAME_UNKNOWN or BLOB_UNKNOWN)', async () => {
    assertError(await c.delete(`/v2/${unknownRepo}/blobs/${EMPTY_JSON.digest}`), 404, ['NAME_UNKNOWN', 'BLOB_UNKNOWN']);
  });

  it('unknown manifest tag: 404 MANIFEST_UNKNOWN', async () => {
    assertError(await c.get(`/v2/${repo}/manifests/nope`), 404, 'MANIFEST_UNKNOWN');
    assertStatus(await c.head(`/v2/${repo}/manifests/nope`), 404);
  });
  it('unknown manifest digest: 404 MANIFEST_UNKNOWN', async () => {
    assertError(await c.get(`/v2/${repo}/manifests/${sha256('nope')}`), 404, 'MANIFEST_UNKNOWN');
    assertStatus(await c.head(`/v2/${repo}/manifests/${sha256('nope')}`), 404);
  });
  it("the suite's nonexistent reference .INVALID_MANIFEST_NAME: 404 for GET and HEAD", async () => {
    assertStatus(await c.get(`/v2/${repo}/manifests/.INVALID_MANIFEST_NAME`), 404);
    assertStatus(await c.head(`/v2/${repo}/manifests/.INVALID_MANIFEST_NAME`), 404);
  });
  it('the digest of a blob is not a manifest: 404 MANIFEST_UNKNOWN', async () => {
    assertError(await c.get(`/v2/${repo}/manifests/${EMPTY_JSON.digest}`), 404, 'MANIFEST_UNKNOWN');
  });
  it('unknown blob: 404 BLOB_UNKNOWN', async () => {
    assertError(await c.get(`/v2/${repo}/blobs/${sha256('nope')}`), 404, 'BLOB_UNKNOWN');
    assertStatus(await c.head(`/v2/${repo}/blobs/${sha256('nope')}`), 404);
  });
  it('a malformed blob digest: 400 DIGEST_INVALID (or 404)', async () => {
    const res = await c.get(`/v2/${repo}/blobs/sha256:totallywrong`);
    assertError(res, [400, 404], res.status === 400 ? 'DIGEST_INVALID' : ['BLOB_UNKNOWN', 'DIGEST_INVALID']);
  });
  it('a malformed manifest digest: 400 DIGEST_INVALID (or 404 MANIFEST_UNKNOWN)', async () => {
    const res = await c.get(`/v2/${repo}/manifests/sha256:totallywrong`);
    assertError(res, [400, 404], res.status === 400 ? ['DIGEST_INVALID', 'MANIFEST_INVALID'] : 'MANIFEST_UNKNOWN');
  });
  it('unknown upload session: 404 BLOB_UPLOAD_UNKNOWN', async () => {
    assertError(await c.get(`/v2/${repo}/blobs/uploads/00000000-0000-4000-8000-000000000000`), 404, 'BLOB_UPLOAD_UNKNOWN');
  });
  it('error bodies are JSON', async () => {
    const res = await c.get(`/v2/${repo}/manifests/nope`);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  });
});
