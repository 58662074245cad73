// The console's images, policies and registry pages in a real browser (Debian's chromium, playwright-core):
// vulnerability data imported with `berth vulndb import`, a Debian image pushed to a repository with scan on push
// shows its size, scan status and severity counts in the Images tab; its detail page has the manifest, config,
// layers, platform, the SBOM the scanner wrote as a referrer, and the findings filtered by severity; a
// multi-architecture index is one row that expands to its platforms (and reading it records no pull); the policy
// editor shows a syntax error and a grammar error at their lines; a user's identity policy is added from the
// console; the scanning configuration is saved; the audit search finds a denied decision; the registry page draws
// storage over time from the daily snapshots (the job recorded one, the test clock moved a day). A user without
// the permissions sees the decisions. Screenshots are saved for the README.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateRepositoryCommand, DescribeImagesCommand, PutImageCommand, type ECRClient } from '@aws-sdk/client-ecr';
import type { Page } from 'playwright-core';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ecrClient, eventually, makeImage, makeIndex, putImageViaUpload } from '../helpers/ecr.ts';
import { advanceClock, berthOk } from '../helpers/lifecycle.ts';
import { createUser } from '../helpers/policies.ts';
import { DEBIAN_OS_RELEASE, DPKG_STATUS } from '../helpers/scan-fixtures.ts';
import { makeTempDir, removeDir } from '../helpers/tools.ts';
import { Browsers, SCREENSHOTS, signIn, textOf as text } from '../helpers/browser.ts';

const REPO = 'team/app';

/** An OSV record of Debian 12 for a source package, fixed at `fixed`, with a CVSS 3.1 vector. */
const debianRecord = (id: string, pkg: string, fixed: string, vector: string) => ({
  schema_version: '1.7.0',
  id,
  modified: '2024-03-01T00:00:00Z',
  published: '2024-01-26T00:00:00Z',
  aliases: [id.replace('DEBIAN-', '')],
  summary: `${pkg} security update`,
  details: `Fixes ${id} in ${pkg}.`,
  severity: [{ type: 'CVSS_V3', score: vector }],
  affected: [
    {
      package: { ecosystem: 'Debian:12', name: pkg, purl: `pkg:deb/debian/${pkg}?arch=source` },
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }],
    },
  ],
  references: [{ type: 'ADVISORY', url: `https://security-tracker.debian.org/tracker/${id.replace('DEBIAN-', '')}` }],
});

let berth: Berth;
let ecr: ECRClient;
let dataDir: string;
const browsers = new Browsers();
let page: Page;
let debian: ReturnType<typeof makeImage>;
let index: ReturnType<typeof makeIndex>;

