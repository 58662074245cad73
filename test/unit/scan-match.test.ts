import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageFiles, type KeptFile } from '../../src/scan/layers.ts';
import { findingsOf, inventoryLayers } from '../../src/scan/image.ts';
import { mavenPackage } from '../../src/scan/inventory/java.ts';
import { goBinary } from '../helpers/go-binary.ts';
import { layerOf, makeTar, MEDIA } from '../helpers/tar-layers.ts';
import { inventory } from '../../src/scan/inventory/index.ts';
import { AdvisoryIndex, findingId, severityCounts, type Finding } from '../../src/scan/match.ts';
import { validateOsv, type OsvRecord } from '../../src/scan/osv.ts';
import { makeRpmdbSqlite } from '../helpers/rpmdb.ts';
import {
  ALPINE_OS_RELEASE,
  APK_INSTALLED,
  DEBIAN_OS_RELEASE,
  DPKG_STATUS,
  PACKAGE_LOCK_V3,
  REQUESTS_METADATA,
  ROCKY_OS_RELEASE,
  ROCKY_PACKAGES,
  URLLIB3_PKG_INFO,
} from '../helpers/scan-fixtures.ts';

const CRITICAL_V3 = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H';

const range = (ecosystem: string, name: string, events: Record<string, string>[], extra: object = {}) => ({
  package: { ecosystem, name },
  ranges: [{ type: 'ECOSYSTEM' as const, events }],
  ...extra,
});

