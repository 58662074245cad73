// The route table (src/server/routes.ts) walked over real HTTP: every OCI route and method, every ECR operation of
// ECR's model and every admin action is requested (a) anonymously, (b) as a user of another account whose own
// policy allows everything, (c) on the admin API with root's docker-login token, and (d) as a user whose policy
// allows everything but explicitly denies the route's action(s) (deny wins). Each must answer its protocol's
// denial, and each, requested by the account's root, must not: the denial is the table's decision, not an
// accident of the request. The public routes answer without credentials.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CreateRepositoryCommand, DescribeRepositoriesCommand, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient, ecrRaw, errorType, REGION } from '../helpers/ecr.ts';
import { routeTable } from '../../src/server/routes.ts';
import { model } from '../../src/ecr/validate.ts';
import { OPERATIONS, type EcrOperation } from '../../src/ecr/operations.ts';
import type { ConsoleRoute } from '../../src/console/routes.ts';
import { ADMIN_ACTIONS } from '../../src/admin/actions.ts';

let berth: Berth;
let accountA: string;
/** A user of another account (B) whose identity policy allows every action on every resource. */
let outsider: Keys;
/** A user of account A whose policy allows everything; each case adds a Deny of the route's actions. */
let denied: Keys;
/** A user of account A that the admin actions act on, and one of its access keys. */
let targetKey: string;
/** Root A's docker-login password (GetAuthorizationToken), as `docker login -u AWS` sends it. */
let loginToken: string;

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}
const basic = (k: Keys) => 'Basic ' + Buffer.from(`${k.accessKeyId}:${k.secretAccessKey}`).toString('base64');
const REPO = 'walk/target';
const ALLOW_ALL = { Effect: 'Allow', Action: '*', Resource: '*' };