before(async () => {
  berth = await startBerth({ env: { BERTH_TEST_CLOCK: '1', BERTH_USAGE_SNAPSHOT_INTERVAL_SECONDS: '1' } });
  ecr = ecrClient(berth);
  mkdirSync(SCREENSHOTS, { recursive: true });
  dataDir = makeTempDir('berth-console-osv-');
  writeFileSync(
    join(dataDir, 'zlib.json'),
    JSON.stringify(debianRecord('DEBIAN-CVE-2023-45853', 'zlib', '1:1.2.13.dfsg-2', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')),
  );
  writeFileSync(
    join(dataDir, 'openssl.json'),
    JSON.stringify(debianRecord('DEBIAN-CVE-2024-0727', 'openssl', '3.0.11-1~deb12u3', 'CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H')),
  );
  await berthOk(berth, ['vulndb', 'import', dataDir]);
  page = await browsers.page();
  await signIn(page, berth.url, berth);
});

after(async () => {
  await browsers.closeAll();
  ecr?.destroy();
  await berth?.cleanup();
  if (dataDir) removeDir(dataDir);
});

test('the Images tab shows a scanned image with its size, scan status and severity counts', async () => {
  await ecr.send(new CreateRepositoryCommand({ repositoryName: REPO, imageScanningConfiguration: { scanOnPush: true } }));
  debian = makeImage({
    oci: true,
    layers: [{ 'etc/os-release': Buffer.from(DEBIAN_OS_RELEASE) }, { 'var/lib/dpkg/status': Buffer.from(DPKG_STATUS) }],
  });
  await putImageViaUpload(ecr, REPO, debian, 'v1');
  const scanned = await eventually(async () => {
    const d = (await ecr.send(new DescribeImagesCommand({ repositoryName: REPO, imageIds: [{ imageTag: 'v1' }] }))).imageDetails![0];
    return d.imageScanStatus?.status === 'COMPLETE' ? d : undefined;
  }, 30_000);
  assert.ok(scanned, 'the image is scanned on push');

  await page.goto(`${berth.url}/console/repositories/${REPO}?tab=images`);
  const row = page.locator('#images tbody tr', { has: page.getByLabel('Select v1', { exact: true }) });
  const cells = (await row.locator('td').allInnerTexts()).map((c) => c.trim());
  assert.equal(cells[3], 'Image');
  assert.match(cells[4], /^\d+(\.\d+)? (B|KiB)$/, 'the size');
  assert.match(cells[7], /^COMPLETE\s+1 CRITICAL\s+1 MEDIUM$/, `scan status and severity counts: ${cells[7]}`);
});

test('image detail: manifest, config, layers, platform, the SBOM referrer, findings filtered by severity', async () => {
  await page
    .locator('#images tbody tr', { has: page.getByLabel('Select v1', { exact: true }) })
    .getByRole('link')
    .first()
    .click();
  await page.waitForURL(/tab=image&digest=/);
  assert.equal(await text(page, '#image-digest'), debian.digest);
  assert.equal(await text(page, '#image-tags'), 'v1');
  assert.equal(await text(page, 'nav.tabs a[aria-current=page]'), 'Images');
  assert.equal(await text(page, '#platforms'), 'linux/amd64');
  const layers = (await page.locator('#layers tbody tr').allInnerTexts()).map((r) => r.replace(/\s+/g, ' ').trim());
  assert.equal(layers.length, 2);
  assert.match(
    layers[0],
    new RegExp(`^1 ${debian.layers[0].digest.slice(0, 19)}… ?Copy digest application/vnd.oci.image.layer.v1.tar\\+gzip \\d+ B$`),
  );
  assert.match(await text(page, '#referrers'), /SBOM application\/vnd\.cyclonedx\+json/);
  assert.equal(await page.locator('#findings tbody tr').count(), 2);
  await page.getByLabel(/CRITICAL \(1\)/).check();
  await page.getByRole('button', { name: 'Filter' }).click();
  const critical = (await page.locator('#findings tbody tr').allInnerTexts()).map((r) => r.replace(/\s+/g, ' ').trim());
  assert.equal(critical.length, 1);
  assert.match(critical[0], /^CVE-2023-45853 CRITICAL zlib1g 1:1\.2\.13\.dfsg-1/);
  await page.getByText('Manifest', { exact: true }).click();
  assert.deepEqual(JSON.parse(await text(page, '#manifest')), JSON.parse(debian.manifest), 'the manifest, pretty-printed');
  await page.getByText('Config', { exact: true }).click();
  assert.equal(JSON.parse(await text(page, '#config')).architecture, 'amd64');
  await page.screenshot({ path: join(SCREENSHOTS, 'image-detail.png'), fullPage: true });
});

test('a multi-architecture index is one row that expands to its platforms; showing it records no pull', async () => {
  const amd = makeImage({ oci: true, architecture: 'amd64' });
  const arm = makeImage({ oci: true, architecture: 'arm64' });
  for (const image of [amd, arm]) await putImageViaUpload(ecr, REPO, image);
  index = makeIndex(
    [amd, arm].map((i, n) => ({
      digest: i.digest,
      size: Buffer.byteLength(i.manifest),
      mediaType: i.mediaType,
      architecture: n ? 'arm64' : 'amd64',
    })),
  );
  await ecr.send(
    new PutImageCommand({
      repositoryName: REPO,
      imageManifest: index.manifest,
      imageManifestMediaType: index.mediaType,
      imageTag: 'multi',
    }),
  );

  await page.goto(`${berth.url}/console/repositories/${REPO}?tab=images`);
  const indexRow = page.locator('#images tbody tr.index-row');
  assert.equal(await indexRow.count(), 1, 'one row for the index');
  assert.match(await indexRow.innerText(), /multi/);
  assert.match(await indexRow.innerText(), /Image index/);
  const children = page.locator('#images tbody tr.child-row');
  assert.equal(await children.count(), 2);
  assert.equal(await children.first().isVisible(), false, 'the platforms are folded');
  for (const image of [amd, arm]) {
    assert.equal(
      await page.locator(`#images tbody tr:not(.child-row) a[href*="${encodeURIComponent(image.digest)}"]`).count(),
      0,
      'a platform manifest is not a row of its own',
    );
  }
  const expand = page.getByRole('button', { name: 'Platforms of multi' });
  assert.equal(await expand.getAttribute('aria-expanded'), 'false');
  await expand.click();
  assert.equal(await expand.getAttribute('aria-expanded'), 'true');
  assert.deepEqual(
    (await children.locator('td.platform').allInnerTexts()).map((t) => t.trim()),
    ['↳ linux/amd64', '↳ linux/arm64'],
  );
  await page.screenshot({ path: join(SCREENSHOTS, 'images-multi-arch.png'), fullPage: true });

  await page.goto(`${berth.url}/console/repositories/${REPO}?tab=image&digest=${encodeURIComponent(index.digest)}`);
  assert.deepEqual(
    (await page.locator('#platforms tbody tr td:first-child').allInnerTexts()).map((t) => t.trim()),
    ['linux/amd64', 'linux/arm64'],
  );
  const shown = (await ecr.send(new DescribeImagesCommand({ repositoryName: REPO, imageIds: [{ imageTag: 'multi' }] }))).imageDetails![0];
  assert.equal(shown.lastRecordedPullTime, undefined, 'the console read the index to show it: no pull recorded');
});

test('the policy editor shows a syntax error and a grammar error at their lines, and keeps the text', async () => {
  await page.goto(`${berth.url}/console/repositories/${REPO}?tab=permissions`);
  const broken = '{\n  "Version": "2012-10-17",\n  "Statement": [\n    { "Effect": "Allow" "Action": "ecr:BatchGetImage" }\n  ]\n}';
  await page.getByLabel('Policy JSON').fill(broken);
  await page.getByRole('button', { name: 'Save policy' }).click();
  assert.match(await text(page, '#error'), /^InvalidParameterException: /);
  assert.match(await text(page, '#policyText-error p'), /^Line 4, column 25: /);
  assert.equal(await text(page, '#policyText-error .bad-line'), '4     { "Effect": "Allow" "Action": "ecr:BatchGetImage" }');
  assert.equal(await page.getByLabel('Policy JSON').inputValue(), broken, 'the text typed is kept');
  assert.equal(await page.evaluate('document.activeElement?.id'), 'policyText', 'the cursor is put in the editor');

  const wrongEffect = JSON.stringify(
    {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Pull', Effect: 'Allow', Principal: '*', Action: 'ecr:BatchGetImage' },
        { Sid: 'Push', Effect: 'Permit', Principal: '*', Action: 'ecr:PutImage' },
      ],
    },
    null,
    2,
  );
  await page.getByLabel('Policy JSON').fill(wrongEffect);
  await page.getByRole('button', { name: 'Save policy' }).click();
  assert.match(await text(page, '#error'), /Statement\[1\]: Effect must be Allow or Deny/);
  const line = wrongEffect.split('\n').findIndex((l) => l.includes('"Permit"')) + 1;
  assert.match(await text(page, '#policyText-error p'), new RegExp(`^Line ${line}, column 1: `));
  assert.match(await text(page, '#policyText-error .bad-line'), /"Effect": "Permit"/);
  await page.screenshot({ path: join(SCREENSHOTS, 'policy-error.png'), fullPage: true });
});

test("a user's identity policy is added in the console (its error at its line first); the user may then do what it grants", async () => {
  const ci = await createUser(berth, 'ci-reader');
  await page.goto(`${berth.url}/console/users`);
  await page.getByRole('link', { name: 'Policies of ci-reader' }).click();
  assert.ok(await page.locator('#no-user-policies').isVisible());
  await page.getByLabel('Policy name').fill('read');
  await page
    .getByLabel('Policy document (JSON)')
    .fill('{\n  "Version": "2012-10-17",\n  "Statement": [{ "Effect": "Allow", "Action": "ecr:Describe*", "Resource": "*" }]\n');
  await page.getByRole('button', { name: 'Add policy' }).click();
  assert.match(await text(page, '#error'), /invalid policy document/);
  assert.match(await text(page, '#new-policy-document-error p'), /^Line 3, column /);
  await page.getByLabel('Policy document (JSON)').fill(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['ecr:DescribeRepositories', 'ecr:DescribeImages'], Resource: '*' }],
    }),
  );
  await page.getByRole('button', { name: 'Add policy' }).click();
  assert.equal(await text(page, '#notice'), 'Policy read saved.');
  assert.deepEqual(JSON.parse(await page.getByLabel('Policy read (JSON)').inputValue()).Statement[0].Action, [
    'ecr:DescribeRepositories',
    'ecr:DescribeImages',
  ]);

  const ciPage = await browsers.page();
  await signIn(ciPage, berth.url, ci);
  assert.equal(await ciPage.locator('#repositories tbody tr', { hasText: REPO }).count(), 1, 'the user lists repositories now');
  // A page the user may not see: the decision, as the admin API would answer it.
  await ciPage.goto(`${berth.url}/console/audit`);
  assert.match(
    await text(ciPage, '#error'),
    new RegExp(
      `^AccessDenied: User: ${ci.arn} is not authorized to perform: berth:SearchAuditRecords on resource: arn:aws:ecr:us-east-1:\\d{12}:registry`,
    ),
  );
  await ciPage.goto(`${berth.url}/console/repositories/${REPO}?tab=image&digest=${encodeURIComponent(debian.digest)}`);
  assert.match(
    (await ciPage.locator('#manifest-refused').textContent())!.trim(),
    new RegExp(`^AccessDeniedException: User: ${ci.arn} is not authorized to perform: ecr:BatchGetImage`),
  );
  assert.match(await text(ciPage, '#findings-refused'), /ecr:DescribeImageScanFindings/);
  // The registry page and another user's policies: refused as the ECR API and the admin API refuse them.
  await ciPage.goto(`${berth.url}/console/registry`);
  assert.match(await ciPage.locator('main').innerText(), new RegExp(`User: ${ci.arn} is not authorized to perform: ecr:GetRegistryPolicy`));
  await ciPage.goto(`${berth.url}/console/user-policies?user=ci-reader`);
  assert.match(await ciPage.locator('main').innerText(), new RegExp(`User: ${ci.arn} is not authorized to perform: iam:ListUserPolicies`));
});

