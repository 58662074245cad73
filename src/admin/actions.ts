// Administration of identities: accounts, users and access keys. One set of actions for the `berth admin`
// command (on the data directory) and the admin API (POST /_berth/admin/<action>, as an account's root).
import { Identity, IdentityError } from '../auth/identity.ts';

export interface AdminArgs {
  account?: string;
  user?: string;
  accessKeyId?: string;
  policyName?: string;
  /** The policy document's JSON text. */
  policyDocument?: string;
}

type Action = (identity: Identity, args: AdminArgs, callerAccount: string) => Promise<unknown>;

const need = (value: string | undefined, what: string): string => {
  if (!value) throw new IdentityError(`${what} is required`);
  return value;
};

export const ADMIN_ACTIONS: Record<string, { summary: string; run: Action; rootOfDefaultOnly?: boolean }> = {
  'create-account': {
    summary: 'create an account (--account <12 digits>, optional) and its root access key',
    rootOfDefaultOnly: true,
    run: (id, a) => id.createAccount(a.account),
  },
  'create-user': {
    summary: 'create a user (--user <name>) in an account',
    run: async (id, a, acct) => ({ arn: await id.createUser(a.account ?? acct, need(a.user, '--user')) }),
  },
  'delete-user': {
    summary: 'delete a user (--user <name>) and its access keys',
    run: async (id, a, acct) => { await id.deleteUser(a.account ?? acct, need(a.user, '--user')); return { deleted: a.user }; },
  },
  'list-users': {
    summary: 'list the users of an account',
    run: async (id, a, acct) => ({ users: await id.listUsers(a.account ?? acct) }),
  },
  'create-access-key': {
    summary: "create an access key for a user (--user), or for the account's root without --user",
    run: (id, a, acct) => id.createAccessKey(a.account ?? acct, a.user ?? null),
  },
  'list-access-keys': {
    summary: "list a user's access keys (--user), or the root's without --user",
    run: async (id, a, acct) => ({ accessKeys: await id.listAccessKeys(a.account ?? acct, a.user ?? null) }),
  },
  'deactivate-access-key': {
    summary: 'deactivate an access key (--access-key-id)',
    run: async (id, a, acct) => { await id.setAccessKeyStatus(a.account ?? acct, need(a.accessKeyId, '--access-key-id'), 'Inactive'); return { accessKeyId: a.accessKeyId, status: 'Inactive' }; },
  },
  'activate-access-key': {
    summary: 'activate an access key again (--access-key-id)',
    run: async (id, a, acct) => { await id.setAccessKeyStatus(a.account ?? acct, need(a.accessKeyId, '--access-key-id'), 'Active'); return { accessKeyId: a.accessKeyId, status: 'Active' }; },
  },
  'put-user-policy': {
    summary: 'attach an inline identity policy to a user (--user, --policy-name, --policy-document <json|file://path>)',
    run: async (id, a, acct) => {
      await id.putUserPolicy(a.account ?? acct, need(a.user, '--user'), need(a.policyName, '--policy-name'), need(a.policyDocument, '--policy-document'));
      return { user: a.user, policyName: a.policyName };
    },
  },
  'list-user-policies': {
    summary: "list a user's policies with their documents (--user)",
    run: async (id, a, acct) => ({ policies: await id.listUserPolicies(a.account ?? acct, need(a.user, '--user')) }),
  },
  'delete-user-policy': {
    summary: "remove a user's policy (--user, --policy-name)",
    run: async (id, a, acct) => { await id.deleteUserPolicy(a.account ?? acct, need(a.user, '--user'), need(a.policyName, '--policy-name')); return { deleted: a.policyName }; },
  },
  'delete-access-key': {
    summary: 'delete an access key (--access-key-id)',
    run: async (id, a, acct) => { await id.deleteAccessKey(a.account ?? acct, need(a.accessKeyId, '--access-key-id')); return { deleted: a.accessKeyId }; },
  },
};