// Real advisories: identifiers, source packages and fixed versions as the distributions and GitHub published them.
const ADVISORIES: OsvRecord[] = [
  {
    id: 'DEBIAN-CVE-2024-2511',
    modified: '2024-09-01T00:00:00Z',
    upstream: ['CVE-2024-2511'],
    details: 'Unbounded memory growth with session handling in TLSv1.3',
    affected: [
      range('Debian:12', 'openssl', [{ introduced: '0' }, { fixed: '3.0.14-1~deb12u1' }], { ecosystem_specific: { urgency: 'low' } }),
    ],
  },
  {
    id: 'DSA-5532-1',
    modified: '2023-10-25T00:00:00Z',
    aliases: ['CVE-2023-5363'],
    summary: 'openssl security update',
    affected: [range('Debian:12', 'openssl', [{ introduced: '0' }, { fixed: '3.0.11-1~deb12u2' }])],
  },
  {
    id: 'DEBIAN-CVE-2005-2541',
    modified: '2024-01-01T00:00:00Z',
    upstream: ['CVE-2005-2541'],
    details: 'Tar 1.15.1 does not properly warn the user when extracting setuid or setgid files',
    affected: [range('Debian:12', 'tar', [{ introduced: '0' }], { ecosystem_specific: { urgency: 'unimportant' } })],
  },
  {
    id: 'DEBIAN-CVE-2022-37434',
    modified: '2024-01-01T00:00:00Z',
    upstream: ['CVE-2022-37434'],
    severity: [{ type: 'CVSS_V3', score: CRITICAL_V3 }],
    affected: [range('Debian', 'zlib', [{ introduced: '0' }, { fixed: '1:1.2.11.dfsg-4.1' }])],
  },
  {
    id: 'ALPINE-CVE-2023-38545',
    modified: '2024-01-01T00:00:00Z',
    upstream: ['CVE-2023-38545'],
    severity: [{ type: 'CVSS_V3', score: CRITICAL_V3 }],
    affected: [range('Alpine:v3.18', 'curl', [{ introduced: '0' }, { fixed: '8.4.0-r0' }])],
  },
  {
    id: 'ALPINE-CVE-2023-5363',
    modified: '2024-01-01T00:00:00Z',
    upstream: ['CVE-2023-5363'],
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N' }],
    affected: [range('Alpine:v3.18', 'openssl', [{ introduced: '0' }, { fixed: '3.1.4-r0' }])],
  },
  {
    id: 'ALPINE-CVE-2023-3817',
    modified: '2024-01-01T00:00:00Z',
    upstream: ['CVE-2023-3817'],
    affected: [range('Alpine:v3.18', 'openssl', [{ introduced: '0' }, { fixed: '3.1.2-r0' }])],
  },
  {
    id: 'ALPINE-CVE-2023-29491',
    modified: '2024-01-01T00:00:00Z',
    upstream: ['CVE-2023-29491'],
    affected: [range('Alpine:v3.18', 'ncurses', [{ introduced: '0' }, { fixed: '6.4_p20230424-r0' }])],
  },
  {
    id: 'ALPINE-CVE-2023-38545-v3.19',
    modified: '2024-01-01T00:00:00Z',
    upstream: ['CVE-2023-38545'],
    affected: [range('Alpine:v3.19', 'curl', [{ introduced: '0' }, { fixed: '8.4.0-r0' }])],
  },
  {
    id: 'RLSA-2024:2447',
    modified: '2024-05-01T00:00:00Z',
    aliases: ['CVE-2023-5678', 'CVE-2023-6129', 'CVE-2023-6237', 'CVE-2024-0727'],
    summary: 'Moderate: openssl security and bug fix update',
    database_specific: { severity: 'Moderate' },
    affected: [range('Rocky Linux:9', 'openssl-libs', [{ introduced: '0' }, { fixed: '1:3.0.7-27.el9' }])],
  },
  {
    id: 'GHSA-35jh-r3h4-6jhm',
    modified: '2024-02-13T17:40:35Z',
    aliases: ['CVE-2021-23337'],
    summary: 'Command Injection in lodash',
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H' }],
    references: [{ type: 'ADVISORY', url: 'https://nvd.nist.gov/vuln/detail/CVE-2021-23337' }],
    affected: [
      { package: { ecosystem: 'npm', name: 'lodash' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '4.17.21' }] }] },
    ],
  },
  {
    id: 'GHSA-jf85-cpcp-j695',
    modified: '2024-02-13T17:40:35Z',
    aliases: ['CVE-2019-10744'],
    summary: 'Prototype Pollution in lodash',
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H' }],
    affected: [
      { package: { ecosystem: 'npm', name: 'lodash' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '4.17.12' }] }] },
    ],
  },
  {
    id: 'PYSEC-2023-74',
    modified: '2023-06-05T00:00:00Z',
    aliases: ['CVE-2023-32681', 'GHSA-j8r2-6x86-q33q'],
    affected: [range('PyPI', 'requests', [{ introduced: '2.3.0' }, { fixed: '2.31.0' }])],
  },
  {
    id: 'GHSA-j8r2-6x86-q33q',
    modified: '2024-06-21T21:52:10Z',
    aliases: ['CVE-2023-32681', 'PYSEC-2023-74'],
    summary: 'Unintended leak of Proxy-Authorization header in requests',
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N' }],
    affected: [range('PyPI', 'Requests', [{ introduced: '2.3.0' }, { fixed: '2.31.0' }])],
  },
  {
    id: 'GHSA-v845-jxx5-vc9f',
    modified: '2024-01-01T00:00:00Z',
    aliases: ['CVE-2023-43804'],
    summary: "`Cookie` HTTP header isn't stripped on cross-origin redirects",
    database_specific: { severity: 'HIGH' },
    affected: [range('PyPI', 'urllib3', [{ introduced: '0' }, { fixed: '1.26.17' }, { introduced: '2.0.0' }, { fixed: '2.0.6' }])],
  },
  {
    id: 'GHSA-q2q7-5pp4-w6pg',
    modified: '2024-01-01T00:00:00Z',
    aliases: ['CVE-2021-33503'],
    affected: [range('PyPI', 'urllib3', [{ introduced: '1.25.4' }, { fixed: '1.26.5' }])],
  },
  {
    id: 'GHSA-jfh8-c2jp-5v3q',
    modified: '2024-01-01T00:00:00Z',
    aliases: ['CVE-2021-44228'],
    summary: 'Remote code injection in Log4j',
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H' }],
    affected: [
      range('Maven', 'org.apache.logging.log4j:log4j-core', [
        { introduced: '2.13.0' },
        { fixed: '2.15.0' },
        { introduced: '2.0-beta9' },
        { fixed: '2.3.1' },
        { introduced: '2.4' },
        { fixed: '2.12.2' },
      ]),
    ],
  },
  {
    id: 'GHSA-jjjh-jjxp-wpff',
    modified: '2024-01-01T00:00:00Z',
    aliases: ['CVE-2022-42003'],
    summary: 'Uncontrolled Resource Consumption in Jackson-databind',
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H' }],
    affected: [
      range('Maven', 'com.fasterxml.jackson.core:jackson-databind', [
        { introduced: '2.4.0-rc1' },
        { fixed: '2.12.7.1' },
        { introduced: '2.13.0' },
        { fixed: '2.13.4.2' },
      ]),
    ],
  },
  {
    id: 'GO-2023-1840',
    modified: '2024-01-01T00:00:00Z',
    aliases: ['CVE-2023-29403'],
    summary: 'Unsafe behavior in setuid/setgid binaries in runtime',
    affected: [
      {
        package: { ecosystem: 'Go', name: 'stdlib' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.19.10' }, { introduced: '1.20.0-0' }, { fixed: '1.20.5' }] }],
      },
    ],
  },
  {
    id: 'GO-2023-2102',
    modified: '2024-01-01T00:00:00Z',
    aliases: ['CVE-2023-39325', 'GHSA-4374-p667-p6c8'],
    summary: 'HTTP/2 rapid reset can cause excessive work in net/http',
    affected: [
      {
        package: { ecosystem: 'Go', name: 'golang.org/x/net' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '0.17.0' }] }],
      },
    ],
  },
  {
    id: 'GO-2022-0969',
    modified: '2024-05-20T16:03:47Z',
    aliases: ['CVE-2022-27664', 'GHSA-69cg-p879-7622'],
    affected: [
      {
        package: { ecosystem: 'Go', name: 'golang.org/x/net' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '0.0.0-20220906165146-f3363e06e74c' }] }],
      },
    ],
  },
  {
    id: 'GHSA-withdrawn-example',
    modified: '2024-01-01T00:00:00Z',
    withdrawn: '2024-01-02T00:00:00Z',
    affected: [range('PyPI', 'urllib3', [{ introduced: '0' }])],
  },
].map((r) => validateOsv(r));