test('the audit search finds the denied decision; the scanning configuration is saved', async () => {
  await page.getByRole('link', { name: 'Audit' }).click();
  await page.waitForURL(/\/console\/audit$/);
  assert.ok((await page.locator('#audit-records tbody tr').count()) > 0);
  await page.getByLabel('Contains').fill('berth:SearchAuditRecords');
  await page.getByRole('button', { name: 'Search' }).click();
  const rows = (await page.locator('#audit-records tbody tr').allInnerTexts()).map((r) => r.replace(/\s+/g, ' '));
  const all = (await berthOk(berth, ['admin', 'audit-search', '--contains', 'ci-reader'])).records;
  assert.ok(
    rows.some((r) => /user\/ci-reader berth:SearchAuditRecords .* Denied/.test(r)),
    `the denied search is found: ${rows.join('\n')}\n${JSON.stringify(all, null, 1)}`,
  );
  await page.screenshot({ path: join(SCREENSHOTS, 'audit.png'), fullPage: true });

  await page.getByRole('link', { name: 'Registry' }).click();
  await page.getByLabel(/^Scan on push: repository filters/).fill('team/*, prod-*');
  await page.getByRole('button', { name: 'Save scanning configuration' }).click();
  assert.equal(await text(page, '#notice'), 'Scanning configuration saved.');
  assert.equal(await page.getByLabel(/^Scan on push: repository filters/).inputValue(), 'team/*, prod-*');
});

