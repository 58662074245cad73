import { test } from 'node:test';
import assert from 'node:assert/strict';
import { comparatorFor, compare, type Compare } from '../../src/scan/versions/index.ts';
import { compareApk } from '../../src/scan/versions/apk.ts';
import { compareDpkg, parseDpkgVersion } from '../../src/scan/versions/dpkg.ts';
import { compareMaven } from '../../src/scan/versions/maven.ts';
import { comparePep440, normalizePep440 } from '../../src/scan/versions/pep440.ts';
import { compareRpm, rpmvercmp } from '../../src/scan/versions/rpm.ts';
import { compareSemver } from '../../src/scan/versions/semver.ts';

/** Checks `a op b` and its mirror image. */
function check(cmp: Compare, a: string, op: '<' | '=' | '>', b: string): void {
  const want = op === '<' ? -1 : op === '>' ? 1 : 0;
  assert.equal(cmp(a, b), want, `${a} ${op} ${b}`);
  assert.equal(cmp(b, a), -want || 0, `${b} mirrors ${a} ${op} ${b}`);
}

/** Checks that a list is in strictly ascending order, pair by pair and overall. */
function ascending(cmp: Compare, list: string[]): void {
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) check(cmp, list[i], '<', list[j]);
  }
}

test('dpkg: Debian Policy 5.6.12 — tilde sorts before anything, even the end of the part', () => {
  // The policy's own example: ~~, ~~a, ~, the empty part, a.
  ascending(compareDpkg, ['1.0~~', '1.0~~a', '1.0~', '1.0', '1.0a']);
  check(compareDpkg, '1.0~rc1-1', '<', '1.0-1');
  check(compareDpkg, '2.36.1-8+deb11u1', '<', '2.36.1-8+deb11u2');
  check(compareDpkg, '3.0.11-1~deb12u2', '<', '3.0.11-1');
});

test('dpkg: epochs win over everything; a missing epoch is 0', () => {
  check(compareDpkg, '1:1.0', '>', '9.9');
  check(compareDpkg, '0:1.0', '=', '1.0');
  check(compareDpkg, '2:8.2.2434-3+deb11u1', '>', '1:9.0.1378-2');
  assert.deepEqual(parseDpkgVersion('1:2.3-4-5'), { epoch: 1, upstream: '2.3-4', revision: '5' });
  assert.deepEqual(parseDpkgVersion('2.3'), { epoch: 0, upstream: '2.3', revision: '' });
});

test('dpkg: letters sort before non-letters; digits compare as numbers', () => {
  check(compareDpkg, '1.0a', '<', '1.0+');
  check(compareDpkg, '1.0a', '<', '1.0.');
  check(compareDpkg, '1.0+dfsg', '>', '1.0');
  check(compareDpkg, '1.10', '>', '1.9');
  check(compareDpkg, '1.002', '=', '1.2');
  check(compareDpkg, '1.2.3-1', '<', '1.2.3-1.1');
  check(compareDpkg, '1.2.3-1', '<', '1.2.3-10');
  check(compareDpkg, '7.88.1-10+deb12u5', '<', '7.88.1-10+deb12u12');
});