function filesOf(entries: Record<string, string | Buffer>): ImageFiles {
  const map = new Map<string, KeptFile>();
  for (const [path, data] of Object.entries(entries))
    map.set(path, { path, layer: 0, data: Buffer.isBuffer(data) ? data : Buffer.from(data) });
  return new ImageFiles(map);
}

const row = (f: Finding): string =>
  `${f.id} ${f.severity} ${f.package.name} ${f.installedVersion}${f.fixedVersion ? ` -> ${f.fixedVersion}` : ''}`;

const index = AdvisoryIndex.of(ADVISORIES);

test('Debian: advisories on the source package match its binaries; fixed at or below the installed version: none', async () => {
  const inv = await inventory(filesOf({ 'etc/os-release': DEBIAN_OS_RELEASE, 'var/lib/dpkg/status': DPKG_STATUS }));
  const findings = index.match(inv.packages);
  assert.deepEqual(findings.map(row), [
    'CVE-2024-2511 LOW libssl3 3.0.11-1~deb12u2 -> 3.0.14-1~deb12u1',
    'CVE-2005-2541 INFORMATIONAL tar 1.34+dfsg-1.2+deb12u1',
  ]);
  assert.equal(findings[0].osvId, 'DEBIAN-CVE-2024-2511');
  assert.equal(findings[0].uri, 'https://osv.dev/vulnerability/DEBIAN-CVE-2024-2511');
  assert.equal(findings[0].description, 'Unbounded memory growth with session handling in TLSv1.3');
});

test('Alpine: origin packages, -r releases, _p suffixes, and the Alpine release', async () => {
  const inv = await inventory(filesOf({ 'etc/os-release': ALPINE_OS_RELEASE, 'lib/apk/db/installed': APK_INSTALLED }));
  assert.deepEqual(index.match(inv.packages).map(row), [
    'CVE-2023-38545 CRITICAL curl 8.2.1-r0 -> 8.4.0-r0',
    'CVE-2023-5363 HIGH libcrypto3 3.1.2-r0 -> 3.1.4-r0',
  ]);
});

