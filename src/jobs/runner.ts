// Background work as jobs in the metadata store (DESIGN.md, "Jobs"): each node runs a JobRunner that fires the
// recurring schedules that are due (one node wins each firing), claims due jobs with a lease, keeps the lease alive
// while a job runs, and records the result, or a retry with backoff, or the job's death with its last error. A
// node that dies mid-job loses its lease and another node takes the job over. Timers here only poll: which node
// runs what, and that it runs once, is decided by the store.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Job, MetaStore } from '../storage/meta/store.ts';
import type { Logger } from '../server/log.ts';

export type JobHandler = (payload: unknown, job: Job) => Promise<unknown>;

export interface JobRunnerOptions {
  meta: MetaStore;
  handlers: Record<string, JobHandler>;
  log?: Logger;
  /** How long a claim holds without a heartbeat (a dead node's job is taken over after this). */
  leaseMs?: number;
  /** How often an idle node looks for due work. */
  pollMs?: number;
  maxAttempts?: number;
  /** Wall-clock time: schedules and leases follow it, never the registry's test clock. */
  now?: () => number;
}

/** The backoff before attempt n + 1: 5 s, 10 s, 20 s, ... at most an hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(5_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

export class JobFailedError extends Error {}

export class JobRunner {
  /** This node's name in leases: host, pid and a random part (a restarted process is another owner). */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly meta: MetaStore;
  private readonly handlers: Record<string, JobHandler>;
  private log?: Logger;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly maxAttempts: number;
  private readonly now: () => number;
  private running = false;
  private loopDone: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Errors of the jobs this process ran and that died, for `run` to throw as they were (taken once). */
  private readonly failures = new Map<number, unknown>();
  /** Told each job this node ran, when it ends (the server's metrics). */
  private observer?: (kind: string, outcome: 'succeeded' | 'failed', result?: unknown) => void;

  constructor(opts: JobRunnerOptions) {
    this.meta = opts.meta;
    this.handlers = opts.handlers;
    this.log = opts.log;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.pollMs = opts.pollMs ?? 1_000;
    this.maxAttempts = opts.maxAttempts ?? 5;
    this.now = opts.now ?? Date.now;
  }

  /** Who is told each job's outcome (one observer: the server's metrics). */
  observe(observer: (kind: string, outcome: 'succeeded' | 'failed', result?: unknown) => void): void {
    this.observer = observer;
  }

  /** Where a serving node logs what its jobs do. */
  useLog(log: Logger): void {
    this.log = log;
  }

  /** Sets (intervalMs > 0) or removes (0) the recurring schedule of a kind; its first run is one interval away. */
  schedule(kind: string, intervalMs: number, payload: unknown = {}): Promise<void> {
    return this.meta.setJobSchedule(kind, intervalMs, JSON.stringify(payload), this.now() + intervalMs);
  }

  async enqueue(kind: string, payload: unknown = {}, maxAttempts = this.maxAttempts): Promise<number> {
    if (!this.handlers[kind]) throw new Error(`no handler for jobs of kind ${kind}`);
    const id = await this.meta.enqueueJob({ kind, payload: JSON.stringify(payload), runAt: this.now(), maxAttempts }, this.now());
    this.wake?.();
    return id;
  }

  /**
   * Runs a job on demand (`berth gc`, `berth lifecycle run`) and waits for its outcome: its result, or its error.
   * One attempt: the one who asked sees a failure at once and may ask again. A node that serves (started) lets its
   * loop (or any other node) run it; elsewhere (the CLI with no server) this process runs due jobs itself until that
   * one is done. When this process ran it, its error is thrown as it was (a full disk stays a full disk); when
   * another node did, a JobFailedError carries the error's text.
   */
  async run(kind: string, payload: unknown = {}): Promise<unknown> {
    const id = await this.enqueue(kind, payload, 1);
    for (;;) {
      const job = await this.meta.getJob(id);
      if (!job) throw new JobFailedError(`job ${id} is gone`);
      if (job.status === 'succeeded') return job.result === null ? null : JSON.parse(job.result);
      if (job.status === 'dead') {
        const local = this.failures.get(id);
        this.failures.delete(id);
        throw local ?? new JobFailedError(`${kind} job ${id} failed after ${job.attempts} attempt(s): ${job.lastError}`);
      }
      if (this.running || !(await this.runOnce()))
        await sleep(this.running ? 50 : Math.min(this.pollMs, Math.max(50, job.runAt - this.now())));
    }
  }

  /** Starts the loop: schedules, then due jobs, then a poll interval's sleep (cut short by a local enqueue). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  /** Stops taking work and waits for the job in hand to end. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        await this.meta.runDueSchedules(this.now(), this.maxAttempts);
        while (this.running && (await this.runOnce()));
      } catch (e) {
        this.log?.error({ err: e }, 'job runner: cannot reach the metadata store');
      }
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Claims one due job and runs it; false when none was due. */
  async runOnce(): Promise<boolean> {
    const job = await this.meta.claimJob(this.owner, Object.keys(this.handlers), this.now(), this.now() + this.leaseMs);
    if (!job) return false;
    const heartbeat = setInterval(
      () => {
        this.meta.heartbeatJob(job.id, this.owner, this.now() + this.leaseMs, this.now()).then(
          (held) => {
            if (!held) this.log?.warn({ job: job.id, kind: job.kind }, 'job lease lost: another node took the job over');
          },
          (e: unknown) => this.log?.warn({ err: e, job: job.id }, 'job heartbeat failed'),
        );
      },
      Math.max(10, Math.floor(this.leaseMs / 3)),
    );
    heartbeat.unref();
    const started = this.now();
    try {
      const result = await this.handlers[job.kind](JSON.parse(job.payload), job);
      await this.meta.finishJob(job.id, this.owner, { result: JSON.stringify(result ?? null) }, this.now());
      this.log?.info({ job: job.id, kind: job.kind, ms: this.now() - started }, 'job done');
      this.observer?.(job.kind, 'succeeded', result);
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      const retryAt = job.attempts >= job.maxAttempts ? null : this.now() + retryDelayMs(job.attempts);
      if (retryAt === null) {
        this.failures.set(job.id, e);
        if (this.failures.size > 100) this.failures.delete(this.failures.keys().next().value!);
      }
      await this.meta.finishJob(job.id, this.owner, { error, retryAt }, this.now());
      this.log?.error({ err: e, job: job.id, kind: job.kind, attempt: job.attempts, dead: retryAt === null }, 'job failed');
      this.observer?.(job.kind, 'failed');
    } finally {
      clearInterval(heartbeat);
    }
    return true;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
