// OCI distribution-spec v1.1 conformance, workflow 1: Pull (the official suite's 01_pull_test.go, in its order),
// then the base route and its authentication, the headers of every manifest and blob response, content
// negotiation, and blob Range requests.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type Berth } from '../helpers/berth.ts';
import {
  MEDIA,
  SPEC_ERROR_CODES,
  SUITE_LAYER,
  suiteManifest,
  assert2xx,
  assertError,
  assertStatus,
  configBlob,
  createClient,
  descriptor,
  dockerManifest,
  errorCodes,
  imageIndex,
  imageManifest,
  manifestDescriptor,
  randomBlob,
  sha256,
  type Content,
  type Manifest,
  type OciClient,
} from '../helpers/oci.ts';

const repo = 'conformance/pull';
const testTagName = 'tagtest0';
const nonexistentManifest = '.INVALID_MANIFEST_NAME';
const dummyDigest = sha256('hello world');

// The suite's fixtures: two unique configs, one gzip layer, two manifests that differ by config.
const configs: Content[] = [configBlob(), configBlob()];
const layer = SUITE_LAYER;
const manifests: Manifest[] = configs.map((config) => suiteManifest(config));

let berth: Berth;
let c: OciClient;

before(async () => {
  berth = await startBerth();
  c = createClient(berth);
});
after(async () => {
  await berth?.cleanup();
});

describe('Pull (conformance 01)', () => {
  let tag = '';

  describe('Setup', () => {
    it('Populate registry with test blob (config 0)', async () => {
      assert2xx(await c.pushBlob(repo, configs[0].bytes));
    });
    it('Populate registry with test blob (config 1)', async () => {
      assert2xx(await c.pushBlob(repo, configs[1].bytes));
    });
    it('Populate registry with test layer', async () => {
      assert2xx(await c.pushBlob(repo, layer.bytes));
    });
    it('Populate registry with test manifest (by tag)', async () => {
      tag = testTagName;
      assert2xx(await c.pushManifest(repo, tag, manifests[0]));
    });
    it('Populate registry with test manifest (by digest)', async () => {
      assert2xx(await c.pushManifest(repo, manifests[1].digest, manifests[1]));
    });
  });

  describe('Pull blobs', () => {
    it('HEAD request to nonexistent blob should result in 404 response', async () => {
      assertStatus(await c.head(`/v2/${repo}/blobs/${dummyDigest}`), 404);
    });
    it('HEAD request to existing blob should yield 200', async () => {
      const res = await c.head(`/v2/${repo}/blobs/${configs[0].digest}`);
      assertStatus(res, 200);
      const h = res.headers.get('docker-content-digest');
      if (h) assert.equal(h, configs[0].digest);
    });
    it('GET nonexistent blob should result in 404 response', async () => {
      assertStatus(await c.get(`/v2/${repo}/blobs/${dummyDigest}`), 404);
    });
    it('GET request to existing blob URL should yield 200', async () => {
      assertStatus(await c.get(`/v2/${repo}/blobs/${configs[0].digest}`), 200);
    });
  });

  describe('Pull manifests', () => {
    const accept = { Accept: MEDIA.ociManifest };
    it('HEAD request to nonexistent manifest should return 404', async () => {
      assertStatus(await c.head(`/v2/${repo}/manifests/${nonexistentManifest}`), 404);
    });
    it('HEAD request to manifest[0] path (digest) should yield 200 response', async () => {
      const res = await c.head(`/v2/${repo}/manifests/${manifests[0].digest}`, { headers: accept });
      assertStatus(res, 200);
      const h = res.headers.get('docker-content-digest');
      if (h) assert.equal(h, manifests[0].digest);
    });
    it('HEAD request to manifest[1] path (digest) should yield 200 response', async () => {
      const res = await c.head(`/v2/${repo}/manifests/${manifests[1].digest}`, { headers: accept });
      assertStatus(res, 200);
      const h = res.headers.get('docker-content-digest');
      if (h) assert.equal(h, manifests[1].digest);
    });
    it('HEAD request to manifest path (tag) should yield 200 response', async () => {
      assert.ok(tag, 'a tag was set up');
      const res = await c.head(`/v2/${repo}/manifests/${tag}`, { headers: accept });
      assertStatus(res, 200);
      const h = res.headers.get('docker-content-digest');
      if (h) assert.equal(h, manifests[0].digest);
    });
    it('GET nonexistent manifest should return 404', async () => {
      assertStatus(await c.get(`/v2/${repo}/manifests/${nonexistentManifest}`), 404);
    });
    it('GET request to manifest[0] path (digest) should yield 200 response', async () => {
      assertStatus(await c.get(`/v2/${repo}/manifests/${manifests[0].digest}`, { headers: accept }), 200);
    });
    it('GET request to manifest[1] path (digest) should yield 200 response', async () => {
      assertStatus(await c.get(`/v2/${repo}/manifests/${manifests[1].digest}`, { headers: accept }), 200);
    });
    it('GET request to manifest path (tag) should yield 200 response', async () => {
      assert.ok(tag, 'a tag was set up');
      assertStatus(await c.get(`/v2/${repo}/manifests/${tag}`, { headers: accept }), 200);
    });
  });

  describe('Error codes', () => {
    // The suite sends this as a GET (v1.1) and as a PUT with an invalid body (earlier versions): both must be a
    // 400 with a spec error code in an OCI error body, or a 404.
    it('400 response body should contain OCI-conforming JSON message (GET sha256:totallywrong)', async () => {
      const res = await c.get(`/v2/${repo}/manifests/sha256:totallywrong`, {
        headers: { 'Content-Type': MEDIA.ociManifest },
      });
      assertStatus(res, [400, 404]);
      if (res.status === 400) assert.ok(SPEC_ERROR_CODES.includes(errorCodes(res)[0]), 'a spec error code');
    });
    it('400 response body should contain OCI-conforming JSON message (PUT sha256:totallywrong)', async () => {
      const res = await c.put(`/v2/${repo}/manifests/sha256:totallywrong`, {
        headers: { 'Content-Type': MEDIA.ociManifest },
        body: 'blablabla',
      });
      assertStatus(res, [400, 404]);
      if (res.status === 400) assert.ok(SPEC_ERROR_CODES.includes(errorCodes(res)[0]), 'a spec error code');
    });
  });

  describe('Teardown', () => {
    const deleted = [200, 201, 202, 203, 204, 405];
    it('Delete manifest[0] created in setup', async () => {
      assertStatus(await c.delete(`/v2/${repo}/manifests/${manifests[0].digest}`), deleted);
    });
    it('Delete manifest[1] created in setup', async () => {
      assertStatus(await c.delete(`/v2/${repo}/manifests/${manifests[1].digest}`), deleted);
    });
    it('Delete config[0] blob created in setup', async () => {
      assertStatus(await c.delete(`/v2/${repo}/blobs/${configs[0].digest}`), [...deleted, 404]);
    });
    it('Delete config[1] blob created in setup', async () => {
      assertStatus(await c.delete(`/v2/${repo}/blobs/${configs[1].digest}`), [...deleted, 404]);
    });
    it('Delete layer blob created in setup', async () => {
      assertStatus(await c.delete(`/v2/${repo}/blobs/${layer.digest}`), [...deleted, 404]);
    });
  });
});