async function adminApi(action: string, body: object, authorization: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${berth.url}/_berth/admin/${action}`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function asRoot(action: string, body: object): Promise<any> {
  const r = await adminApi(action, body, berth.authHeader);
  assert.equal(r.status, 200, `${action}: ${JSON.stringify(r.body)}`);
  return r.body;
}

/** The `denied` user's one policy: allow everything, deny these actions. */
async function denyOnly(actions: string[]): Promise<void> {
  const document = { Version: '2012-10-17', Statement: [ALLOW_ALL, { Effect: 'Deny', Action: actions, Resource: '*' }] };
  await asRoot('put-user-policy', { user: 'denied', policyName: 'p', policyDocument: JSON.stringify(document) });
}

before(async () => {
  // The walk sends hundreds of refused credentials on purpose: the failed-login limit would stop it half way.
  berth = await startBerth({ env: { BERTH_TEST_CLOCK: '1', BERTH_MAX_LOGIN_FAILURES_PER_MINUTE: '100000' } });
  const root = ecrClient(berth);
  accountA = (await root.send(new CreateRepositoryCommand({ repositoryName: REPO }))).repository!.registryId!;
  const token = (await root.send(new GetAuthorizationTokenCommand({}))).authorizationData![0].authorizationToken!;
  loginToken = Buffer.from(token, 'base64').toString('utf8').slice('AWS:'.length);
  root.destroy();

  const b = await asRoot('create-account', {});
  const rootB = basic(b);
  const created = async (auth: string, user: string): Promise<Keys> => {
    assert.equal((await adminApi('create-user', { user }, auth)).status, 200);
    const key = await adminApi('create-access-key', { user }, auth);
    assert.equal(key.status, 200);
    return key.body;
  };
  outsider = await created(rootB, 'outsider');
  const everything = JSON.stringify({ Version: '2012-10-17', Statement: [ALLOW_ALL] });
  assert.equal((await adminApi('put-user-policy', { user: 'outsider', policyName: 'all', policyDocument: everything }, rootB)).status, 200);
  denied = await created(berth.authHeader, 'denied');
  targetKey = (await created(berth.authHeader, 'target-user')).accessKeyId;
});
after(() => berth.cleanup());

test('the table marks every route: public ones by name, the rest with actions', () => {
  const table = routeTable();
  const publicOci = table.oci.flatMap((r) =>
    Object.entries(r.methods)
      .filter(([, m]) => m.access === 'public')
      .map(([method]) => `${method} ${r.path}`),
  );
  assert.deepEqual(publicOci.sort(), ['GET /v2/', 'HEAD /v2/'], "the /v2/ challenge is the data plane's only public route");
  for (const r of table.oci) {
    for (const [method, m] of Object.entries(r.methods)) {
      if (m.access !== 'public')
        assert.ok(m.actions.length > 0 && m.actions.every((a) => a.startsWith('ecr:')), `${method} ${r.path} declares ECR actions`);
    }
  }
  assert.deepEqual(
    table.ecr.map(([name]) => name).sort(),
    Object.keys(model.operations).sort(),
    'every operation of the model has a table entry',
  );
  for (const [name, a] of table.admin) {
    assert.ok(
      a.access.actions.length > 0 && a.access.actions.every((x) => /^(iam|berth):[A-Za-z]+$/.test(x)),
      `admin ${name} declares iam: or berth: actions`,
    );
  }
  assert.deepEqual(table.public.map((p) => p.path).sort(), ['/_berth/token', '/healthz', '/readyz']);
  assert.deepEqual(table.metrics.access.actions, ['berth:GetMetrics']);
  // The documented list names every route and admin action with its actions.
  const doc = readFileSync(new URL('../../docs/authorization.md', import.meta.url), 'utf8');
  for (const r of table.oci)
    for (const method of Object.keys(r.methods))
      assert.ok(doc.includes(`| ${method} | \`${r.path}\` |`), `docs/authorization.md lists ${method} ${r.path}`);
  assert.ok(
    doc.includes(
      `| ${table.metrics.method} | \`${table.metrics.path}\` | ${table.metrics.access.actions.map((x) => `\`${x}\``).join(' + ')} on`,
    ),
    'docs/authorization.md lists /metrics',
  );
  for (const [name, a] of table.admin)
    assert.ok(
      doc.includes(`| \`${name}\` | ${a.access.actions.map((x) => `\`${x}\``).join(' + ')} |`),
      `docs/authorization.md lists admin ${name}`,
    );
});

test('the public routes answer without credentials', async () => {
  for (const p of routeTable().public) {
    const res = await fetch(new URL(p.path, berth.url), { method: p.method });
    assert.equal(res.status, 200, `${p.method} ${p.path}`);
  }
  // The challenge: 401 with the token realm to a caller with no credentials, 200 to one with them.
  const challenge = await fetch(`${berth.url}/v2/`);
  assert.equal(challenge.status, 401);
  assert.match(challenge.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
  assert.equal((await fetch(`${berth.url}/v2/`, { headers: { authorization: berth.authHeader } })).status, 200);
});

test("/metrics refuses an anonymous caller, another account's user and an explicit Deny; the root is let through", async () => {
  const { method, path, access } = routeTable().metrics;
  const get = async (authorization?: string) =>
    (await fetch(new URL(path, berth.url), { method, headers: authorization ? { authorization } : {} })).status;
  assert.equal(await get(), 401, 'anonymous');
  assert.equal(await get(basic(outsider)), 403, 'another account');
  await denyOnly(access.actions);
  assert.equal(await get(basic(denied)), 403, 'explicit deny');
  assert.equal(await get(berth.authHeader), 200, 'root');
});

// ---------------------------------------------------------------------------------------------------------------
// OCI

/** A concrete path for a route: the repository name, a tag, an upload id, a digest. */
function ociPath(path: string, name: string): string {
  return path
    .replace('<name>', name)
    .replace('<reference>', 'latest')
    .replace('<uuid>', randomUUID())
    .replace('<digest>', `sha256:${'0'.repeat(64)}`);
}

async function oci(method: string, path: string, authorization?: string): Promise<{ status: number; code?: string; body: any }> {
  const res = await fetch(new URL(path, berth.url), { method, headers: authorization ? { authorization } : {} });
  const text = await res.text();
  const body = text ? JSON.parse(text) : undefined;
  return { status: res.status, code: body?.errors?.[0]?.code, body };
}

function assertOciDenial(r: { status: number; code?: string }, method: string, what: string, status: 401 | 403) {
  assert.equal(r.status, status, what);
  // HEAD has no body to carry the code.
  if (method !== 'HEAD') assert.equal(r.code, status === 401 ? 'UNAUTHORIZED' : 'DENIED', what);
}

test("every OCI route refuses an anonymous caller, another account's user and an explicit Deny; the root is let through", async () => {
  let walked = 0;
  for (const route of routeTable().oci) {
    for (const [method, entry] of Object.entries(route.methods)) {
      if (entry.access === 'public') continue;
      walked++;
      const own = ociPath(route.path, REPO);
      const what = (c: string) => `${method} ${route.path} ${c}`;
      assertOciDenial(await oci(method, own), method, what('anonymous'), 401);

      await denyOnly(entry.actions);
      if (entry.access === 'listing') {
        // A listing decides per repository with its action: an explicit Deny hides them all; another account's
        // user lists its own account, never A's.
        const r = await oci(method, own, basic(denied));
        assert.equal(r.status, 200, what('deny'));
        assert.deepEqual(r.body.repositories, [], what('deny'));
        const o = await oci(method, own, basic(outsider));
        assert.ok(!o.body.repositories.includes(REPO), what('other account'));
      } else {
        assertOciDenial(await oci(method, own, basic(denied)), method, what('deny'), 403);
        // Another account's repository is named <account>/<name>.
        assertOciDenial(await oci(method, ociPath(route.path, `${accountA}/${REPO}`), basic(outsider)), method, what('other account'), 403);
        // A Deny stops create-on-push: nothing is created for a refused push.
        if (entry.access === 'repository' && entry.createOnPush) {
          assertOciDenial(await oci(method, ociPath(route.path, 'walk/refused'), basic(denied)), method, what('deny, create on push'), 403);
        }
      }
      const control = await oci(method, own, berth.authHeader);
      assert.ok(![401, 403].includes(control.status), `${what('as root')}: ${control.status} ${JSON.stringify(control.body)}`);
    }
  }
  assert.ok(walked >= 15, `walked ${walked} OCI routes`);
  const names = (await oci('GET', '/v2/_catalog', berth.authHeader)).body.repositories;
  assert.ok(!names.includes('walk/refused'), 'a refused push created no repository');
});

// ---------------------------------------------------------------------------------------------------------------
// ECR

interface Shape {
  type: string;
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  required?: string[];
  members?: Record<string, string>;
  member?: string;
  key?: string;
  value?: string;
}
const shapes = model.shapes as Record<string, Shape>;

/** A valid input for an operation, from ECR's model: every required member, with values that meet its constraints. */
function sampleInput(operation: string, registryId: string | undefined): Record<string, unknown> {
  const input = model.operations[operation].input;
  if (!input) return {};
  const value = sample(input, '') as Record<string, unknown>;
  // Every operation names an account the same way: its registryId (or a repository ARN).
  if (registryId !== undefined && value.resourceArn === undefined) value.registryId = registryId;
  if (typeof value.resourceArn === 'string') value.resourceArn = `arn:aws:ecr:${REGION}:${registryId ?? accountA}:repository/${REPO}`;
  return value;
}

function sample(shapeName: string, member: string): unknown {
  const shape = shapes[shapeName];
  switch (shape.type) {
    case 'structure': {
      const out: Record<string, unknown> = {};
      for (const m of shape.required ?? []) out[m] = sample(shape.members![m], m);
      return out;
    }
    case 'list': {
      const n = Math.max(shape.min ?? 0, 1);
      return Array.from({ length: n }, () => sample(shape.member!, member));
    }
    case 'map':
      return (shape.min ?? 0) > 0 ? { k: sample(shape.value!, member) } : {};
    case 'string': {
      if (shape.enum) return shape.enum[0];
      const candidates = [
        REPO,
        `sha256:${'0'.repeat(64)}`,
        accountA,
        randomUUID(),
        'k',
        'walk',
        `arn:aws:iam::${accountA}:user/x`,
        `arn:aws:signer:${REGION}:${accountA}:/signing-profiles/walk_profile`,
        'a'.repeat(shape.min ?? 1),
      ];
      if (member === 'policyText' || member === 'lifecyclePolicyText') candidates.unshift('{}');
      const ok = candidates.find(
        (c) =>
          c.length >= (shape.min ?? 0) &&
          c.length <= (shape.max ?? Infinity) &&
          (!shape.pattern || new RegExp(`^(?:${shape.pattern})$`, 'u').test(c)),
      );
      if (ok === undefined) throw new Error(`no sample value for ${member} (${shapeName})`);
      return ok;
    }
    case 'integer':
    case 'long':
      return shape.min ?? 0;
    case 'boolean':
      return false;
    case 'blob':
      return 'AA==';
    case 'timestamp':
      return 0;
    default:
      throw new Error(`no sample value for ${member} (${shape.type})`);
  }
}

function ecrActions(entry: EcrOperation, name: string, input: unknown): string[] {
  return entry.actions?.(input) ?? [`ecr:${name}`];
}

test("every ECR operation refuses an unsigned or unknown caller, another account's user and an explicit Deny; the root is let through", async () => {
  const unknown = { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'nothing' };
  const { ecr } = routeTable();
  assert.ok(ecr.length >= 50, `walked ${ecr.length} operations`);
  for (const [name, entry] of ecr) {
    const own = sampleInput(name, undefined);
    const what = (c: string) => `${name} ${c}`;
    const unsigned = await ecrRaw(berth, name, own, { sign: false });
    assert.equal(errorType(unsigned), 'MissingAuthenticationTokenException', what('unsigned'));
    assert.equal(errorType(await ecrRaw(berth, name, own, unknown)), 'UnrecognizedClientException', what('unknown key'));

    await denyOnly(ecrActions(entry, name, own));
    const deny = await ecrRaw(berth, name, own, denied);
    assert.equal(errorType(deny), 'AccessDeniedException', `${what('deny')}: ${deny.text}`);
    assert.match(deny.json().message, /with an explicit deny/, what('deny'));

    if (entry.resource.kind !== 'none') {
      // GetAuthorizationToken alone names no account: it is the caller's own token.
      const other = await ecrRaw(berth, name, sampleInput(name, accountA), outsider);
      assert.equal(errorType(other), 'AccessDeniedException', `${what('other account')}: ${other.text}`);
    }
    const control = await ecrRaw(berth, name, own);
    assert.ok(
      control.status === 200 || !['AccessDeniedException', 'UnrecognizedClientException'].includes(errorType(control)),
      `${what('as root')}: ${control.text}`,
    );
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Admin

test("every admin action refuses an anonymous caller, a docker-login token, another account's user and an explicit Deny; the root is let through", async () => {
  const policyDocument = JSON.stringify({ Version: '2012-10-17', Statement: [ALLOW_ALL] });
  const body = { user: 'target-user', accessKeyId: targetKey, policyName: 'x', policyDocument, repository: REPO, seconds: 0, dryRun: true };
  const { admin } = routeTable();
  assert.ok(admin.length >= 17);
  for (const [name, action] of admin) {
    const what = (c: string) => `admin ${name} ${c}`;
    const anonymous = await fetch(`${berth.url}/_berth/admin/${name}`, { method: 'POST', body: JSON.stringify(body) });
    assert.equal(anonymous.status, 401, what('anonymous'));
    const token = await adminApi(name, body, 'Basic ' + Buffer.from(`AWS:${loginToken}`).toString('base64'));
    assert.equal(token.status, 401, what('docker-login token'));
    assert.match(token.body.message, /\/v2\/ data plane only/, what('docker-login token'));
    const other = await adminApi(name, { ...body, account: accountA }, basic(outsider));
    assert.equal(other.status, 403, `${what('other account')}: ${JSON.stringify(other.body)}`);
    await denyOnly(action.access.actions);
    const deny = await adminApi(name, body, basic(denied));
    assert.equal(deny.status, 403, `${what('deny')}: ${JSON.stringify(deny.body)}`);
    assert.equal(deny.body.error, 'AccessDenied');
    // The root, with arguments that change nothing that matters here (a user or key that does not exist).
    const control = await adminApi(
      name,
      {
        user: 'nobody',
        accessKeyId: 'AKIANOSUCHKEY0000000',
        policyName: 'x',
        account: name === 'create-account' ? 'bad' : undefined,
        repository: REPO,
        dryRun: true,
        seconds: 0,
      },
      berth.authHeader,
    );
    assert.ok(![401, 403].includes(control.status), `${what('as root')}: ${control.status} ${JSON.stringify(control.body)}`);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Web console

/** A request for a console route: its path (the repository page for walk/target), its tab or form action. */
function consoleRequest(r: ConsoleRoute): { path: string; body?: string } {
  const path = r.path.replace('<name>', REPO).replace('<asset>', 'missing.css');
  if (r.method === 'GET') return { path: r.variant ? `${path}?tab=${r.variant}` : path };
  return { path, body: new URLSearchParams({ ...(r.variant ? { action: r.variant } : {}), repositoryName: 'walk/created' }).toString() };
}

test('the console table: only the sign-in page and static assets are public; every other page declares the ECR operations it may call', () => {
  const { console: pages } = routeTable();
  assert.deepEqual(
    pages
      .filter((r) => r.access === 'public')
      .map((r) => `${r.method} ${r.path}`)
      .sort(),
    ['GET /console/sign-in', 'GET /console/static/<asset>', 'POST /console/sign-in'],
  );
  const doc = readFileSync(new URL('../../docs/authorization.md', import.meta.url), 'utf8');
  for (const r of pages) {
    for (const operation of r.operations)
      assert.ok(
        Object.hasOwn(OPERATIONS, operation),
        `${r.method} ${r.path} ${r.variant ?? ''}: ${operation} is an ECR operation Berth implements`,
      );
    for (const action of r.adminActions ?? [])
      assert.ok(Object.hasOwn(ADMIN_ACTIONS, action), `${r.method} ${r.path} ${r.variant ?? ''}: ${action} is an admin action`);
    if (r.access === 'public') assert.deepEqual([...r.operations, ...(r.adminActions ?? [])], []);
    const first = r.operations[0] ?? r.adminActions?.[0];
    if (r.variant && r.method === 'POST')
      assert.ok(doc.includes(`\`${r.variant}\`: \`${first}\``), `docs/authorization.md lists console action ${r.variant}`);
  }
});

