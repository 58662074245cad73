// The web console (/console/) driven in a real browser: Debian's chromium through playwright-core (never a
// downloaded browser). Signs in (a wrong secret refused), creates a repository (ECR's validation message shown for
// a bad name), finds it in the list, sees an image pushed over HTTP in the Images tab and deletes another, runs the
// push commands it shows (AWS CLI and docker) and sees that image too, sets a
// repository policy (the error of an invalid one shown), adds a lifecycle policy and tests it, adds and removes a
// repository tag; a pull-only user sees the policy decision when creating a repository; a form without its CSRF
// token is refused; the session holds across a server restart and ends when its access key is deactivated; sign
// out ends it. No console errors (a Content-Security-Policy violation would be one).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { pushImage } from '../helpers/http.ts';
import { admin, createUser, PULL_ONLY, type Keys } from '../helpers/policies.ts';
import { dockerSession } from '../helpers/dockerd.ts';
import { makeTempDir, removeDir, runOk, writeFiles } from '../helpers/tools.ts';
import { Browsers, SCREENSHOTS, signIn as signInAt, textOf as text } from '../helpers/browser.ts';

const REPO = 'mlops/retail-api';

let berth: Berth;
const browsers = new Browsers();
const consoleErrors = browsers.consoleErrors;
const openBrowser = () => browsers.page();
const signIn = (page: Page, keys: Keys) => signInAt(page, berth.url, keys);

let page: Page;
let v1: Awaited<ReturnType<typeof pushImage>>;
let pullOnly: Keys & { arn: string };
let pullOnlyPage: Page;

before(async () => {
  berth = await startBerth();
  mkdirSync(SCREENSHOTS, { recursive: true });
  page = await openBrowser();
});

after(async () => {
  await browsers.closeAll();
  await berth?.cleanup();
});

test('sign in: a wrong secret is refused, the right one opens the repositories list', async () => {
  await page.goto(`${berth.url}/console/repositories`);
  await page.waitForURL(/\/console\/sign-in/);
  await page.getByLabel('Access key ID').fill(berth.accessKeyId);
  await page.getByLabel('Secret access key').fill('not-the-secret');
  await page.getByRole('button', { name: 'Sign in' }).click();
  assert.match(await text(page, '#error'), /access key ID or secret access key is wrong/);
  assert.match(page.url(), /\/console\/sign-in/);

  await page.getByLabel('Secret access key').fill(berth.secretAccessKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/console\/repositories$/);
  assert.match(await text(page, '#principal'), /^arn:aws:iam::\d{12}:root$/);
  const cookie = (await page.context().cookies()).find((c) => c.name === 'berth_console');
  assert.ok(cookie, 'a session cookie');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(cookie.secure, false, 'Secure only when the public URL is https');
  assert.doesNotMatch(cookie.value, new RegExp(berth.secretAccessKey), 'the cookie is a session token, not the secret');
});

