// The one authorization decision every adapter asks for: may this principal perform this ECR action on this
// resource? For now an account's root (and its users) may do everything in their own account, and anonymous
// callers nothing; the IAM policy evaluator (identity and repository policies) replaces the body of this function.
import type { Principal } from './principal.ts';

export type EcrAction = `ecr:${string}`;

export interface Decision {
  allowed: boolean;
  reason: string;
}

export function authorize(principal: Principal, action: EcrAction, resourceArn: string): Decision {
  if (principal.kind === 'anonymous') return { allowed: false, reason: 'anonymous access is not granted by any policy' };
  const account = /^arn:aws:ecr:[^:]*:(\d{12}):/.exec(resourceArn)?.[1];
  if (account !== undefined && account !== principal.accountId) {
    return { allowed: false, reason: `${action} on another account's resource` };
  }
  return { allowed: true, reason: `${principal.kind} of account ${principal.accountId}` };
}
