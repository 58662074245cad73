// Who is making a request. Every request carries a principal and the account it acts in; the ECR token flow,
// users and policies (later issues) produce the same shape.

export interface Principal {
  kind: 'root' | 'user' | 'anonymous';
  /** The 12-digit account the principal belongs to (for anonymous: the account addressed). */
  accountId: string;
  /** arn:aws:iam::<account>:root, arn:aws:iam::<account>:user/<name>, or "*" for anonymous. */
  arn: string;
  accessKeyId?: string;
  userName?: string;
}

export const rootArn = (accountId: string) => `arn:aws:iam::${accountId}:root`;

export const anonymous = (accountId: string): Principal => ({ kind: 'anonymous', accountId, arn: '*' });
