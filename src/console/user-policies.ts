// A user's identity policies (`/console/user-policies?user=`): the inline policies attached to the user, each
// in a JSON editor (the error at its line when refused), added, replaced and removed with the admin actions
// list-user-policies, put-user-policy and delete-user-policy (iam:ListUserPolicies, iam:PutUserPolicy, ...).
import { html, type Html } from './html.ts';
import { csrfField } from './layout.ts';
import { describeError, type PageContext, type PageResult } from './handler.ts';
import { jsonEditor } from './json-editor.ts';

const SAMPLE = JSON.stringify(
  {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['ecr:GetAuthorizationToken', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
        Resource: '*',
      },
    ],
  },
  null,
  2,
);

export const userPoliciesHref = (user: string) => `/console/user-policies?user=${encodeURIComponent(user)}`;

export async function userPoliciesPage(ctx: PageContext, shown: { error?: string; status?: number } = {}): Promise<PageResult> {
  const user = (ctx.form.get('user') ?? ctx.url.searchParams.get('user') ?? '').trim();
  let policies: { name: string; document: unknown }[];
  try {
    policies = (await ctx.admin<{ policies: { name: string; document: unknown }[] }>('list-user-policies', { user })).policies;
  } catch (e) {
    const { status, message } = describeError(e);
    return {
      status: shown.status ?? status,
      title: `Policies of ${user}`,
      error: shown.error ?? message,
      body: html`<p><a href="/console/users">Users</a> › ${user}</p>`,
    };
  }
  const f = ctx.form;
  const failedName = shown.error && f.get('action') === 'put-user-policy' ? (f.get('policyName') ?? '') : undefined;
  const editor = (
    name: string,
    text: string,
    n: number,
  ): Html => html`<form method="post" action="/console/user-policies" class="user-policy">
  ${csrfField(ctx.viewer)}<input type="hidden" name="user" value="${user}"><input type="hidden" name="action" value="put-user-policy">
  <input type="hidden" name="policyName" value="${name}">
  <h3>${name}</h3>
  ${jsonEditor({ id: `policy-${n}`, name: 'policyDocument', label: `Policy ${name} (JSON)`, text: failedName === name ? (f.get('policyDocument') ?? text) : text, error: failedName === name ? shown.error : undefined })}
  <p class="row"><button type="submit" class="primary">Save ${name}</button>
  <button type="submit" name="action" value="delete-user-policy" class="danger" aria-label="Remove policy ${name}">Remove</button></p>
</form>`;
  const isNew = failedName !== undefined && !policies.some((p) => p.name === failedName);
  return {
    status: shown.status,
    error: shown.error,
    title: `Policies of ${user}`,
    notice: ctx.url.searchParams.get('done') ?? undefined,
    body: html`<p><a href="/console/users">Users</a> › ${user}</p>
<section class="panel">
<h1>Identity policies of ${user}</h1>
<p class="muted">What the user may do: its inline policies, as IAM's. A repository's policy may grant it more.</p>
${policies.length ? policies.map((p, n) => editor(p.name, JSON.stringify(p.document, null, 2), n)) : html`<p id="no-user-policies">This user has no policies.</p>`}
<h2>Add a policy</h2>
<form method="post" action="/console/user-policies" id="add-user-policy">
  ${csrfField(ctx.viewer)}<input type="hidden" name="user" value="${user}"><input type="hidden" name="action" value="put-user-policy">
  <label for="new-policy-name">Policy name</label>
  <input type="text" id="new-policy-name" name="policyName" required class="w24" value="${isNew ? failedName : ''}">
  ${jsonEditor({ id: 'new-policy-document', name: 'policyDocument', label: 'Policy document (JSON)', text: isNew ? (f.get('policyDocument') ?? '') : '', error: isNew ? shown.error : undefined, placeholder: SAMPLE })}
  <p><button type="submit" class="primary">Add policy</button></p>
</form>
</section>`,
  };
}

export async function userPolicyAction(ctx: PageContext, action: string): Promise<PageResult> {
  const f = ctx.form;
  const user = (f.get('user') ?? '').trim();
  const policyName = (f.get('policyName') ?? '').trim();
  try {
    if (action === 'put-user-policy')
      await ctx.admin('put-user-policy', { user, policyName, policyDocument: f.get('policyDocument') ?? '' });
    else await ctx.admin('delete-user-policy', { user, policyName });
    const done = action === 'put-user-policy' ? `Policy ${policyName} saved.` : `Policy ${policyName} removed.`;
    return { redirect: `${userPoliciesHref(user)}&done=${encodeURIComponent(done)}` };
  } catch (e) {
    const { status, message } = describeError(e);
    return userPoliciesPage(ctx, { error: message, status });
  }
}