test('apk: the version ordering of apk-tools test/version.data', () => {
  // Lines taken from apk-tools' own test data (test/version.data).
  const lines = `2.34 > 0.1.0_alpha
23_foo > 4_beta
1.0 < 1.0bc
0.1.0_alpha = 0.1.0_alpha
0.1.0_alpha2 > 0.1.0_alpha
0.1.0_alpha < 2.2.39-r1
1.0.4-r3 < 1.0.4-r4
1.1 > 1.1_alpha1
1.3_alpha2 < 1.3_alpha3
0.8_beta4 < 4.8-r1
2.3.0b-r1 < 2.3.0b-r2
0.12.3 > 0.12
0.12 < 0.13_beta1
1.2.12.1 < 1.2.13
3.1_p16 < 3.1_p17
3.1_p17 > 1.06-r6
1.06-r6 < 006
1.2.2-r1 > 1.2.2
2.01.01_alpha10 > 0.94
1.0 > 0.99.3.20040818
1.00_beta2 > 0.9.2
4.2.52_p2-r1 < 4.2.52_p4-r2
2.18.3-r10 > 1.05-r18
3.0.20060720 < 20060720
2.5.1-r8 < 2.5.1a-r1
1.3.5-r10 > 1.3.5-r8
20040401 > 2.0.0_rc3-r1
3.0.0-r2 < 021109-r3
0.9.16-r1 < 3.9_pre20060124
6b-r7 > 1.12-r7
0.10.0 < 0.10.1_rc1
0.15.1b-r2 > 0.15.1b
22.7-r1 < 22.7.3-r1
2.10.1 > 02.08.01b
1.6d > 1.2.07.8
1.2.07.8 < 1.2.12.04
0.1_pre20060810 < 0.1_pre20060817
0.59s-r11 < 0.65
0.20070118 < 0.20070207_rc1
4.5_p1 < 4.5_p1-r1
1.7 < 1.7b
1.8.5 < 1.8.5_p2
2.9.11_pre20051101-r3 > 2.9.11_pre20051101
1.6.8_p12-r1 > 1.6.8_p9-r2
0.9.28-r2 < 0.9.28.1
1.2.5_rc2 > 0.1
20040406-r1 > 2.12r-r4
7.0.17 < 7.0.174
1.3-r0 < 1.3.1-r0
1.3_pre1-r1 < 1.3.2
1.0_p10-r0 > 1.0_p9-r0
0.1.0_alpha_pre2 < 0.1.0_alpha
1.0.0_pre20191002222144-r0 < 1.0.0_pre20210530193627-r0`;
  for (const line of lines.split('\n')) {
    const [a, op, b] = line.trim().split(/\s+/);
    check(compareApk, a, op as '<' | '=' | '>', b);
  }
});

test('apk: suffixes, letters and -r release numbers', () => {
  ascending(compareApk, [
    '1.2_alpha',
    '1.2_beta',
    '1.2_pre',
    '1.2_rc1',
    '1.2_rc2',
    '1.2',
    '1.2-r1',
    '1.2-r10',
    '1.2_cvs',
    '1.2_svn',
    '1.2_git',
    '1.2_hg',
    '1.2_p1',
    '1.2a',
    '1.2.1',
  ]);
  check(compareApk, '3.1.4-r5', '<', '3.1.4-r6');
  check(compareApk, '3.3.0-r1', '<', '3.3.1-r0');
  check(compareApk, '1.36.1-r15', '<', '1.36.1-r19');
});

test('rpm: rpmvercmp cases from rpm tests/rpmvercmp.at', () => {
  const cases: [string, string, number][] = [
    ['1.0', '1.0', 0],
    ['1.0', '2.0', -1],
    ['2.0.1', '2.0', 1],
    ['2.0.1a', '2.0.1', 1],
    ['5.5p1', '5.5p2', -1],
    ['5.5p1', '5.5p10', -1],
    ['10xyz', '10.1xyz', -1],
    ['xyz10', 'xyz10.1', -1],
    ['xyz.4', '8', -1],
    ['xyz.4', '2', -1],
    ['5.5p2', '5.6p1', -1],
    ['5.6p1', '6.5p1', -1],
    ['6.0.rc1', '6.0', 1],
    ['10b2', '10a1', 1],
    ['10a2', '10b2', -1],
    ['1.0aa', '1.0aa', 0],
    ['1.0a', '1.0aa', -1],
    ['10.0001', '10.1', 0],
    ['10.0001', '10.0039', -1],
    ['4.999.9', '5.0', -1],
    ['20101121', '20101122', -1],
    ['2_0', '2.0', 0],
    ['a+', 'a_', 0],
    ['+a', '_a', 0],
    ['_+', '+_', 0],
    ['+', '_', 0],
    ['1.0~rc1', '1.0~rc1', 0],
    ['1.0~rc1', '1.0', -1],
    ['1.0~rc1', '1.0~rc2', -1],
    ['1.0~rc1~git123', '1.0~rc1', -1],
  ];
  for (const [a, b, want] of cases) {
    assert.equal(rpmvercmp(a, b), want, `rpmvercmp(${a}, ${b})`);
    assert.equal(rpmvercmp(b, a), -want || 0, `rpmvercmp(${b}, ${a})`);
  }
});

