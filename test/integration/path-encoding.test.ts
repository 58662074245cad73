// Malformed percent-encoding in a request's path or query (issue 16, item 8): a client error in the protocol's own
// format, never a 500. On /v2/: 400 with NAME_INVALID for the repository name, and for the reference the code of an
// invalid one of its kind (MANIFEST_INVALID for a manifest reference, DIGEST_INVALID for a blob or referrers digest,
// BLOB_UPLOAD_INVALID for an upload id). A request target that is no URL at all (`//`) is a client error too, on
// every endpoint, and the server goes on serving. (ECR's POST /, the token endpoint and the admin API never
// percent-decode: URLSearchParams and SigV4's canonical query tolerate malformed escapes, and the admin action is
// matched undecoded.)
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { pushBlob, req, type Res } from '../helpers/http.ts';

let berth: Berth;
let digest: string;

before(async () => {
  berth = await startBerth();
  digest = await pushBlob(berth, 'enc/repo', Buffer.from('encoding'));
});
after(async () => {
  await berth?.cleanup();
});

function assertOciError(res: Res, status: number, code: string, what: string): void {
  assert.equal(res.status, status, `${what}: ${res.status} ${res.body.toString().slice(0, 300)}`);
  assert.equal(res.headers.get('content-type'), 'application/json', what);
  const body = JSON.parse(res.body.toString('utf8'));
  assert.equal(body.errors[0].code, code, what);
  assert.match(body.errors[0].message, /percent-encoding/, what);
}

/** One request with the path sent exactly as given (fetch would normalise some request targets). */
function raw(method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(berth.url);
    const r = http.request({ host: u.hostname, port: u.port, method, path, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    r.on('error', reject);
    r.end();
  });
}

async function stillServes(): Promise<void> {
  assert.equal((await req(berth, 'GET', '/v2/')).status, 200);
  assert.equal((await req(berth, 'HEAD', `/v2/enc/repo/blobs/${digest}`)).status, 200);
}

describe('/v2/ paths with malformed percent-encoding', () => {
  const cases: [string, string, string, string][] = [
    ['GET', '/v2/a%zz/tags/list', 'NAME_INVALID', 'a name with %zz'],
    ['GET', '/v2/a%E0%A4/manifests/latest', 'NAME_INVALID', 'a name with a cut UTF-8 sequence'],
    ['POST', '/v2/a%/blobs/uploads/', 'NAME_INVALID', 'a name ending in %'],
    ['GET', '/v2/enc/repo/manifests/%E0%A4%A', 'MANIFEST_INVALID', 'a manifest reference with a cut UTF-8 sequence'],
    ['PUT', '/v2/enc/repo/manifests/v%zz', 'MANIFEST_INVALID', 'a manifest tag with %zz'],
    ['DELETE', '/v2/enc/repo/manifests/sha256%3Aabc%', 'MANIFEST_INVALID', 'a manifest digest ending in %'],
    ['GET', '/v2/enc/repo/blobs/sha256%zz', 'DIGEST_INVALID', 'a blob digest with %zz'],
    ['DELETE', '/v2/enc/repo/blobs/%FF', 'DIGEST_INVALID', 'a blob digest that is no UTF-8'],
    ['GET', '/v2/enc/repo/referrers/sha256%zz', 'DIGEST_INVALID', 'a referrers digest with %zz'],
    ['PATCH', '/v2/enc/repo/blobs/uploads/%zz', 'BLOB_UPLOAD_INVALID', 'an upload id with %zz'],
    ['GET', '/v2/enc/repo/blobs/uploads/%E0', 'BLOB_UPLOAD_INVALID', 'an upload id with a cut UTF-8 sequence'],
  ];
  for (const [method, path, code, what] of cases) {
    it(`${method} ${path} (${what}): 400 ${code}`, async () => {
      assertOciError(await req(berth, method, path), 400, code, `${method} ${path}`);
    });
  }

  it('HEAD answers 400 with no body', async () => {
    const res = await req(berth, 'HEAD', '/v2/enc/repo/manifests/%E0%A4%A');
    assert.equal(res.status, 400);
    assert.equal(res.body.length, 0);
  });

  it('without credentials, too (the path is refused before anything is looked up)', async () => {
    assertOciError(await req(berth, 'GET', '/v2/a%zz/tags/list', { auth: false }), 400, 'NAME_INVALID', 'anonymous');
  });

  it('a layer download URL (signature in the query) with a malformed path: 400, not 500', async () => {
    const res = await req(berth, 'GET', `/v2/a%zz/blobs/${digest}?X-Berth-Signature=x`, { auth: false });
    assertOciError(res, 400, 'NAME_INVALID', 'download URL with a bad name');
    const ref = await req(berth, 'GET', '/v2/enc/repo/blobs/sha256%zz?X-Berth-Signature=x', { auth: false });
    assertOciError(ref, 400, 'DIGEST_INVALID', 'download URL with a bad digest');
    await stillServes();
  });
});

describe('a request target that is no URL', () => {
  it('//, //[ and //a%zz/v2/: 400, not 500', async () => {
    for (const path of ['//', '//[', '//a%zz/v2/']) {
      const res = await raw('GET', path, { Authorization: berth.authHeader });
      assert.equal(res.status, 400, `GET ${path}: ${res.status} ${res.body}`);
      assert.match(JSON.parse(res.body).message, /malformed request target/);
    }
    await stillServes();
  });
});
