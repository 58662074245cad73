// DELETE /v2/<name>/blobs/<digest> of a blob that a manifest of the repository references (issue 16, item 8): refused
// with DENIED and a message naming a manifest that holds it, and nothing changes (the image still pulls). The status
// is 405, the spec's answer to a DELETE the registry refuses, and the only refusal the OCI conformance suite accepts
// when its teardown deletes blobs that its manifests still reference (zot answers the same). Once no manifest of the
// repository references the blob, the DELETE goes through (202).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ociManifest, pushBlob, pushImage, putManifest, req, type Target } from '../helpers/http.ts';

let berth: Berth;

before(async () => {
  berth = await startBerth();
});
after(async () => {
  await berth?.cleanup();
});

interface OciError {
  code: string;
  message: string;
  detail: unknown;
}
const errorsOf = (body: Buffer): OciError[] => JSON.parse(body.toString('utf8')).errors;

async function assertPulls(t: Target, repo: string, tag: string, digests: string[]): Promise<void> {
  assert.equal(
    (await req(t, 'GET', `/v2/${repo}/manifests/${tag}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })).status,
    200,
  );
  for (const d of digests) assert.equal((await req(t, 'GET', `/v2/${repo}/blobs/${d}`)).status, 200, `blob ${d} still readable`);
}

describe('DELETE of a blob a manifest references', () => {
  it('refuses the layer and the config with DENIED naming the manifest, and the image still pulls', async () => {
    const repo = 'del/referenced';
    const image = await pushImage(berth, repo, 'v1');
    for (const blob of [image.layer, image.config]) {
      const res = await req(berth, 'DELETE', `/v2/${repo}/blobs/${blob.digest}`);
      assert.equal(res.status, 405, `DELETE ${blob.digest}: ${res.status} ${res.body}`);
      assert.equal(res.headers.get('allow'), 'GET, HEAD');
      assert.equal(res.headers.get('content-type'), 'application/json');
      const [error] = errorsOf(res.body);
      assert.equal(error.code, 'DENIED');
      assert.ok(error.message.includes(image.digest), `the message names the manifest: ${error.message}`);
      assert.ok(error.message.includes(blob.digest), `the message names the blob: ${error.message}`);
    }
    await assertPulls(berth, repo, 'v1', [image.layer.digest, image.config.digest]);
  });

  it('an untagged manifest holds its blobs too', async () => {
    const repo = 'del/untagged';
    const image = await pushImage(berth, repo, 'v1');
    assert.equal((await req(berth, 'DELETE', `/v2/${repo}/manifests/v1`)).status, 202, 'the tag is deleted, the manifest stays');
    assert.equal((await req(berth, 'DELETE', `/v2/${repo}/blobs/${image.layer.digest}`)).status, 405);
    assert.equal((await req(berth, 'GET', `/v2/${repo}/manifests/${image.digest}`)).status, 200);
    assert.equal((await req(berth, 'GET', `/v2/${repo}/blobs/${image.layer.digest}`)).status, 200);
  });

  it('a manifest of another repository does not hold the blob in this one', async () => {
    const layer = Buffer.from('shared layer ' + Math.random());
    const image = await pushImage(berth, 'del/holder', 'v1', { layer });
    const other = 'del/other';
    const digest = await pushBlob(berth, other, layer);
    assert.equal(digest, image.layer.digest);
    assert.equal((await req(berth, 'DELETE', `/v2/del/holder/blobs/${digest}`)).status, 405, "del/holder's manifest references it");
    assert.equal((await req(berth, 'DELETE', `/v2/${other}/blobs/${digest}`)).status, 202, 'no manifest of del/other references it');
    assert.equal((await req(berth, 'GET', `/v2/${other}/blobs/${digest}`)).status, 404);
    await assertPulls(berth, 'del/holder', 'v1', [digest]);
  });

  it('once the manifest is deleted, the blob can be deleted', async () => {
    const repo = 'del/after';
    const image = await pushImage(berth, repo, 'v1');
    assert.equal((await req(berth, 'DELETE', `/v2/${repo}/blobs/${image.layer.digest}`)).status, 405);
    assert.equal((await req(berth, 'DELETE', `/v2/${repo}/manifests/${image.digest}`)).status, 202);
    assert.equal((await req(berth, 'DELETE', `/v2/${repo}/blobs/${image.layer.digest}`)).status, 202);
    assert.equal((await req(berth, 'GET', `/v2/${repo}/blobs/${image.layer.digest}`)).status, 404);
    // A manifest referencing it again is refused until it is pushed again (the repository no longer holds it).
    const manifest = ociManifest(image.config, [image.layer]);
    assert.equal((await putManifest(berth, repo, 'v2', manifest)).status, 400);
  });

  it('with two manifests holding it, the message names one of them; deleting one still refuses', async () => {
    const repo = 'del/two';
    const layer = Buffer.from('two ' + Math.random());
    const a = await pushImage(berth, repo, 'a', { layer, annotations: { n: 'a' } });
    const b = await pushImage(berth, repo, 'b', { layer, annotations: { n: 'b' } });
    const first = await req(berth, 'DELETE', `/v2/${repo}/blobs/${a.layer.digest}`);
    assert.equal(first.status, 405);
    const named = errorsOf(first.body)[0].message;
    assert.ok(named.includes(a.digest) || named.includes(b.digest), named);
    assert.equal((await req(berth, 'DELETE', `/v2/${repo}/manifests/${a.digest}`)).status, 202);
    const second = await req(berth, 'DELETE', `/v2/${repo}/blobs/${a.layer.digest}`);
    assert.equal(second.status, 405);
    assert.ok(errorsOf(second.body)[0].message.includes(b.digest));
    await assertPulls(berth, repo, 'b', [a.layer.digest]);
  });
});