test("create a repository: ECR's validation message for a bad name, then it is created and listed", async () => {
  await page.getByRole('link', { name: 'Create repository' }).click();
  await page.getByLabel('Repository name').fill('Bad_Name');
  await page.getByRole('button', { name: 'Create repository' }).click();
  assert.match(
    await text(page, '#error'),
    /^InvalidParameterException: Invalid parameter at 'repositoryName' failed to satisfy constraint/,
  );
  assert.equal(await page.getByLabel('Repository name').inputValue(), 'Bad_Name', 'the form keeps what was typed');

  await page.getByLabel('Repository name').fill(REPO);
  await page.getByLabel('Immutable').check();
  await page.getByLabel('Scan on push').check();
  await page.getByLabel(/^Tags/).fill('team=ml\ncost-center=42');
  await page.getByRole('button', { name: 'Create repository' }).click();
  await page.waitForURL(/\/console\/repositories\/mlops\/retail-api\?created=1/);
  assert.equal(await text(page, '#notice'), `Repository ${REPO} created.`);
  assert.equal(await text(page, '#repository-uri'), `${berth.host}/${REPO}`);
  assert.equal(await text(page, '#image-count'), '0');
  assert.equal(await text(page, '#repository-size'), '0 B');
  assert.equal(await text(page, '#last-push'), '—');

  await page.getByRole('link', { name: 'Repositories' }).first().click();
  const row = page.locator('#repositories tbody tr', { hasText: REPO });
  assert.equal(await row.count(), 1);
  const cells = (await row.locator('td').allInnerTexts()).map((c) => c.trim());
  assert.equal(cells[0], REPO);
  assert.match(cells[1], new RegExp(`^${berth.host}/${REPO}`));
  assert.equal(cells[3], 'IMMUTABLE');
  assert.equal(cells[4], 'Enabled');
  assert.equal(cells[5], '0');
  assert.equal(cells[6], '0 B');
  assert.equal(await row.getByRole('button', { name: /Copy URI/ }).getAttribute('data-copy'), `${berth.host}/${REPO}`);

  await page.screenshot({ path: join(SCREENSHOTS, 'repositories.png'), fullPage: true });
  await page.getByLabel('Search by name').fill('retail');
  await page.getByRole('button', { name: 'Search' }).click();
  assert.equal(await page.locator('#repositories tbody tr', { hasText: REPO }).count(), 1);
  await page.getByLabel('Search by name').fill('nothing-like-it');
  await page.getByRole('button', { name: 'Search' }).click();
  assert.match(await text(page, '#repositories tbody'), /No repositories matching/);
});

