// The console's routes with the authorization each needs, part of the one route table (src/server/routes.ts).
// `public`: the sign-in page and the static assets, answered without a session. `session`: a signed-in session is
// needed (checked by the dispatcher before any page runs), and the page may call only the ECR operations it
// declares here, each validated and authorized exactly as over the ECR API (src/ecr/invoke.ts): the console has no
// authorization of its own.
import { CONSOLE_PREFIX } from '../server/endpoints.ts';

export interface ConsoleRoute {
  method: 'GET' | 'POST';
  /** The path, with `<name>` for a repository name (which may hold slashes). */
  path: string;
  /** For the repository page: the tab shown (GET, `?tab=`) or the action taken (POST, form field `action`). */
  variant?: string;
  access: 'public' | 'session';
  /** The ECR operations the page calls as the signed-in principal. */
  operations: string[];
  /** The admin actions (src/admin/actions.ts) the page calls as the signed-in principal, authorized as over the
   * admin API. */
  adminActions?: string[];
}

const page = (method: 'GET' | 'POST', path: string, operations: string[], variant?: string): ConsoleRoute => ({
  method,
  path,
  access: 'session',
  operations,
  ...(variant ? { variant } : {}),
});

export const REPOSITORY_PATH = '/console/repositories/<name>';
export const STATIC_PATH = '/console/static/<asset>';

/** The repository page's tabs, and what each shows. */
export const TAB_OPERATIONS: Record<string, string[]> = {
  summary: ['DescribeRepositories', 'DescribeImages'],
  // BatchGetImage: the manifests of the indexes shown, to list their platforms (shown, not pulled).
  images: ['DescribeRepositories', 'DescribeImages', 'BatchGetImage'],
  // The image detail page (`&digest=`): its manifest, its config (a blob, read as GetDownloadUrlForLayer allows),
  // referrers and findings.
  image: [
    'DescribeRepositories',
    'DescribeImages',
    'BatchGetImage',
    'GetDownloadUrlForLayer',
    'ListImageReferrers',
    'DescribeImageScanFindings',
  ],
  permissions: ['DescribeRepositories', 'GetRepositoryPolicy'],
  lifecycle: ['DescribeRepositories', 'GetLifecyclePolicy', 'GetLifecyclePolicyPreview'],
  tags: ['DescribeRepositories', 'ListTagsForResource'],
};

/** The users page: users and their access keys. */
const USERS_LIST = ['list-users', 'list-access-keys'];

/** The users page's forms: the admin action each calls (the page is shown again after it, with the list). */
const USER_ACTIONS: Record<string, string> = {
  'create-user': 'create-user',
  'delete-user': 'delete-user',
  'create-access-key': 'create-access-key',
  'deactivate-access-key': 'deactivate-access-key',
  'activate-access-key': 'activate-access-key',
  'delete-access-key': 'delete-access-key',
};

/** The registry page: usage (now and over time), the registry policy and the scanning configuration. */
const REGISTRY_PAGE = ['GetRegistryPolicy', 'GetRegistryScanningConfiguration'];
const REGISTRY_ADMIN = ['usage', 'usage-history'];
/** The registry page's forms: the operation each calls (the page is shown again after it). */
const REGISTRY_ACTIONS: Record<string, string> = {
  'set-registry-policy': 'PutRegistryPolicy',
  'delete-registry-policy': 'DeleteRegistryPolicy',
  'set-scanning-configuration': 'PutRegistryScanningConfiguration',
};

/** A user's identity policies (`?user=`): the forms' admin actions. */
const USER_POLICY_ACTIONS: Record<string, string> = {
  'put-user-policy': 'put-user-policy',
  'delete-user-policy': 'delete-user-policy',
};

