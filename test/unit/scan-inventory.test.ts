import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageFiles, walkLayers, type KeptFile } from '../../src/scan/layers.ts';
import { inventory, inventoryFileLimit, isInventoryFile, type Package } from '../../src/scan/inventory/index.ts';
import { parseApkInstalled } from '../../src/scan/inventory/apk.ts';
import { isDpkgFile, parseDpkgStatus, parseSource } from '../../src/scan/inventory/dpkg.ts';
import { isNodeModulesManifest, parsePackageLock } from '../../src/scan/inventory/npm.ts';
import { detectOs, parseOsRelease } from '../../src/scan/inventory/os.ts';
import { isPythonMetadata, parsePythonMetadata } from '../../src/scan/inventory/python.ts';
import { parseRpmHeader, parseSourceRpm, RpmHeaderError } from '../../src/scan/inventory/rpm-header.ts';
import { readSqliteBlobs } from '../../src/scan/inventory/rpm.ts';
import { purl } from '../../src/scan/inventory/purl.ts';
import { encodeRpmHeader, makeRpmdbBerkeley, makeRpmdbSqlite } from '../helpers/rpmdb.ts';
import { makeJar } from '../helpers/jars.ts';
import { isJavaArchive, parseProperties } from '../../src/scan/inventory/java.ts';
import { inventoryLayers } from '../../src/scan/image.ts';
import { parseGoBuildInfo, stdlibVersion } from '../../src/scan/inventory/go.ts';
import { goBinary } from '../helpers/go-binary.ts';
import { readFileSync } from 'node:fs';
import {
  ALPINE_OS_RELEASE,
  APK_INSTALLED,
  DEBIAN_OS_RELEASE,
  DISTROLESS_STATUS_D,
  DPKG_STATUS,
  PACKAGE_LOCK_V1,
  PACKAGE_LOCK_V3,
  REQUESTS_METADATA,
  ROCKY_OS_RELEASE,
  ROCKY_PACKAGES,
  URLLIB3_PKG_INFO,
} from '../helpers/scan-fixtures.ts';
import { layerOf, makeTar, MEDIA } from '../helpers/tar-layers.ts';

const brief = (p: Package): string =>
  `${p.name} ${p.version}${p.sourceName && p.sourceName !== p.name ? ` (source ${p.sourceName} ${p.sourceVersion})` : p.sourceVersion && p.sourceVersion !== p.version ? ` (source ${p.sourceVersion})` : ''}`;

function filesOf(entries: Record<string, string | Buffer>): ImageFiles {
  const map = new Map<string, KeptFile>();
  for (const [path, data] of Object.entries(entries))
    map.set(path, { path, layer: 0, data: Buffer.isBuffer(data) ? data : Buffer.from(data) });
  return new ImageFiles(map);
}

test('os-release: ID, VERSION_ID, VERSION_CODENAME and the OSV ecosystem', () => {
  assert.deepEqual(parseOsRelease('ID=debian\n# comment\nNAME="Debian \\"GNU\\"/Linux"\nX=\'a b\'\n'), {
    ID: 'debian',
    NAME: 'Debian "GNU"/Linux',
    X: 'a b',
  });
  assert.deepEqual(detectOs(DEBIAN_OS_RELEASE), {
    id: 'debian',
    idLike: [],
    versionId: '12',
    codename: 'bookworm',
    prettyName: 'Debian GNU/Linux 12 (bookworm)',
    ecosystem: 'Debian:12',
  });
  assert.equal(detectOs(ALPINE_OS_RELEASE)?.ecosystem, 'Alpine:v3.18');
  assert.deepEqual(detectOs(ROCKY_OS_RELEASE)?.idLike, ['rhel', 'centos', 'fedora']);
  assert.equal(detectOs(ROCKY_OS_RELEASE)?.ecosystem, 'Rocky Linux:9');
  assert.equal(detectOs('ID=ubuntu\nVERSION_ID="22.04"\n')?.ecosystem, 'Ubuntu:22.04:LTS');
  assert.equal(detectOs('ID=ubuntu\nVERSION_ID="23.10"\n')?.ecosystem, 'Ubuntu:23.10');
  assert.equal(detectOs('ID=almalinux\nVERSION_ID="8.9"\n')?.ecosystem, 'AlmaLinux:8');
  assert.equal(detectOs('ID=debian\nPRETTY_NAME="Debian GNU/Linux trixie/sid"\n')?.ecosystem, 'Debian');
  assert.equal(detectOs('ID=scratchy\n')?.ecosystem, undefined);
  assert.equal(detectOs('NAME=nothing\n'), undefined);
});

