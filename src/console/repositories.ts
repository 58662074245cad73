// The repositories list (search, pagination) and the Create repository form, on DescribeRepositories,
// DescribeImages and CreateRepository.
import { html, type Html } from './html.ts';
import { bytes, copyButton, csrfField, when } from './layout.ts';
import { describeError, type PageContext, type PageResult } from './handler.ts';

const PAGE_SIZE = 25;
/** A search reads at most this many pages of 100 repositories per request, then offers to read on. */
const SEARCH_PAGES = 10;
/** Images counted per repository in the list; more shows as "100+". */
const COUNT_LIMIT = 100;

interface WireRepository {
  repositoryName: string;
  repositoryUri: string;
  repositoryArn: string;
  createdAt: number;
  imageTagMutability: string;
  imageScanningConfiguration: { scanOnPush: boolean };
  encryptionConfiguration?: { encryptionType: string };
}

export const repositoryHref = (name: string, tab?: string) =>
  `/console/repositories/${name.split('/').map(encodeURIComponent).join('/')}${tab ? `?tab=${tab}` : ''}`;

/** The number of images and their total size, counted up to COUNT_LIMIT images ("100+", "at least"), or undefined
 * when DescribeImages is refused. */
export async function imageCount(ctx: PageContext, repositoryName: string): Promise<{ count: string; size: string } | undefined> {
  try {
    const out = await ctx.call('DescribeImages', { repositoryName, maxResults: COUNT_LIMIT });
    const total = (out.imageDetails as { imageSizeInBytes?: number }[]).reduce((sum, i) => sum + (i.imageSizeInBytes ?? 0), 0);
    return { count: `${out.imageDetails.length}${out.nextToken ? '+' : ''}`, size: `${out.nextToken ? 'at least ' : ''}${bytes(total)}` };
  } catch (e) {
    describeError(e);
    return undefined;
  }
}

