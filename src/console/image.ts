// The image detail page (`?tab=image&digest=`): what DescribeImages says of the image, its manifest (BatchGetImage,
// shown, not pulled), its config (read once GetDownloadUrlForLayer allows it), layers with sizes and media types,
// platforms (an index's manifests, or the config's), referrers (ListImageReferrers: signatures, SBOMs) and the
// scan's findings (DescribeImageScanFindings) with a filter by severity. Each part refused shows the decision.
import { html, type Html } from './html.ts';
import { bytes, copyButton, when } from './layout.ts';
import { describeError, type PageContext } from './handler.ts';
import { repositoryHref } from './repositories.ts';
import {
  artifactType,
  imageHref,
  INDEX_TYPES,
  platformOf,
  scanCell,
  SEVERITIES,
  type ImageDetail,
  type IndexChild,
  type RepositoryRef,
} from './images.ts';
import { parseDigest } from '../core/grammar.ts';

/** A config larger than this is not shown (an image's config is a few KiB). */
const CONFIG_LIMIT = 1024 * 1024;
/** Findings read at most (pages of 1000), then "and more". */
const FINDINGS_LIMIT = 5000;

type Failed = (r: { status: number; message: string }) => void;

interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  artifactType?: string;
  platform?: IndexChild['platform'];
  annotations?: Record<string, string>;
}
interface Manifest {
  mediaType?: string;
  artifactType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: IndexChild[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}
interface Finding {
  name?: string;
  severity?: string;
  uri?: string;
  description?: string;
  attributes?: { key: string; value?: string }[];
  // Enhanced findings
  title?: string;
  packageVulnerabilityDetails?: {
    vulnerabilityId?: string;
    sourceUrl?: string;
    vulnerablePackages?: { name?: string; version?: string; fixedInVersion?: string }[];
  };
}

/** What a part of the page shows when its call is refused or fails: the message, in place. */
const refusedPart = (e: unknown, id: string): Html => html`<p class="error" id="${id}">${describeError(e).message}</p>`;

export async function imagePage(ctx: PageContext, repo: RepositoryRef, failed: Failed): Promise<{ content: Html; title: string }> {
  const name = repo.repositoryName;
  const digest = ctx.url.searchParams.get('digest') ?? '';
  if (!parseDigest(digest)) {
    failed({
      status: 400,
      message: `InvalidParameterException: Invalid parameter at 'imageDigest' failed to satisfy constraint: 'Invalid digest: ${digest}'`,
    });
    return { title: 'Image', content: html`` };
  }
  let detail: ImageDetail;
  try {
    detail = (await ctx.call('DescribeImages', { repositoryName: name, imageIds: [{ imageDigest: digest }] })).imageDetails[0];
  } catch (e) {
    failed(describeError(e));
    return { title: 'Image', content: html`<p><a href="${repositoryHref(name, 'images')}">Images</a></p>` };
  }
  let manifest: Manifest | undefined;
  let manifestText = '';
  let manifestPart: Html;
  try {
    const got = await ctx.call('BatchGetImage', { repositoryName: name, imageIds: [{ imageDigest: digest }] });
    manifestText = got.images[0]?.imageManifest ?? '';
    manifest = JSON.parse(manifestText) as Manifest;
    manifestPart = html`<pre id="manifest">${JSON.stringify(manifest, null, 2)}</pre>`;
  } catch (e) {
    manifestPart = e instanceof SyntaxError ? html`<pre id="manifest">${manifestText}</pre>` : refusedPart(e, 'manifest-refused');
  }
  const isIndex = (detail.imageManifestMediaType && INDEX_TYPES.has(detail.imageManifestMediaType)) || Array.isArray(manifest?.manifests);
  const config = !isIndex && manifest?.config ? await configOf(ctx, name, manifest.config) : undefined;
  const label = detail.imageTags?.length ? `${name}:${detail.imageTags[0]}` : `${name}@${digest.slice(0, 19)}…`;
  const content = html`<p><a href="${repositoryHref(name, 'images')}">Images</a> › <span id="image-name">${label}</span></p>
<h2>Image</h2>
<dl class="summary" id="image-detail">
  <dt>Digest</dt><dd><code id="image-digest">${digest}</code>${copyButton(digest, 'Copy digest')}</dd>
  <dt>Image URI</dt><dd><code>${repo.repositoryUri}@${digest}</code>${copyButton(`${repo.repositoryUri}@${digest}`, 'Copy URI')}</dd>
  <dt>Tags</dt><dd id="image-tags">${detail.imageTags?.join(', ') || html`<span class="muted">untagged</span>`}</dd>
  <dt>Artifact type</dt><dd id="image-artifact-type">${artifactType(detail)}</dd>
  <dt>Manifest media type</dt><dd><code>${detail.imageManifestMediaType ?? '—'}</code></dd>
  <dt>Size</dt><dd id="image-size">${bytes(detail.imageSizeInBytes)}</dd>
  <dt>Pushed at</dt><dd>${when(detail.imagePushedAt)}</dd>
  <dt>Last pulled</dt><dd>${when(detail.lastRecordedPullTime)}</dd>
  <dt>Scan status</dt><dd id="image-scan">${scanCell(detail)}</dd>
  ${manifest?.subject ? html`<dt>Subject</dt><dd><a href="${imageHref(name, manifest.subject.digest)}"><code>${manifest.subject.digest}</code></a></dd>` : ''}
</dl>
<h2>Platforms</h2>
${platformsPart(name, isIndex ? (manifest?.manifests ?? []) : undefined, config)}
${isIndex ? '' : html`<h2>Layers</h2>${layersPart(manifest)}`}
<h2>Referrers</h2>
${await referrersPart(ctx, name, digest)}
<h2>Findings</h2>
${await findingsPart(ctx, name, digest)}
<details id="manifest-details"><summary>Manifest</summary>${manifestPart}</details>
${config ? html`<details id="config-details"><summary>Config</summary>${config.part}</details>` : ''}`;
  return { title: label, content };
}

/** The config blob, read when GetDownloadUrlForLayer allows it (the ECR API's way to read a blob). */
async function configOf(
  ctx: PageContext,
  repositoryName: string,
  d: Descriptor,
): Promise<{ part: Html; value?: { os?: string; architecture?: string; variant?: string } }> {
  if ((d.size ?? 0) > CONFIG_LIMIT) return { part: html`<p class="muted">The config is ${bytes(d.size)}: too large to show.</p>` };
  try {
    await ctx.call('GetDownloadUrlForLayer', { repositoryName, layerDigest: d.digest });
  } catch (e) {
    return { part: refusedPart(e, 'config-refused') };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of await ctx.deps.registry.blobs.read(d.digest)) {
    size += (chunk as Buffer).length;
    if (size > CONFIG_LIMIT) return { part: html`<p class="muted">The config is too large to show.</p>` };
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    const value = JSON.parse(text) as { os?: string; architecture?: string; variant?: string };
    return {
      part: html`<pre id="config">${JSON.stringify(value, null, 2)}</pre>`,
      value: typeof value === 'object' && value !== null ? value : undefined,
    };
  } catch {
    return { part: html`<pre id="config">${text}</pre>` };
  }
}

function platformsPart(name: string, children: IndexChild[] | undefined, config: { value?: IndexChild['platform'] } | undefined): Html {
  if (children) {
    return html`<table id="platforms"><thead><tr><th>Platform</th><th>Digest</th><th>Media type</th><th>Size</th></tr></thead><tbody>
${children.map((c) => html`<tr><td>${platformOf(c.platform)}</td><td><a href="${imageHref(name, c.digest)}"><code>${c.digest.slice(0, 19)}…</code></a></td><td><code>${c.mediaType ?? ''}</code></td><td>${bytes(c.size)}</td></tr>`)}
</tbody></table>`;
  }
  const p = config?.value;
  return html`<p id="platforms">${p?.os || p?.architecture ? platformOf(p) : html`<span class="muted">Not said (no image config)</span>`}</p>`;
}

function layersPart(manifest: Manifest | undefined): Html {
  const layers = manifest?.layers ?? [];
  if (layers.length === 0) return html`<p class="muted" id="layers">No layers.</p>`;
  const total = layers.reduce((n, l) => n + (l.size ?? 0), 0);
  return html`<table id="layers"><thead><tr><th>#</th><th>Digest</th><th>Media type</th><th>Size</th></tr></thead><tbody>
${layers.map((l, n) => html`<tr><td>${n + 1}</td><td><code title="${l.digest}">${l.digest.slice(0, 19)}…</code>${copyButton(l.digest, 'Copy digest')}</td><td><code>${l.mediaType ?? ''}</code></td><td>${bytes(l.size)}</td></tr>`)}
</tbody><tfoot><tr><td></td><td colspan="2">${layers.length} layer(s)</td><td>${bytes(total)}</td></tr></tfoot></table>`;
}

async function referrersPart(ctx: PageContext, repositoryName: string, digest: string): Promise<Html> {
  let referrers: { digest: string; artifactType?: string; mediaType: string; size: number; annotations?: Record<string, string> }[];
  try {
    referrers = (await ctx.call('ListImageReferrers', { repositoryName, subjectId: { imageDigest: digest }, maxResults: 50 })).referrers;
  } catch (e) {
    return refusedPart(e, 'referrers-refused');
  }
  if (referrers.length === 0) return html`<p class="muted" id="referrers">No referrers (signatures, SBOMs, attestations).</p>`;
  return html`<table id="referrers"><thead><tr><th>Artifact type</th><th>Digest</th><th>Size</th><th>Created</th></tr></thead><tbody>
${referrers.map((r) => html`<tr><td>${kindOfReferrer(r.artifactType)}</td><td><a href="${imageHref(repositoryName, r.digest)}"><code>${r.digest.slice(0, 19)}…</code></a></td><td>${bytes(r.size)}</td><td>${r.annotations?.['org.opencontainers.image.created'] ?? '—'}</td></tr>`)}
</tbody></table>`;
}

/** A referrer's artifact type, named when it is a known kind. */
function kindOfReferrer(type: string | undefined): Html {
  if (!type) return html`<span class="muted">none</span>`;
  const known =
    type.includes('cyclonedx') || type.includes('spdx')
      ? 'SBOM'
      : type.includes('signature') || type.includes('cosign') || type.includes('notary')
        ? 'Signature'
        : undefined;
  return html`${known ? html`<strong>${known}</strong> ` : ''}<code>${type}</code>`;
}

async function findingsPart(ctx: PageContext, repositoryName: string, digest: string): Promise<Html> {
  const wanted = new Set(ctx.url.searchParams.getAll('severity').filter((s) => SEVERITIES.includes(s)));
  const findings: Finding[] = [];
  let counts: Record<string, number> = {};
  let status: { status: string; description?: string } | undefined;
  let nextToken: string | undefined;
  try {
    do {
      const out = await ctx.call('DescribeImageScanFindings', {
        repositoryName,
        imageId: { imageDigest: digest },
        maxResults: 1000,
        ...(nextToken ? { nextToken } : {}),
      });
      status = out.imageScanStatus;
      counts = out.imageScanFindings?.findingSeverityCounts ?? counts;
      findings.push(...(out.imageScanFindings?.findings ?? []), ...(out.imageScanFindings?.enhancedFindings ?? []));
      nextToken = out.nextToken;
    } while (nextToken && findings.length < FINDINGS_LIMIT);
  } catch (e) {
    if (describeError(e).message.startsWith('ScanNotFoundException'))
      return html`<p class="muted" id="findings">This image has not been scanned.</p>`;
    return refusedPart(e, 'findings-refused');
  }
  const shown = wanted.size ? findings.filter((f) => wanted.has(f.severity ?? 'UNDEFINED')) : findings;
  const attr = (f: Finding, key: string) => f.attributes?.find((a) => a.key === key)?.value;
  const rows = shown.map((f) => {
    const pkg = f.packageVulnerabilityDetails?.vulnerablePackages?.[0];
    const id = f.name ?? f.packageVulnerabilityDetails?.vulnerabilityId ?? f.title ?? '';
    const uri = f.uri ?? f.packageVulnerabilityDetails?.sourceUrl;
    return html`<tr><td>${uri ? html`<a href="${uri}" rel="noreferrer">${id}</a>` : id}</td><td><span class="sev sev-${(f.severity ?? 'undefined').toLowerCase()}">${f.severity ?? 'UNDEFINED'}</span></td>
<td>${attr(f, 'package_name') ?? pkg?.name ?? ''}</td><td>${attr(f, 'package_version') ?? pkg?.version ?? ''}</td><td>${pkg?.fixedInVersion ?? ''}</td><td>${f.description ?? ''}</td></tr>`;
  });
  return html`<p id="findings-status">Status: ${status?.status ?? '—'}${status?.description ? ` (${status.description})` : ''}</p>
<form method="get" action="${repositoryHref(repositoryName)}" class="row" id="severity-filter">
  <input type="hidden" name="tab" value="image"><input type="hidden" name="digest" value="${digest}">
  <span>Severity:</span>
  ${SEVERITIES.filter((s) => counts[s] || wanted.has(s)).map((s) => html`<label class="inline"><input type="checkbox" name="severity" value="${s}" ${wanted.has(s) ? html`checked` : ''}> ${s} (${counts[s] ?? 0})</label>`)}
  <button type="submit">Filter</button>
</form>
<table id="findings"><thead><tr><th>Name</th><th>Severity</th><th>Package</th><th>Version</th><th>Fixed in</th><th>Description</th></tr></thead><tbody>
${rows.length ? rows : html`<tr><td colspan="6" class="muted">No findings${wanted.size ? ' of that severity' : ''}.</td></tr>`}
</tbody></table>${nextToken ? html`<p class="muted">The first ${findings.length} findings are shown.</p>` : ''}`;
}