test('images pushed over HTTP appear in the Images tab; push commands name this registry; one image is deleted', async () => {
  v1 = await pushImage(berth, REPO, 'v1');
  const v2 = await pushImage(berth, REPO, 'v2', { layer: Buffer.alloc(3000, 7) });
  await page.goto(`${berth.url}/console/repositories/${REPO}?tab=images`);
  const rows = page.locator('#images tbody tr');
  assert.equal(await rows.count(), 2);
  const v1Row = page.locator('#images tbody tr', { has: page.getByLabel('Select v1', { exact: true }) });
  assert.match(await v1Row.innerText(), new RegExp(v1.digest.slice(0, 19)));
  assert.match(await v1Row.innerText(), /\d+ B|KiB/);

  await page.getByText('View push commands').click();
  const login = await text(page, '#push-unix li:first-child pre');
  assert.equal(
    login,
    `aws ecr get-login-password --region us-east-1 --endpoint-url http://${berth.host} | docker login --username AWS --password-stdin ${berth.host}`,
  );
  assert.equal(await text(page, '#push-unix li:nth-child(4) pre'), `docker push ${berth.host}/${REPO}:latest`);
  await page.getByText('Windows (PowerShell)').click();
  assert.match(
    await text(page, '#push-windows li:first-child pre'),
    /^\(Get-ECRLoginCommand -Region us-east-1 -EndpointUrl http:\/\/.+\)\.Password \| docker login/,
  );

  await page.getByLabel('Filter by tag').fill('v2');
  await page.getByRole('button', { name: 'Apply' }).click();
  assert.equal(await rows.count(), 1, 'filtered by tag');
  await page.getByLabel('Select v2').check();
  await page.screenshot({ path: join(SCREENSHOTS, 'images.png'), fullPage: true });
  await page.getByRole('button', { name: 'Delete selected images' }).click();
  assert.equal(await text(page, '#notice'), '1 image(s) deleted.');
  assert.equal(await rows.count(), 1);
  assert.equal(await rows.first().getByLabel('Select v1', { exact: true }).count(), 1);
  const gone = await fetch(`${berth.url}/v2/${REPO}/manifests/${v2.digest}`, {
    method: 'HEAD',
    headers: { authorization: berth.authHeader },
  });
  assert.equal(gone.status, 404, 'the image is deleted from the registry');

  await page.getByRole('link', { name: 'Summary' }).click();
  await page.getByText('View push commands').click();
  await page.screenshot({ path: join(SCREENSHOTS, 'summary-push-commands.png'), fullPage: true });
  assert.equal(await text(page, '#image-count'), '1');
  assert.match(await text(page, '#repository-size'), /^\d+ B$/);
  assert.match(await text(page, '#last-push'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
});

test('the push commands shown, run as they are with the AWS CLI and docker, push an image the Images tab then shows', async () => {
  const docker = await dockerSession();
  const context = makeTempDir('berth-console-build-');
  try {
    writeFiles(context, {
      Dockerfile: Buffer.from('FROM scratch\nCOPY hello.txt /hello.txt\n'),
      'hello.txt': Buffer.from('hello from the console\n'),
    });
    await page.goto(`${berth.url}/console/repositories/${REPO}?tab=images`);
    await page.getByText('View push commands').click();
    const commands = (await page.locator('#push-unix pre').allInnerTexts()).map((c) => c.trim());
    assert.equal(commands.length, 4);
    docker.trackImage('retail-api:latest');
    docker.trackImage(`${berth.host}/${REPO}:latest`);
    const env = {
      ...docker.env,
      AWS_ACCESS_KEY_ID: berth.accessKeyId,
      AWS_SECRET_ACCESS_KEY: berth.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: join(context, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(context, 'no-aws-credentials'),
    };
    for (const command of commands) await runOk('bash', ['-o', 'pipefail', '-c', command], { cwd: context, env, timeoutMs: 120_000 });
  } finally {
    await docker.cleanup();
    removeDir(context);
  }
  await page.reload();
  const pushed = page.locator('#images tbody tr', { has: page.getByLabel('Select latest', { exact: true }) });
  assert.equal(await pushed.count(), 1, 'the image docker pushed is listed');
  assert.match(await pushed.innerText(), /\d+ B|KiB/);
});

test("Permissions: an invalid policy shows ECR's error, a valid one is saved", async () => {
  await page.getByRole('link', { name: 'Permissions' }).click();
  assert.ok(await page.locator('#no-policy').isVisible());
  await page.getByLabel('Policy JSON').fill('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"');
  await page.getByRole('button', { name: 'Save policy' }).click();
  assert.match(await text(page, '#error'), /^InvalidParameterException: /);
  assert.match(await page.getByLabel('Policy JSON').inputValue(), /"Effect": "Allow"$/, 'the text typed is kept to correct it');

  const policy = {
    Version: '2012-10-17',
    Statement: [{ Sid: 'PullOnly', Effect: 'Allow', Principal: { AWS: '*' }, Action: ['ecr:BatchGetImage'] }],
  };
  await page.getByLabel('Policy JSON').fill(JSON.stringify(policy));
  await page.getByRole('button', { name: 'Save policy' }).click();
  assert.equal(await text(page, '#notice'), 'Repository policy saved.');
  assert.deepEqual(JSON.parse(await page.getByLabel('Policy JSON').inputValue()), policy);
  assert.equal(await page.locator('#no-policy').count(), 0);
});

test('the permission builder grants a CI user pull access; signed in, that user is refused a delete with the policy decision', async () => {
  const readOnly = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['ecr:DescribeRepositories', 'ecr:DescribeImages'], Resource: '*' }],
  };
  const ci = await createUser(berth, 'ci', { name: 'read', document: readOnly });
  const blob = `${berth.url}/v2/${REPO}/blobs/${v1.layer.digest}`;
  const ciBasic = 'Basic ' + Buffer.from(`${ci.accessKeyId}:${ci.secretAccessKey}`).toString('base64');
  assert.equal((await fetch(blob, { headers: { authorization: ciBasic } })).status, 403, 'no pull before the permission');

  await page.getByText('Add a permission').click();
  await page.getByLabel(/^Principal/).fill(ci.arn);
  await page.getByLabel('Access', { exact: true }).selectOption('pull');
  await page.getByRole('button', { name: 'Add permission' }).click();
  assert.equal(await text(page, '#notice'), 'Permission added.');
  const policy = JSON.parse(await page.getByLabel('Policy JSON').inputValue());
  assert.deepEqual(policy.Statement.at(-1), {
    Sid: 'AllowPull',
    Effect: 'Allow',
    Principal: { AWS: ci.arn },
    Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
  });
  const pulled = await fetch(blob, { headers: { authorization: ciBasic } });
  assert.equal(pulled.status, 200, 'the CI user pulls now');
  await pulled.arrayBuffer();

  const ciPage = await openBrowser();
  await signIn(ciPage, ci);
  await ciPage.goto(`${berth.url}/console/repositories/${REPO}?tab=images`);
  await ciPage.getByLabel('Select v1', { exact: true }).check();
  await ciPage.getByRole('button', { name: 'Delete selected images' }).click();
  assert.match(
    await text(ciPage, '#error'),
    new RegExp(
      `^AccessDeniedException: User: ${ci.arn} is not authorized to perform: ecr:BatchDeleteImage on resource: arn:aws:ecr:us-east-1:\\d{12}:repository/${REPO} because `,
    ),
  );
  assert.equal(await ciPage.getByLabel('Select v1', { exact: true }).count(), 1, 'the image is still there');
  await ciPage.context().close();
});

