// The audit search (`/console/audit`): the audit records kept in the metadata store (every node's authorization
// decisions, BERTH_AUDIT_RETENTION_DAYS), newest first, by text (a principal, an action, a repository: what the
// record contains) and time, a page at a time. The admin action `audit-search` (berth:SearchAuditRecords).
import { html } from './html.ts';
import { describeError, type PageContext, type PageResult } from './handler.ts';

const PAGE = 50;

interface Shown {
  id: number;
  at: string;
  record: { principal?: string; action?: string; resource?: string; allowed?: boolean; reason?: string; sourceIp?: string; event?: string };
}

export async function auditPage(ctx: PageContext): Promise<PageResult> {
  const q = ctx.url.searchParams;
  const contains = (q.get('contains') ?? '').trim();
  const since = (q.get('since') ?? '').trim();
  const until = (q.get('until') ?? '').trim();
  const before = q.get('before') ?? undefined;
  const form = html`<form method="get" action="/console/audit" role="search" class="row" id="audit-search">
  <label for="audit-contains" class="inline">Contains</label>
  <input type="search" id="audit-contains" name="contains" value="${contains}" class="w24" placeholder="user/ci, ecr:BatchDeleteImage, mlops/retail-api">
  <label for="audit-since" class="inline">From</label>
  <input type="text" id="audit-since" name="since" value="${since}" class="w16" placeholder="2025-01-31T00:00:00Z">
  <label for="audit-until" class="inline">Until</label>
  <input type="text" id="audit-until" name="until" value="${until}" class="w16">
  <button type="submit">Search</button>
</form>`;
  let records: Shown[];
  try {
    records = (
      await ctx.admin<{ records: Shown[] }>('audit-search', {
        contains: contains || undefined,
        since: since || undefined,
        until: until || undefined,
        limit: PAGE,
        ...(before ? { beforeId: Number(before) } : {}),
      })
    ).records;
  } catch (e) {
    const { status, message } = describeError(e);
    return { status, title: 'Audit records', error: message, body: html`<section class="panel"><h1>Audit records</h1>${form}</section>` };
  }
  const more =
    records.length === PAGE
      ? `/console/audit?${new URLSearchParams({ ...(contains ? { contains } : {}), ...(since ? { since } : {}), ...(until ? { until } : {}), before: String(records[records.length - 1].id) })}`
      : undefined;
  return {
    title: 'Audit records',
    body: html`<section class="panel">
<h1>Audit records</h1>
<p class="muted">Every authorization decision, kept in the metadata store for ${ctx.deps.stores.config.auditRetentionDays || 'ever'}${ctx.deps.stores.config.auditRetentionDays ? ' days' : ''}, newest first. The text is matched as it is in the record (case-sensitive).</p>
${form}
<table id="audit-records"><thead><tr><th>Time</th><th>Principal</th><th>Action</th><th>Resource</th><th>Decision</th><th>Source</th></tr></thead><tbody>
${
  records.length
    ? records.map(
        (r) => html`<tr>
  <td>${r.at.replace('T', ' ').replace('Z', ' UTC')}</td><td><code>${r.record.principal ?? ''}</code></td><td>${r.record.action ?? r.record.event ?? ''}</td>
  <td><code>${r.record.resource ?? ''}</code></td>
  <td>${r.record.allowed === undefined ? '' : r.record.allowed ? html`<span class="allowed">Allowed</span>` : html`<span class="denied">Denied</span>`}${r.record.reason ? html`<div class="muted">${r.record.reason}</div>` : ''}</td>
  <td>${r.record.sourceIp ?? ''}</td>
</tr>`,
      )
    : html`<tr><td colspan="6" class="muted">No audit records${contains || since || until ? ' match' : ''}.</td></tr>`
}
</tbody></table>
<p class="pager">${more ? html`<a href="${more}" rel="next">Older records</a>` : ''}</p>
</section>`,
  };
}
