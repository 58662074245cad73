// What an upload costs when its completion goes to another node than its chunks (no session affinity): the same
// 64 MiB blob uploaded in one PATCH to node A, then completed (an empty PUT ?digest=) on A, or on B, which must read
// the upload back from the store to hash it. PostgreSQL and Ceph RGW are started here, as in the tests.
// Run: node bench/upload-handover.ts [rounds]
import { randomBytes } from 'node:crypto';
import { SHARED_SECRET_KEY, startBerth } from '../test/helpers/berth.ts';
import { req, resolveLocation, sha256, withDigest, MiB } from '../test/helpers/http.ts';
import { startPostgres } from '../test/helpers/postgres.ts';
import { startRgw } from '../test/helpers/rgw.ts';

const rounds = Number(process.argv[2] ?? 5);
const [postgres, rgw] = await Promise.all([startPostgres(), startRgw()]);
const bucket = `handover-${Date.now()}`;
await rgw.createBucket(bucket);
const env = {
  BERTH_DATABASE_URL: await postgres.createDatabase('handover'),
  ...rgw.berthEnv(bucket, 'b'),
  BERTH_SECRET_KEY: SHARED_SECRET_KEY,
  BERTH_CREATE_ON_PUSH: 'true',
};
const keys = { accessKeyId: 'AKIAHANDOVER00000001', secretAccessKey: 'handover-secret' };
const [a, b] = [await startBerth({ ...keys, env }), await startBerth({ ...keys, env })];
try {
  const times: Record<string, number[]> = { 'completed on A (hash state at hand)': [], 'completed on B (read back from the store)': [] };
  for (let i = 0; i < rounds; i++) {
    for (const [label, completer] of [
      ['completed on A (hash state at hand)', a],
      ['completed on B (read back from the store)', b],
    ] as const) {
      const data = randomBytes(64 * MiB);
      const start = await req(a, 'POST', '/v2/bench/handover/blobs/uploads/');
      const patched = await req(a, 'PATCH', resolveLocation(a, start.headers.get('location')!), {
        headers: { 'Content-Type': 'application/octet-stream' },
        body: data,
      });
      if (patched.status !== 202) throw new Error(`PATCH: ${patched.status}`);
      const t0 = process.hrtime.bigint();
      const done = await req(completer, 'PUT', withDigest(resolveLocation(completer, patched.headers.get('location')!), sha256(data)));
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (done.status !== 201) throw new Error(`PUT: ${done.status} ${done.body}`);
      times[label].push(ms);
    }
  }
  for (const [label, t] of Object.entries(times)) {
    const sorted = [...t].sort((x, y) => x - y);
    console.log(
      `${label}: median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms, min ${sorted[0].toFixed(0)} ms, max ${sorted[sorted.length - 1].toFixed(0)} ms (${t.length} rounds, 64 MiB)`,
    );
  }
} finally {
  await a.cleanup();
  await b.cleanup();
  await rgw.stop();
  await postgres.stop();
}