test('Lifecycle policy: saved as JSON, rules added with Create rule, shown as a table, tested; Repository tags: added and removed', async () => {
  await page.getByRole('link', { name: 'Lifecycle policy' }).click();
  const lifecycle = {
    rules: [
      {
        rulePriority: 1,
        description: 'keep 10 v*',
        selection: { tagStatus: 'tagged', tagPrefixList: ['v'], countType: 'imageCountMoreThan', countNumber: 10 },
        action: { type: 'expire' },
      },
    ],
  };
  await page.getByLabel('Lifecycle policy JSON').fill(JSON.stringify(lifecycle));
  await page.getByRole('button', { name: 'Save lifecycle policy' }).click();
  assert.equal(await text(page, '#notice'), 'Lifecycle policy saved.');
  assert.match(await text(page, '#rules tbody'), /1\s+keep 10 v\*\s+tagged\s+v\*\s+more than 10 images/);
  // Create rule: ECR's validation messages (no tag filter for tagged images, a priority already used), then the
  // seed scenario's other two rules.
  await page.getByText('Create rule').click();
  await page.getByLabel('Rule priority').fill('1');
  await page.getByLabel('Count number').fill('5');
  await page.getByRole('button', { name: 'Save rule' }).click();
  assert.match(
    await text(page, '#error'),
    /^InvalidParameterException: .*Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED/,
  );
  await page.getByLabel('Rule description').fill('keep 5 dev, feature, main');
  await page.getByLabel(/^Tag prefixes/).fill('dev, feature, main');
  await page.getByRole('button', { name: 'Save rule' }).click();
  assert.match(await text(page, '#error'), /^InvalidParameterException: .*priorit/i, 'a priority already used');
  assert.equal(await page.getByLabel(/^Tag prefixes/).inputValue(), 'dev, feature, main', 'the form keeps what was typed');
  await page.getByLabel('Rule priority').fill('2');
  await page.getByRole('button', { name: 'Save rule' }).click();
  assert.equal(await text(page, '#notice'), 'Rule added.');
  await page.getByText('Create rule').click();
  assert.equal(await page.getByLabel('Rule priority').inputValue(), '3', 'the next priority is offered');
  await page.getByLabel('Rule description').fill('untagged older than a day');
  await page.getByLabel('Image status').selectOption('untagged');
  await page.getByLabel('Match criteria').selectOption('sinceImagePushed');
  await page.getByLabel('Count number').fill('1');
  await page.getByRole('button', { name: 'Save rule' }).click();
  assert.equal(await text(page, '#notice'), 'Rule added.');
  const ruleRows = (await page.locator('#rules tbody tr').allInnerTexts()).map((r) => r.replace(/\s+/g, ' ').trim());
  assert.deepEqual(ruleRows, [
    '1 keep 10 v* tagged v* more than 10 images expire',
    '2 keep 5 dev, feature, main tagged dev*, feature*, main* more than 5 images expire',
    '3 untagged older than a day untagged older than 1 days expire',
  ]);
  const saved = JSON.parse(await page.getByLabel('Lifecycle policy JSON').inputValue());
  assert.deepEqual(saved.rules[2].selection, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 });
  await page.screenshot({ path: join(SCREENSHOTS, 'lifecycle.png'), fullPage: true });
  await page.getByRole('button', { name: 'Test rules' }).click();
  assert.equal(await text(page, '#notice'), 'Test started: the result shows below.');
  assert.match(await text(page, '#preview-status'), /^Status: (IN_PROGRESS|COMPLETE)/);

  await page.getByRole('link', { name: 'Repository tags' }).click();
  assert.match(await text(page, '#tags tbody'), /team\s+ml/);
  await page.getByLabel('Key', { exact: true }).fill('stage');
  await page.getByLabel('Value', { exact: true }).fill('prod');
  await page.getByRole('button', { name: 'Add tag' }).click();
  assert.equal(await text(page, '#notice'), 'Tag added.');
  assert.match(await text(page, '#tags tbody'), /stage\s+prod/);
  await page.getByRole('button', { name: 'Remove tag team' }).click();
  assert.equal(await text(page, '#notice'), 'Tag removed.');
  assert.doesNotMatch(await text(page, '#tags tbody'), /team/);
});

