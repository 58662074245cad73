// The jobs contract: what every metadata store must do for background work, whatever the number of nodes. Each
// case takes two store instances on the same database ("two nodes") from the factory. Run against every
// implementation (jobs-sqlite.test.ts, and PostgreSQL where it is available).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MetaStore } from '../../src/storage/meta/store.ts';
import { JobRunner } from '../../src/jobs/runner.ts';

/** Two handles on one fresh, empty database, and how to release them. */
export type TwoNodes = () => Promise<{ a: MetaStore; b: MetaStore; close: () => Promise<void> }>;

export function jobStoreContract(name: string, nodes: TwoNodes): void {
  describe(`jobs contract: ${name}`, () => {
    test('a due job is claimed by exactly one node, and a finished one never again', async (t) => {
      const { a, b, close } = await nodes();
      t.after(close);
      const id = await a.enqueueJob({ kind: 'k', payload: '{"n":1}', runAt: 1000, maxAttempts: 3 }, 1000);
      assert.equal(await b.claimJob('node-b', ['k'], 999, 60_000), undefined, 'not before its time');
      assert.equal(await b.claimJob('node-b', ['other'], 2000, 60_000), undefined, 'only the kinds asked for');
      const [ca, cb] = await Promise.all([a.claimJob('node-a', ['k'], 2000, 62_000), b.claimJob('node-b', ['k'], 2000, 62_000)]);
      assert.equal([ca, cb].filter(Boolean).length, 1, 'one claim wins');
      const won = (ca ?? cb)!;
      assert.equal(won.id, id);
      assert.equal(won.status, 'running');
      assert.equal(won.attempts, 1);
      assert.deepEqual(JSON.parse(won.payload), { n: 1 });
      const owner = won.leaseOwner!;
      const loser = owner === 'node-a' ? 'node-b' : 'node-a';
      assert.equal(await a.finishJob(id, loser, { result: '1' }, 3000), false, 'only the holder records an outcome');
      assert.equal(await a.finishJob(id, owner, { result: '{"ok":true}' }, 3000), true);
      const done = (await b.getJob(id))!;
      assert.equal(done.status, 'succeeded');
      assert.equal(done.result, '{"ok":true}');
      assert.equal(await a.claimJob('node-a', ['k'], 10 ** 12, 10 ** 12 + 1), undefined);
    });

    test('pruneJobs deletes the succeeded jobs of a kind finished before a time, and no others', async (t) => {
      const { a, b, close } = await nodes();
      t.after(close);
      const run = async (kind: string, at: number, outcome: { result: string } | { error: string; retryAt: null }) => {
        const id = await a.enqueueJob({ kind, payload: '{}', runAt: at, maxAttempts: 1 }, at);
        assert.ok(await a.claimJob('n', [kind], at, at + 1000));
        await a.finishJob(id, 'n', outcome, at);
        return id;
      };
      const old = await run('w', 100, { result: '1' });
      const dead = await run('w', 200, { error: 'x', retryAt: null });
      const recent = await run('w', 5000, { result: '1' });
      const otherKind = await run('v', 300, { result: '1' });
      const queued = await a.enqueueJob({ kind: 'w', payload: '{}', runAt: 10 ** 12, maxAttempts: 1 }, 50);
      assert.equal(await b.pruneJobs('w', 1000), 1);
      assert.equal(await a.getJob(old), undefined);
      for (const id of [dead, recent, otherKind, queued]) assert.ok(await a.getJob(id), `job ${id} kept`);
    });

    test('a node that dies loses its job to another once its lease runs out; heartbeats keep it', async (t) => {
      const { a, b, close } = await nodes();
      t.after(close);
      const id = await a.enqueueJob({ kind: 'k', payload: '{}', runAt: 0, maxAttempts: 3 }, 0);
      assert.ok(await a.claimJob('node-a', ['k'], 100, 1100));
      assert.equal(await b.claimJob('node-b', ['k'], 1000, 2000), undefined, 'the lease holds');
      assert.equal(await a.heartbeatJob(id, 'node-a', 2100, 1000), true);
      assert.equal(await b.claimJob('node-b', ['k'], 2000, 3000), undefined, 'the heartbeat extended it');
      const taken = await b.claimJob('node-b', ['k'], 2200, 3200);
      assert.equal(taken?.id, id, 'taken over after the lease ran out');
      assert.equal(taken?.attempts, 2);
      assert.equal(await a.heartbeatJob(id, 'node-a', 4000, 2300), false, 'the old holder learns it lost the job');
      assert.equal(await a.finishJob(id, 'node-a', { result: 'late' }, 2300), false);
      assert.equal(await b.finishJob(id, 'node-b', { result: '"b"' }, 2400), true);
    });

    test('a failure is retried at the time given, and after the last attempt the job is dead with its error', async (t) => {
      const { a, b, close } = await nodes();
      t.after(close);
      const id = await a.enqueueJob({ kind: 'k', payload: '{}', runAt: 0, maxAttempts: 2 }, 0);
      await a.claimJob('node-a', ['k'], 10, 1000);
      assert.equal(await a.finishJob(id, 'node-a', { error: 'boom 1', retryAt: 5000 }, 20), true);
      let job = (await b.getJob(id))!;
      assert.equal(job.status, 'queued');
      assert.equal(job.lastError, 'boom 1');
      assert.equal(await b.claimJob('node-b', ['k'], 4999, 6000), undefined, 'not before the retry time');
      assert.ok(await b.claimJob('node-b', ['k'], 5000, 6000));
      assert.equal(await b.finishJob(id, 'node-b', { error: 'boom 2', retryAt: null }, 5001), true);
      job = (await a.getJob(id))!;
      assert.equal(job.status, 'dead');
      assert.equal(job.attempts, 2);
      assert.equal(job.lastError, 'boom 2');
      assert.equal(await a.claimJob('node-a', ['k'], 10 ** 12, 10 ** 12 + 1), undefined);
      assert.deepEqual(
        (await a.listJobs({ status: 'dead' }, undefined, 10)).map((j) => j.id),
        [id],
      );
    });

    test('a due schedule fires once whatever the number of nodes, then waits an interval', async (t) => {
      const { a, b, close } = await nodes();
      t.after(close);
      await a.setJobSchedule('daily', 86_400_000, '{"s":1}', 1000);
      await b.setJobSchedule('daily', 86_400_000, '{"s":1}', 50_000); // a second node starting later keeps the first time
      assert.deepEqual(await a.runDueSchedules(999, 3), []);
      const fired = await Promise.all([
        a.runDueSchedules(1000, 3),
        b.runDueSchedules(1000, 3),
        a.runDueSchedules(1001, 3),
        b.runDueSchedules(1002, 3),
      ]);
      assert.equal(fired.flat().length, 1, 'one job for one firing');
      const job = (await b.getJob(fired.flat()[0]))!;
      assert.equal(job.kind, 'daily');
      assert.equal(job.payload, '{"s":1}');
      assert.deepEqual(await a.runDueSchedules(1000 + 86_399_999, 3), []);
      assert.equal((await b.runDueSchedules(1000 + 86_400_000, 3)).length, 1, 'due again one interval later');
      await a.setJobSchedule('daily', 0, '{}', 0);
      assert.deepEqual(await b.runDueSchedules(10 ** 12, 3), [], 'a removed schedule never fires');
    });

    test('two runners, one per node, run every one of many jobs exactly once', async (t) => {
      const { a, b, close } = await nodes();
      t.after(close);
      const runs = new Map<number, string[]>();
      const handler = (node: string) => async (payload: unknown) => {
        const n = (payload as { n: number }).n;
        runs.set(n, [...(runs.get(n) ?? []), node]);
        await new Promise((r) => setTimeout(r, 1));
        return n * 2;
      };
      const ra = new JobRunner({ meta: a, handlers: { work: handler('a') }, pollMs: 10 });
      const rb = new JobRunner({ meta: b, handlers: { work: handler('b') }, pollMs: 10 });
      const ids = [];
      for (let n = 0; n < 40; n++) ids.push(await ra.enqueue('work', { n }));
      ra.start();
      rb.start();
      t.after(() => Promise.all([ra.stop(), rb.stop()]));
      const deadline = Date.now() + 20_000;
      while ((await a.listJobs({ status: 'succeeded', kind: 'work' }, undefined, 100)).length < 40) {
        assert.ok(Date.now() < deadline, 'every job done within 20 s');
        await new Promise((r) => setTimeout(r, 20));
      }
      for (let n = 0; n < 40; n++) assert.equal(runs.get(n)?.length, 1, `job ${n} ran once: ${runs.get(n)}`);
      const results = await Promise.all(ids.map(async (id) => JSON.parse((await b.getJob(id))!.result!)));
      assert.deepEqual(
        results,
        ids.map((_, n) => n * 2),
      );
    });

    test("run() waits for the job's result; on demand a failure is final at once, with its own error", async (t) => {
      const { a, b, close } = await nodes();
      t.after(close);
      let calls = 0;
      class Full extends Error {}
      const handlers = {
        ok: async (p: unknown) => ({ echoed: p }),
        bad: async () => {
          calls++;
          throw new Full(`failure ${calls}`);
        },
      };
      const runner = new JobRunner({ meta: a, pollMs: 10, maxAttempts: 5, handlers });
      assert.deepEqual(await runner.run('ok', { x: 1 }), { echoed: { x: 1 } });
      await assert.rejects(
        runner.run('bad'),
        (e) => e instanceof Full && e.message === 'failure 1',
        'the error as it was, from one attempt',
      );
      assert.equal(calls, 1);
      // Run by another node: what the store kept of the error.
      const other = new JobRunner({ meta: b, pollMs: 10, handlers });
      other.start();
      t.after(() => other.stop());
      const waiting = new JobRunner({ meta: a, pollMs: 10, handlers: { bad: handlers.bad } });
      waiting.start(); // a serving node waits for whichever node claims it
      const claimedElsewhere = await Promise.allSettled([waiting.run('bad')]);
      await waiting.stop();
      assert.equal(claimedElsewhere[0].status, 'rejected');
      assert.match(String((claimedElsewhere[0] as PromiseRejectedResult).reason.message), /failure \d/);
    });

    test('a scheduled job that fails is retried with backoff, then dead with its last error', async (t) => {
      const { a, close } = await nodes();
      t.after(close);
      let calls = 0;
      const runner = new JobRunner({
        meta: a,
        pollMs: 10,
        maxAttempts: 2,
        handlers: {
          bad: async () => {
            calls++;
            throw new Error(`failure ${calls}`);
          },
        },
        now: (() => {
          let clock = 0;
          return () => (clock += 10_000);
        })(), // each reading 10 s on: retries are due at once
      });
      const id = await runner.enqueue('bad');
      while (await runner.runOnce());
      const job = (await a.getJob(id))!;
      assert.equal(job.status, 'dead');
      assert.equal(job.attempts, 2);
      assert.equal(job.lastError, 'failure 2');
      assert.equal(calls, 2);
    });
  });
}
