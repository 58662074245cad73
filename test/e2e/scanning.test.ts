// Image scanning end to end, with the clients unchanged: OSV records written here (real identifiers, fixed versions
// placed around the versions of a Debian image built here with a dpkg status file) imported with `berth vulndb
// import`; a repository created with scanOnPush; an image pushed; then `aws ecr wait image-scan-complete`, boto3's
// image_scan_complete waiter and the JavaScript SDK's waitUntilImageScanComplete all succeed, and the findings are
// right: a finding when the fix is just above the installed version, none when it is at or below, and an advisory on
// the source package (openssl, zlib) found on the binary package (libssl3, zlib1g). The SBOM is listed by the
// referrers API. Manual scans keep ECR's daily quota; registry rules (BASIC refuses CONTINUOUS_SCAN; ENHANCED
// answers enhancedFindings and rescans on new data); an artifact is UNSUPPORTED_IMAGE; an index is scanned.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  BatchGetRepositoryScanningConfigurationCommand,
  CreateRepositoryCommand,
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  GetAccountSettingCommand,
  GetRegistryScanningConfigurationCommand,
  PutAccountSettingCommand,
  PutImageCommand,
  PutImageScanningConfigurationCommand,
  PutLifecyclePolicyCommand,
  PutRegistryScanningConfigurationCommand,
  StartImageScanCommand,
  waitUntilImageScanComplete,
  type ECRClient,
  type ImageScanFinding,
} from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import {
  awsCli,
  ecrClient,
  eventually,
  expectEcrError,
  makeImage,
  makeIndex,
  MEDIA,
  PYTHON,
  putImageViaUpload,
  requireBoto3,
  uploadLayer,
} from '../helpers/ecr.ts';
import { advanceClock, berthCli, berthOk } from '../helpers/lifecycle.ts';
import { DEBIAN_OS_RELEASE, DPKG_STATUS } from '../helpers/scan-fixtures.ts';
import { makeTempDir, removeDir, run, describeResult, uniqueName } from '../helpers/tools.ts';

/** An OSV record of Debian 12 for a source package, fixed at `fixed`. */
function debianRecord(id: string, cve: string, pkg: string, fixed: string, severity: { type: string; score: string }[] = []): object {
  return {
    schema_version: '1.7.0',
    id,
    modified: '2024-03-01T00:00:00Z',
    published: '2024-01-26T00:00:00Z',
    aliases: [cve],
    summary: `${pkg} security update`,
    details: `Fixes ${cve} in ${pkg}.`,
    ...(severity.length > 0 ? { severity } : {}),
    affected: [
      {
        package: { ecosystem: 'Debian:12', name: pkg, purl: `pkg:deb/debian/${pkg}?arch=source` },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }],
      },
    ],
    references: [{ type: 'ADVISORY', url: `https://security-tracker.debian.org/tracker/${cve}` }],
  };
}