test('a pull-only user sees the policy decision when creating a repository, and is refused the Permissions tab as by ECR', async () => {
  pullOnly = await createUser(berth, 'puller', { name: 'pull', document: PULL_ONLY });
  pullOnlyPage = await openBrowser();
  await signIn(pullOnlyPage, pullOnly);
  assert.equal(await text(pullOnlyPage, '#principal'), pullOnly.arn);
  // Listing needs ecr:DescribeRepositories, which the user lacks: the list page says so.
  assert.match(
    await text(pullOnlyPage, '#error'),
    /^AccessDeniedException: User: .*user\/puller is not authorized to perform: ecr:DescribeRepositories/,
  );
  await pullOnlyPage.goto(`${berth.url}/console/create-repository`);
  await pullOnlyPage.getByLabel('Repository name').fill('puller/new');
  await pullOnlyPage.getByRole('button', { name: 'Create repository' }).click();
  assert.match(
    await text(pullOnlyPage, '#error'),
    new RegExp(
      `^AccessDeniedException: User: ${pullOnly.arn} is not authorized to perform: ecr:CreateRepository on resource: arn:aws:ecr:us-east-1:\\d{12}:repository/puller/new because no identity-based policy allows the ecr:CreateRepository action$`,
    ),
  );
  await pullOnlyPage.goto(`${berth.url}/console/repositories/${REPO}?tab=permissions`);
  assert.match(await text(pullOnlyPage, '#error'), /^AccessDeniedException: .* ecr:DescribeRepositories/);
});

test('Users: create a user and an access key (the secret shown once), deactivate it, delete the user; a pull-only user is refused the page', async () => {
  await pullOnlyPage.goto(`${berth.url}/console/users`);
  assert.match(
    await text(pullOnlyPage, '#error'),
    new RegExp(
      `^AccessDenied: User: ${pullOnly.arn} is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::\\d{12}:user/\\*$`,
    ),
  );

  await page.getByRole('link', { name: 'Users' }).click();
  await page.waitForURL(/\/console\/users$/);
  await page.getByLabel('User name').fill('deploy');
  await page.getByRole('button', { name: 'Create user' }).click();
  assert.equal(await text(page, '#notice'), 'User deploy created.');
  await page.getByRole('button', { name: 'Create access key for deploy' }).click();
  const accessKeyId = await text(page, '#new-access-key-id');
  const secret = await text(page, '#new-secret-access-key');
  assert.match(accessKeyId, /^AKIA[A-Z2-7]{16}$/);
  assert.equal(page.url().includes(secret), false, 'the secret is in no URL');
  const v2 = (auth: string) => fetch(`${berth.url}/v2/`, { headers: { authorization: 'Basic ' + Buffer.from(auth).toString('base64') } });
  assert.equal((await v2(`${accessKeyId}:${secret}`)).status, 200, 'the new key works');
  await page.goto(`${berth.url}/console/users`);
  assert.equal(await page.locator('#new-secret').count(), 0, 'the secret is shown once');
  assert.match(await page.locator('#users tbody tr', { hasText: 'deploy' }).innerText(), new RegExp(`${accessKeyId}\\s+Active`));

  await page.getByRole('button', { name: `Deactivate ${accessKeyId}` }).click();
  assert.equal(await text(page, '#notice'), `Access key ${accessKeyId} deactivated.`);
  assert.equal((await v2(`${accessKeyId}:${secret}`)).status, 401, 'the key no longer works');
  await page.getByRole('button', { name: 'Delete user deploy' }).click();
  assert.equal(await text(page, '#notice'), 'User deploy deleted.');
  assert.equal(await page.locator('#users tbody tr', { hasText: 'deploy' }).count(), 0);
});

