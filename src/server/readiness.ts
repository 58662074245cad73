// GET /readyz (public): whether this node can serve, that is whether the metadata store and the blob store answer.
// Each is asked something cheap (a settings row; the blob directories or the bucket) with a short timeout, both at
// once. 200 when both answer, else 503 naming what failed. The body says only which store failed and whether it
// timed out or erred (anyone may ask); the error itself goes to the log, once per change of state, not per probe.
import type { Logger } from './log.ts';

/** How long each store has to answer a readiness probe. */
export const READY_TIMEOUT_MS = 2000;

export type CheckResult = { ok: true } | { ok: false; reason: 'timeout' | 'error' };

export interface ReadinessReport {
  status: 'ready' | 'unavailable';
  checks: Record<string, CheckResult>;
}

export class Readiness {
  private readonly failing = new Set<string>();
  private readonly checks: Record<string, () => Promise<unknown>>;
  private readonly log?: Logger;
  private readonly timeoutMs: number;

  /** `checks`: each store's cheap question, by the name the report gives it. */
  constructor(checks: Record<string, () => Promise<unknown>>, log?: Logger, timeoutMs = READY_TIMEOUT_MS) {
    this.checks = checks;
    this.log = log;
    this.timeoutMs = timeoutMs;
  }

  async report(): Promise<ReadinessReport> {
    const names = Object.keys(this.checks);
    const results = await Promise.all(names.map((name) => this.run(name)));
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    return { status: results.every((r) => r.ok) ? 'ready' : 'unavailable', checks };
  }

  private async run(name: string): Promise<CheckResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.timeoutMs);
    });
    let result: CheckResult;
    let error: unknown;
    try {
      const outcome = await Promise.race([this.checks[name]().then(() => 'ok' as const), timeout]);
      result = outcome === 'ok' ? { ok: true } : { ok: false, reason: 'timeout' };
    } catch (e) {
      error = e;
      result = { ok: false, reason: 'error' };
    } finally {
      clearTimeout(timer);
    }
    if (!result.ok && !this.failing.has(name)) {
      this.failing.add(name);
      this.log?.warn({ err: error, store: name, reason: result.reason }, `readiness: the ${name} store does not answer`);
    } else if (result.ok && this.failing.delete(name)) {
      this.log?.info({ store: name }, `readiness: the ${name} store answers again`);
    }
    return result;
  }
}
