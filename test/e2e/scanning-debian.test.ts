// Scanning a real Debian image: a bookworm minbase root filesystem built with debootstrap from the machine's Debian
// mirror (test/helpers/debootstrap.ts), `docker import`ed and pushed with `docker push` to a repository created with
// scanOnPush. The mirror's versions move with every point release, so the advisories are written here around the
// versions the image's own /var/lib/dpkg/status lists: OSV records (schema 1.7, ecosystem "Debian:12", real CVE ids of
// the source packages, their NVD CVSS vectors) fixed just above the installed source version (a finding on every
// binary package built from it), fixed at it or below it (none), introduced after it (none), for a package that is
// not installed (none). `berth vulndb import` loads them; `aws ecr wait image-scan-complete` waits for the scan;
// DescribeImageScanFindings must answer exactly the expected findings, and the SBOM lists every installed package.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateRepositoryCommand, DescribeImageScanFindingsCommand, type ECRClient, type ImageScanFinding } from '@aws-sdk/client-ecr';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { debianBookwormRootfs, type DebianRootfs } from '../helpers/debootstrap.ts';
import { dockerSession, type DockerSession } from '../helpers/dockerd.ts';
import { allPages, awsCli, ecrClient } from '../helpers/ecr.ts';
import { berthOk } from '../helpers/lifecycle.ts';
import { describeResult, makeTempDir, removeDir, runOk, uniqueName } from '../helpers/tools.ts';
import { compareDpkg } from '../../src/scan/versions/dpkg.ts';

interface Installed {
  name: string;
  version: string;
  source: string;
  sourceVersion: string;
}

/** The installed packages of a dpkg status file, with the source package each is built from. */
function installedPackages(status: string): Installed[] {
  const out: Installed[] = [];
  for (const stanza of status.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(stanza)?.[1].trim();
    const name = field('Package');
    const version = field('Version');
    if (!name || !version || field('Status')?.split(/\s+/).at(-1) !== 'installed') continue;
    const source = /^(\S+)(?:\s+\((\S+)\))?$/.exec(field('Source') ?? name)!;
    out.push({ name, version, source: source[1], sourceVersion: source[2] ?? version });
  }
  return out;
}

/** The next version up: the last number of the version plus one (2.36-9+deb12u14 → …u15, 252.39-1~deb12u2 → …u3). */
function justAbove(version: string): string {
  const above = version.replace(/(\d+)(\D*)$/, (_, n: string, tail: string) => `${BigInt(n) + 1n}${tail}`);
  assert.equal(compareDpkg(above, version), 1, `${above} > ${version}`);
  return above;
}

/** A version just below: the last non-zero number of the version minus one (1.34+dfsg-1.2+deb12u1 → …u0). */
function justBelow(version: string): string {
  const run = [...version.matchAll(/\d+/g)].filter((m) => BigInt(m[0]) > 0n).at(-1);
  assert.ok(run, `a number to lower in ${version}`);
  const below = version.slice(0, run.index) + String(BigInt(run[0]) - 1n) + version.slice(run.index + run[0].length);
  assert.equal(compareDpkg(below, version), -1, `${below} < ${version}`);
  return below;
}

/** An OSV record (schema 1.7) of Debian 12 for a source package, as osv.dev publishes Debian's. */
function debianRecord(cve: string, pkg: string, events: Record<string, string>[], vector?: string): object {
  return {
    schema_version: '1.7.0',
    id: `DEBIAN-${cve}`,
    modified: '2025-05-01T00:00:00Z',
    published: '2024-01-01T00:00:00Z',
    aliases: [cve],
    summary: `${pkg} security update`,
    details: `${cve} in the ${pkg} source package.`,
    ...(vector ? { severity: [{ type: 'CVSS_V3', score: vector }] } : {}),
    affected: [
      {
        package: { ecosystem: 'Debian:12', name: pkg, purl: `pkg:deb/debian/${pkg}?arch=source` },
        ranges: [{ type: 'ECOSYSTEM', events }],
      },
    ],
    references: [{ type: 'ADVISORY', url: `https://security-tracker.debian.org/tracker/${cve}` }],
  };
}

/** How a record is placed against the installed source version. */
type Placement = 'fixed just above' | 'fixed at' | 'fixed below' | 'introduced after' | 'not installed';

interface Advisory {
  cve: string;
  source: string;
  placement: Placement;
  vector?: string;
  severity?: string;
}