test("Registry: storage by repository, and the registry policy (an invalid one refused with ECR's error)", async () => {
  await page.getByRole('link', { name: 'Registry' }).click();
  await page.waitForURL(/\/console\/registry$/);
  const row = page.locator('#usage-repositories tbody tr', { hasText: REPO });
  const cells = (await row.locator('td').allInnerTexts()).map((c) => c.trim());
  assert.equal(cells[2], '2', 'v1 and latest');
  assert.match(cells[3], /B|KiB/);
  assert.ok(await page.locator('#no-registry-policy').isVisible());

  await page.getByLabel('Registry policy JSON').fill('{"Version": "2012-10-17", "Statement": []');
  await page.getByRole('button', { name: 'Save registry policy' }).click();
  assert.match(await text(page, '#error'), /^InvalidParameterException: /);
  const account = /::(\d{12}):/.exec(await text(page, '#principal'))![1];
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Replication',
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::111122223333:root' },
        Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'],
        Resource: `arn:aws:ecr:us-east-1:${account}:repository/*`,
      },
    ],
  };
  await page.getByLabel('Registry policy JSON').fill(JSON.stringify(policy));
  await page.getByRole('button', { name: 'Save registry policy' }).click();
  assert.equal(await text(page, '#notice'), 'Registry policy saved.');
  assert.deepEqual(JSON.parse(await page.getByLabel('Registry policy JSON').inputValue()), policy);
  await page.getByRole('button', { name: 'Delete registry policy' }).click();
  assert.equal(await text(page, '#notice'), 'Registry policy deleted.');
  assert.ok(await page.locator('#no-registry-policy').isVisible());
});

test('delete a repository with its images, confirmed by typing its name', async () => {
  const doomed = 'mlops/scratch';
  await pushImage(berth, doomed, 'one');
  await page.goto(`${berth.url}/console/repositories/${doomed}`);
  assert.equal(await text(page, '#image-count'), '1');
  // The server checks the typed name too (the script only enables the button).
  const csrf = (await page.locator('input[name=_csrf]').first().getAttribute('value'))!;
  const session = (await page.context().cookies()).find((c) => c.name === 'berth_console')!;
  const unconfirmed = await fetch(`${berth.url}/console/repositories/${doomed}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: `berth_console=${session.value}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, action: 'delete-repository', confirm: 'wrong' }).toString(),
  });
  assert.equal(unconfirmed.status, 400);
  assert.match(await unconfirmed.text(), /Type the repository&#39;s name, mlops\/scratch, to confirm/);
  const remove = page.getByRole('button', { name: 'Delete repository' });
  await page.getByLabel(/^Type/).fill('mlops/scratc');
  assert.equal(await remove.isDisabled(), true, 'not until the name is typed');
  await page.getByLabel(/^Type/).fill(doomed);
  assert.equal(await remove.isDisabled(), false);
  await remove.click();
  await page.waitForURL(/\/console\/repositories\?deleted=/);
  assert.equal(await text(page, '#notice'), `Repository ${doomed} deleted.`);
  assert.equal(await page.locator('#repositories tbody tr', { hasText: doomed }).count(), 0);
  const gone = await fetch(`${berth.url}/v2/${doomed}/tags/list`, { headers: { authorization: berth.authHeader } });
  assert.equal(gone.status, 404);
  await gone.arrayBuffer();
});

