// The registry page: storage usage now (the admin action `usage`, berth:GetUsage: by repository, the largest
// images) and over time (`usage-history`: the daily snapshots, as a chart), the registry policy
// (GetRegistryPolicy, PutRegistryPolicy, DeleteRegistryPolicy) and the scanning configuration
// (GetRegistryScanningConfiguration, PutRegistryScanningConfiguration), each authorized as over its own API.
import { html, type Html } from './html.ts';
import { bytes, csrfField, when } from './layout.ts';
import { describeError, type PageContext, type PageResult } from './handler.ts';
import { LIST_SEPARATORS, repositoryHref } from './repositories.ts';
import { imageHref } from './images.ts';
import { jsonEditor } from './json-editor.ts';
import { usageChart } from './usage-chart.ts';
import type { LargeImage, Usage, UsageSnapshot } from '../storage/meta/store.ts';
import { EcrError } from '../ecr/errors.ts';
import { dayOf } from '../core/usage-history.ts';

/** Repositories shown in the usage table, biggest first. */
const USAGE_ROWS = 50;

interface ScanningConfiguration {
  scanType: string;
  rules: { scanFrequency: string; repositoryFilters: { filter: string }[] }[];
}

export async function registryPage(
  ctx: PageContext,
  shown: { error?: string; status?: number; form?: URLSearchParams } = {},
): Promise<PageResult> {
  let error = shown.error;
  let status = shown.status;
  const failed = (e: unknown) => {
    const d = describeError(e);
    error ??= d.message;
    status ??= d.status;
  };
  let usage: Html;
  try {
    const now = await ctx.admin<Usage & { largestImages: LargeImage[] }>('usage', {});
    let history: UsageSnapshot[] = [];
    try {
      history = (await ctx.admin<{ snapshots: UsageSnapshot[] }>('usage-history', { days: 90 })).snapshots;
    } catch (e) {
      describeError(e);
    }
    usage = usageSection(now, history, ctx.viewer.principal.accountId, dayOf(ctx.deps.stores.clock.now()));
  } catch (e) {
    usage = html`<p class="error" id="usage-refused">${describeError(e).message}</p>`;
  }
  let current: string | undefined;
  try {
    current = JSON.stringify(JSON.parse((await ctx.call('GetRegistryPolicy', {})).policyText), null, 2);
  } catch (e) {
    if (!(e instanceof EcrError && e.type === 'RegistryPolicyNotFoundException')) failed(e);
  }
  let scanning: Html;
  try {
    scanning = scanningForm(ctx, (await ctx.call('GetRegistryScanningConfiguration', {})).scanningConfiguration as ScanningConfiguration);
  } catch (e) {
    scanning = html`<p class="error" id="scanning-refused">${describeError(e).message}</p>`;
  }
  const typed = shown.form?.get('action') === 'set-registry-policy' ? (shown.form.get('policyText') ?? undefined) : undefined;
  return {
    status,
    error,
    title: 'Registry',
    notice: ctx.url.searchParams.get('done') ?? undefined,
    body: html`<section class="panel">
<h1>Registry</h1>
<h2>Storage</h2>
${usage}
<h2>Scanning configuration</h2>
${scanning}
<h2>Registry policy</h2>
<p>${current ? 'The registry policy (it grants other accounts access to this registry, as in ECR):' : html`<span id="no-registry-policy">This registry has no policy.</span>`}</p>
<form method="post" action="/console/registry">
  ${csrfField(ctx.viewer)}<input type="hidden" name="action" value="set-registry-policy">
  ${jsonEditor({ id: 'registryPolicyText', name: 'policyText', label: 'Registry policy JSON', text: typed ?? current ?? '', error: typed !== undefined ? error : undefined })}
  <p><button type="submit" class="primary">Save registry policy</button></p>
</form>
${
  current
    ? html`<form method="post" action="/console/registry">
  ${csrfField(ctx.viewer)}<input type="hidden" name="action" value="delete-registry-policy">
  <button type="submit" class="danger">Delete registry policy</button>
</form>`
    : ''
}
</section>`,
  };
}