describe('Base route /v2/ and authentication', () => {
  it('GET /v2/ with valid credentials: 200 and Docker-Distribution-API-Version: registry/2.0', async () => {
    const res = await c.get('/v2/');
    assertStatus(res, 200);
    assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
  });

  it('GET /v2/ without credentials: 401, a Bearer challenge naming the token realm, UNAUTHORIZED body', async () => {
    const res = await c.get('/v2/', { auth: null });
    assertError(res, 401, 'UNAUTHORIZED');
    const challenge = res.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer realm="http:\/\/[^"]+\/_berth\/token",service="[^"]+"$/i, `the token challenge: ${challenge}`);
  });

  it('the token realm: a Bearer token for valid credentials works on the data plane; wrong ones get 401', async () => {
    const realm = /Bearer realm="([^"]+)"/.exec((await c.get('/v2/', { auth: null })).headers.get('www-authenticate') ?? '')![1];
    const good = await fetch(`${realm}?service=x&scope=repository:${repo}:pull`, { headers: { authorization: berth.authHeader } });
    assert.equal(good.status, 200);
    const { token, access_token, expires_in } = (await good.json()) as { token: string; access_token: string; expires_in: number };
    assert.equal(token, access_token);
    assert.ok(expires_in > 0);
    assert.equal((await c.get('/v2/', { auth: `Bearer ${token}` })).status, 200);
    assert.equal((await c.get(`/v2/${repo}/tags/list`, { auth: `Bearer ${token}` })).status, 200);
    assertError(await c.get('/v2/', { auth: `Bearer ${token}x` }), 401, 'UNAUTHORIZED');
    const bad = await fetch(realm, { headers: { authorization: 'Basic ' + Buffer.from(`${berth.accessKeyId}:wrong`).toString('base64') } });
    assert.equal(bad.status, 401);
    // No credentials: an anonymous token, which opens only what a policy grants to "*".
    const anon = await fetch(realm);
    assert.equal(anon.status, 200);
    const anonToken = ((await anon.json()) as { token: string }).token;
    assertError(await c.get(`/v2/${repo}/tags/list`, { auth: `Bearer ${anonToken}` }), 401, 'UNAUTHORIZED');
  });

  it('GET /v2/ with a wrong secret: 401 UNAUTHORIZED with the challenge', async () => {
    const wrong = 'Basic ' + Buffer.from(`${berth.accessKeyId}:not-the-secret`).toString('base64');
    const res = await c.get('/v2/', { auth: wrong });
    assertError(res, 401, 'UNAUTHORIZED');
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="[^"]*"/i);
  });

  it('GET /v2/ with an unknown access key: 401 UNAUTHORIZED', async () => {
    const wrong = 'Basic ' + Buffer.from('AKIANOSUCHKEY0000000:whatever').toString('base64');
    assertError(await c.get('/v2/', { auth: wrong }), 401, 'UNAUTHORIZED');
  });

  it('GET /v2/ with a malformed Authorization header: 401 UNAUTHORIZED', async () => {
    assertError(await c.get('/v2/', { auth: 'Basic !!!not-base64' }), 401, 'UNAUTHORIZED');
  });

  it('repository endpoints without credentials: 401 UNAUTHORIZED with the challenge', async () => {
    await c.pushBlob(repo, configs[0].bytes);
    for (const path of [`/v2/${repo}/tags/list`, `/v2/${repo}/blobs/${configs[0].digest}`, `/v2/${repo}/manifests/latest`]) {
      const res = await c.get(path, { auth: null });
      assertError(res, 401, 'UNAUTHORIZED', `GET ${path}`);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm=/i, `GET ${path} challenge`);
    }
    const post = await c.post(`/v2/${repo}/blobs/uploads/`, { auth: null });
    assertError(post, 401, 'UNAUTHORIZED', 'POST upload');
  });
});