// The fixture's packages (test/helpers/scan-fixtures.ts): libssl3 3.0.11-1~deb12u2 (source openssl), zlib1g
// 1:1.2.13.dfsg-1 (source zlib), tar 1.34+dfsg-1.2+deb12u1, and libcurl4 7.88.1-10+deb12u4 (source curl), removed
// with its configuration files left ("deinstall ok config-files"): not installed, never a finding.
const RECORDS = {
  // Fixed just above the installed openssl: a finding on libssl3 (CVSS 3.1 5.5: MEDIUM).
  'DEBIAN-CVE-2024-0727.json': debianRecord('DEBIAN-CVE-2024-0727', 'CVE-2024-0727', 'openssl', '3.0.11-1~deb12u3', [
    { type: 'CVSS_V3', score: 'CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H' },
  ]),
  // Fixed just above the installed zlib, with a CVSS v2 vector too: a finding on zlib1g (CVSS 3.1 9.8: CRITICAL).
  'DEBIAN-CVE-2023-45853.json': debianRecord('DEBIAN-CVE-2023-45853', 'CVE-2023-45853', 'zlib', '1:1.2.13.dfsg-2', [
    { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' },
    { type: 'CVSS_V2', score: 'AV:N/AC:L/Au:N/C:P/I:P/A:P' },
  ]),
  // Fixed at the version of curl (a package not installed anyway): no finding.
  'DEBIAN-CVE-2023-38545.json': debianRecord('DEBIAN-CVE-2023-38545', 'CVE-2023-38545', 'curl', '7.88.1-10+deb12u4'),
  // Fixed below the installed openssl: no finding.
  'DEBIAN-CVE-2023-5363.json': debianRecord('DEBIAN-CVE-2023-5363', 'CVE-2023-5363', 'openssl', '3.0.11-1~deb12u1'),
};

const debianImage = (label: string) =>
  makeImage({
    label,
    layers: [{ 'etc/os-release': Buffer.from(DEBIAN_OS_RELEASE) }, { 'var/lib/dpkg/status': Buffer.from(DPKG_STATUS) }],
  });

const attr = (f: ImageScanFinding, key: string) => f.attributes?.find((a) => a.key === key)?.value;

describe('image scanning with the AWS CLI, boto3 and the JavaScript SDK', () => {
  let berth: Berth;
  let ecr: ECRClient;
  let dir: string;

  before(async () => {
    await requireBoto3();
    berth = await startBerth({ env: { BERTH_CREATE_ON_PUSH: 'false', BERTH_TEST_CLOCK: '1' } });
    ecr = ecrClient(berth);
    dir = makeTempDir('berth-osv-');
    mkdirSync(join(dir, 'debian'));
    for (const [name, record] of Object.entries(RECORDS)) writeFileSync(join(dir, 'debian', name), JSON.stringify(record));
  });

  after(async () => {
    ecr?.destroy();
    await berth?.cleanup();
    removeDir(dir);
  });

  it('imports OSV data atomically: a bad checksum or an invalid record changes nothing; status lists the source', async () => {
    const one = join(dir, 'one.json');
    writeFileSync(one, JSON.stringify(RECORDS['DEBIAN-CVE-2024-0727.json']));
    const wrongSum = await berthCli(berth, ['vulndb', 'import', one, '--sha256', '0'.repeat(64)]);
    assert.equal(wrongSum.code, 1, describeResult(wrongSum));
    assert.match(wrongSum.stderr, /does not match/);
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'a.json'), JSON.stringify(RECORDS['DEBIAN-CVE-2023-38545.json']));
    // A real record with one field the OSV schema does not have: refused, and the whole import with it.
    writeFileSync(join(bad, 'b.json'), JSON.stringify({ ...RECORDS['DEBIAN-CVE-2024-0727.json'], fixed_version: '3.0.11-1~deb12u3' }));
    const invalid = await berthCli(berth, ['vulndb', 'import', bad]);
    assert.equal(invalid.code, 1, describeResult(invalid));
    assert.match(invalid.stderr, /DEBIAN-CVE-2024-0727 is not a valid OSV record: \/ must NOT have additional properties/);
    assert.deepEqual((await berthOk(berth, ['vulndb', 'status'])).sources, [], 'a failed import changes nothing');

    const imported = await berthOk(berth, ['vulndb', 'import', join(dir, 'debian')]);
    assert.deepEqual({ source: imported.source, records: imported.records }, { source: 'Debian', records: 4 });
    const status = await berthOk(berth, ['vulndb', 'status']);
    assert.deepEqual(
      status.sources.map((s: { name: string; records: number }) => [s.name, s.records]),
      [['Debian', 4]],
    );
    // Importing the source again with a bad record in it leaves the data as it was.
    const again = await berthCli(berth, ['vulndb', 'import', bad, '--source', 'Debian']);
    assert.equal(again.code, 1, describeResult(again));
    const unaged = (st: { version: number; sources: { ageHours?: number }[] }) => ({
      ...st,
      sources: st.sources.map(({ ageHours: _, ...rest }) => rest),
    });
    assert.deepEqual(unaged(await berthOk(berth, ['vulndb', 'status'])), unaged(status), 'a failed re-import changes nothing');
    const { createHash } = await import('node:crypto');
    const sum = createHash('sha256').update(JSON.stringify(RECORDS['DEBIAN-CVE-2024-0727.json'])).digest('hex');
    const checked = await berthOk(berth, ['vulndb', 'import', one, '--sha256', sum, '--source', 'single']);
    assert.equal(checked.sha256, sum);
  });

  it('scans on push; the three waiters succeed; BASIC findings are right; DescribeImages has the summary; the SBOM is a referrer', async () => {
    const repositoryName = uniqueName('scan/debian');
    await ecr.send(new CreateRepositoryCommand({ repositoryName, imageScanningConfiguration: { scanOnPush: true } }));
    const image = debianImage('scan-on-push');
    await putImageViaUpload(ecr, repositoryName, image, 'v1');

    const aws = await awsCli(berth);
    const waited = await aws.run(['wait', 'image-scan-complete', '--repository-name', repositoryName, '--image-id', 'imageTag=v1'], {
      timeoutMs: 120_000,
    });
    assert.equal(waited.code, 0, describeResult(waited));

    const py = await run(
      PYTHON,
      [
        '-c',
        `
import os, boto3
c = boto3.client('ecr', endpoint_url=os.environ['BERTH_URL'], region_name='us-east-1',
  aws_access_key_id=os.environ['KEY'], aws_secret_access_key=os.environ['SECRET'])
c.get_waiter('image_scan_complete').wait(repositoryName=os.environ['REPO'], imageId={'imageTag': 'v1'}, WaiterConfig={'Delay': 1, 'MaxAttempts': 60})
r = c.describe_image_scan_findings(repositoryName=os.environ['REPO'], imageId={'imageTag': 'v1'})
print(r['imageScanStatus']['status'], sorted(f['name'] for f in r['imageScanFindings']['findings']))
`,
      ],
      {
        env: {
          BERTH_URL: berth.url,
          KEY: berth.accessKeyId,
          SECRET: berth.secretAccessKey,
          REPO: repositoryName,
          AWS_CONFIG_FILE: '/nonexistent',
          AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
          AWS_EC2_METADATA_DISABLED: 'true',
        },
        timeoutMs: 120_000,
      },
    );
    assert.equal(py.code, 0, describeResult(py));
    assert.equal(py.stdout.trim(), "COMPLETE ['CVE-2023-45853', 'CVE-2024-0727']");

    const w = await waitUntilImageScanComplete(
      { client: ecr, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
      { repositoryName, imageId: { imageTag: 'v1' } },
    );
    assert.equal(w.state, 'SUCCESS');

    const r = await ecr.send(new DescribeImageScanFindingsCommand({ repositoryName, imageId: { imageTag: 'v1' } }));
    assert.deepEqual(r.imageScanStatus, { status: 'COMPLETE', description: 'The scan was completed successfully.' });
    assert.deepEqual(r.imageId, { imageDigest: image.digest, imageTag: 'v1' });
    const findings = r.imageScanFindings!;
    assert.deepEqual(findings.findingSeverityCounts, { CRITICAL: 1, MEDIUM: 1 });
    assert.ok(findings.imageScanCompletedAt instanceof Date && findings.vulnerabilitySourceUpdatedAt instanceof Date);
    assert.equal(findings.enhancedFindings, undefined);
    const [zlib, openssl] = findings.findings!;
    assert.deepEqual(
      [zlib.name, zlib.severity, attr(zlib, 'package_name'), attr(zlib, 'package_version')],
      ['CVE-2023-45853', 'CRITICAL', 'zlib1g', '1:1.2.13.dfsg-1'],
    );
    assert.deepEqual([attr(zlib, 'CVSS2_VECTOR'), attr(zlib, 'CVSS2_SCORE')], ['AV:N/AC:L/Au:N/C:P/I:P/A:P', '7.5']);
    assert.equal(zlib.uri, 'https://security-tracker.debian.org/tracker/CVE-2023-45853');
    assert.deepEqual(
      [openssl.name, openssl.severity, attr(openssl, 'package_name'), attr(openssl, 'package_version')],
      ['CVE-2024-0727', 'MEDIUM', 'libssl3', '3.0.11-1~deb12u2'],
    );
    assert.equal(attr(openssl, 'CVSS2_VECTOR'), undefined, 'no CVSS v2 vector when the record has none');

    // Pages of one.
    const first = await ecr.send(
      new DescribeImageScanFindingsCommand({ repositoryName, imageId: { imageDigest: image.digest }, maxResults: 1 }),
    );
    assert.equal(first.imageScanFindings!.findings!.length, 1);
    assert.ok(first.nextToken);
    const second = await ecr.send(
      new DescribeImageScanFindingsCommand({
        repositoryName,
        imageId: { imageDigest: image.digest },
        maxResults: 1,
        nextToken: first.nextToken,
      }),
    );
    assert.deepEqual(
      [...first.imageScanFindings!.findings!, ...second.imageScanFindings!.findings!].map((f) => f.name),
      ['CVE-2023-45853', 'CVE-2024-0727'],
    );
    assert.equal(second.nextToken, undefined);

    const d = await ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: 'v1' }] }));
    assert.deepEqual(d.imageDetails![0].imageScanStatus, { status: 'COMPLETE', description: 'The scan was completed successfully.' });
    assert.deepEqual(d.imageDetails![0].imageScanFindingsSummary!.findingSeverityCounts, { CRITICAL: 1, MEDIUM: 1 });

    const referrers = await fetch(`${berth.url}/v2/${repositoryName}/referrers/${image.digest}`, {
      headers: { Authorization: berth.authHeader },
    });
    assert.equal(referrers.status, 200);
    const index = (await referrers.json()) as { manifests: { artifactType: string; digest: string }[] };
    assert.deepEqual(
      index.manifests.map((m) => m.artifactType),
      ['application/vnd.cyclonedx+json'],
    );
    const sbomManifest = (await (
      await fetch(`${berth.url}/v2/${repositoryName}/manifests/${index.manifests[0].digest}`, {
        headers: { Authorization: berth.authHeader, Accept: MEDIA.ociManifest },
      })
    ).json()) as { layers: { digest: string }[]; subject: { digest: string } };
    assert.equal(sbomManifest.subject.digest, image.digest);
    const sbom = (await (
      await fetch(`${berth.url}/v2/${repositoryName}/blobs/${sbomManifest.layers[0].digest}`, {
        headers: { Authorization: berth.authHeader },
      })
    ).json()) as { bomFormat: string; components: { name: string; purl?: string }[] };
    assert.equal(sbom.bomFormat, 'CycloneDX');
    assert.ok(
      sbom.components.some((c) => c.name === 'libssl3' && c.purl?.startsWith('pkg:deb/debian/libssl3@3.0.11-1~deb12u2')),
      JSON.stringify(sbom.components.map((c) => c.purl)),
    );
    const listed = await ecr.send(new DescribeImagesCommand({ repositoryName }));
    const sbomDetail = listed.imageDetails!.find((i) => i.imageDigest === index.manifests[0].digest)!;
    assert.equal(sbomDetail.imageTags, undefined, 'the SBOM is untagged');
    assert.equal(sbomDetail.imageScanStatus, undefined, 'and never scanned itself');

    // `berth sbom` prints it.
    const printed = await berthOk(berth, ['sbom', `${repositoryName}:v1`]);
    assert.deepEqual(printed, sbom);
    assert.deepEqual(await berthOk(berth, ['sbom', `${repositoryName}@${image.digest}`]), sbom);

    // The SBOM goes with its image.
    const deleted = await ecr.send(new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageDigest: image.digest }] }));
    assert.deepEqual(deleted.failures, []);
    assert.deepEqual((await ecr.send(new DescribeImagesCommand({ repositoryName }))).imageDetails, []);
  });

  it('a repository without scanOnPush is not scanned; StartImageScan scans it, once a day per image (LimitExceededException)', async () => {
    const repositoryName = uniqueName('scan/manual');
    await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    const image = debianImage('manual');
    await putImageViaUpload(ecr, repositoryName, image, 'v1');
    await expectEcrError(
      ecr.send(new DescribeImageScanFindingsCommand({ repositoryName, imageId: { imageTag: 'v1' } })),
      'ScanNotFoundException',
    );
    await expectEcrError(ecr.send(new StartImageScanCommand({ repositoryName, imageId: { imageTag: 'nope' } })), 'ImageNotFoundException');
    const started = await ecr.send(new StartImageScanCommand({ repositoryName, imageId: { imageTag: 'v1' } }));
    assert.deepEqual([started.imageScanStatus?.status, started.imageId?.imageDigest], ['IN_PROGRESS', image.digest]);
    await waitUntilImageScanComplete(
      { client: ecr, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
      { repositoryName, imageId: { imageTag: 'v1' } },
    );
    await expectEcrError(
      ecr.send(new StartImageScanCommand({ repositoryName, imageId: { imageDigest: image.digest } })),
      'LimitExceededException',
      /quota/,
    );
    const now = await advanceClock(berth, 24 * 3600 + 1);
    // Requests are signed at the registry's time from now on (SigV4 refuses a skewed one).
    ecr.config.systemClockOffset = now.getTime() - Date.now();
    assert.equal(
      (await ecr.send(new StartImageScanCommand({ repositoryName, imageId: { imageTag: 'v1' } }))).imageScanStatus?.status,
      'IN_PROGRESS',
    );
    await waitUntilImageScanComplete(
      { client: ecr, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
      { repositoryName, imageId: { imageTag: 'v1' } },
    );

    // The SBOM (untagged, pushed over a day ago by the registry's clock) is not expired by a lifecycle rule on its own.
    await ecr.send(
      new PutLifecyclePolicyCommand({
        repositoryName,
        lifecyclePolicyText: JSON.stringify({
          rules: [
            {
              rulePriority: 1,
              selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 },
              action: { type: 'expire' },
            },
          ],
        }),
      }),
    );
    const run = await berthOk(berth, ['lifecycle', 'run', repositoryName]);
    assert.deepEqual(run.results[0].expired, []);
    const sbom = await fetch(`${berth.url}/v2/${repositoryName}/referrers/${image.digest}`, {
      headers: { Authorization: berth.authHeader },
    });
    assert.equal(((await sbom.json()) as { manifests: unknown[] }).manifests.length, 1);
  });

  it('an artifact that is no image is UNSUPPORTED_IMAGE; an index is scanned through its platform images', async () => {
    const repositoryName = uniqueName('scan/kinds');
    await ecr.send(new CreateRepositoryCommand({ repositoryName, imageScanningConfiguration: { scanOnPush: true } }));
    const config = Buffer.from('{}');
    const payload = Buffer.from('just a file');
    await uploadLayer(ecr, repositoryName, config);
    await uploadLayer(ecr, repositoryName, payload);
    const { createHash } = await import('node:crypto');
    const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
    const artifact = JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      artifactType: 'application/vnd.example.thing',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: digestOf(config), size: 2 },
      layers: [{ mediaType: 'application/octet-stream', digest: digestOf(payload), size: payload.length }],
    });
    await ecr.send(new PutImageCommand({ repositoryName, imageManifest: artifact, imageTag: 'thing' }));
    const status = await eventually(async () => {
      const r = await ecr.send(new DescribeImageScanFindingsCommand({ repositoryName, imageId: { imageTag: 'thing' } }));
      return r.imageScanStatus?.status === 'IN_PROGRESS' ? undefined : r.imageScanStatus;
    }, 60_000);
    assert.deepEqual(status, {
      status: 'UNSUPPORTED_IMAGE',
      description: 'The operating system and/or package manager are not supported.',
    });

    const amd = debianImage('amd64');
    await putImageViaUpload(ecr, repositoryName, amd);
    const idx = makeIndex([{ digest: amd.digest, size: Buffer.byteLength(amd.manifest), mediaType: amd.mediaType, architecture: 'amd64' }]);
    await ecr.send(
      new PutImageCommand({ repositoryName, imageManifest: idx.manifest, imageManifestMediaType: idx.mediaType, imageTag: 'multi' }),
    );
    await waitUntilImageScanComplete(
      { client: ecr, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
      { repositoryName, imageId: { imageTag: 'multi' } },
    );
    const r = await ecr.send(new DescribeImageScanFindingsCommand({ repositoryName, imageId: { imageTag: 'multi' } }));
    assert.deepEqual(
      r.imageScanFindings!.findings!.map((f) => `${f.name} ${attr(f, 'package_name')}`),
      ['CVE-2023-45853 zlib1g', 'CVE-2024-0727 libssl3'],
    );
  });

  it('registry rules: BASIC refuses CONTINUOUS_SCAN; ENHANCED answers enhancedFindings and rescans when the data changes', async () => {
    assert.deepEqual((await ecr.send(new GetRegistryScanningConfigurationCommand({}))).scanningConfiguration, {
      scanType: 'BASIC',
      rules: [],
    });
    await expectEcrError(
      ecr.send(
        new PutRegistryScanningConfigurationCommand({
          scanType: 'BASIC',
          rules: [{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }] }],
        }),
      ),
      'ValidationException',
      /CONTINUOUS_SCAN/,
    );
    await expectEcrError(
      ecr.send(
        new PutRegistryScanningConfigurationCommand({
          scanType: 'ENHANCED',
          rules: [{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [{ filter: 'Bad Filter', filterType: 'WILDCARD' }] }],
        }),
      ),
      'InvalidParameterException',
      /repositoryFilters/,
    );
    assert.equal((await ecr.send(new GetAccountSettingCommand({ name: 'BASIC_SCAN_TYPE_VERSION' }))).value, 'AWS_NATIVE');
    assert.equal((await ecr.send(new PutAccountSettingCommand({ name: 'BASIC_SCAN_TYPE_VERSION', value: 'CLAIR' }))).value, 'CLAIR');
    assert.equal((await ecr.send(new GetAccountSettingCommand({ name: 'BASIC_SCAN_TYPE_VERSION' }))).value, 'CLAIR');
    await expectEcrError(
      ecr.send(new PutAccountSettingCommand({ name: 'BASIC_SCAN_TYPE_VERSION', value: 'TRIVY' })),
      'ValidationException',
      /TRIVY/,
    );

    const continuous = uniqueName('cont/app');
    const pushOnly = uniqueName('push/app');
    const other = uniqueName('other/app');
    for (const name of [continuous, pushOnly, other])
      await ecr.send(new CreateRepositoryCommand({ repositoryName: name, imageScanningConfiguration: { scanOnPush: true } }));
    const rules = [
      { scanFrequency: 'CONTINUOUS_SCAN' as const, repositoryFilters: [{ filter: 'cont/*', filterType: 'WILDCARD' as const }] },
      { scanFrequency: 'SCAN_ON_PUSH' as const, repositoryFilters: [{ filter: 'push*', filterType: 'WILDCARD' as const }] },
    ];
    const put = await ecr.send(new PutRegistryScanningConfigurationCommand({ scanType: 'ENHANCED', rules }));
    assert.deepEqual(put.registryScanningConfiguration, { scanType: 'ENHANCED', rules });
    await ecr.send(new PutImageScanningConfigurationCommand({ repositoryName: other, imageScanningConfiguration: { scanOnPush: true } }));
    const b = await ecr.send(new BatchGetRepositoryScanningConfigurationCommand({ repositoryNames: [continuous, pushOnly, other] }));
    assert.deepEqual(
      b.scanningConfigurations!.map((c) => [c.repositoryName, c.scanFrequency, c.scanOnPush, c.appliedScanFilters]),
      [
        [continuous, 'CONTINUOUS_SCAN', true, [{ filter: 'cont/*', filterType: 'WILDCARD' }]],
        [pushOnly, 'SCAN_ON_PUSH', true, [{ filter: 'push*', filterType: 'WILDCARD' }]],
        [other, 'MANUAL', false, []],
      ],
    );
    assert.deepEqual(b.failures, []);
    await expectEcrError(
      ecr.send(new BatchGetRepositoryScanningConfigurationCommand({ repositoryNames: ['no/such/repo'] })),
      'RepositoryNotFoundException',
    );

    const image = debianImage('enhanced');
    await putImageViaUpload(ecr, other, image, 'v1');
    await putImageViaUpload(ecr, continuous, image, 'v1');
    const active = await eventually(async () => {
      const r = await ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: continuous, imageId: { imageTag: 'v1' } }));
      return r.imageScanStatus?.status === 'ACTIVE' ? r : undefined;
    }, 60_000);
    assert.ok(active, 'the image under CONTINUOUS_SCAN is scanned, ACTIVE');
    await expectEcrError(
      ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: other, imageId: { imageTag: 'v1' } })),
      'ScanNotFoundException',
      undefined,
      400,
    );
    const enhanced = active.imageScanFindings!.enhancedFindings!;
    assert.equal(active.imageScanFindings!.findings, undefined);
    assert.deepEqual(
      enhanced.map((f) => [
        f.packageVulnerabilityDetails?.vulnerabilityId,
        f.packageVulnerabilityDetails?.vulnerablePackages?.[0].name,
        f.packageVulnerabilityDetails?.vulnerablePackages?.[0].fixedInVersion,
        f.fixAvailable,
        f.severity,
        f.score,
      ]),
      [
        ['CVE-2023-45853', 'zlib1g', '1:1.2.13.dfsg-2', 'YES', 'CRITICAL', 9.8],
        ['CVE-2024-0727', 'libssl3', '3.0.11-1~deb12u3', 'YES', 'MEDIUM', 5.5],
      ],
    );

    // New data: tar fixed just above the installed version, rated by a CVSS v4.0 vector only (score 5.3: MEDIUM).
    // The image under CONTINUOUS_SCAN is matched again.
    const more = join(dir, 'more');
    mkdirSync(more);
    const tarV4 = 'CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N';
    writeFileSync(
      join(more, 'DEBIAN-CVE-2023-39804.json'),
      JSON.stringify(
        debianRecord('DEBIAN-CVE-2023-39804', 'CVE-2023-39804', 'tar', '1.34+dfsg-1.2+deb12u2', [{ type: 'CVSS_V4', score: tarV4 }]),
      ),
    );
    await berthOk(berth, ['vulndb', 'import', more, '--source', 'Debian-extra']);
    const rescanned = await eventually(async () => {
      const r = await ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: continuous, imageId: { imageTag: 'v1' } }));
      return r.imageScanStatus?.status === 'ACTIVE' && r.imageScanFindings!.enhancedFindings!.length === 3 ? r : undefined;
    }, 60_000);
    assert.ok(rescanned, 'the new data finds the tar vulnerability on a rescan');
    const tar = rescanned.imageScanFindings!.enhancedFindings!.find(
      (f) => f.packageVulnerabilityDetails?.vulnerablePackages?.[0].name === 'tar',
    )!;
    assert.deepEqual(
      [tar.severity, tar.score, tar.scoreDetails?.cvss?.version, tar.scoreDetails?.cvss?.scoringVector],
      ['MEDIUM', 5.3, '4.0', tarV4],
    );
    assert.deepEqual(tar.packageVulnerabilityDetails?.cvss, [
      { baseScore: 5.3, scoringVector: tarV4, source: 'DEBIAN-CVE-2023-39804', version: '4.0' },
    ]);
    // The record's own times, as the vendor's.
    assert.deepEqual(
      [tar.packageVulnerabilityDetails?.vendorCreatedAt?.toISOString(), tar.packageVulnerabilityDetails?.vendorUpdatedAt?.toISOString()],
      ['2024-01-26T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
    );
    // The image outside the CONTINUOUS_SCAN rule was not rescanned (it was never scanned at all).
    await expectEcrError(
      ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: other, imageId: { imageTag: 'v1' } })),
      'ScanNotFoundException',
    );

    // Neither pushed nor pulled for more than 14 days (BERTH_SCAN_ELIGIBILITY_DAYS): no longer followed,
    // SCAN_ELIGIBILITY_EXPIRED, its last findings kept. A pull makes it eligible again.
    const later = await advanceClock(berth, 15 * 86400);
    ecr.config.systemClockOffset = later.getTime() - Date.now();
    const expired = await ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: continuous, imageId: { imageTag: 'v1' } }));
    assert.equal(expired.imageScanStatus?.status, 'SCAN_ELIGIBILITY_EXPIRED');
    assert.match(expired.imageScanStatus?.description ?? '', /not pushed or pulled in the last 14 days/);
    assert.equal(expired.imageScanFindings!.enhancedFindings!.length, 3);
    const described = await ecr.send(new DescribeImagesCommand({ repositoryName: continuous, imageIds: [{ imageTag: 'v1' }] }));
    assert.equal(described.imageDetails![0].imageScanStatus?.status, 'SCAN_ELIGIBILITY_EXPIRED');
    // New data rescans no image that is no longer followed.
    const matchJobs = async () =>
      (await berthOk(berth, ['jobs', '--kind', 'image-scan'])).jobs.filter(
        (j: { payload: { repository: string; match?: boolean } }) => j.payload.repository === continuous && j.payload.match,
      ).length;
    const rescansDone = async () => (await berthOk(berth, ['jobs', '--kind', 'image-rescan', '--status', 'succeeded'])).jobs.length;
    const [matchedBefore, doneBefore] = [await matchJobs(), await rescansDone()];
    const newer = join(dir, 'newer');
    mkdirSync(newer);
    writeFileSync(
      join(newer, 'DEBIAN-CVE-2024-2511.json'),
      JSON.stringify(debianRecord('DEBIAN-CVE-2024-2511', 'CVE-2024-2511', 'openssl', '3.0.11-1~deb12u3')),
    );
    await berthOk(berth, ['vulndb', 'import', newer, '--source', 'Debian-newer']);
    assert.ok(await eventually(async () => (await rescansDone()) > doneBefore, 30_000), 'the rescan job ran');
    assert.equal(await matchJobs(), matchedBefore, 'and matched nothing again');
    await ecr.send(new BatchGetImageCommand({ repositoryName: continuous, imageIds: [{ imageTag: 'v1' }] }));
    const eligible = await eventually(async () => {
      const r = await ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: continuous, imageId: { imageTag: 'v1' } }));
      return r.imageScanStatus?.status === 'ACTIVE' ? r : undefined;
    }, 30_000);
    assert.ok(eligible, 'a pull makes the image eligible again');
  });
});