test('dpkg status: installed packages only, Source with and without its version, epochs in purls', () => {
  const os = detectOs(DEBIAN_OS_RELEASE);
  const packages = parseDpkgStatus(DPKG_STATUS, 'var/lib/dpkg/status', os);
  assert.deepEqual(packages.map(brief), [
    'libssl3 3.0.11-1~deb12u2 (source openssl 3.0.11-1~deb12u2)',
    'libbz2-1.0 1.0.8-5+b1 (source bzip2 1.0.8-5)',
    'zlib1g 1:1.2.13.dfsg-1 (source zlib 1:1.2.13.dfsg-1)',
    'tar 1.34+dfsg-1.2+deb12u1',
  ]);
  assert.ok(
    packages.every((p) => p.ecosystem === 'Debian:12' && p.type === 'deb' && p.path === '/var/lib/dpkg/status' && p.arch === 'amd64'),
  );
  assert.deepEqual(
    packages.map((p) => p.purl),
    [
      'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl',
      'pkg:deb/debian/libbz2-1.0@1.0.8-5%2Bb1?arch=amd64&distro=debian-12&upstream=bzip2%401.0.8-5',
      'pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib',
      'pkg:deb/debian/tar@1.34%2Bdfsg-1.2%2Bdeb12u1?arch=amd64&distro=debian-12',
    ],
  );
  assert.deepEqual(parseSource('gcc-12 (12.2.0-14)'), { name: 'gcc-12', version: '12.2.0-14' });
  assert.deepEqual(parseSource('openssl'), { name: 'openssl', version: undefined });
});

test('dpkg status.d of distroless images', async () => {
  assert.equal(isDpkgFile('var/lib/dpkg/status.d/libssl3'), true);
  assert.equal(isDpkgFile('var/lib/dpkg/status.d/libssl3.md5sums'), false);
  assert.equal(isDpkgFile('var/lib/dpkg/status-old'), false);
  const inv = await inventory(filesOf({ 'etc/os-release': DEBIAN_OS_RELEASE, ...DISTROLESS_STATUS_D }));
  assert.deepEqual(inv.packages.map(brief), ['base-files 12.4+deb12u5', 'libssl3 3.0.11-1~deb12u2 (source openssl 3.0.11-1~deb12u2)']);
  assert.equal(inv.packages[1].path, '/var/lib/dpkg/status.d/libssl3');
});

test('apk installed database: P, V, A and the origin (o) as source', () => {
  const packages = parseApkInstalled(APK_INSTALLED, detectOs(ALPINE_OS_RELEASE));
  assert.deepEqual(packages.map(brief), [
    'musl 1.2.4-r1',
    'busybox 1.36.1-r2',
    'libcrypto3 3.1.2-r0 (source openssl 3.1.2-r0)',
    'curl 8.2.1-r0',
    'ncurses-terminfo-base 6.4_p20230506-r0 (source ncurses 6.4_p20230506-r0)',
  ]);
  assert.ok(packages.every((p) => p.ecosystem === 'Alpine:v3.18' && p.arch === 'x86_64' && p.path === '/lib/apk/db/installed'));
  assert.equal(packages[2].purl, 'pkg:apk/alpine/libcrypto3@3.1.2-r0?arch=x86_64&distro=alpine-3.18.3&upstream=openssl');
});

test('rpm header blobs: the tags the inventory needs, unknown tags skipped, corrupt blobs refused', () => {
  const blob = encodeRpmHeader(ROCKY_PACKAGES[0]);
  assert.deepEqual(parseRpmHeader(blob), {
    name: 'openssl-libs',
    version: '3.0.7',
    release: '24.el9',
    epoch: 1,
    arch: 'x86_64',
    sourceRpm: 'openssl-3.0.7-24.el9.src.rpm',
  });
  assert.throws(() => parseRpmHeader(blob.subarray(0, blob.length - 10)), RpmHeaderError);
  assert.throws(() => parseRpmHeader(Buffer.alloc(4)), RpmHeaderError);
  assert.deepEqual(parseSourceRpm('openssl-3.0.7-24.el9.src.rpm'), { name: 'openssl', version: '3.0.7', release: '24.el9' });
  assert.deepEqual(parseSourceRpm('python3.11-pip-22.3.1-4.el9.nosrc.rpm'), {
    name: 'python3.11-pip',
    version: '22.3.1',
    release: '4.el9',
  });
});