describe('Manifest and blob response headers', () => {
  const hrepo = 'conformance/headers';
  const config = configBlob();
  const blob = randomBlob(1000);
  const manifest = imageManifest({
    config: descriptor(MEDIA.ociConfig, config),
    layers: [descriptor(MEDIA.ociLayerGzip, blob)],
    annotations: { 'org.example.test': 'headers' },
  });

  before(async () => {
    assert2xx(await c.pushBlob(hrepo, config.bytes));
    assert2xx(await c.pushBlob(hrepo, blob.bytes));
    assertStatus(await c.pushManifest(hrepo, 'v1', manifest), 201);
  });

  for (const method of ['GET', 'HEAD'] as const) {
    for (const by of ['tag', 'digest'] as const) {
      it(`${method} manifest by ${by}: Docker-Content-Digest, Content-Length, Content-Type, ETag`, async () => {
        const ref = by === 'tag' ? 'v1' : manifest.digest;
        const res = await c.request(method, `/v2/${hrepo}/manifests/${ref}`, { headers: { Accept: MEDIA.ociManifest } });
        assertStatus(res, 200);
        assert.equal(res.headers.get('docker-content-digest'), manifest.digest);
        assert.equal(res.headers.get('content-length'), String(manifest.size));
        assert.equal(res.headers.get('content-type'), MEDIA.ociManifest);
        const etag = res.headers.get('etag');
        assert.ok(etag, 'ETag is set');
        assert.match(etag, /^(W\/)?"[^"]+"$/, 'ETag is a quoted entity-tag (RFC 9110)');
        if (method === 'GET') assert.ok(res.body.equals(manifest.bytes), 'the body is the exact bytes pushed');
        else assert.equal(res.body.length, 0, 'HEAD has no body');
      });
    }
  }

  it('GET and HEAD of a manifest give the same ETag, by tag and by digest', async () => {
    const tags = await Promise.all([
      c.get(`/v2/${hrepo}/manifests/v1`),
      c.head(`/v2/${hrepo}/manifests/v1`),
      c.get(`/v2/${hrepo}/manifests/${manifest.digest}`),
      c.head(`/v2/${hrepo}/manifests/${manifest.digest}`),
    ]);
    const etags = new Set(tags.map((r) => r.headers.get('etag')));
    assert.equal(etags.size, 1, `one ETag for one manifest: ${[...etags].join(', ')}`);
  });

  for (const method of ['GET', 'HEAD'] as const) {
    it(`${method} blob: Docker-Content-Digest, Content-Length, Content-Type, ETag`, async () => {
      const res = await c.request(method, `/v2/${hrepo}/blobs/${blob.digest}`);
      assertStatus(res, 200);
      assert.equal(res.headers.get('docker-content-digest'), blob.digest);
      assert.equal(res.headers.get('content-length'), String(blob.size));
      assert.ok(res.headers.get('content-type'), 'Content-Type is set');
      const etag = res.headers.get('etag');
      assert.ok(etag, 'ETag is set');
      assert.match(etag, /^(W\/)?"[^"]+"$/, 'ETag is a quoted entity-tag (RFC 9110)');
      if (method === 'GET') {
        assert.ok(res.body.equals(blob.bytes), 'the body is the blob');
        assert.equal(sha256(res.body), blob.digest);
      } else {
        assert.equal(res.body.length, 0, 'HEAD has no body');
      }
    });
  }

  it('GET of the config blob returns its exact bytes', async () => {
    const res = await c.get(`/v2/${hrepo}/blobs/${config.digest}`);
    assertStatus(res, 200);
    assert.ok(res.body.equals(config.bytes));
  });
});