// Real CVEs of these source packages, with their published CVSS v3 vectors (their ECR severity from the base score);
// records without a vector are left without one, as Debian's own OSV records are.
const ADVISORIES: Advisory[] = [
  // glibc (binaries libc6, libc-bin): "Looney Tunables", 7.8.
  {
    cve: 'CVE-2023-4911',
    source: 'glibc',
    placement: 'fixed just above',
    vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H',
    severity: 'HIGH',
  },
  // zlib (binary zlib1g, epoch 1): MiniZip overflow, 9.8.
  {
    cve: 'CVE-2023-45853',
    source: 'zlib',
    placement: 'fixed just above',
    vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    severity: 'CRITICAL',
  },
  // util-linux (util-linux, mount, libblkid1, ..., and bsdutils whose own version has an epoch its source lacks): "WallEscape", 3.3.
  {
    cve: 'CVE-2024-28085',
    source: 'util-linux',
    placement: 'fixed just above',
    vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:L/A:N',
    severity: 'LOW',
  },
  // systemd (libsystemd0, libudev1; a `~deb12uN` version): less as a pager, 7.8.
  {
    cve: 'CVE-2023-26604',
    source: 'systemd',
    placement: 'fixed just above',
    vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H',
    severity: 'HIGH',
  },
  // bash (a binNMU: binary 5.2.15-2+bN of source 5.2.15-2): the source version is compared, 7.8.
  {
    cve: 'CVE-2022-3715',
    source: 'bash',
    placement: 'fixed just above',
    vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H',
    severity: 'HIGH',
  },
  // tar fixed at the installed version: no finding.
  { cve: 'CVE-2023-39804', source: 'tar', placement: 'fixed at' },
  // xz-utils fixed below the installed version: no finding.
  { cve: 'CVE-2024-3094', source: 'xz-utils', placement: 'fixed below', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H' },
  // glibc again, introduced only after the installed version: no finding.
  { cve: 'CVE-2024-2961', source: 'glibc', placement: 'introduced after' },
  // openssl: minbase installs no binary of it (libssl3): no finding.
  { cve: 'CVE-2024-0727', source: 'openssl', placement: 'not installed', vector: 'CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H' },
];

function events(placement: Placement, installed: string): Record<string, string>[] {
  switch (placement) {
    case 'fixed just above':
      return [{ introduced: '0' }, { fixed: justAbove(installed) }];
    case 'fixed at':
      return [{ introduced: '0' }, { fixed: installed }];
    case 'fixed below':
      return [{ introduced: '0' }, { fixed: justBelow(installed) }];
    case 'introduced after':
      return [{ introduced: justAbove(installed) }, { fixed: justAbove(justAbove(installed)) }];
    case 'not installed':
      return [{ introduced: '0' }, { fixed: '3.0.99-1' }];
  }
}

const attr = (f: ImageScanFinding, key: string) => f.attributes?.find((a) => a.key === key)?.value;

describe('scanning a real Debian bookworm image built with debootstrap', () => {
  let berth: Berth;
  let ecr: ECRClient;
  let docker: DockerSession;
  let rootfs: DebianRootfs;
  let dir: string;
  let packages: Installed[];

  before(async () => {
    docker = await dockerSession();
    rootfs = await debianBookwormRootfs();
    berth = await startBerth({ env: { BERTH_CREATE_ON_PUSH: 'false' } });
    ecr = ecrClient(berth);
    dir = makeTempDir('berth-osv-debian-');
  });

  after(async () => {
    ecr?.destroy();
    await docker?.cleanup();
    await berth?.cleanup();
    rootfs?.cleanup();
    removeDir(dir);
  });

  it('scans the pushed image on push: exactly the findings the advisories written around its versions call for', async (t) => {
    t.diagnostic(
      `rootfs ${rootfs.built ? `built by debootstrap from ${rootfs.mirror} in ${(rootfs.debootstrapMs! / 1000).toFixed(1)} s` : `cached (${rootfs.tarPath})`}`,
    );
    const status = (await runOk('tar', ['-xOf', rootfs.tarPath, './var/lib/dpkg/status'], { timeoutMs: 60_000 })).stdout;
    packages = installedPackages(status);
    t.diagnostic(`${packages.length} packages installed`);
    assert.ok(packages.length >= 60 && packages.length <= 150, `a minbase system has ~88 packages, not ${packages.length}`);

    // The advisories, around the versions found; the findings they call for.
    const expected: string[] = [];
    mkdirSync(join(dir, 'debian'));
    for (const a of ADVISORIES) {
      const binaries = packages.filter((p) => p.source === a.source);
      if (a.placement === 'not installed') {
        assert.deepEqual(binaries, [], `no binary of ${a.source} in minbase`);
      } else {
        assert.ok(binaries.length > 0, `minbase installs a binary package of ${a.source}`);
        assert.equal(new Set(binaries.map((b) => b.sourceVersion)).size, 1, `one version of ${a.source}`);
      }
      const record = debianRecord(a.cve, a.source, events(a.placement, binaries[0]?.sourceVersion ?? '0'), a.vector);
      writeFileSync(join(dir, 'debian', `DEBIAN-${a.cve}.json`), JSON.stringify(record, null, 2));
      if (a.placement === 'fixed just above') for (const b of binaries) expected.push(`${a.cve} ${b.name} ${b.version} ${a.severity}`);
    }
    // The source differs from the binary's name (libc6 from glibc) and the binary version from the source's
    // (bsdutils 1:2.38.1-… from util-linux 2.38.1-…, bash 5.2.15-2+bN from 5.2.15-2).
    assert.ok(
      expected.some((e) => e.startsWith('CVE-2023-4911 libc6 ')),
      expected.join('\n'),
    );
    assert.ok(packages.some((p) => p.source === 'util-linux' && p.name === 'bsdutils' && p.version !== p.sourceVersion));
    const imported = await berthOk(berth, ['vulndb', 'import', join(dir, 'debian')]);
    assert.equal(imported.records, ADVISORIES.length);

    // docker import + docker push to a repository created with scanOnPush.
    const repositoryName = uniqueName('debian/bookworm');
    await ecr.send(new CreateRepositoryCommand({ repositoryName, imageScanningConfiguration: { scanOnPush: true } }));
    const ref = `${berth.host}/${repositoryName}:minbase`;
    await docker.ok(['login', '--username', berth.accessKeyId, '--password-stdin', berth.host], { input: berth.secretAccessKey + '\n' });
    docker.trackImage(ref);
    await docker.ok(['import', rootfs.tarPath, ref], { timeoutMs: 5 * 60_000 });
    const pushed = await docker.ok(['push', ref], { timeoutMs: 5 * 60_000 });
    const digest = /minbase: digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1];
    assert.ok(digest, pushed.stdout);
    const manifest = (await (
      await fetch(`${berth.url}/v2/${repositoryName}/manifests/${digest}`, {
        headers: { authorization: berth.authHeader, accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      })
    ).json()) as { layers: { size: number }[] };
    assert.equal(manifest.layers.length, 1);
    const layerSize = manifest.layers[0].size;
    t.diagnostic(`layer ${(layerSize / 1e6).toFixed(1)} MB compressed`);
    assert.ok(layerSize > 20e6 && layerSize < 120e6, `a minbase layer is ~50 MB, not ${layerSize} bytes`);

    const aws = await awsCli(berth);
    const waited = await aws.run(['wait', 'image-scan-complete', '--repository-name', repositoryName, '--image-id', 'imageTag=minbase'], {
      timeoutMs: 180_000,
    });
    assert.equal(waited.code, 0, describeResult(waited));

    const findings = await allPages(
      (nextToken) =>
        ecr.send(new DescribeImageScanFindingsCommand({ repositoryName, imageId: { imageTag: 'minbase' }, maxResults: 10, nextToken })),
      (p) => p.imageScanFindings?.findings,
    );
    const got = findings.map((f) => `${f.name} ${attr(f, 'package_name')} ${attr(f, 'package_version')} ${f.severity}`);
    assert.deepEqual([...got].sort(), [...expected].sort());
    t.diagnostic(`${findings.length} findings: ${got.join(', ')}`);
    for (const f of findings) {
      const a = ADVISORIES.find((x) => x.cve === f.name)!;
      assert.equal(attr(f, 'CVSS3_VECTOR'), a.vector);
      assert.equal(f.uri, `https://security-tracker.debian.org/tracker/${a.cve}`);
    }
    const summary = await ecr.send(new DescribeImageScanFindingsCommand({ repositoryName, imageId: { imageTag: 'minbase' } }));
    assert.equal(summary.imageScanStatus?.status, 'COMPLETE');
    const counts: Record<string, number> = {};
    for (const e of expected) {
      const s = e.split(' ').at(-1)!;
      counts[s] = (counts[s] ?? 0) + 1;
    }
    assert.deepEqual(summary.imageScanFindings?.findingSeverityCounts, counts);

    // The inventory: every package dpkg lists as installed, in the image's SBOM.
    const sbom = (await berthOk(berth, ['sbom', `${repositoryName}:minbase`])) as {
      components: { name: string; version?: string; purl?: string }[];
    };
    const debs = sbom.components.filter((c) => c.purl?.startsWith('pkg:deb/debian/'));
    assert.deepEqual(debs.map((c) => `${c.name} ${c.version}`).sort(), packages.map((p) => `${p.name} ${p.version}`).sort());
  });
});
