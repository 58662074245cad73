// Requests in flight at once per principal: a principal at the limit is refused (TOO_MANY_REQUESTS: 429
// TOOMANYREQUESTS on /v2/, ThrottlingException on the ECR API) until one of its requests ends. The count is per
// node, in memory: an in-flight count needs no coordination, and N nodes allow a principal N times the limit.
import type { ServerResponse } from 'node:http';
import type { Principal } from '../auth/principal.ts';
import { fail } from '../core/errors.ts';

export class PrincipalRequests {
  private readonly max: number;
  private readonly inFlight = new Map<string, number>();

  constructor(max: number) {
    this.max = max;
  }

  /**
   * Counts a request of `principal` until its response closes, or throws TOO_MANY_REQUESTS when the principal has
   * the most in flight it may have. Anonymous callers are not one principal: they are held by the per-address
   * connection cap instead.
   */
  admit(principal: Principal, res: ServerResponse): void {
    if (principal.kind === 'anonymous') return;
    const arn = principal.arn;
    const count = this.inFlight.get(arn) ?? 0;
    if (count >= this.max)
      fail('TOO_MANY_REQUESTS', `Rate exceeded: ${arn} has ${this.max} requests in progress, the most it may have at once`);
    this.inFlight.set(arn, count + 1);
    res.once('close', () => {
      const left = (this.inFlight.get(arn) ?? 1) - 1;
      if (left > 0) this.inFlight.set(arn, left);
      else this.inFlight.delete(arn);
    });
  }
}