test('rpm: caret sorts after the base version and before anything else that follows it', () => {
  // rpm's documentation of `^` (snapshots after a release): 1.0 < 1.0^git1 < 1.0^git2 < 1.0.1, and 1.0~rc1 < 1.0~rc1^git1 < 1.0.
  ascending((a, b) => rpmvercmp(a, b), ['1.0~rc1', '1.0~rc1^git1', '1.0', '1.0^git1', '1.0^git2', '1.0.1']);
  check(compareRpm, '1.0^', '>', '1.0');
});

test('rpm: epoch:version-release', () => {
  check(compareRpm, '1:1.0-1', '>', '2.0-1');
  check(compareRpm, '0:1.0-1', '=', '1.0-1');
  check(compareRpm, '3.0.7-24.el9', '<', '3.0.7-25.el9');
  check(compareRpm, '3.0.7-25.el9', '<', '1:3.0.7-18.el9');
  check(compareRpm, '2.34-60.el9', '<', '2.34-60.el9_2.7');
  check(compareRpm, '8.5.0-18.el9_3', '<', '8.5.0-18.el9_3.1');
});

test('semver: the precedence example of semver.org 2.0.0 §11 (npm orders versions the same way)', () => {
  ascending(compareSemver, [
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-alpha.beta',
    '1.0.0-beta',
    '1.0.0-beta.2',
    '1.0.0-beta.11',
    '1.0.0-rc.1',
    '1.0.0',
  ]);
  ascending(compareSemver, ['1.0.0', '2.0.0', '2.1.0', '2.1.1']);
  check(compareSemver, '1.0.0+20130313144700', '=', '1.0.0');
  check(compareSemver, '1.0.0-beta+exp.sha.5114f85', '=', '1.0.0-beta');
  check(compareSemver, '4.17.10', '<', '4.17.21');
  check(compareSemver, '10.0.0', '>', '9.99.99');
});

test('semver: Go module versions, +incompatible and pseudo-versions (go.dev/ref/mod)', () => {
  check(compareSemver, 'v1.2.3', '=', '1.2.3');
  check(compareSemver, 'v2.0.0+incompatible', '=', '2.0.0');
  // A pseudo-version vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdef sorts after vX.Y.Z and before vX.Y.(Z+1).
  ascending(compareSemver, ['v1.2.3', 'v1.2.4-0.20191109021931-daa7c04131f5', 'v1.2.4']);
  // vX.0.0-yyyymmddhhmmss-abcdef (no base version): before every release, ordered by time.
  ascending(compareSemver, ['v0.0.0-20191109021931-daa7c04131f5', 'v0.0.0-20200101000000-123456789abc', 'v0.0.1']);
  ascending(compareSemver, ['v1.2.4-pre', 'v1.2.4-pre.0.20191109021931-daa7c04131f5', 'v1.2.4']);
  check(compareSemver, '0.0.0-20220722155217-630584e8d5aa', '<', '0.0.0-20230112000000-000000000000');
});

test('PEP 440: the ordering example of the PEP (Version scheme, "Summary of permitted suffixes and relative ordering")', () => {
  ascending(comparePep440, [
    '1.dev0',
    '1.0.dev456',
    '1.0a1',
    '1.0a2.dev456',
    '1.0a12.dev456',
    '1.0a12',
    '1.0b1.dev456',
    '1.0b2',
    '1.0b2.post345.dev456',
    '1.0b2.post345',
    '1.0rc1.dev456',
    '1.0rc1',
    '1.0',
    '1.0+abc.5',
    '1.0+abc.7',
    '1.0+5',
    '1.0.post456.dev34',
    '1.0.post456',
    '1.0.15',
    '1.1.dev1',
  ]);
});