test('Rocky Linux: the SQLite rpmdb, epochs in EVRs, the advisory’s CVE alias and its rating', async () => {
  const inv = await inventory(filesOf({ 'etc/os-release': ROCKY_OS_RELEASE, 'var/lib/rpm/rpmdb.sqlite': makeRpmdbSqlite(ROCKY_PACKAGES) }));
  const findings = index.match(inv.packages);
  assert.deepEqual(findings.map(row), ['CVE-2023-5678 MEDIUM openssl-libs 1:3.0.7-24.el9 -> 1:3.0.7-27.el9']);
  assert.deepEqual(findings[0].aliases, ['CVE-2023-5678', 'CVE-2023-6129', 'CVE-2023-6237', 'CVE-2024-0727']);
  assert.equal(findings[0].osvId, 'RLSA-2024:2447');
});

test('npm and PyPI: every installed copy, several pairs of events, PEP 503 names, duplicates merged, withdrawn ignored', async () => {
  const inv = await inventory(
    filesOf({
      'srv/web/package-lock.json': PACKAGE_LOCK_V3,
      'srv/web/node_modules/lodash/package.json': JSON.stringify({ name: 'lodash', version: '4.17.20' }),
      'usr/lib/python3/dist-packages/requests-2.28.1.dist-info/METADATA': REQUESTS_METADATA,
      'usr/lib/python3/dist-packages/urllib3-1.26.5.dist-info/METADATA': URLLIB3_PKG_INFO,
    }),
  );
  const findings = index.match(inv.packages);
  assert.deepEqual(
    findings.map((f) => `${row(f)} ${f.package.path}`),
    [
      'CVE-2019-10744 CRITICAL lodash 4.17.11 -> 4.17.12 /srv/web/package-lock.json',
      'CVE-2019-10744 CRITICAL lodash 4.17.4 -> 4.17.12 /srv/web/package-lock.json',
      'CVE-2021-23337 HIGH lodash 4.17.11 -> 4.17.21 /srv/web/package-lock.json',
      'CVE-2021-23337 HIGH lodash 4.17.20 -> 4.17.21 /srv/web/node_modules/lodash/package.json',
      'CVE-2021-23337 HIGH lodash 4.17.20 -> 4.17.21 /srv/web/package-lock.json',
      'CVE-2021-23337 HIGH lodash 4.17.4 -> 4.17.21 /srv/web/package-lock.json',
      'CVE-2023-43804 HIGH urllib3 1.26.5 -> 1.26.17 /usr/lib/python3/dist-packages/urllib3-1.26.5.dist-info/METADATA',
      'CVE-2023-32681 MEDIUM requests 2.28.1 -> 2.31.0 /usr/lib/python3/dist-packages/requests-2.28.1.dist-info/METADATA',
    ],
  );
  const requests = findings.find((f) => f.id === 'CVE-2023-32681')!;
  assert.equal(requests.osvId, 'GHSA-j8r2-6x86-q33q', 'the record with a CVSS vector wins over the one without');
  assert.equal(requests.score, 6.1);
  assert.equal(requests.vector, 'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N');
  const lodash = findings.find((f) => f.id === 'CVE-2021-23337')!;
  assert.equal(lodash.uri, 'https://nvd.nist.gov/vuln/detail/CVE-2021-23337');
  assert.equal(lodash.summary, 'Command Injection in lodash');
  assert.deepEqual(severityCounts(findings), { CRITICAL: 2, HIGH: 5, MEDIUM: 1 });
  assert.equal(index.size, ADVISORIES.length - 1, 'the withdrawn record is not indexed');
});