test('rpm SQLite database (rpmdb.sqlite) read with node:sqlite', async () => {
  const db = makeRpmdbSqlite(ROCKY_PACKAGES);
  assert.equal(readSqliteBlobs(db).length, 4);
  const inv = await inventory(filesOf({ 'etc/os-release': ROCKY_OS_RELEASE, 'var/lib/rpm/rpmdb.sqlite': db }));
  assert.deepEqual(inv.errors, []);
  assert.deepEqual(inv.packages.map(brief), [
    'bash 5.1.8-6.el9_1',
    'openssl-libs 1:3.0.7-24.el9 (source openssl 1:3.0.7-24.el9)',
    'rocky-release 9.3-1.2.el9',
  ]);
  assert.ok(inv.packages.every((p) => p.ecosystem === 'Rocky Linux:9' && p.type === 'rpm'));
  assert.equal(
    inv.packages[1].purl,
    'pkg:rpm/rocky/openssl-libs@3.0.7-24.el9?arch=x86_64&distro=rocky-9.3&epoch=1&upstream=openssl-3.0.7-24.el9.src.rpm',
  );
  // A file that is not a SQLite database is reported, not fatal.
  const bad = await inventory(filesOf({ 'var/lib/rpm/rpmdb.sqlite': 'not a database' }));
  assert.equal(bad.packages.length, 0);
  assert.equal(bad.errors[0].path, '/var/lib/rpm/rpmdb.sqlite');
  // A database over the walker's size limit is reported as not read.
  const tarball = await makeTar([{ name: 'var/lib/dpkg/status', content: DPKG_STATUS }]);
  const tooBig = await inventory(await walkLayers([layerOf(tarball, MEDIA.tar)], { want: isInventoryFile, maxFileSize: 100 }));
  assert.deepEqual(tooBig.errors, [
    { path: '/var/lib/dpkg/status', error: `not read: ${Buffer.byteLength(DPKG_STATUS)} bytes, over the limit of ${32 * 1024 * 1024}` },
  ]);
  assert.equal(inventoryFileLimit('var/lib/rpm/Packages'), 256 * 1024 * 1024);
});

test('rpm Berkeley DB database (Packages) read with @snyk/rpm-parser', async () => {
  // Real headers list every installed file (several KiB), so Berkeley DB stores them on overflow pages, the only
  // layout @snyk/rpm-parser reads; the file lists here give the test's headers that size.
  const files = Array.from({ length: 300 }, (_, i) => `file-number-${i}.so`);
  const many = ROCKY_PACKAGES.map((p) => ({ ...p, files }));
  for (let i = 0; i < 40; i++)
    many.push({
      name: `filler-${i}`,
      version: `1.${i}`,
      release: '1.el8',
      arch: 'x86_64',
      sourceRpm: `filler-${i}-1.${i}-1.el8.src.rpm`,
      files,
    });
  const db = makeRpmdbBerkeley(many);
  const inv = await inventory(filesOf({ 'etc/os-release': ROCKY_OS_RELEASE, 'var/lib/rpm/Packages': db }));
  assert.deepEqual(inv.errors, []);
  assert.equal(inv.packages.length, 43, 'every package but gpg-pubkey');
  const openssl = inv.packages.find((p) => p.name === 'openssl-libs');
  assert.deepEqual(openssl && brief(openssl), 'openssl-libs 1:3.0.7-24.el9 (source openssl 1:3.0.7-24.el9)');
  assert.equal(openssl?.path, '/var/lib/rpm/Packages');
  assert.equal(openssl?.arch, 'x86_64');
  // Not a Berkeley DB file: reported.
  const bad = await inventory(filesOf({ 'var/lib/rpm/Packages': Buffer.alloc(8192, 1) }));
  assert.equal(bad.errors.length, 1);
});