test('every console page but the public ones is refused without a session, even with an access key; the public ones answer', async () => {
  let walked = 0;
  for (const r of routeTable().console) {
    const { path, body } = consoleRequest(r);
    for (const authorization of [undefined, berth.authHeader]) {
      const res = await fetch(new URL(path, berth.url), {
        method: r.method,
        redirect: 'manual',
        headers: { ...(authorization ? { authorization } : {}), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        body,
      });
      await res.arrayBuffer();
      const what = `${r.method} ${path} ${r.variant ?? ''} ${authorization ? 'with Basic credentials' : 'anonymously'}`;
      if (r.access === 'public') {
        // The sign-in form without its CSRF token is refused (403); a missing asset is 404; never a session.
        assert.ok([200, 403, 404].includes(res.status), `${what}: ${res.status}`);
        assert.equal(
          res.headers.getSetCookie().some((c) => c.startsWith('berth_console=')),
          false,
          what,
        );
      } else if (r.method === 'GET') {
        assert.equal(res.status, 303, what);
        assert.match(res.headers.get('location') ?? '', /^\/console\/sign-in/, what);
      } else {
        assert.equal(res.status, 401, what);
      }
      walked++;
    }
  }
  assert.ok(walked >= 40, `walked ${walked} console requests`);
  const { repositories } = await (async () => {
    const client = ecrClient(berth);
    try {
      return await client.send(new DescribeRepositoriesCommand({}));
    } finally {
      client.destroy();
    }
  })();
  assert.equal(
    repositories!.some((r) => r.repositoryName === 'walk/created'),
    false,
    'no console form did anything without a session',
  );
});
