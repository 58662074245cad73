// Domain events (DESIGN.md: a durable outbox in the same transaction as the change): the core builds one for each
// push, delete, tag change, lifecycle expiry and scan completion and hands it to the store method that writes the
// change, which records it in the same transaction (only if the change happened). Their detail is shaped as
// Amazon EventBridge's "ECR Image Action" and "ECR Image Scan" events; a lifecycle expiry is an "ECR Image Action"
// DELETE with `"reason": "LIFECYCLE_POLICY"` (EventBridge has no action type of its own for it).
import type { NewEvent, Repository, StoredEvent } from '../storage/meta/store.ts';

export const IMAGE_ACTION = 'ECR Image Action';
export const IMAGE_SCAN = 'ECR Image Scan';

/** A push (a new manifest, or a tag moved to it) or a delete (of a manifest, or of a tag). */
export function imageAction(
  repo: Repository,
  at: number,
  action: 'PUSH' | 'DELETE',
  digest: string | undefined,
  tag?: string,
  reason?: 'LIFECYCLE_POLICY',
): NewEvent {
  return {
    at,
    detailType: IMAGE_ACTION,
    accountId: repo.accountId,
    repositoryName: repo.name,
    detail: JSON.stringify({
      result: 'SUCCESS',
      'repository-name': repo.name,
      ...(digest !== undefined ? { 'image-digest': digest } : {}),
      'action-type': action,
      ...(tag !== undefined ? { 'image-tag': tag } : {}),
      ...(reason ? { reason } : {}),
    }),
  };
}

/** A scan's end: its status (COMPLETE, FAILED, UNSUPPORTED_IMAGE) and the count of findings by severity. */
export function imageScan(
  repo: Repository,
  at: number,
  digest: string,
  status: string,
  severityCounts: Record<string, number> | null,
  tags: string[],
): NewEvent {
  return {
    at,
    detailType: IMAGE_SCAN,
    accountId: repo.accountId,
    repositoryName: repo.name,
    detail: JSON.stringify({
      'scan-status': status,
      'repository-name': repo.name,
      'image-digest': digest,
      'image-tags': tags,
      'finding-severity-counts': severityCounts ?? {},
    }),
  };
}

/** An event as `berth events` prints it and webhooks carry it: EventBridge's envelope around the detail. */
export function eventEnvelope(e: StoredEvent, region: string): object {
  return {
    version: '0',
    id: String(e.seq),
    'detail-type': e.detailType,
    source: 'aws.ecr',
    account: e.accountId,
    time: new Date(e.at).toISOString(),
    region,
    resources: [`arn:aws:ecr:${region}:${e.accountId}:repository/${e.repositoryName}`],
    detail: JSON.parse(e.detail),
  };
}