test('an image from its layers: inventory, then findings', async () => {
  const base = await makeTar([
    { name: 'etc/os-release', content: ALPINE_OS_RELEASE },
    { name: 'lib/apk/db/installed', content: APK_INSTALLED.split('\n\n').slice(0, 3).join('\n\n') },
  ]);
  // apk rewrites its database when packages are added: the upper layer's copy wins.
  const upgrade = await makeTar([{ name: 'lib/apk/db/installed', content: APK_INSTALLED }]);
  const inv = await inventoryLayers([layerOf(base, MEDIA.gzip), layerOf(upgrade, MEDIA.zstd)]);
  assert.equal(inv.os?.ecosystem, 'Alpine:v3.18');
  assert.equal(inv.packages.length, 5);
  assert.deepEqual(findingsOf(inv, index).map(row), [
    'CVE-2023-38545 CRITICAL curl 8.2.1-r0 -> 8.4.0-r0',
    'CVE-2023-5363 HIGH libcrypto3 3.1.2-r0 -> 3.1.4-r0',
  ]);
});

test('Maven: Log4Shell on each branch of log4j-core, jackson-databind fixed in a fourth version component', async () => {
  const packages = [
    { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-core', version: '2.14.1' },
    { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-core', version: '2.3' },
    { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-core', version: '2.12.2' },
    { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-core', version: '2.17.1' },
    { groupId: 'com.fasterxml.jackson.core', artifactId: 'jackson-databind', version: '2.13.4' },
    { groupId: 'com.fasterxml.jackson.core', artifactId: 'jackson-databind', version: '2.13.4.2' },
  ].map((c) => mavenPackage({ ...c, location: `opt/${c.artifactId}-${c.version}.jar` }));
  assert.deepEqual(index.match(packages).map(row), [
    'CVE-2021-44228 CRITICAL org.apache.logging.log4j:log4j-core 2.14.1 -> 2.15.0',
    'CVE-2021-44228 CRITICAL org.apache.logging.log4j:log4j-core 2.3 -> 2.3.1',
    'CVE-2022-42003 HIGH com.fasterxml.jackson.core:jackson-databind 2.13.4 -> 2.13.4.2',
  ]);
});

test('Go: the standard library by the binary’s Go version, modules by their versions', async () => {
  const server = goBinary('go1.19.8', [
    'path\texample.com/app',
    'mod\texample.com/app\t(devel)\t',
    'dep\tgolang.org/x/net\tv0.17.0\th1:x',
    'dep\tgolang.org/x/text\tv0.13.0\th1:y',
  ]);
  const old = goBinary('go1.20.5', ['path\texample.com/tool', 'dep\tgolang.org/x/net\tv0.0.0-20220722155237-a158d28d115b\th1:z']);
  const tarball = await makeTar([
    { name: 'app/server', content: server, mode: 0o755 },
    { name: 'app/tool', content: old, mode: 0o755 },
  ]);
  const inv = await inventoryLayers([layerOf(tarball, MEDIA.tar)]);
  assert.deepEqual(
    findingsOf(inv, index).map((f) => `${row(f)} ${f.package.path}`),
    [
      'CVE-2022-27664 UNDEFINED golang.org/x/net v0.0.0-20220722155237-a158d28d115b -> 0.0.0-20220906165146-f3363e06e74c /app/tool',
      'CVE-2023-29403 UNDEFINED stdlib v1.19.8 -> 1.19.10 /app/server',
      'CVE-2023-39325 UNDEFINED golang.org/x/net v0.0.0-20220722155237-a158d28d115b -> 0.17.0 /app/tool',
    ],
  );
});

test('finding names prefer a CVE', () => {
  assert.equal(findingId({ id: 'CVE-2021-44228', modified: 'x' }), 'CVE-2021-44228');
  assert.equal(findingId({ id: 'GHSA-jfh8-c2jp-5v3q', modified: 'x', aliases: ['CVE-2021-44228'] }), 'CVE-2021-44228');
  assert.equal(findingId({ id: 'ALPINE-CVE-2023-38545', modified: 'x' }), 'CVE-2023-38545');
  assert.equal(findingId({ id: 'GO-2022-0969', modified: 'x', aliases: ['GHSA-69cg-p879-7622'] }), 'GO-2022-0969');
});
