// The repository page and its tabs (Summary, Images, Permissions, Lifecycle policy, Repository tags) and the
// actions of each tab's forms, each on the ECR operations its route declares (src/console/routes.ts).
import { html, type Html } from './html.ts';
import { bytes, copyButton, csrfField, when } from './layout.ts';
import { describeError, type PageContext, type PageResult } from './handler.ts';
import { repositoryHref } from './repositories.ts';
import { pushCommands } from './push-commands.ts';
import { EcrError } from '../ecr/errors.ts';
import { repositoryArn } from '../core/arn.ts';
import { imagesTab, type ImageDetail } from './images.ts';
import { imagePage } from './image.ts';
import { jsonEditor } from './json-editor.ts';

const TABS: [string, string][] = [
  ['summary', 'Summary'],
  ['images', 'Images'],
  ['permissions', 'Permissions'],
  ['lifecycle', 'Lifecycle policy'],
  ['tags', 'Repository tags'],
];

interface WireRepository {
  repositoryName: string;
  repositoryUri: string;
  repositoryArn: string;
  registryId: string;
  createdAt: number;
  imageTagMutability: string;
  imageTagMutabilityExclusionFilters?: { filter: string }[];
  imageScanningConfiguration: { scanOnPush: boolean };
  encryptionConfiguration?: { encryptionType: string };
}

/** What an ECR call answered, or the error it raised as the console shows it. */
async function attempt<T>(p: Promise<T>): Promise<{ ok: T } | { status: number; message: string }> {
  try {
    return { ok: await p };
  } catch (e) {
    return describeError(e);
  }
}

/** Draws the repository page: its heading, tabs and the tab's content. */
function frame(ctx: PageContext, repo: WireRepository, tab: string, content: Html): Html {
  return html`<p><a href="/console/repositories">Repositories</a> › ${repo.repositoryName}</p>
<section class="panel">
<h1>${repo.repositoryName}</h1>
<nav class="tabs" aria-label="Repository">
${TABS.map(([id, label]) => html`<a href="${repositoryHref(repo.repositoryName, id)}" ${id === tab || (id === 'images' && tab === 'image') ? html`aria-current="page"` : ''}>${label}</a>`)}
</nav>
${content}
</section>`;
}

export async function repositoryPage(
  ctx: PageContext,
  tab: string,
  shown: { error?: string; status?: number; form?: URLSearchParams } = {},
): Promise<PageResult> {
  const name = ctx.repositoryName!;
  const described = await attempt(ctx.call('DescribeRepositories', { repositoryNames: [name] }));
  if (!('ok' in described)) {
    return {
      status: described.status,
      title: name,
      error: described.message,
      body: html`<p><a href="/console/repositories">Repositories</a> › ${name}</p>`,
    };
  }
  const repo = (described.ok as { repositories: WireRepository[] }).repositories[0];
  const q = ctx.url.searchParams;
  const notice = q.get('created') ? `Repository ${name} created.` : (q.get('done') ?? undefined);
  let content: Html;
  let title: string | undefined;
  let error = shown.error;
  let status = shown.status;
  const failed = (r: { status: number; message: string }) => {
    error ??= r.message;
    status ??= r.status;
  };
  switch (tab) {
    case 'images':
      content = await imagesTab(ctx, repo, failed);
      break;
    case 'image':
      ({ content, title } = await imagePage(ctx, repo, failed));
      break;
    case 'permissions':
      content = await permissionsTab(ctx, repo, failed, shown.form, shown.error);
      break;
    case 'lifecycle':
      content = await lifecycleTab(ctx, repo, failed, shown.form, shown.error);
      break;
    case 'tags':
      content = await tagsTab(ctx, repo, failed);
      break;
    default:
      content = await summaryTab(ctx, repo);
  }
  return {
    status,
    title: title ?? `${name} · ${TABS.find(([id]) => id === tab)?.[1] ?? 'Summary'}`,
    error,
    notice,
    body: frame(ctx, repo, tab, content),
  };
}

/** The Summary reads at most this many images (pages of 1000) for its figures; past it they say "at least". */
const SUMMARY_IMAGES = 10_000;