/** The repository page's forms: the operation each calls, and the tab it belongs to. */
const ACTIONS: Record<string, [string, string]> = {
  'delete-repository': ['DeleteRepository', 'summary'],
  'set-mutability': ['PutImageTagMutability', 'summary'],
  'set-scan-on-push': ['PutImageScanningConfiguration', 'summary'],
  'delete-images': ['BatchDeleteImage', 'images'],
  'set-policy': ['SetRepositoryPolicy', 'permissions'],
  'delete-policy': ['DeleteRepositoryPolicy', 'permissions'],
  // The policy builder: the current policy read, a statement added, the policy written back.
  'add-policy-statement': ['SetRepositoryPolicy', 'permissions'],
  'set-lifecycle': ['PutLifecyclePolicy', 'lifecycle'],
  'delete-lifecycle': ['DeleteLifecyclePolicy', 'lifecycle'],
  'test-lifecycle': ['StartLifecyclePolicyPreview', 'lifecycle'],
  // Create rule: the current policy read, the rule added, the policy written back.
  'add-lifecycle-rule': ['PutLifecyclePolicy', 'lifecycle'],
  tag: ['TagResource', 'tags'],
  untag: ['UntagResource', 'tags'],
};

export const CONSOLE_ROUTES: ConsoleRoute[] = [
  { method: 'GET', path: '/console/sign-in', access: 'public', operations: [] },
  { method: 'POST', path: '/console/sign-in', access: 'public', operations: [] },
  { method: 'GET', path: STATIC_PATH, access: 'public', operations: [] },
  page('GET', '/console/', []),
  page('POST', '/console/sign-out', []),
  page('GET', '/console/repositories', ['DescribeRepositories', 'DescribeImages']),
  page('GET', '/console/create-repository', []),
  page('POST', '/console/create-repository', ['CreateRepository']),
  { ...page('GET', '/console/users', []), adminActions: USERS_LIST },
  { ...page('GET', '/console/registry', REGISTRY_PAGE), adminActions: REGISTRY_ADMIN },
  ...Object.entries(REGISTRY_ACTIONS).map(([action, operation]) => ({
    ...page('POST', '/console/registry', [operation, ...REGISTRY_PAGE], action),
    adminActions: REGISTRY_ADMIN,
  })),
  { ...page('GET', '/console/audit', []), adminActions: ['audit-search'] },
  { ...page('GET', '/console/user-policies', []), adminActions: ['list-user-policies'] },
  ...Object.entries(USER_POLICY_ACTIONS).map(([action, name]) => ({
    ...page('POST', '/console/user-policies', [], action),
    adminActions: [name, 'list-user-policies'],
  })),
  ...Object.entries(USER_ACTIONS).map(([action, name]) => ({
    ...page('POST', '/console/users', [], action),
    adminActions: [name, ...USERS_LIST],
  })),
  ...Object.entries(TAB_OPERATIONS).map(([tab, operations]) => page('GET', REPOSITORY_PATH, operations, tab)),
  // A form of the repository page calls its operation, and on an error shows its tab again with the message.
  ...Object.entries(ACTIONS).map(([action, [operation, tab]]) =>
    page('POST', REPOSITORY_PATH, [operation, ...TAB_OPERATIONS[tab]], action),
  ),
];

export { CONSOLE_PREFIX };

/** The route a request names, and the repository name for the repository page. */
export function consoleRouteFor(
  method: string,
  pathname: string,
  variant: string | undefined,
): { route: ConsoleRoute; repositoryName?: string } | undefined {
  if (pathname === '/console') pathname = '/console/';
  if (pathname.startsWith('/console/static/')) {
    const route = CONSOLE_ROUTES.find((r) => r.path === STATIC_PATH && r.method === method);
    return route && { route };
  }
  const repositoryPrefix = '/console/repositories/';
  if (pathname.startsWith(repositoryPrefix) && pathname.length > repositoryPrefix.length) {
    let repositoryName: string;
    try {
      repositoryName = pathname.slice(repositoryPrefix.length).split('/').map(decodeURIComponent).join('/');
    } catch {
      return undefined;
    }
    const wanted = variant ?? (method === 'GET' ? 'summary' : '');
    const route = CONSOLE_ROUTES.find((r) => r.path === REPOSITORY_PATH && r.method === method && r.variant === wanted);
    return route && { route, repositoryName };
  }
  const route = CONSOLE_ROUTES.find(
    (r) => r.path === pathname && r.method === method && (method === 'GET' || r.variant === undefined || r.variant === variant),
  );
  return route && { route };
}
