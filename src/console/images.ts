// The repository page's Images tab: a page of DescribeImages (never all of them), each image with its tags,
// digest, artifact type, size, push and pull times and scan status with its severity counts; a filter by tag
// (an exact tag is looked up whatever the page, and the page is filtered by the text); tagged / untagged;
// select and delete. A multi-architecture index is one row that expands to its platform manifests (read with
// BatchGetImage, as the console shows them: no pull is recorded).
import { html, type Html } from './html.ts';
import { bytes, copyButton, csrfField, when } from './layout.ts';
import { describeError, type PageContext } from './handler.ts';
import { repositoryHref } from './repositories.ts';
import { pushCommands } from './push-commands.ts';

export const IMAGES_PAGE = 50;

export interface ImageDetail {
  imageDigest: string;
  imageTags?: string[];
  imageSizeInBytes?: number;
  imagePushedAt?: number;
  lastRecordedPullTime?: number;
  imageManifestMediaType?: string;
  artifactMediaType?: string;
  imageScanStatus?: { status: string; description?: string };
  imageScanFindingsSummary?: { findingSeverityCounts?: Record<string, number>; imageScanCompletedAt?: number };
}

export interface RepositoryRef {
  repositoryName: string;
  repositoryUri: string;
}

type Failed = (r: { status: number; message: string }) => void;

export const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);
/** An image's config type says "Image"; any other artifact type (an SBOM, a signature, a Helm chart) is shown as it is. */
const IMAGE_CONFIG_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);
export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED'];

export function artifactType(i: Pick<ImageDetail, 'artifactMediaType' | 'imageManifestMediaType'>): string {
  if (i.imageManifestMediaType && INDEX_TYPES.has(i.imageManifestMediaType)) return 'Image index';
  return !i.artifactMediaType || IMAGE_CONFIG_TYPES.has(i.artifactMediaType) ? 'Image' : i.artifactMediaType;
}

export const imageHref = (name: string, digest: string) => `${repositoryHref(name, 'image')}&digest=${encodeURIComponent(digest)}`;

/** The scan status and the counts by severity, most severe first ("COMPLETE: 1 CRITICAL, 1 MEDIUM"). */
export function scanCell(i: ImageDetail): Html {
  const s = i.imageScanStatus;
  if (!s) return html`<span class="muted">Not scanned</span>`;
  const counts = i.imageScanFindingsSummary?.findingSeverityCounts ?? {};
  const shown = SEVERITIES.filter((v) => counts[v]).map((v) => html` <span class="sev sev-${v.toLowerCase()}">${counts[v]} ${v}</span>`);
  const none = s.status === 'COMPLETE' && shown.length === 0 ? html` <span class="muted">no findings</span>` : '';
  return html`<span class="scan-status" title="${s.description ?? ''}">${s.status}</span>${none}${shown}`;
}

/** The platform manifests of an index, as the index lists them. */
export interface IndexChild {
  digest: string;
  mediaType?: string;
  size?: number;
  platform?: { os?: string; architecture?: string; variant?: string };
}

export const platformOf = (p: IndexChild['platform']) => (p ? [p.os, p.architecture, p.variant].filter(Boolean).join('/') : 'unknown');

/** The children of the indexes among the images, read in one BatchGetImage (undefined for an index it could not read). */
async function indexChildren(ctx: PageContext, repositoryName: string, images: ImageDetail[]): Promise<Map<string, IndexChild[]>> {
  const indexes = images.filter((i) => i.imageManifestMediaType && INDEX_TYPES.has(i.imageManifestMediaType));
  const out = new Map<string, IndexChild[]>();
  if (indexes.length === 0) return out;
  try {
    const got = await ctx.call('BatchGetImage', { repositoryName, imageIds: indexes.map((i) => ({ imageDigest: i.imageDigest })) });
    for (const image of got.images as { imageId: { imageDigest: string }; imageManifest: string }[]) {
      try {
        const manifests = (JSON.parse(image.imageManifest) as { manifests?: IndexChild[] }).manifests ?? [];
        out.set(
          image.imageId.imageDigest,
          manifests.filter((m) => typeof m?.digest === 'string'),
        );
      } catch {
        /* not JSON: shown without children */
      }
    }
  } catch (e) {
    describeError(e); // refused (no ecr:BatchGetImage): the indexes are shown without their children
  }
  return out;
}