interface Figures {
  count: number;
  bytes: number;
  lastPush?: number;
  lastPull?: number;
  more: boolean;
}

/** Image count, total size, last push and last pull, from DescribeImages (undefined when it is refused). */
async function figuresOf(ctx: PageContext, repositoryName: string): Promise<Figures | undefined> {
  const figures: Figures = { count: 0, bytes: 0, more: false };
  let nextToken: string | undefined;
  try {
    do {
      const out = await ctx.call('DescribeImages', { repositoryName, maxResults: 1000, ...(nextToken ? { nextToken } : {}) });
      for (const i of out.imageDetails as ImageDetail[]) {
        figures.count++;
        figures.bytes += i.imageSizeInBytes ?? 0;
        figures.lastPush = Math.max(figures.lastPush ?? 0, i.imagePushedAt ?? 0) || undefined;
        figures.lastPull = Math.max(figures.lastPull ?? 0, i.lastRecordedPullTime ?? 0) || undefined;
      }
      nextToken = out.nextToken;
    } while (nextToken && figures.count < SUMMARY_IMAGES);
  } catch (e) {
    describeError(e);
    return undefined;
  }
  figures.more = nextToken !== undefined;
  return figures;
}

async function summaryTab(ctx: PageContext, repo: WireRepository): Promise<Html> {
  const figures = await figuresOf(ctx, repo.repositoryName);
  const atLeast = figures?.more ? 'at least ' : '';
  const count = figures && `${atLeast}${figures.count}`;
  const exclusions = repo.imageTagMutabilityExclusionFilters?.map((f) => f.filter).join(', ');
  return html`<h2>Summary</h2>
<dl class="summary">
  <dt>URI</dt><dd><code id="repository-uri">${repo.repositoryUri}</code>${copyButton(repo.repositoryUri, 'Copy URI')}</dd>
  <dt>ARN</dt><dd><code>${repo.repositoryArn}</code>${copyButton(repo.repositoryArn, 'Copy ARN')}</dd>
  <dt>Created at</dt><dd>${when(repo.createdAt)}</dd>
  <dt>Tag immutability</dt><dd>${repo.imageTagMutability}${exclusions ? ` (except ${exclusions})` : ''}</dd>
  <dt>Scan on push</dt><dd>${repo.imageScanningConfiguration.scanOnPush ? 'Enabled' : 'Disabled'}</dd>
  <dt>Encryption</dt><dd>${repo.encryptionConfiguration?.encryptionType ?? 'AES256'}</dd>
  <dt>Images</dt><dd id="image-count">${count ?? '—'}</dd>
  <dt>Size</dt><dd id="repository-size">${figures ? `${atLeast}${bytes(figures.bytes)}` : '—'}</dd>
  <dt>Last push</dt><dd id="last-push">${when(figures?.lastPush)}</dd>
  <dt>Last pull</dt><dd id="last-pull">${when(figures?.lastPull)}</dd>
</dl>
${pushCommands(ctx, repo.repositoryName, repo.repositoryUri)}
<h2>Settings</h2>
<form method="post" action="${repositoryHref(repo.repositoryName)}" class="row">
  ${csrfField(ctx.viewer)}<input type="hidden" name="action" value="set-mutability">
  <label for="mutability" class="inline">Tag immutability</label>
  <select id="mutability" name="imageTagMutability" class="w12">
    <option value="MUTABLE" ${repo.imageTagMutability.startsWith('MUTABLE') ? html`selected` : ''}>Mutable</option>
    <option value="IMMUTABLE" ${repo.imageTagMutability.startsWith('IMMUTABLE') ? html`selected` : ''}>Immutable</option>
  </select>
  <button type="submit">Save</button>
</form>
<form method="post" action="${repositoryHref(repo.repositoryName)}" class="row">
  ${csrfField(ctx.viewer)}<input type="hidden" name="action" value="set-scan-on-push">
  <label class="inline"><input type="checkbox" name="scanOnPush" ${repo.imageScanningConfiguration.scanOnPush ? html`checked` : ''}> Scan on push</label>
  <button type="submit">Save</button>
</form>
<h2>Delete repository</h2>
<form method="post" action="${repositoryHref(repo.repositoryName)}">
  ${csrfField(ctx.viewer)}<input type="hidden" name="action" value="delete-repository">
  <p>${figures && figures.count > 0 ? 'The repository and every image in it will be deleted.' : 'The repository will be deleted.'}</p>
  <label for="confirm">Type <code>${repo.repositoryName}</code> to confirm</label>
  <input type="text" id="confirm" name="confirm" data-confirm="${repo.repositoryName}" autocomplete="off">
  <p><button type="submit" class="danger">Delete repository</button></p>
</form>`;
}

