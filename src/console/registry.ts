// The registry page: storage usage (the admin action `usage`, berth:GetUsage) and the registry policy
// (GetRegistryPolicy, PutRegistryPolicy, DeleteRegistryPolicy), each authorized as over its own API.
import { html, type Html } from './html.ts';
import { bytes, csrfField } from './layout.ts';
import { describeError, type PageContext, type PageResult } from './handler.ts';
import { repositoryHref } from './repositories.ts';
import type { Usage } from '../storage/meta/store.ts';
import { EcrError } from '../ecr/errors.ts';

/** Repositories shown in the usage table, biggest first. */
const USAGE_ROWS = 50;

export async function registryPage(ctx: PageContext, shown: { error?: string; status?: number; form?: URLSearchParams } = {}): Promise<PageResult> {
  let error = shown.error;
  let status = shown.status;
  const failed = (e: unknown) => { const d = describeError(e); error ??= d.message; status ??= d.status; };
  let usage: Html;
  try {
    usage = usageSection(await ctx.admin<Usage>('usage', {}), ctx.viewer.principal.accountId);
  } catch (e) {
    usage = html`<p class="muted" id="usage-refused">${describeError(e).message}</p>`;
  }
  let current: string | undefined;
  try {
    current = JSON.stringify(JSON.parse((await ctx.call('GetRegistryPolicy', {})).policyText), null, 2);
  } catch (e) {
    if (!(e instanceof EcrError && e.type === 'RegistryPolicyNotFoundException')) failed(e);
  }
  const text = shown.form?.get('policyText') ?? current ?? '';
  return {
    status, error, title: 'Registry', notice: ctx.url.searchParams.get('done') ?? undefined,
    body: html`<section class="panel">
<h1>Registry</h1>
<h2>Storage</h2>
${usage}
<h2>Registry policy</h2>
<p>${current ? 'The registry policy (it grants other accounts access to this registry, as in ECR):' : html`<span id="no-registry-policy">This registry has no policy.</span>`}</p>
<form method="post" action="/console/registry">
  ${csrfField(ctx.viewer)}<input type="hidden" name="action" value="set-registry-policy">
  <label for="registryPolicyText">Registry policy JSON</label>
  <textarea id="registryPolicyText" name="policyText" spellcheck="false">${text}</textarea>
  <p><button type="submit" class="primary">Save registry policy</button></p>
</form>
${current ? html`<form method="post" action="/console/registry">
  ${csrfField(ctx.viewer)}<input type="hidden" name="action" value="delete-registry-policy">
  <button type="submit" class="danger">Delete registry policy</button>
</form>` : ''}
</section>`,
  };
}

function usageSection(usage: Usage, accountId: string): Html {
  const biggest = [...usage.repositories].sort((a, b) => b.bytes - a.bytes).slice(0, USAGE_ROWS);
  return html`<dl class="summary" id="usage">
  <dt>Stored</dt><dd id="stored-bytes">${bytes(usage.storedBytes)} in ${usage.storedBlobs} blobs</dd>
  <dt>Referenced by images</dt><dd>${bytes(usage.referencedBytes)} (each blob counted once)</dd>
</dl>
<table id="usage-repositories"><thead><tr><th>Repository</th><th>Account</th><th>Images</th><th>Size</th></tr></thead><tbody>
${biggest.length ? biggest.map((r) => html`<tr><td>${r.accountId === accountId ? html`<a href="${repositoryHref(r.name)}">${r.name}</a>` : r.name}</td><td>${r.accountId}</td><td>${r.images}</td><td>${bytes(r.bytes)}</td></tr>`)
    : html`<tr><td colspan="4" class="muted">No repositories.</td></tr>`}
</tbody></table>`;
}

export async function registryAction(ctx: PageContext, action: string): Promise<PageResult> {
  try {
    if (action === 'set-registry-policy') await ctx.call('PutRegistryPolicy', { policyText: ctx.form.get('policyText') ?? '' });
    else await ctx.call('DeleteRegistryPolicy', {});
    return { redirect: `/console/registry?done=${encodeURIComponent(action === 'set-registry-policy' ? 'Registry policy saved.' : 'Registry policy deleted.')}` };
  } catch (e) {
    const { status, message } = describeError(e);
    return registryPage(ctx, { error: message, status, form: ctx.form });
  }
}
