// The users page: the users of the viewer's account and their access keys; create and delete users, create access
// keys (the secret shown once, on the page that answers the form, never in a URL), deactivate, activate and delete
// them. Each form calls the admin action it declares, authorized as over the admin API (iam:CreateUser, ...).
import { html, type Html } from './html.ts';
import { copyButton, csrfField } from './layout.ts';
import { describeError, type PageContext, type PageResult } from './handler.ts';
import { userPoliciesHref } from './user-policies.ts';

interface User {
  name: string;
  createdAt: number;
  arn: string;
}
interface AccessKey {
  accessKeyId: string;
  status: string;
  createdAt: number;
}

/** Epoch milliseconds (the admin API's times) as a UTC date and time. */
const at = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');

export async function usersPage(
  ctx: PageContext,
  shown0?: { error?: string; status?: number; notice?: string; secret?: { user: string; accessKeyId: string; secretAccessKey: string } },
): Promise<PageResult> {
  const shown = shown0 ?? { notice: ctx.url.searchParams.get('done') ?? undefined };
  let users: (User & { keys: AccessKey[] | string })[] = [];
  try {
    const listed = (await ctx.admin<{ users: User[] }>('list-users', {})).users;
    users = await Promise.all(
      listed.map(async (u) => {
        try {
          return { ...u, keys: (await ctx.admin<{ accessKeys: AccessKey[] }>('list-access-keys', { user: u.name })).accessKeys };
        } catch (e) {
          return { ...u, keys: describeError(e).message };
        }
      }),
    );
  } catch (e) {
    const { status, message } = describeError(e);
    return { status, title: 'Users', error: shown.error ?? message, body: html`<h1>Users</h1>` };
  }
  const form = (
    action: string,
    fields: Record<string, string>,
    label: string,
    danger = false,
    aria?: string,
  ) => html`<form method="post" action="/console/users" class="inline-form">
  ${csrfField(ctx.viewer)}<input type="hidden" name="action" value="${action}">
  ${Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
  <button type="submit" ${danger ? html`class="danger"` : ''} ${aria ? html`aria-label="${aria}"` : ''}>${label}</button></form>`;
  const keysOf = (u: User & { keys: AccessKey[] | string }): Html =>
    typeof u.keys === 'string'
      ? html`<span class="muted">${u.keys}</span>`
      : html`${u.keys.map(
          (k) => html`<div class="row"><code>${k.accessKeyId}</code> <span>${k.status}</span> <span class="muted">${at(k.createdAt)}</span>
      ${
        k.status === 'Active'
          ? form('deactivate-access-key', { accessKeyId: k.accessKeyId }, 'Deactivate', false, `Deactivate ${k.accessKeyId}`)
          : form('activate-access-key', { accessKeyId: k.accessKeyId }, 'Activate', false, `Activate ${k.accessKeyId}`)
      }
      ${form('delete-access-key', { accessKeyId: k.accessKeyId }, 'Delete', true, `Delete ${k.accessKeyId}`)}</div>`,
        )}
    ${form('create-access-key', { user: u.name }, 'Create access key', false, `Create access key for ${u.name}`)}`;
  return {
    status: shown.status,
    title: 'Users',
    error: shown.error,
    notice: shown.notice,
    body: html`${
      shown.secret
        ? html`<section class="panel" id="new-secret" role="status">
<h2>Access key created for ${shown.secret.user}</h2>
<p>This is the only time the secret access key is shown. Copy it now.</p>
<dl class="summary">
  <dt>Access key ID</dt><dd><code id="new-access-key-id">${shown.secret.accessKeyId}</code>${copyButton(shown.secret.accessKeyId)}</dd>
  <dt>Secret access key</dt><dd><code id="new-secret-access-key">${shown.secret.secretAccessKey}</code>${copyButton(shown.secret.secretAccessKey)}</dd>
</dl>
</section>`
        : ''
    }
<section class="panel">
<h1>Users</h1>
<table id="users">
<thead><tr><th>User</th><th>ARN</th><th>Created at</th><th>Access keys</th><th></th></tr></thead>
<tbody>${
      users.length
        ? users.map(
            (u) => html`<tr>
  <td>${u.name}</td><td><code>${u.arn}</code></td><td>${at(u.createdAt)}</td><td>${keysOf(u)}</td>
  <td><a href="${userPoliciesHref(u.name)}" aria-label="Policies of ${u.name}">Policies</a> ${form('delete-user', { user: u.name }, 'Delete user', true, `Delete user ${u.name}`)}</td>
</tr>`,
          )
        : html`<tr><td colspan="5" class="muted">No users.</td></tr>`
    }</tbody>
</table>
<h2>Create user</h2>
<form method="post" action="/console/users" class="row">
  ${csrfField(ctx.viewer)}<input type="hidden" name="action" value="create-user">
  <label for="new-user" class="inline">User name</label>
  <input type="text" id="new-user" name="user" required class="w24">
  <button type="submit">Create user</button>
</form>
<p class="muted">A user may do nothing until a policy allows it: give it identity policies (its Policies link), or grant it access in a repository's Permissions tab.</p>
</section>`,
  };
}

export async function userAction(ctx: PageContext, action: string): Promise<PageResult> {
  const f = ctx.form;
  const user = (f.get('user') ?? '').trim();
  const accessKeyId = f.get('accessKeyId') ?? '';
  try {
    switch (action) {
      case 'create-user':
        await ctx.admin('create-user', { user });
        return { redirect: `/console/users?done=${encodeURIComponent(`User ${user} created.`)}` };
      case 'delete-user':
        await ctx.admin('delete-user', { user });
        return { redirect: `/console/users?done=${encodeURIComponent(`User ${user} deleted.`)}` };
      case 'create-access-key': {
        // Answered with the page itself (no redirect): the secret is shown once and never travels in a URL.
        const key = await ctx.admin<{ accessKeyId: string; secretAccessKey: string }>('create-access-key', { user });
        return usersPage(ctx, { secret: { user, ...key } });
      }
      case 'deactivate-access-key':
        await ctx.admin('deactivate-access-key', { accessKeyId });
        return { redirect: `/console/users?done=${encodeURIComponent(`Access key ${accessKeyId} deactivated.`)}` };
      case 'activate-access-key':
        await ctx.admin('activate-access-key', { accessKeyId });
        return { redirect: `/console/users?done=${encodeURIComponent(`Access key ${accessKeyId} activated.`)}` };
      case 'delete-access-key':
        await ctx.admin('delete-access-key', { accessKeyId });
        return { redirect: `/console/users?done=${encodeURIComponent(`Access key ${accessKeyId} deleted.`)}` };
      default:
        return usersPage(ctx, { status: 400, error: `Unknown action ${action}.` });
    }
  } catch (e) {
    const { status, message } = describeError(e);
    return usersPage(ctx, { status, error: message });
  }
}