test('PEP 440: epochs, local versions and normalization', () => {
  check(comparePep440, '1!1.0', '>', '2024.10');
  check(comparePep440, '1.0', '=', '1.0.0');
  check(comparePep440, '1.0+local', '>', '1.0');
  check(comparePep440, '1.0+ubuntu-1', '=', '1.0+ubuntu.1');
  check(comparePep440, '1.0+1', '>', '1.0+abc');
  check(comparePep440, '1.0a1', '=', '1.0alpha1');
  check(comparePep440, '1.0rc1', '=', '1.0c1');
  check(comparePep440, '1.0-1', '=', '1.0.post1');
  check(comparePep440, '2.31.0', '>', '2.30.99');
  const normalized: [string, string][] = [
    ['1.0ALPHA1', '1.0a1'],
    ['1.1.0-alpha.2', '1.1.0a2'],
    ['1.0-beta', '1.0b0'],
    ['1.0C1', '1.0rc1'],
    ['1.0-pre1', '1.0rc1'],
    ['1.0-preview-1', '1.0rc1'],
    ['1.0-r4', '1.0.post4'],
    ['1.0-rev4', '1.0.post4'],
    ['1.0-1', '1.0.post1'],
    ['1.0.post', '1.0.post0'],
    ['1.0-dev', '1.0.dev0'],
    ['v1.0', '1.0'],
    ['0!1.0', '1.0'],
    ['1.0+ubuntu-1', '1.0+ubuntu.1'],
    ['01.002.0003', '1.2.3'],
    [' 1.0 ', '1.0'],
    ['1.0.DEV2', '1.0.dev2'],
  ];
  for (const [input, want] of normalized) assert.equal(normalizePep440(input), want, input);
  assert.equal(normalizePep440('not a version'), undefined);
});

test('Maven: the qualifier and number orders of ComparableVersionTest', () => {
  ascending(compareMaven, [
    '1-alpha2snapshot',
    '1-alpha2',
    '1-alpha-123',
    '1-beta-2',
    '1-beta123',
    '1-m2',
    '1-m11',
    '1-rc',
    '1-cr2',
    '1-rc123',
    '1-SNAPSHOT',
    '1',
    '1-sp',
    '1-sp2',
    '1-sp123',
    '1-abc',
    '1-def',
    '1-pom-1',
    '1-1-snapshot',
    '1-1',
    '1-2',
    '1-123',
  ]);
  ascending(compareMaven, [
    '2.0',
    '2-1',
    '2.0.a',
    '2.0.0.a',
    '2.0.2',
    '2.0.123',
    '2.1.0',
    '2.1-a',
    '2.1b',
    '2.1-c',
    '2.1-1',
    '2.1.0.1',
    '2.2',
    '2.123',
    '11.a2',
    '11.a11',
    '11.b2',
    '11.b11',
    '11.m2',
    '11.m11',
    '11',
    '11.a',
    '11b',
    '11c',
    '11m',
  ]);
  check(compareMaven, '1', '=', '1.0.0');
  check(compareMaven, '1-ga', '=', '1');
  check(compareMaven, '1-final', '=', '1.0');
  check(compareMaven, '2.13.4.2', '>', '2.13.4');
  check(compareMaven, '2.15.0-rc1', '<', '2.15.0');
});

test('comparators by OSV ecosystem name', () => {
  assert.equal(compare('Debian:12', '1.0~rc1', '1.0'), -1);
  assert.equal(compare('Debian', '1:0.1', '2.0'), 1);
  assert.equal(compare('Ubuntu:22.04:LTS', '1.0', '1.0'), 0);
  assert.equal(compare('Alpine:v3.19', '1.2_rc1', '1.2'), -1);
  assert.equal(compare('Red Hat', '1.0^git1', '1.0'), 1);
  assert.equal(compare('Rocky Linux:9', '1:1.0', '2.0'), 1);
  assert.equal(compare('AlmaLinux:8', '1.0-1.el8', '1.0-2.el8'), -1);
  assert.equal(compare('npm', '1.0.0-rc.1', '1.0.0'), -1);
  assert.equal(compare('Go', 'v1.2.3', '1.2.4'), -1);
  assert.equal(compare('PyPI', '1.0.dev0', '1.0a0'), -1);
  assert.equal(compare('Maven', '1.0-SNAPSHOT', '1.0'), -1);
  assert.equal(comparatorFor('GIT'), undefined);
  assert.throws(() => compare('Nope', '1', '2'), /no version comparator/);
});