const SAMPLE_POLICY = JSON.stringify(
  {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AllowPull',
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::123456789012:user/ci' },
        Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
      },
    ],
  },
  null,
  2,
);

async function permissionsTab(
  ctx: PageContext,
  repo: WireRepository,
  failed: (r: { status: number; message: string }) => void,
  form?: URLSearchParams,
  error?: string,
): Promise<Html> {
  const out = await attempt(ctx.call('GetRepositoryPolicy', { repositoryName: repo.repositoryName }));
  let current: string | undefined;
  if ('ok' in out) current = pretty((out.ok as { policyText: string }).policyText);
  else if (!out.message.startsWith('RepositoryPolicyNotFoundException')) failed(out);
  const typed = form?.get('action') === 'set-policy' ? (form.get('policyText') ?? undefined) : undefined;
  const text = typed ?? current ?? '';
  return html`<h2>Permissions</h2>
<p>${current ? 'The repository policy:' : html`<span id="no-policy">This repository has no policy.</span> Only identity policies grant access to it.`}</p>
<form method="post" action="${repositoryHref(repo.repositoryName)}">
  ${csrfField(ctx.viewer)}<input type="hidden" name="action" value="set-policy">
  ${jsonEditor({ id: 'policyText', name: 'policyText', label: 'Policy JSON', text, error: typed !== undefined ? error : undefined, placeholder: SAMPLE_POLICY })}
  <p><button type="submit" class="primary">Save policy</button></p>
</form>
${policyBuilder(ctx, repo, form)}
${
  current
    ? html`<form method="post" action="${repositoryHref(repo.repositoryName)}">
  ${csrfField(ctx.viewer)}<input type="hidden" name="action" value="delete-policy">
  <button type="submit" class="danger">Delete policy</button>
</form>`
    : ''
}`;
}