describe('Manifest content negotiation (Accept)', () => {
  const nrepo = 'conformance/negotiation';
  const config = configBlob();
  const dconfig = configBlob();
  const blob = randomBlob(300);
  const oci = imageManifest({ config: descriptor(MEDIA.ociConfig, config), layers: [descriptor(MEDIA.ociLayerGzip, blob)] });
  const docker = dockerManifest(descriptor(MEDIA.dockerConfig, dconfig), [descriptor(MEDIA.dockerLayerGzip, blob)]);
  const index = imageIndex({ manifests: [manifestDescriptor(oci, { platform: { architecture: 'amd64', os: 'linux' } })] });
  const all = [MEDIA.dockerManifestList, MEDIA.dockerManifest, MEDIA.ociIndex, MEDIA.ociManifest].join(', ');

  before(async () => {
    for (const b of [config, dconfig, blob]) assert2xx(await c.pushBlob(nrepo, b.bytes));
    assertStatus(await c.pushManifest(nrepo, 'oci', oci), 201);
    assertStatus(await c.pushManifest(nrepo, 'docker', docker), 201);
    assertStatus(await c.pushManifest(nrepo, 'index', index), 201);
  });

  const cases: Array<[string, () => Manifest]> = [
    ['oci', () => oci],
    ['docker', () => docker],
    ['index', () => index],
  ];
  for (const [tag, m] of cases) {
    it(`${tag}: Accept listing every manifest type returns the stored type and bytes`, async () => {
      for (const method of ['GET', 'HEAD']) {
        const res = await c.request(method, `/v2/${nrepo}/manifests/${tag}`, { headers: { Accept: all } });
        assertStatus(res, 200, `${method} ${tag}`);
        assert.equal(res.headers.get('content-type'), m().mediaType, `${method} ${tag} Content-Type`);
        assert.equal(res.headers.get('docker-content-digest'), m().digest);
        if (method === 'GET') assert.ok(res.body.equals(m().bytes), 'exact bytes');
      }
    });
    it(`${tag}: Accept with only its own type returns it`, async () => {
      const res = await c.get(`/v2/${nrepo}/manifests/${tag}`, { headers: { Accept: m().mediaType } });
      assertStatus(res, 200);
      assert.equal(res.headers.get('content-type'), m().mediaType);
      assert.ok(res.body.equals(m().bytes));
    });
    it(`${tag}: Accept with quality parameters and several headers' worth of types returns it`, async () => {
      const accept = `${MEDIA.dockerManifestList};q=0.5, ${MEDIA.dockerManifest};q=0.6, ${MEDIA.ociIndex};q=0.9, ${MEDIA.ociManifest}`;
      const res = await c.get(`/v2/${nrepo}/manifests/${tag}`, { headers: { Accept: accept } });
      assertStatus(res, 200);
      assert.equal(res.headers.get('content-type'), m().mediaType);
    });
    it(`${tag}: by digest without an Accept header returns the stored type`, async () => {
      const res = await c.get(`/v2/${nrepo}/manifests/${m().digest}`);
      assertStatus(res, 200);
      assert.equal(res.headers.get('content-type'), m().mediaType);
      assert.ok(res.body.equals(m().bytes));
    });
  }

  it('Accept: */* returns the stored manifest', async () => {
    const res = await c.get(`/v2/${nrepo}/manifests/oci`, { headers: { Accept: '*/*' } });
    assertStatus(res, 200);
    assert.equal(res.headers.get('content-type'), MEDIA.ociManifest);
  });
});