export async function imagesTab(ctx: PageContext, repo: RepositoryRef, failed: Failed): Promise<Html> {
  const q = ctx.url.searchParams;
  const status = ['TAGGED', 'UNTAGGED'].includes(q.get('status') ?? '') ? q.get('status')! : 'ANY';
  const tag = (q.get('tag') ?? '').trim();
  const next = q.get('next') ?? undefined;
  const name = repo.repositoryName;
  let images: ImageDetail[] = [];
  let nextToken: string | undefined;
  try {
    const out = await ctx.call('DescribeImages', {
      repositoryName: name,
      filter: { tagStatus: status },
      maxResults: IMAGES_PAGE,
      ...(next ? { nextToken: next } : {}),
    });
    images = out.imageDetails;
    nextToken = out.nextToken;
  } catch (e) {
    failed(describeError(e));
  }
  if (tag) {
    images = images.filter((i) => i.imageTags?.some((t) => t.includes(tag)));
    // The exact tag, wherever it is among the pages.
    if (!images.some((i) => i.imageTags?.includes(tag))) {
      try {
        images.unshift(...(await ctx.call('DescribeImages', { repositoryName: name, imageIds: [{ imageTag: tag }] })).imageDetails);
      } catch {
        /* no such tag (or an invalid one): nothing more to show */
      }
    }
  }
  const children = await indexChildren(ctx, name, images);
  // A platform manifest of an index on this page is shown under its index, not on its own.
  const underIndex = new Set([...children.values()].flat().map((c) => c.digest));
  const byDigest = new Map(images.map((i) => [i.imageDigest, i]));
  const top = images.filter((i) => !underIndex.has(i.imageDigest)).sort((a, b) => (b.imagePushedAt ?? 0) - (a.imagePushedAt ?? 0));
  const here = repositoryHref(name, 'images');
  const more = nextToken ? `${here}&${new URLSearchParams({ status, ...(tag ? { tag } : {}), next: nextToken })}` : undefined;
  const rows = top.map((i) => {
    const kids = children.get(i.imageDigest);
    const id = i.imageDigest.slice(7, 19);
    const row = html`<tr id="row-${id}" ${kids ? html`class="index-row"` : ''}>
  <td><input type="checkbox" name="digest" value="${i.imageDigest}" id="img-${id}" aria-label="Select ${i.imageTags?.join(', ') || i.imageDigest}"></td>
  <td>${kids ? html`<button type="button" class="expand" aria-expanded="true" aria-controls="${kids.map((_, n) => `child-${id}-${n}`).join(' ')}" aria-label="Platforms of ${i.imageTags?.join(', ') || i.imageDigest}">${kids.length} platforms</button> ` : ''}${i.imageTags?.length ? i.imageTags.join(', ') : html`<span class="muted">untagged</span>`}</td>
  <td><a href="${imageHref(name, i.imageDigest)}"><code title="${i.imageDigest}">${i.imageDigest.slice(0, 19)}…</code></a>${copyButton(i.imageDigest, 'Copy digest')}</td>
  <td>${artifactType(i)}</td>
  <td>${bytes(i.imageSizeInBytes)}</td>
  <td>${when(i.imagePushedAt)}</td>
  <td>${when(i.lastRecordedPullTime)}</td>
  <td>${scanCell(i)}</td>
</tr>`;
    if (!kids) return row;
    return html`${row}${kids.map((c, n) => {
      const d = byDigest.get(c.digest);
      return html`<tr class="child-row" id="child-${id}-${n}" data-parent="row-${id}">
  <td></td>
  <td class="platform">↳ ${platformOf(c.platform)}</td>
  <td><a href="${imageHref(name, c.digest)}"><code title="${c.digest}">${c.digest.slice(0, 19)}…</code></a></td>
  <td>${d ? artifactType(d) : 'Image'}</td>
  <td>${bytes(d?.imageSizeInBytes ?? c.size)}</td>
  <td>${when(d?.imagePushedAt)}</td>
  <td>${when(d?.lastRecordedPullTime)}</td>
  <td>${d ? scanCell(d) : html`<span class="muted">—</span>`}</td>
</tr>`;
    })}`;
  });
  return html`<h2>Images</h2>
${pushCommands(ctx, name, repo.repositoryUri)}
<form method="get" action="${repositoryHref(name)}" class="row">
  <input type="hidden" name="tab" value="images">
  <label for="tag-filter" class="inline">Filter by tag</label>
  <input type="search" id="tag-filter" name="tag" value="${tag}" class="w16">
  <label for="status" class="inline">Show</label>
  <select id="status" name="status" class="w12">
    ${[
      ['ANY', 'All images'],
      ['TAGGED', 'Tagged'],
      ['UNTAGGED', 'Untagged'],
    ].map(([v, l]) => html`<option value="${v}" ${v === status ? html`selected` : ''}>${l}</option>`)}
  </select>
  <button type="submit">Apply</button>
</form>
<form method="post" action="${repositoryHref(name)}">
  ${csrfField(ctx.viewer)}<input type="hidden" name="action" value="delete-images">
  <table id="images">
  <thead><tr><th><span class="muted">Select</span></th><th>Image tags</th><th>Digest</th><th>Artifact type</th><th>Size</th><th>Pushed at</th><th>Last pulled</th><th>Scan status</th></tr></thead>
  <tbody>${rows.length ? rows : html`<tr><td colspan="8" class="muted">No images.</td></tr>`}</tbody>
  </table>
  <p class="row"><button type="submit" class="danger">Delete selected images</button>${more ? html`<a href="${more}" rel="next">Next page</a>` : ''}</p>
</form>`;
}