/** The actions of the builder's two kinds of access, as ECR's user guide lists them. */
const PULL = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'];
const ACCESS: Record<string, { sid: string; actions: string[] }> = {
  pull: { sid: 'AllowPull', actions: PULL },
  push: {
    sid: 'AllowPushPull',
    actions: [...PULL, 'ecr:PutImage', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload'],
  },
};

/** The builder for the common cases: pull only, or push and pull, for an account or a user. */
function policyBuilder(ctx: PageContext, repo: WireRepository, form?: URLSearchParams): Html {
  const f = form && form.get('action') === 'add-policy-statement' ? form : new URLSearchParams();
  return html`<details id="policy-builder" ${f.has('principal') ? html`open` : ''}>
<summary>Add a permission</summary>
<form method="post" action="${repositoryHref(repo.repositoryName)}">
  ${csrfField(ctx.viewer)}<input type="hidden" name="action" value="add-policy-statement">
  <label for="builder-principal">Principal: an account ID, or a user's or role's ARN</label>
  <input type="text" id="builder-principal" name="principal" required value="${f.get('principal') ?? ''}" placeholder="arn:aws:iam::123456789012:user/ci">
  <label for="builder-access">Access</label>
  <select id="builder-access" name="access" class="w12">
    <option value="pull" ${f.get('access') !== 'push' ? html`selected` : ''}>Pull only</option>
    <option value="push" ${f.get('access') === 'push' ? html`selected` : ''}>Push and pull</option>
  </select>
  <p><button type="submit">Add permission</button></p>
</form>
</details>`;
}

/** The statement the builder adds, its Sid made unique in the policy. */
function statementOf(f: URLSearchParams, existing: { Sid?: string }[]): object {
  const access = ACCESS[f.get('access') === 'push' ? 'push' : 'pull'];
  const who = (f.get('principal') ?? '').trim();
  const sids = new Set(existing.map((s) => s.Sid));
  let sid = access.sid;
  for (let n = 2; sids.has(sid); n++) sid = `${access.sid}${n}`;
  return { Sid: sid, Effect: 'Allow', Principal: { AWS: /^\d{12}$/.test(who) ? `arn:aws:iam::${who}:root` : who }, Action: access.actions };
}

interface Rule {
  rulePriority?: number;
  description?: string;
  selection?: {
    tagStatus?: string;
    tagPrefixList?: string[];
    tagPatternList?: string[];
    countType?: string;
    countUnit?: string;
    countNumber?: number;
  };
  action?: { type?: string };
}

async function lifecycleTab(
  ctx: PageContext,
  repo: WireRepository,
  failed: (r: { status: number; message: string }) => void,
  form?: URLSearchParams,
  error?: string,
): Promise<Html> {
  const out = await attempt(ctx.call('GetLifecyclePolicy', { repositoryName: repo.repositoryName }));
  let current: string | undefined;
  if ('ok' in out) current = pretty((out.ok as { lifecyclePolicyText: string }).lifecyclePolicyText);
  else if (!out.message.startsWith('LifecyclePolicyNotFoundException')) failed(out);
  let rules: Rule[] = [];
  try {
    rules = current ? ((JSON.parse(current) as { rules?: Rule[] }).rules ?? []) : [];
  } catch {
    /* shown as JSON */
  }
  const preview = await attempt(ctx.call('GetLifecyclePolicyPreview', { repositoryName: repo.repositoryName, maxResults: 100 }));
  const text = form?.get('lifecyclePolicyText') ?? current ?? '';
  const ruleRows = rules.map(
    (r) => html`<tr>
  <td>${r.rulePriority}</td><td>${r.description ?? ''}</td><td>${r.selection?.tagStatus}</td>
  <td>${[...(r.selection?.tagPrefixList ?? []).map((p) => `${p}*`), ...(r.selection?.tagPatternList ?? [])].join(', ')}</td>
  <td>${r.selection?.countType === 'sinceImagePushed' ? `older than ${r.selection?.countNumber} ${r.selection?.countUnit}` : `more than ${r.selection?.countNumber} images`}</td>
  <td>${r.action?.type ?? 'expire'}</td>
</tr>`,
  );
  return html`<h2>Lifecycle policy</h2>
${
  current
    ? html`<table id="rules"><thead><tr><th>Priority</th><th>Description</th><th>Tag status</th><th>Tags</th><th>Match</th><th>Action</th></tr></thead><tbody>${ruleRows}</tbody></table>`
    : html`<p id="no-lifecycle">This repository has no lifecycle policy.</p>`
}
${createRuleForm(ctx, repo, rules, form)}
<form method="post" action="${repositoryHref(repo.repositoryName)}">
  ${csrfField(ctx.viewer)}
  ${jsonEditor({ id: 'lifecyclePolicyText', name: 'lifecyclePolicyText', label: 'Lifecycle policy JSON', text, error: form?.has('lifecyclePolicyText') ? error : undefined })}
  <p class="row">
    <button type="submit" name="action" value="set-lifecycle" class="primary">Save lifecycle policy</button>
    <button type="submit" name="action" value="test-lifecycle">Test rules</button>
  </p>
</form>
${
  current
    ? html`<form method="post" action="${repositoryHref(repo.repositoryName)}">
  ${csrfField(ctx.viewer)}<input type="hidden" name="action" value="delete-lifecycle">
  <button type="submit" class="danger">Delete lifecycle policy</button>
</form>`
    : ''
}
${'ok' in preview ? previewSection(ctx, repo, preview.ok as PreviewOut) : ''}`;
}

/** Create rule: ECR console's form, one rule at a time, added to the policy (the JSON below edits it whole). */
function createRuleForm(ctx: PageContext, repo: WireRepository, rules: Rule[], form?: URLSearchParams): Html {
  const f = form && form.get('action') === 'add-lifecycle-rule' ? form : new URLSearchParams();
  const next = Math.max(0, ...rules.map((r) => r.rulePriority ?? 0)) + 1;
  const pick = (name: string, value: string, fallback: boolean) =>
    (f.get(name) ?? '') === value || (!f.has(name) && fallback) ? html`selected` : '';
  return html`<details id="create-rule" ${form?.get('action') === 'add-lifecycle-rule' ? html`open` : ''}>
<summary>Create rule</summary>
<form method="post" action="${repositoryHref(repo.repositoryName)}">
  ${csrfField(ctx.viewer)}<input type="hidden" name="action" value="add-lifecycle-rule">
  <label for="rule-priority">Rule priority</label>
  <input type="text" inputmode="numeric" id="rule-priority" name="rulePriority" class="w14" required value="${f.get('rulePriority') ?? String(next)}">
  <label for="rule-description">Rule description</label>
  <input type="text" id="rule-description" name="description" value="${f.get('description') ?? ''}">
  <label for="rule-tag-status">Image status</label>
  <select id="rule-tag-status" name="tagStatus" class="w12">
    <option value="tagged" ${pick('tagStatus', 'tagged', true)}>Tagged</option>
    <option value="untagged" ${pick('tagStatus', 'untagged', false)}>Untagged</option>
    <option value="any" ${pick('tagStatus', 'any', false)}>Any</option>
  </select>
  <label for="rule-prefixes">Tag prefixes (comma-separated, for tagged images)</label>
  <input type="text" id="rule-prefixes" name="tagPrefixes" value="${f.get('tagPrefixes') ?? ''}" placeholder="v, release-">
  <label for="rule-patterns">Or tag wildcards (comma-separated)</label>
  <input type="text" id="rule-patterns" name="tagPatterns" value="${f.get('tagPatterns') ?? ''}" placeholder="prod*, *-rc">
  <label for="rule-count-type">Match criteria</label>
  <select id="rule-count-type" name="countType" class="w12">
    <option value="imageCountMoreThan" ${pick('countType', 'imageCountMoreThan', true)}>Image count more than</option>
    <option value="sinceImagePushed" ${pick('countType', 'sinceImagePushed', false)}>Since image pushed (days)</option>
  </select>
  <label for="rule-count-number">Count number</label>
  <input type="text" inputmode="numeric" id="rule-count-number" name="countNumber" class="w14" required value="${f.get('countNumber') ?? ''}">
  <p><button type="submit" class="primary">Save rule</button></p>
</form>
</details>`;
}

/** A rule from the Create rule form, as ECR's lifecycle policy grammar has it (ECR validates it when saved). */
function ruleOf(f: URLSearchParams): Rule {
  const list = (name: string) =>
    (f.get(name) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const number = (name: string) =>
    /^\d+$/.test((f.get(name) ?? '').trim()) ? Number(f.get(name)) : ((f.get(name) ?? '') as unknown as number);
  const countType = f.get('countType') === 'sinceImagePushed' ? 'sinceImagePushed' : 'imageCountMoreThan';
  const prefixes = list('tagPrefixes');
  const patterns = list('tagPatterns');
  const description = (f.get('description') ?? '').trim();
  return {
    rulePriority: number('rulePriority'),
    ...(description ? { description } : {}),
    selection: {
      tagStatus: f.get('tagStatus') ?? 'tagged',
      ...(prefixes.length ? { tagPrefixList: prefixes } : {}),
      ...(patterns.length ? { tagPatternList: patterns } : {}),
      countType,
      ...(countType === 'sinceImagePushed' ? { countUnit: 'days' } : {}),
      countNumber: number('countNumber'),
    },
    action: { type: 'expire' },
  };
}

interface PreviewOut {
  status: string;
  previewResults: { imageDigest: string; imageTags?: string[]; imagePushedAt?: number; appliedRulePriority?: number }[];
  summary?: { expiringImageTotalCount: number };
}

function previewSection(ctx: PageContext, repo: WireRepository, p: PreviewOut): Html {
  return html`<h2>Test rules: result</h2>
<p id="preview-status">Status: ${p.status}${p.status === 'IN_PROGRESS' ? html` (<a href="${repositoryHref(repo.repositoryName, 'lifecycle')}">refresh</a>)` : ''}${p.summary ? `: ${p.summary.expiringImageTotalCount} image(s) would expire` : ''}</p>
${
  p.previewResults.length
    ? html`<table id="preview"><thead><tr><th>Image tags</th><th>Digest</th><th>Pushed at</th><th>Rule</th></tr></thead><tbody>
${p.previewResults.map((r) => html`<tr><td>${r.imageTags?.join(', ') ?? 'untagged'}</td><td><code>${r.imageDigest.slice(0, 19)}…</code></td><td>${when(r.imagePushedAt)}</td><td>${r.appliedRulePriority}</td></tr>`)}
</tbody></table>`
    : ''
}`;
}

async function tagsTab(ctx: PageContext, repo: WireRepository, failed: (r: { status: number; message: string }) => void): Promise<Html> {
  const out = await attempt(ctx.call('ListTagsForResource', { resourceArn: repo.repositoryArn }));
  const tags = 'ok' in out ? (out.ok as { tags: { Key: string; Value: string }[] }).tags : (failed(out), []);
  return html`<h2>Repository tags</h2>
<table id="tags"><thead><tr><th>Key</th><th>Value</th><th></th></tr></thead><tbody>
${
  tags.length
    ? tags.map(
        (t) => html`<tr><td>${t.Key}</td><td>${t.Value}</td><td>
  <form method="post" action="${repositoryHref(repo.repositoryName)}">${csrfField(ctx.viewer)}<input type="hidden" name="action" value="untag"><input type="hidden" name="key" value="${t.Key}">
  <button type="submit" class="danger" aria-label="Remove tag ${t.Key}">Remove</button></form></td></tr>`,
      )
    : html`<tr><td colspan="3" class="muted">No tags.</td></tr>`
}
</tbody></table>
<h2>Add a tag</h2>
<form method="post" action="${repositoryHref(repo.repositoryName)}" class="row">
  ${csrfField(ctx.viewer)}<input type="hidden" name="action" value="tag">
  <label for="tag-key" class="inline">Key</label><input type="text" id="tag-key" name="key" required class="w14">
  <label for="tag-value" class="inline">Value</label><input type="text" id="tag-value" name="value" class="w14">
  <button type="submit">Add tag</button>
</form>`;
}

/** The ARN of the page's repository in the viewer's registry (the tag operations name their resource by ARN). */
function arnOf(ctx: PageContext): string {
  return repositoryArn(ctx.deps.region, ctx.viewer.principal.accountId, ctx.repositoryName!);
}

function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** A form of the repository page: the ECR call it stands for, then back to its tab (or the form again with the error). */
export async function repositoryAction(ctx: PageContext, action: string): Promise<PageResult> {
  const name = ctx.repositoryName!;
  const f = ctx.form;
  const act = async (tab: string, done: string, run: () => Promise<unknown>): Promise<PageResult> => {
    try {
      await run();
      return { redirect: `${repositoryHref(name, tab)}${tab === 'summary' ? '?' : '&'}done=${encodeURIComponent(done)}` };
    } catch (e) {
      const { status, message } = describeError(e);
      return repositoryPage(ctx, tab, { error: message, status, form: f });
    }
  };
  switch (action) {
    case 'delete-repository': {
      if (f.get('confirm') !== name)
        return repositoryPage(ctx, 'summary', { status: 400, error: `Type the repository's name, ${name}, to confirm.` });
      try {
        await ctx.call('DeleteRepository', { repositoryName: name, force: true });
        return { redirect: `/console/repositories?deleted=${encodeURIComponent(name)}` };
      } catch (e) {
        const { status, message } = describeError(e);
        return repositoryPage(ctx, 'summary', { error: message, status });
      }
    }
    case 'set-mutability':
      return act('summary', 'Tag immutability saved.', () =>
        ctx.call('PutImageTagMutability', {
          repositoryName: name,
          imageTagMutability: f.get('imageTagMutability') === 'IMMUTABLE' ? 'IMMUTABLE' : 'MUTABLE',
        }),
      );
    case 'set-scan-on-push':
      return act('summary', 'Scan on push saved.', () =>
        ctx.call('PutImageScanningConfiguration', {
          repositoryName: name,
          imageScanningConfiguration: { scanOnPush: f.get('scanOnPush') === 'on' },
        }),
      );
    case 'delete-images': {
      const digests = f.getAll('digest');
      if (digests.length === 0) return repositoryPage(ctx, 'images', { status: 400, error: 'Select the images to delete.' });
      return act('images', `${digests.length} image(s) deleted.`, async () => {
        const out = await ctx.call('BatchDeleteImage', { repositoryName: name, imageIds: digests.map((imageDigest) => ({ imageDigest })) });
        if (out.failures?.length)
          throw new EcrError(out.failures[0].failureCode, out.failures.map((x: { failureReason: string }) => x.failureReason).join('; '));
      });
    }
    case 'set-policy':
      return act('permissions', 'Repository policy saved.', () =>
        ctx.call('SetRepositoryPolicy', { repositoryName: name, policyText: f.get('policyText') ?? '' }),
      );
    case 'add-policy-statement':
      return act('permissions', 'Permission added.', async () => {
        let policy: { Version?: string; Statement?: { Sid?: string }[] | { Sid?: string } } = { Version: '2012-10-17', Statement: [] };
        try {
          policy = JSON.parse((await ctx.call('GetRepositoryPolicy', { repositoryName: name })).policyText);
        } catch (e) {
          if (!(e instanceof EcrError && e.type === 'RepositoryPolicyNotFoundException')) throw e;
        }
        const statements = Array.isArray(policy.Statement) ? policy.Statement : policy.Statement ? [policy.Statement] : [];
        policy.Statement = [...statements, statementOf(f, statements)];
        return ctx.call('SetRepositoryPolicy', { repositoryName: name, policyText: JSON.stringify(policy, null, 2) });
      });
    case 'delete-policy':
      return act('permissions', 'Repository policy deleted.', () => ctx.call('DeleteRepositoryPolicy', { repositoryName: name }));
    case 'set-lifecycle':
      return act('lifecycle', 'Lifecycle policy saved.', () =>
        ctx.call('PutLifecyclePolicy', { repositoryName: name, lifecyclePolicyText: f.get('lifecyclePolicyText') ?? '' }),
      );
    case 'delete-lifecycle':
      return act('lifecycle', 'Lifecycle policy deleted.', () => ctx.call('DeleteLifecyclePolicy', { repositoryName: name }));
    case 'add-lifecycle-rule':
      return act('lifecycle', 'Rule added.', async () => {
        let policy: { rules: Rule[] } = { rules: [] };
        try {
          policy = JSON.parse((await ctx.call('GetLifecyclePolicy', { repositoryName: name })).lifecyclePolicyText);
        } catch (e) {
          if (!(e instanceof EcrError && e.type === 'LifecyclePolicyNotFoundException')) throw e;
        }
        policy.rules = [...(policy.rules ?? []), ruleOf(f)];
        return ctx.call('PutLifecyclePolicy', { repositoryName: name, lifecyclePolicyText: JSON.stringify(policy) });
      });
    case 'test-lifecycle':
      return act('lifecycle', 'Test started: the result shows below.', () =>
        ctx.call('StartLifecyclePolicyPreview', { repositoryName: name, lifecyclePolicyText: f.get('lifecyclePolicyText') ?? '' }),
      );
    case 'tag':
      return act('tags', 'Tag added.', () =>
        ctx.call('TagResource', { resourceArn: arnOf(ctx), tags: [{ Key: f.get('key') ?? '', Value: f.get('value') ?? '' }] }),
      );
    case 'untag':
      return act('tags', 'Tag removed.', () => ctx.call('UntagResource', { resourceArn: arnOf(ctx), tagKeys: [f.get('key') ?? ''] }));
    default:
      return repositoryPage(ctx, 'summary', { status: 400, error: `Unknown action ${action}.` });
  }
}
