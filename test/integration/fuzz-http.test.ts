// Fuzzing over HTTP, against a real server: random and mutated bodies sent to the ECR endpoint (signed with the
// SDK's own signer, so that they get past authentication to validation and the operations) and to the OCI
// manifest PUT. Every answer is a protocol answer: a success, or a 4xx in the protocol's error JSON (`__type` for
// ECR, `errors[].code` for OCI), never a 5xx; and the server keeps answering. BERTH_FUZZ_HTTP_RUNS cases each
// (300 unless told).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrRaw, TARGET_PREFIX } from '../helpers/ecr.ts';
import { operations, valid } from '../helpers/ecr-input.ts';
import { fc, mutate, mutation } from '../helpers/fuzz.ts';
import { CONFIG_TYPE, LAYER_TYPE, MANIFEST_TYPE, ociManifest, pushBlob, req, serverErrors, serverReport } from '../helpers/http.ts';
import { model } from '../../src/ecr/validate.ts';

const RUNS = Number(process.env.BERTH_FUZZ_HTTP_RUNS ?? 300);
const SEED = process.env.BERTH_FUZZ_SEED === undefined ? {} : { seed: Number(process.env.BERTH_FUZZ_SEED) };

let berth: Berth;

before(async () => {
  berth = await startBerth();
});

after(async () => {
  const errors = serverErrors(berth.output());
  if (errors) console.log('# server errors:\n' + errors.replace(/^/gm, '# '));
  if (berth.process.exitCode !== null || berth.process.signalCode !== null) console.log(serverReport(berth));
  await berth.cleanup();
});

const bytes = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b));
const json = fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v)));

test('the ECR endpoint answers any signed body with a result or an ECR error, never a 5xx', { timeout: 10 * 60 * 1000 }, async () => {
  const operation = fc.oneof(fc.constantFrom(...operations), fc.constantFrom('NoSuchOperation', ''));
  const body = (op: string) =>
    fc.oneof(
      bytes,
      json,
      ...(model.operations[op]?.input
        ? [
            fc
              .tuple(valid(model.operations[op].input!), fc.array(mutation(), { maxLength: 3 }))
              .map(([input, ms]) => Buffer.from(JSON.stringify(ms.reduce((d, m) => mutate(d, m), input as any)))),
          ]
        : []),
    );
  const request = operation.chain((op) => fc.record({ op: fc.constant(op), body: body(op) }));
  await fc.assert(
    fc.asyncProperty(request, async ({ op, body }) => {
      const r = await ecrRaw(berth, op, body, { target: op === '' ? TARGET_PREFIX : undefined });
      assert.ok(r.status < 500, `${op}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
      const answer = JSON.parse(r.text || '{}') as { __type?: unknown };
      if (r.status >= 400) assert.equal(typeof answer.__type, 'string', `${op}: HTTP ${r.status} without __type: ${r.text.slice(0, 300)}`);
      else assert.equal(r.status, 200, `${op}: ${r.status}`);
    }),
    { numRuns: RUNS, ...SEED },
  );

  const alive = await ecrRaw(berth, 'DescribeRepositories', {});
  assert.equal(alive.status, 200, alive.text);
});

test('the OCI manifest PUT answers any body with 201 or an OCI error, never a 5xx', { timeout: 10 * 60 * 1000 }, async () => {
  const repo = 'fuzz/oci';
  const configData = Buffer.from('{"architecture":"amd64","os":"linux"}');
  const layerData = Buffer.from('a layer for the fuzzer');
  const config = { mediaType: CONFIG_TYPE, digest: await pushBlob(berth, repo, configData), size: configData.length };
  const layer = { mediaType: LAYER_TYPE, digest: await pushBlob(berth, repo, layerData), size: layerData.length };
  const base = JSON.parse(ociManifest(config, [layer]).toString()) as Record<string, unknown>;

  const body = fc.oneof(
    bytes,
    json,
    fc
      .array(mutation(), { minLength: 1, maxLength: 3 })
      .map((ms) => Buffer.from(JSON.stringify(ms.reduce((d, m) => mutate(d, m), base as any)))),
  );
  const contentType = fc.constantFrom(
    MANIFEST_TYPE,
    'application/vnd.oci.image.index.v1+json',
    'application/vnd.docker.distribution.manifest.v2+json',
    'application/json',
    'text/plain',
    '',
  );
  const reference = fc.oneof(
    fc.constant('v1'),
    fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,20}$/),
    fc.string({ maxLength: 30 }),
    fc.stringMatching(/^sha256:[a-f0-9]{60,66}$/),
  );
  await fc.assert(
    fc.asyncProperty(body, contentType, reference, async (b, ct, ref) => {
      const headers: Record<string, string> = ct ? { 'Content-Type': ct } : {};
      const r = await req(berth, 'PUT', `/v2/${repo}/manifests/${encodeURIComponent(ref) || 'v1'}`, { headers, body: b });
      assert.ok(r.status < 500, `HTTP ${r.status} ${r.body.toString().slice(0, 300)}`);
      if (r.status === 201) return;
      assert.ok(r.status >= 400, `HTTP ${r.status}`);
      const answer = JSON.parse(r.body.toString() || '{}') as { errors?: { code?: unknown }[] };
      assert.ok(
        Array.isArray(answer.errors) && answer.errors.length > 0 && answer.errors.every((e) => typeof e.code === 'string'),
        `HTTP ${r.status} without OCI errors: ${r.body.toString().slice(0, 300)}`,
      );
    }),
    { numRuns: RUNS, ...SEED },
  );

  const alive = await req(berth, 'GET', '/v2/');
  assert.equal(alive.status, 200);
});