test('a form without its CSRF token is refused (403) and does nothing', async () => {
  const session = (await page.context().cookies()).find((c) => c.name === 'berth_console')!;
  const post = (body: string) =>
    fetch(`${berth.url}/console/create-repository`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: `berth_console=${session.value}`, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
  const without = await post('repositoryName=csrf%2Fwithout');
  assert.equal(without.status, 403);
  assert.match(await without.text(), /CSRF token is missing or wrong/);
  const wrong = await post('repositoryName=csrf%2Fwrong&_csrf=not-the-token');
  assert.equal(wrong.status, 403);
  const signInWithout = await fetch(`${berth.url}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ accessKeyId: berth.accessKeyId, secretAccessKey: berth.secretAccessKey }).toString(),
  });
  assert.equal(signInWithout.status, 403, 'the sign-in form has its token too');
  assert.equal(
    signInWithout.headers.getSetCookie().some((c) => c.startsWith('berth_console=')),
    false,
  );
  await page.goto(`${berth.url}/console/repositories`);
  assert.equal(await page.locator('#repositories tbody tr', { hasText: 'csrf/' }).count(), 0, 'no repository was created');
});

test('the session holds across a server restart, and ends when its access key is deactivated', async () => {
  berth = await berth.restart();
  await page.goto(`${berth.url}/console/repositories`);
  assert.match(page.url(), /\/console\/repositories$/, 'still signed in after the restart');
  assert.equal(await page.locator('#repositories tbody tr', { hasText: REPO }).count(), 1);

  await pullOnlyPage.goto(`${berth.url}/console/create-repository`);
  assert.match(pullOnlyPage.url(), /\/console\/create-repository$/, 'the pull-only user is signed in too');
  await admin(berth, 'deactivate-access-key', '--access-key-id', pullOnly.accessKeyId);
  await pullOnlyPage.reload();
  assert.match(pullOnlyPage.url(), /\/console\/sign-in/, 'the session ended with its key');
});

test('sign out ends the session on the server', async () => {
  const session = (await page.context().cookies()).find((c) => c.name === 'berth_console')!;
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/console\/sign-in\?signedOut=1/);
  assert.equal(await text(page, '#notice'), 'You are signed out.');
  await page.goto(`${berth.url}/console/repositories`);
  assert.match(page.url(), /\/console\/sign-in/);
  const replay = await fetch(`${berth.url}/console/repositories`, {
    redirect: 'manual',
    headers: { cookie: `berth_console=${session.value}` },
  });
  assert.equal(replay.status, 303, 'the old cookie no longer works');
  assert.match(replay.headers.get('location')!, /^\/console\/sign-in/);
});

test('keyboard only: sign in, open a repository, its Images tab and the push commands with Tab and Enter', async () => {
  const keyboard = await openBrowser();
  await keyboard.goto(`${berth.url}/console/`);
  // The access key field has the focus on arrival (waited for: on a busy machine keys typed before it are lost).
  await keyboard.waitForFunction("document.activeElement?.id === 'accessKeyId'");
  await keyboard.keyboard.type(berth.accessKeyId);
  await keyboard.keyboard.press('Tab');
  await keyboard.keyboard.type(berth.secretAccessKey);
  await keyboard.keyboard.press('Enter');
  await keyboard.waitForURL(/\/console\/repositories$/);
  const focusOn = async (name: string) => {
    for (let i = 0; i < 40; i++) {
      await keyboard.keyboard.press('Tab');
      if ((await keyboard.evaluate('document.activeElement?.textContent?.trim()')) === name) return;
    }
    assert.fail(`Tab never reached ${name}`);
  };
  await focusOn(REPO);
  await keyboard.keyboard.press('Enter');
  await keyboard.waitForURL(/\/console\/repositories\/mlops\/retail-api$/);
  await focusOn('Images');
  await keyboard.keyboard.press('Enter');
  await keyboard.waitForURL(/tab=images/);
  assert.equal(await keyboard.locator('nav.tabs a[aria-current=page]').innerText(), 'Images');
  await focusOn('View push commands');
  await keyboard.keyboard.press('Enter');
  assert.equal(await keyboard.locator('#push-commands').getAttribute('open'), '', 'the push commands open from the keyboard');
});

test('no console errors in the browser (a Content-Security-Policy violation would be one)', () => {
  assert.deepEqual(consoleErrors, []);
});