function usageSection(usage: Usage & { largestImages: LargeImage[] }, history: UsageSnapshot[], accountId: string, today: string): Html {
  const biggest = [...usage.repositories].sort((a, b) => b.bytes - a.bytes).slice(0, USAGE_ROWS);
  const images = usage.repositories.reduce((n, r) => n + r.images, 0);
  // The snapshots, and now as the last point (it replaces today's snapshot, taken earlier).
  const points = [
    ...history.filter((h) => h.day < today),
    { day: today, storedBytes: usage.storedBytes, referencedBytes: usage.referencedBytes, images },
  ];
  const name = (account: string, repository: string) =>
    account === accountId ? html`<a href="${repositoryHref(repository)}">${repository}</a>` : repository;
  return html`<dl class="summary" id="usage">
  <dt>Stored</dt><dd id="stored-bytes">${bytes(usage.storedBytes)} in ${usage.storedBlobs} blobs</dd>
  <dt>Referenced by images</dt><dd>${bytes(usage.referencedBytes)} (each blob counted once)</dd>
</dl>
<h3>Storage over time</h3>
${usageChart(points)}
<h3>Storage by repository</h3>
<table id="usage-repositories"><thead><tr><th>Repository</th><th>Account</th><th>Images</th><th>Size</th></tr></thead><tbody>
${
  biggest.length
    ? biggest.map(
        (r) => html`<tr><td>${name(r.accountId, r.name)}</td><td>${r.accountId}</td><td>${r.images}</td><td>${bytes(r.bytes)}</td></tr>`,
      )
    : html`<tr><td colspan="4" class="muted">No repositories.</td></tr>`
}
</tbody></table>
<h3>Largest images</h3>
<table id="largest-images"><thead><tr><th>Repository</th><th>Tags</th><th>Digest</th><th>Size</th><th>Pushed at</th></tr></thead><tbody>
${
  usage.largestImages.length
    ? usage.largestImages.map(
        (
          i,
        ) => html`<tr><td>${name(i.accountId, i.repositoryName)}</td><td>${i.tags.join(', ') || html`<span class="muted">untagged</span>`}</td>
<td>${i.accountId === accountId ? html`<a href="${imageHref(i.repositoryName, i.digest)}"><code>${i.digest.slice(0, 19)}…</code></a>` : html`<code>${i.digest.slice(0, 19)}…</code>`}</td><td>${bytes(i.imageSize)}</td><td>${when(i.pushedAt / 1000)}</td></tr>`,
      )
    : html`<tr><td colspan="5" class="muted">No images.</td></tr>`
}
</tbody></table>`;
}

/** The scanning configuration as a form: the scan type, and the repository filters of each frequency. */
function scanningForm(ctx: PageContext, c: ScanningConfiguration): Html {
  const filters = (frequency: string) =>
    c.rules
      .filter((r) => r.scanFrequency === frequency)
      .flatMap((r) => r.repositoryFilters.map((f) => f.filter))
      .join(', ');
  return html`<form method="post" action="/console/registry" id="scanning-configuration">
  ${csrfField(ctx.viewer)}<input type="hidden" name="action" value="set-scanning-configuration">
  <label for="scan-type">Scan type</label>
  <select id="scan-type" name="scanType" class="w12">
    <option value="BASIC" ${c.scanType === 'BASIC' ? html`selected` : ''}>Basic</option>
    <option value="ENHANCED" ${c.scanType === 'ENHANCED' ? html`selected` : ''}>Enhanced</option>
  </select>
  <label for="scan-on-push-filters">Scan on push: repository filters (wildcards, comma-separated)</label>
  <input type="text" id="scan-on-push-filters" name="scanOnPush" value="${filters('SCAN_ON_PUSH')}" placeholder="prod-*, team/*">
  <label for="continuous-filters">Continuous scanning (Enhanced): repository filters</label>
  <input type="text" id="continuous-filters" name="continuous" value="${filters('CONTINUOUS_SCAN')}">
  <p class="muted">A repository's own "scan on push" setting applies besides these rules.</p>
  <p><button type="submit">Save scanning configuration</button></p>
</form>`;
}

/** The PutRegistryScanningConfiguration input of the form (ECR validates it). */
function scanningInput(f: URLSearchParams): object {
  const rule = (scanFrequency: string, field: string) => {
    const list = (f.get(field) ?? '').split(LIST_SEPARATORS).filter(Boolean);
    return list.length ? [{ scanFrequency, repositoryFilters: list.map((filter) => ({ filter, filterType: 'WILDCARD' })) }] : [];
  };
  return {
    scanType: f.get('scanType') === 'ENHANCED' ? 'ENHANCED' : 'BASIC',
    rules: [...rule('SCAN_ON_PUSH', 'scanOnPush'), ...rule('CONTINUOUS_SCAN', 'continuous')],
  };
}

const DONE: Record<string, string> = {
  'set-registry-policy': 'Registry policy saved.',
  'delete-registry-policy': 'Registry policy deleted.',
  'set-scanning-configuration': 'Scanning configuration saved.',
};

export async function registryAction(ctx: PageContext, action: string): Promise<PageResult> {
  try {
    if (action === 'set-registry-policy') await ctx.call('PutRegistryPolicy', { policyText: ctx.form.get('policyText') ?? '' });
    else if (action === 'set-scanning-configuration') await ctx.call('PutRegistryScanningConfiguration', scanningInput(ctx.form));
    else await ctx.call('DeleteRegistryPolicy', {});
    return { redirect: `/console/registry?done=${encodeURIComponent(DONE[action])}` };
  } catch (e) {
    const { status, message } = describeError(e);
    return registryPage(ctx, { error: message, status, form: ctx.form });
  }
}