test('npm: package-lock.json v3 and v1, node_modules manifests, scoped packages', async () => {
  assert.deepEqual(parsePackageLock(PACKAGE_LOCK_V3, 'app/package-lock.json').map(brief), [
    'lodash 4.17.20',
    '@babel/core 7.23.2',
    'lodash 4.17.4',
    'lodash 4.17.11',
  ]);
  assert.deepEqual(parsePackageLock(PACKAGE_LOCK_V1, 'package-lock.json').map(brief), ['minimist 1.2.5', 'mkdirp 0.5.1', 'minimist 0.0.8']);
  assert.equal(isNodeModulesManifest('app/node_modules/lodash/package.json'), true);
  assert.equal(isNodeModulesManifest('node_modules/@types/node/package.json'), true);
  assert.equal(isNodeModulesManifest('app/node_modules/express/node_modules/debug/package.json'), true);
  assert.equal(isNodeModulesManifest('app/node_modules/lodash/fp/package.json'), false);
  assert.equal(isNodeModulesManifest('app/package.json'), false);
  const inv = await inventory(
    filesOf({
      'app/node_modules/@types/node/package.json': JSON.stringify({ name: '@types/node', version: '20.8.10' }),
      'app/node_modules/lodash/package.json': JSON.stringify({ name: 'lodash', version: '4.17.20' }),
      'app/node_modules/broken/package.json': '{',
    }),
  );
  assert.deepEqual(
    inv.packages.map((p) => [p.name, p.purl, p.path]),
    [
      ['@types/node', 'pkg:npm/%40types/node@20.8.10', '/app/node_modules/@types/node/package.json'],
      ['lodash', 'pkg:npm/lodash@4.17.20', '/app/node_modules/lodash/package.json'],
    ],
  );
});

test('Python: dist-info METADATA and egg-info PKG-INFO', () => {
  assert.equal(isPythonMetadata('usr/lib/python3/dist-packages/requests-2.28.1.dist-info/METADATA'), true);
  assert.equal(isPythonMetadata('usr/lib/python3.11/site-packages/urllib3-1.26.5-py3.11.egg-info/PKG-INFO'), true);
  assert.equal(isPythonMetadata('usr/lib/python3/dist-packages/six-1.16.0.egg-info'), true);
  assert.equal(isPythonMetadata('usr/lib/python3/dist-packages/requests-2.28.1.dist-info/RECORD'), false);
  assert.deepEqual(
    parsePythonMetadata(REQUESTS_METADATA, 'x/METADATA').map((p) => [p.name, p.version, p.purl]),
    [['requests', '2.28.1', 'pkg:pypi/requests@2.28.1']],
  );
  assert.deepEqual(
    parsePythonMetadata('Name: Flask_SQLAlchemy\nVersion: 3.1.1\n', 'x').map((p) => p.purl),
    ['pkg:pypi/flask-sqlalchemy@3.1.1'],
  );
  assert.deepEqual(parsePythonMetadata('Metadata-Version: 2.1\nSummary: no name\n', 'x'), []);
});

test('Java archives: pom.properties, nested jars of Spring Boot and war files, read while the layers are walked', async () => {
  assert.deepEqual(parseProperties('#c\n! c\ngroupId=org.example\nartifactId: lib\nversion 1.0\n'), {
    groupId: 'org.example',
    artifactId: 'lib',
    version: '1.0',
  });
  assert.equal(isJavaArchive('opt/app/app.jar'), true);
  assert.equal(isJavaArchive('usr/share/java/x.WAR'), true);
  assert.equal(isJavaArchive('opt/app/app.jar.sha1'), false);
  const log4j = await makeJar({ maven: [{ groupId: 'org.apache.logging.log4j', artifactId: 'log4j-core', version: '2.14.1' }] });
  const jackson = await makeJar({ maven: [{ groupId: 'com.fasterxml.jackson.core', artifactId: 'jackson-databind', version: '2.13.4' }] });
  const boot = await makeJar({
    maven: [{ groupId: 'com.example', artifactId: 'app', version: '1.0.0' }],
    nested: {
      'BOOT-INF/lib/log4j-core-2.14.1.jar': log4j,
      'BOOT-INF/lib/jackson-databind-2.13.4.jar': jackson,
      'BOOT-INF/lib/broken.jar': Buffer.from('not a zip'),
    },
  });
  const war = await makeJar({
    nested: {
      'WEB-INF/lib/log4j-core-2.3.jar': await makeJar({
        maven: [{ groupId: 'org.apache.logging.log4j', artifactId: 'log4j-core', version: '2.3' }],
      }),
    },
  });
  const tarball = await makeTar([
    { name: 'opt/app/app.jar', content: boot },
    { name: 'usr/local/tomcat/webapps/shop.war', content: war },
    { name: 'opt/app/notes.jar', content: 'not a zip either' },
  ]);
  const inv = await inventoryLayers([layerOf(tarball, MEDIA.gzip)]);
  assert.deepEqual(
    inv.packages.map((p) => `${p.name} ${p.version} ${p.path} ${p.purl}`),
    [
      'com.example:app 1.0.0 /opt/app/app.jar pkg:maven/com.example/app@1.0.0',
      'com.fasterxml.jackson.core:jackson-databind 2.13.4 /opt/app/app.jar!/BOOT-INF/lib/jackson-databind-2.13.4.jar pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.4',
      'org.apache.logging.log4j:log4j-core 2.14.1 /opt/app/app.jar!/BOOT-INF/lib/log4j-core-2.14.1.jar pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1',
      'org.apache.logging.log4j:log4j-core 2.3 /usr/local/tomcat/webapps/shop.war!/WEB-INF/lib/log4j-core-2.3.jar pkg:maven/org.apache.logging.log4j/log4j-core@2.3',
    ],
  );
  assert.ok(inv.packages.every((p) => p.ecosystem === 'Maven' && p.type === 'maven'));
  assert.deepEqual(
    inv.errors.map((e) => e.path),
    ['/opt/app/notes.jar'],
  );
  // The same archives read from kept files (not reduced while walking) give the same packages.
  const direct = await inventory(filesOf({ 'opt/app/app.jar': boot }));
  assert.equal(direct.packages.length, 3);
});

