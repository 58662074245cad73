// ListImageReferrers: the OCI referrers of an image (manifests whose `subject` names it), as the referrers API
// serves them, with ECR's filters (artifact types, artifact status: ACTIVE or ARCHIVED by the referrer's storage
// class; Berth restores at once, so ACTIVATING finds none) and pagination.
import type { ImageReferrer, ListImageReferrersRequest, ListImageReferrersResponse } from '@aws-sdk/client-ecr';
import { parseDigest } from '../core/grammar.ts';
import { afterOf, authorizedRepository, pageOf, type EcrContext, type Wire } from './context.ts';
import { invalidParameter } from './errors.ts';

/** FiftyMaxResults: ECR's page size when maxResults is not given. */
const DEFAULT_PAGE = 50;

export async function listImageReferrers(ctx: EcrContext, input: ListImageReferrersRequest): Promise<Wire<ListImageReferrersResponse>> {
  const repo = authorizedRepository(ctx);
  const digest = input.subjectId!.imageDigest!;
  if (!parseDigest(digest))
    throw invalidParameter(`Invalid parameter at 'subjectId.imageDigest' failed to satisfy constraint: 'Invalid digest: ${digest}'`);
  const limit = input.maxResults ?? DEFAULT_PAGE;
  const after = afterOf(input.nextToken);
  const status = input.filter?.artifactStatus ?? 'ACTIVE';
  const types = input.filter?.artifactTypes?.length ? new Set(input.filter.artifactTypes) : undefined;
  const all = [];
  for (const r of status === 'ACTIVATING' ? [] : await ctx.registry.meta.listReferrers(repo.id, digest)) {
    const artifactStatus =
      (await ctx.registry.meta.getManifest(repo.id, r.digest))?.storageClass === 'ARCHIVE' ? ('ARCHIVED' as const) : ('ACTIVE' as const);
    if (status === 'ANY' || status === artifactStatus) all.push({ ...r, artifactStatus });
  }
  const matching = all
    .sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0))
    .filter((r) => !types || (r.artifactType !== null && types.has(r.artifactType)))
    .filter((r) => after === undefined || r.digest > after);
  const { shown, ...next } = pageOf(matching.slice(0, limit + 1), limit, (r) => r.digest);
  return {
    referrers: shown.map(
      (r): Wire<ImageReferrer> => ({
        digest: r.digest,
        mediaType: r.mediaType,
        ...(r.artifactType ? { artifactType: r.artifactType } : {}),
        size: r.size,
        ...(r.annotations ? { annotations: r.annotations } : {}),
        artifactStatus: r.artifactStatus,
      }),
    ),
    ...next,
  };
}