test('the registry page draws storage over time from the daily snapshots, and lists the largest images', async () => {
  const day0 = new Date(Date.now()).toISOString().slice(0, 10);
  // The job (every second here) records today's snapshot; a day later, the chart has that day and now.
  await eventually(async () => (await berthOk(berth, ['admin', 'usage-history'])).snapshots.length > 0, 15_000);
  await advanceClock(berth, 86_400);
  // A day on, the session (12 hours) has expired: signed in again.
  await page.goto(`${berth.url}/console/registry`);
  assert.match(page.url(), /\/console\/sign-in/, 'the session expired');
  await signIn(page, berth.url, berth);
  await page.goto(`${berth.url}/console/registry`);
  assert.equal(await page.locator('#usage-refused').count(), 0, await page.locator('main').innerText());
  const bars = page.locator('#usage-chart svg rect.bar');
  assert.equal(
    await bars.count(),
    2,
    `the day of the snapshot and now: ${await page
      .locator('#usage-chart')
      .evaluate((e) => e.outerHTML)
      .catch(() => 'no chart')}`,
  );
  assert.match(
    (await page.locator('#usage-chart svg title').first().textContent()) ?? '',
    new RegExp(`^Storage over time, ${day0} to \\d{4}-\\d\\d-\\d\\d`),
  );
  assert.ok((await page.locator('#largest-images tbody tr', { hasText: 'v1' }).count()) === 1, 'the scanned image is among the largest');
  assert.match(await text(page, '#usage-repositories tbody'), new RegExp(REPO));
  await page.screenshot({ path: join(SCREENSHOTS, 'registry-usage.png'), fullPage: true });
});

test('no console errors in the browser (a Content-Security-Policy violation would be one)', () => {
  assert.deepEqual(browsers.consoleErrors, []);
});