test('Go executables: build information (Go version, modules, replacements), found by their mode', async () => {
  const server = goBinary('go1.21.5', [
    'path\texample.com/app/cmd/server',
    'mod\texample.com/app\t(devel)\t',
    'dep\tgolang.org/x/net\tv0.17.0\th1:pEUWJydD0Vj4p/GZEnTV3u4cbQ1CfKPNrvNIZHgIdgA=',
    'dep\tgithub.com/gorilla/websocket\tv1.5.0\th1:PPwGk2jz7EePpoHN/+ClbZu8SPxiqlu12wZP/3sWmnc=',
    '=>\tgithub.com/gorilla/websocket\tv1.5.1\th1:gmztnkGjpsVzVhaQfQ5NoH6Qj9mSw3y1bgjS/9gSwZ8=',
    'build\t-compiler=gc',
    'build\tCGO_ENABLED=0',
  ]);
  assert.deepEqual(parseGoBuildInfo(server), {
    goVersion: 'go1.21.5',
    path: 'example.com/app/cmd/server',
    main: { path: 'example.com/app', version: '(devel)' },
    deps: [
      { path: 'golang.org/x/net', version: 'v0.17.0' },
      { path: 'github.com/gorilla/websocket', version: 'v1.5.1' },
    ],
  });
  assert.equal(parseGoBuildInfo(Buffer.alloc(4096)), undefined);
  assert.deepEqual(['go1.21.5', 'go1.21.0 X:loopvar', 'go1.19', 'go1.22rc1', 'devel go1.22-abc'].map(stdlibVersion), [
    '1.21.5',
    '1.21.0',
    '1.19.0',
    '1.22.0-rc.1',
    undefined,
  ]);
  // A Debian-built Go program installed on this machine (CI installs umoci): Go 1.18+ build information, no modules.
  const umoci = readFileSync('/usr/bin/umoci');
  const umociInfo = parseGoBuildInfo(umoci);
  assert.match(umociInfo?.goVersion ?? '', /^go1\.\d+/);
  assert.equal(umociInfo?.path, 'github.com/opencontainers/umoci/cmd/umoci');
  const tarball = await makeTar([
    { name: 'usr/local/bin/server', content: server, mode: 0o755 },
    { name: 'usr/bin/umoci', content: umoci, mode: 0o755 },
    { name: 'srv/data.bin', content: goBinary('go1.20.1', []), mode: 0o644 },
    { name: 'usr/local/bin/big-script', content: Buffer.alloc(2 * 1024 * 1024, 0x23), mode: 0o755 },
    { name: 'usr/lib64/libexample.so.1', content: goBinary('go1.20.1', []), mode: 0o755 },
  ]);
  const inv = await inventoryLayers([layerOf(tarball, MEDIA.gzip)]);
  const std = stdlibVersion(umociInfo!.goVersion);
  assert.deepEqual(
    inv.packages.map((p) => `${p.ecosystem} ${p.name} ${p.version} ${p.path} ${p.purl}`),
    [
      'Go github.com/gorilla/websocket v1.5.1 /usr/local/bin/server pkg:golang/github.com/gorilla/websocket@v1.5.1',
      'Go golang.org/x/net v0.17.0 /usr/local/bin/server pkg:golang/golang.org/x/net@v0.17.0',
      `Go stdlib v${std} /usr/bin/umoci pkg:golang/stdlib@v${std}`,
      'Go stdlib v1.21.5 /usr/local/bin/server pkg:golang/stdlib@v1.21.5',
    ],
  );
  assert.deepEqual(inv.errors, [], 'the non-executable copy, the shared library and the big script give nothing, silently');
  assert.equal(isInventoryFile('usr/lib64/libexample.so.1', { type: 'file', size: 2 << 20, mode: 0o755 }), false);
  assert.equal(isInventoryFile('usr/local/bin/server', { type: 'file', size: 2 << 20, mode: 0o755 }), true);
  assert.equal(isInventoryFile('usr/local/bin/server', { type: 'file', size: 2 << 20, mode: 0o644 }), false);
  assert.equal(isInventoryFile('usr/local/bin/tiny', { type: 'file', size: 1000, mode: 0o755 }), false);
});