describe('Blob Range requests', () => {
  const rrepo = 'conformance/range';
  const blob = randomBlob(100);

  before(async () => {
    assert2xx(await c.pushBlob(rrepo, blob.bytes));
  });

  it('bytes=0-9: 206 with Content-Range and those 10 bytes', async () => {
    const res = await c.get(`/v2/${rrepo}/blobs/${blob.digest}`, { headers: { Range: 'bytes=0-9' } });
    assertStatus(res, 206);
    assert.equal(res.headers.get('content-range'), 'bytes 0-9/100');
    assert.equal(res.headers.get('content-length'), '10');
    assert.ok(res.body.equals(blob.bytes.subarray(0, 10)));
  });

  it('bytes=50-: 206 with the rest of the blob', async () => {
    const res = await c.get(`/v2/${rrepo}/blobs/${blob.digest}`, { headers: { Range: 'bytes=50-' } });
    assertStatus(res, 206);
    assert.equal(res.headers.get('content-range'), 'bytes 50-99/100');
    assert.ok(res.body.equals(blob.bytes.subarray(50)));
  });

  it('suffix range bytes=-10: 206 with the last 10 bytes', async () => {
    const res = await c.get(`/v2/${rrepo}/blobs/${blob.digest}`, { headers: { Range: 'bytes=-10' } });
    assertStatus(res, 206);
    assert.equal(res.headers.get('content-range'), 'bytes 90-99/100');
    assert.equal(res.headers.get('content-length'), '10');
    assert.ok(res.body.equals(blob.bytes.subarray(90)));
  });

  it('suffix range longer than the blob: 206 with the whole blob', async () => {
    const res = await c.get(`/v2/${rrepo}/blobs/${blob.digest}`, { headers: { Range: 'bytes=-1000' } });
    assertStatus(res, 206);
    assert.equal(res.headers.get('content-range'), 'bytes 0-99/100');
    assert.ok(res.body.equals(blob.bytes));
  });

  it('a range whose end is past the blob is cut at the last byte', async () => {
    const res = await c.get(`/v2/${rrepo}/blobs/${blob.digest}`, { headers: { Range: 'bytes=95-500' } });
    assertStatus(res, 206);
    assert.equal(res.headers.get('content-range'), 'bytes 95-99/100');
    assert.ok(res.body.equals(blob.bytes.subarray(95)));
  });

  it('unsatisfiable range (start past the end): 416', async () => {
    const res = await c.get(`/v2/${rrepo}/blobs/${blob.digest}`, { headers: { Range: 'bytes=100-200' } });
    assertStatus(res, 416);
  });

  it('unsatisfiable range: 416 carries Content-Range: bytes */<size> (RFC 9110 §15.5.17)', async () => {
    const res = await c.get(`/v2/${rrepo}/blobs/${blob.digest}`, { headers: { Range: 'bytes=1000-' } });
    assertStatus(res, 416);
    assert.equal(res.headers.get('content-range'), 'bytes */100');
  });

  it("the Docker-Content-Digest of a partial response is the whole blob's", async () => {
    const res = await c.get(`/v2/${rrepo}/blobs/${blob.digest}`, { headers: { Range: 'bytes=0-0' } });
    assertStatus(res, 206);
    assert.equal(res.body.length, 1);
    const h = res.headers.get('docker-content-digest');
    if (h) assert.equal(h, blob.digest);
  });

  it('a Range on an unknown blob is still 404 BLOB_UNKNOWN', async () => {
    const res = await c.get(`/v2/${rrepo}/blobs/${dummyDigest}`, { headers: { Range: 'bytes=0-9' } });
    assertError(res, 404, 'BLOB_UNKNOWN');
  });

  it('without Range the whole blob comes back with 200', async () => {
    const res = await c.get(`/v2/${rrepo}/blobs/${blob.digest}`);
    assertStatus(res, 200);
    assert.ok(res.body.equals(blob.bytes));
  });
});