export async function repositoriesPage(ctx: PageContext): Promise<PageResult> {
  const q = (ctx.url.searchParams.get('q') ?? '').trim();
  const after = ctx.url.searchParams.get('next') ?? undefined;
  let shown: WireRepository[] = [];
  let nextToken: string | undefined = after;
  try {
    if (!q) {
      const out = await ctx.call('DescribeRepositories', { maxResults: PAGE_SIZE, ...(after ? { nextToken: after } : {}) });
      shown = out.repositories;
      nextToken = out.nextToken;
    } else {
      for (let i = 0; i < SEARCH_PAGES && shown.length < PAGE_SIZE; i++) {
        const out = await ctx.call('DescribeRepositories', { maxResults: 100, ...(nextToken ? { nextToken } : {}) });
        shown.push(...(out.repositories as WireRepository[]).filter((r) => r.repositoryName.includes(q)));
        nextToken = out.nextToken;
        if (!nextToken) break;
      }
    }
  } catch (e) {
    const { status, message } = describeError(e);
    return { status, title: 'Repositories', error: message, body: html`<h1>Repositories</h1>` };
  }
  const counts = await Promise.all(shown.map((r) => imageCount(ctx, r.repositoryName)));
  const rows = shown.map(
    (r, i) => html`<tr>
  <td><a href="${repositoryHref(r.repositoryName)}">${r.repositoryName}</a></td>
  <td><code>${r.repositoryUri}</code>${copyButton(r.repositoryUri, 'Copy URI')}</td>
  <td>${when(r.createdAt)}</td>
  <td>${r.imageTagMutability}</td>
  <td>${r.imageScanningConfiguration.scanOnPush ? 'Enabled' : 'Disabled'}</td>
  <td>${counts[i]?.count ?? '—'}</td>
  <td>${counts[i]?.size ?? '—'}</td>
</tr>`,
  );
  const more = nextToken ? `/console/repositories?${new URLSearchParams({ ...(q ? { q } : {}), next: nextToken })}` : undefined;
  return {
    title: 'Repositories',
    notice: ctx.url.searchParams.get('deleted') ? `Repository ${ctx.url.searchParams.get('deleted')} deleted.` : undefined,
    body: html`<section class="panel">
<div class="row"><h1 class="grow">Repositories</h1><a class="button primary" href="/console/create-repository">Create repository</a></div>
<form method="get" action="/console/repositories" role="search" class="row">
  <label for="q" class="inline">Search by name</label>
  <input type="search" id="q" name="q" value="${q}" class="w24">
  <button type="submit">Search</button>
</form>
<table id="repositories">
<thead><tr><th>Repository name</th><th>URI</th><th>Created at</th><th>Tag immutability</th><th>Scan on push</th><th>Images</th><th>Size</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="7" class="muted">No repositories${q ? html` matching “${q}”` : ''}.</td></tr>`}</tbody>
</table>
<p class="pager">${more ? html`<a href="${more}" rel="next">Next page</a>` : ''}</p>
</section>`,
  };
}

export async function createRepositoryPage(ctx: PageContext, submitted: boolean): Promise<PageResult> {
  const f = ctx.form;
  const name = (f.get('repositoryName') ?? '').trim();
  if (submitted) {
    const tags = parseTags(f.get('tags') ?? '');
    const exclusions = (f.get('exclusions') ?? '').split(LIST_SEPARATORS).filter(Boolean);
    const mode = f.get('imageTagMutability') === 'IMMUTABLE' ? 'IMMUTABLE' : 'MUTABLE';
    const input = {
      repositoryName: name,
      imageTagMutability: exclusions.length ? `${mode}_WITH_EXCLUSION` : mode,
      ...(exclusions.length
        ? { imageTagMutabilityExclusionFilters: exclusions.map((filter) => ({ filterType: 'WILDCARD', filter })) }
        : {}),
      imageScanningConfiguration: { scanOnPush: f.get('scanOnPush') === 'on' },
      ...(tags.length ? { tags } : {}),
    };
    try {
      await ctx.call('CreateRepository', input);
      return { redirect: `${repositoryHref(name)}?created=1` };
    } catch (e) {
      const { status, message } = describeError(e);
      return { status, title: 'Create repository', error: message, body: createForm(ctx, f) };
    }
  }
  return { title: 'Create repository', body: createForm(ctx, f) };
}

/** Separators of a list typed in a form field: spaces and commas. */
export const LIST_SEPARATORS = /[\s,]+/;
/** A line break in a text area. */
export const LINE_BREAK = /\r?\n/;

/** `key=value` per line. */
function parseTags(text: string): { Key: string; Value: string }[] {
  return text
    .split(LINE_BREAK)
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const eq = line.indexOf('=');
      return eq < 0 ? { Key: line, Value: '' } : { Key: line.slice(0, eq).trim(), Value: line.slice(eq + 1).trim() };
    });
}

function createForm(ctx: PageContext, f: URLSearchParams): Html {
  const immutable = f.get('imageTagMutability') === 'IMMUTABLE';
  return html`<section class="panel">
<h1>Create repository</h1>
<form method="post" action="/console/create-repository">
  ${csrfField(ctx.viewer)}
  <label for="repositoryName">Repository name</label>
  <input type="text" id="repositoryName" name="repositoryName" required value="${f.get('repositoryName') ?? ''}" aria-describedby="name-help">
  <p class="muted" id="name-help">Lowercase letters, digits and <code>._-</code>, with namespaces separated by <code>/</code> (for example <code>team/app</code>); 2 to 256 characters.</p>
  <fieldset>
    <legend>Image tag mutability</legend>
    <label class="inline"><input type="radio" name="imageTagMutability" value="MUTABLE" ${immutable ? '' : html`checked`}> Mutable</label>
    <label class="inline"><input type="radio" name="imageTagMutability" value="IMMUTABLE" ${immutable ? html`checked` : ''}> Immutable</label>
    <label for="exclusions">Mutability exclusions (tag wildcards, optional)</label>
    <input type="text" id="exclusions" name="exclusions" value="${f.get('exclusions') ?? ''}" placeholder="latest, dev-*">
  </fieldset>
  <label class="inline"><input type="checkbox" id="scanOnPush" name="scanOnPush" ${f.get('scanOnPush') === 'on' ? html`checked` : ''}> Scan on push</label>
  <p class="muted">Encryption: AES-256 (the registry's own key).</p>
  <label for="tags">Tags (one <code>key=value</code> per line, optional)</label>
  <textarea id="tags" name="tags" class="short">${f.get('tags') ?? ''}</textarea>
  <p><button type="submit" class="primary">Create repository</button> <a href="/console/repositories">Cancel</a></p>
</form>
</section>`;
}