test('purl encoding: qualifiers sorted, reserved characters escaped', () => {
  assert.equal(
    purl('deb', 'debian', 'curl', '7.50.3-1', { distro: 'jessie', arch: 'i386' }),
    'pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie',
  );
  assert.equal(purl('npm', '@angular', 'animation', '12.3.1'), 'pkg:npm/%40angular/animation@12.3.1');
  assert.equal(
    purl('rpm', 'fedora', 'curl', '7.50.3-1.fc25', { arch: 'i386', distro: 'fedora-25', epoch: undefined }),
    'pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25',
  );
});

test('an image end to end: layers walked with the inventory predicate, then every database read', async () => {
  const base = await makeTar([
    { name: 'usr/lib/os-release', content: DEBIAN_OS_RELEASE },
    { name: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
    { name: 'var/lib/dpkg/status', content: DPKG_STATUS.split('\n\n')[0] + '\n' },
    { name: 'usr/bin/unrelated', content: Buffer.alloc(100000, 3) },
  ]);
  const app = await makeTar([
    { name: 'var/lib/dpkg/status', content: DPKG_STATUS },
    { name: 'srv/web/package-lock.json', content: PACKAGE_LOCK_V3 },
    { name: 'srv/web/node_modules/lodash/package.json', content: JSON.stringify({ name: 'lodash', version: '4.17.20' }) },
    { name: 'usr/lib/python3/dist-packages/requests-2.28.1.dist-info/METADATA', content: REQUESTS_METADATA },
    { name: 'usr/lib/python3/dist-packages/urllib3-1.26.5.egg-info/PKG-INFO', content: URLLIB3_PKG_INFO },
  ]);
  const cleanup = await makeTar([{ name: 'srv/web/.wh.package-lock.json', content: '' }]);
  const files = await walkLayers([layerOf(base, MEDIA.gzip), layerOf(app, MEDIA.zstd), layerOf(cleanup, MEDIA.tar)], {
    want: isInventoryFile,
  });
  assert.equal(files.read('usr/bin/unrelated'), undefined);
  const inv = await inventory(files);
  assert.equal(inv.os?.ecosystem, 'Debian:12');
  assert.deepEqual(
    inv.packages.map((p) => `${p.ecosystem} ${p.name} ${p.version} ${p.path}`),
    [
      'Debian:12 libbz2-1.0 1.0.8-5+b1 /var/lib/dpkg/status',
      'Debian:12 libssl3 3.0.11-1~deb12u2 /var/lib/dpkg/status',
      'Debian:12 tar 1.34+dfsg-1.2+deb12u1 /var/lib/dpkg/status',
      'Debian:12 zlib1g 1:1.2.13.dfsg-1 /var/lib/dpkg/status',
      'PyPI requests 2.28.1 /usr/lib/python3/dist-packages/requests-2.28.1.dist-info/METADATA',
      'PyPI urllib3 1.26.5 /usr/lib/python3/dist-packages/urllib3-1.26.5.egg-info/PKG-INFO',
      'npm lodash 4.17.20 /srv/web/node_modules/lodash/package.json',
    ],
  );
});
