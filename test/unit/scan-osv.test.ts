import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import yazl from 'yazl';
import { cvss2BaseScore, cvss3BaseScore, cvss4Score } from '../../src/scan/cvss.ts';
import { affects, evaluateRange, OsvValidationError, parseOsv, validateOsv, type OsvRecord } from '../../src/scan/osv.ts';
import { readOsvSource } from '../../src/scan/osv-source.ts';
import { severityFromScore, severityOf } from '../../src/scan/severity.ts';
import { compareSemver } from '../../src/scan/versions/semver.ts';

// Real advisories (identifiers, packages, fixed versions and NVD vectors as published), in OSV form.
const LODASH: OsvRecord = {
  schema_version: '1.7.0',
  id: 'GHSA-35jh-r3h4-6jhm',
  modified: '2024-02-13T17:40:35Z',
  published: '2021-05-06T16:05:51Z',
  aliases: ['CVE-2021-23337'],
  summary: 'Command Injection in lodash',
  details: '`lodash` versions prior to 4.17.21 are vulnerable to Command Injection via the template function.',
  severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H' }],
  affected: [
    {
      package: { ecosystem: 'npm', name: 'lodash', purl: 'pkg:npm/lodash' },
      ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '4.17.21' }] }],
    },
  ],
  references: [{ type: 'ADVISORY', url: 'https://nvd.nist.gov/vuln/detail/CVE-2021-23337' }],
  database_specific: { severity: 'HIGH', cwe_ids: ['CWE-77', 'CWE-94'] },
};

const REQUESTS: OsvRecord = {
  id: 'GHSA-j8r2-6x86-q33q',
  modified: '2024-06-21T21:52:10Z',
  aliases: ['CVE-2023-32681', 'PYSEC-2023-74'],
  summary: 'Unintended leak of Proxy-Authorization header in requests',
  severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N' }],
  affected: [
    {
      package: { ecosystem: 'PyPI', name: 'requests' },
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '2.3.0' }, { fixed: '2.31.0' }] }],
    },
  ],
  database_specific: { severity: 'MODERATE' },
};

const CURL_ALPINE: OsvRecord = {
  id: 'ALPINE-CVE-2023-38545',
  modified: '2024-01-01T00:00:00Z',
  upstream: ['CVE-2023-38545'],
  details: 'SOCKS5 heap buffer overflow',
  affected: [
    {
      package: { ecosystem: 'Alpine:v3.18', name: 'curl' },
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '8.4.0-r0' }] }],
    },
  ],
};

const OPENSSL_DEBIAN: OsvRecord = {
  id: 'DEBIAN-CVE-2024-2511',
  modified: '2024-09-01T00:00:00Z',
  details: 'Unbounded memory growth with session handling in TLSv1.3',
  affected: [
    {
      package: { ecosystem: 'Debian:12', name: 'openssl' },
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.14-1~deb12u1' }] }],
      ecosystem_specific: { urgency: 'low' },
    },
  ],
};

const X_NET: OsvRecord = {
  id: 'GO-2022-0969',
  modified: '2024-05-20T16:03:47Z',
  aliases: ['CVE-2022-27664', 'GHSA-69cg-p879-7622'],
  summary: 'Denial of service in net/http and golang.org/x/net/http2',
  affected: [
    {
      package: { ecosystem: 'Go', name: 'golang.org/x/net' },
      ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '0.0.0-20220906165146-f3363e06e74c' }] }],
    },
  ],
};

test('valid records pass the schema, as parsed JSON and as text', () => {
  for (const r of [LODASH, REQUESTS, CURL_ALPINE, OPENSSL_DEBIAN, X_NET]) {
    assert.equal(validateOsv(structuredClone(r)).id, r.id);
    assert.equal(parseOsv(JSON.stringify(r)).id, r.id);
  }
  // CVSS v4 and Ubuntu priorities are severity types of schema 1.7; null arrays are allowed.
  validateOsv({
    id: 'UBUNTU-CVE-2024-2511',
    modified: '2024-04-08T14:15:00Z',
    aliases: null,
    severity: [
      { type: 'Ubuntu', score: 'low' },
      { type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' },
    ],
  });
});

test('invalid records are refused with the schema errors', () => {
  const invalid: [string, unknown][] = [
    ['no modified', { id: 'GHSA-35jh-r3h4-6jhm' }],
    ['modified not a date-time', { ...LODASH, modified: 'yesterday' }],
    ['unknown severity type', { ...LODASH, severity: [{ type: 'CVSS_V5', score: 'x' }] }],
    ['CVSS v3 vector malformed', { ...LODASH, severity: [{ type: 'CVSS_V3', score: 'AV:N/AC:L' }] }],
    [
      'unknown range type',
      {
        ...LODASH,
        affected: [{ package: { ecosystem: 'npm', name: 'lodash' }, ranges: [{ type: 'RANGE', events: [{ introduced: '0' }] }] }],
      },
    ],
    [
      'no introduced event',
      {
        ...LODASH,
        affected: [{ package: { ecosystem: 'npm', name: 'lodash' }, ranges: [{ type: 'SEMVER', events: [{ fixed: '1.0.0' }] }] }],
      },
    ],
    [
      'an event with two keys',
      {
        ...LODASH,
        affected: [
          { package: { ecosystem: 'npm', name: 'lodash' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0', fixed: '1.0.0' }] }] },
        ],
      },
    ],
    [
      'fixed and last_affected in one range',
      {
        ...LODASH,
        affected: [
          {
            package: { ecosystem: 'npm', name: 'lodash' },
            ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.0' }, { last_affected: '0.9.0' }] }],
          },
        ],
      },
    ],
    [
      'GIT range without repo',
      {
        ...LODASH,
        affected: [{ package: { ecosystem: 'npm', name: 'lodash' }, ranges: [{ type: 'GIT', events: [{ introduced: '0' }] }] }],
      },
    ],
    ['package without name', { ...LODASH, affected: [{ package: { ecosystem: 'npm' } }] }],
    ['reference without url', { ...LODASH, references: [{ type: 'WEB' }] }],
    ['unknown reference type', { ...LODASH, references: [{ type: 'BLOG', url: 'https://example.com/' }] }],
    ['not an object', ['GHSA-35jh-r3h4-6jhm']],
    // What schema 1.7 adds over the looser earlier schemas.
    ['a field the schema does not define', { ...LODASH, fixed_in: '4.17.21' }],
    ['an id without a known database prefix', { ...LODASH, id: 'NOT-OSV-1' }],
    ['an unknown ecosystem', { ...LODASH, affected: [{ package: { ecosystem: 'Debain:12', name: 'openssl' } }] }],
    ['a malformed CVSS v4 vector', { ...LODASH, severity: [{ type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L' }] }],
    ['an Ubuntu priority outside its words', { ...LODASH, severity: [{ type: 'Ubuntu', score: 'urgent' }] }],
    [
      'severity both on the record and on an affected package',
      {
        ...LODASH,
        affected: [
          {
            package: { ecosystem: 'npm', name: 'lodash' },
            severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
          },
        ],
      },
    ],
    ['a modified time without its zone', { ...LODASH, modified: '2024-02-13T17:40:35' }],
  ];
  for (const [why, value] of invalid) {
    assert.throws(
      () => validateOsv(value, 'test'),
      (err: unknown) => err instanceof OsvValidationError && err.errors.length > 0,
      why,
    );
  }
  assert.throws(() => parseOsv('{"id": ', 'broken.json'), /broken\.json is not JSON/);
});

test('affects: introduced/fixed ranges, by ecosystem and package name', () => {
  assert.deepEqual(pick(affects(LODASH, 'npm', 'lodash', '4.17.20')), { affected: true, fixed: '4.17.21' });
  assert.equal(affects(LODASH, 'npm', 'lodash', '4.17.21').affected, false);
  assert.equal(affects(LODASH, 'npm', 'lodash', '5.0.0').affected, false);
  assert.equal(affects(LODASH, 'npm', 'lodash', '1.0.0-rc.1').affected, true);
  assert.equal(affects(LODASH, 'npm', 'lodash-es', '4.17.20').affected, false);
  assert.equal(affects(LODASH, 'PyPI', 'lodash', '4.17.20').affected, false);

  assert.equal(affects(REQUESTS, 'PyPI', 'requests', '2.2.1').affected, false, 'before introduced');
  assert.deepEqual(pick(affects(REQUESTS, 'PyPI', 'requests', '2.3.0')), { affected: true, fixed: '2.31.0' });
  assert.equal(affects(REQUESTS, 'PyPI', 'requests', '2.31.0rc1').affected, true, 'a pre-release of the fix is before it');
  assert.equal(affects(REQUESTS, 'PyPI', 'requests', '2.31.0').affected, false);

  assert.deepEqual(pick(affects(CURL_ALPINE, 'Alpine:v3.18', 'curl', '8.3.0-r2')), { affected: true, fixed: '8.4.0-r0' });
  assert.equal(affects(CURL_ALPINE, 'Alpine:v3.18', 'curl', '8.4.0-r0').affected, false);
  assert.equal(affects(CURL_ALPINE, 'Alpine:v3.19', 'curl', '8.3.0-r2').affected, false, 'another Alpine release');

  assert.deepEqual(pick(affects(OPENSSL_DEBIAN, 'Debian:12', 'openssl', '3.0.11-1~deb12u2')), {
    affected: true,
    fixed: '3.0.14-1~deb12u1',
  });
  assert.equal(affects(OPENSSL_DEBIAN, 'Debian:12', 'openssl', '3.0.14-1~deb12u1').affected, false);
  assert.equal(affects(OPENSSL_DEBIAN, 'Debian:12', 'openssl', '3.0.14-1~deb12u2').affected, false);
  assert.equal(affects(OPENSSL_DEBIAN, 'Debian:11', 'openssl', '1.1.1w-0+deb11u1').affected, false);

  assert.equal(affects(X_NET, 'Go', 'golang.org/x/net', 'v0.0.0-20220722155237-a158d28d115b').affected, true);
  assert.equal(affects(X_NET, 'Go', 'golang.org/x/net', 'v0.0.0-20220906165146-f3363e06e74c').affected, false);
  assert.equal(affects(X_NET, 'Go', 'golang.org/x/net', 'v0.1.0').affected, false);
});

test('affects: an unversioned ecosystem ("Debian") covers its releases ("Debian:12")', () => {
  const record: OsvRecord = {
    ...OPENSSL_DEBIAN,
    affected: [{ ...OPENSSL_DEBIAN.affected![0], package: { ecosystem: 'Debian', name: 'openssl' } }],
  };
  assert.equal(affects(record, 'Debian:12', 'openssl', '3.0.11-1~deb12u2').affected, true);
  assert.equal(affects(record, 'Alpine:v3.19', 'openssl', '3.0.11-r0').affected, false);
});

test('affects: several introduced/fixed pairs, last_affected, limit, and explicit versions', () => {
  const cmp = compareSemver;
  const twoBranches = {
    type: 'SEMVER' as const,
    events: [{ introduced: '1.0.0' }, { fixed: '1.2.5' }, { introduced: '2.0.0' }, { fixed: '2.1.1' }],
  };
  assert.deepEqual(evaluateRange(twoBranches, '0.9.0', cmp), { affected: false });
  assert.deepEqual(evaluateRange(twoBranches, '1.2.4', cmp), { affected: true, fixed: '1.2.5' });
  assert.deepEqual(evaluateRange(twoBranches, '1.9.0', cmp), { affected: false });
  assert.deepEqual(evaluateRange(twoBranches, '2.1.0', cmp), { affected: true, fixed: '2.1.1' });
  assert.deepEqual(evaluateRange(twoBranches, '2.1.1', cmp), { affected: false });
  // Events out of order are sorted before evaluation.
  const shuffled = {
    type: 'SEMVER' as const,
    events: [{ fixed: '2.1.1' }, { introduced: '2.0.0' }, { fixed: '1.2.5' }, { introduced: '1.0.0' }],
  };
  assert.equal(evaluateRange(shuffled, '2.0.5', cmp).affected, true);
  assert.equal(evaluateRange(shuffled, '1.5.0', cmp).affected, false);

  const lastAffected = { type: 'SEMVER' as const, events: [{ introduced: '0' }, { last_affected: '1.4.2' }] };
  assert.deepEqual(evaluateRange(lastAffected, '1.4.2', cmp), { affected: true });
  assert.deepEqual(evaluateRange(lastAffected, '1.4.3', cmp), { affected: false });

  const limited = { type: 'SEMVER' as const, events: [{ introduced: '0' }, { limit: '2.0.0' }] };
  assert.equal(evaluateRange(limited, '1.9.9', cmp).affected, true);
  assert.equal(evaluateRange(limited, '2.0.0', cmp).affected, false);

  const listed: OsvRecord = {
    id: 'PYSEC-2023-74',
    modified: '2023-06-05T00:00:00Z',
    aliases: ['CVE-2023-32681', 'GHSA-j8r2-6x86-q33q'],
    affected: [
      {
        package: { ecosystem: 'PyPI', name: 'requests' },
        versions: ['2.30.0', '2.29.0'],
        ranges: [
          {
            type: 'GIT',
            repo: 'https://github.com/psf/requests',
            events: [{ introduced: '0' }, { fixed: '74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5' }],
          },
        ],
      },
    ],
  };
  assert.equal(affects(listed, 'PyPI', 'requests', '2.30.0').affected, true);
  assert.equal(affects(listed, 'PyPI', 'requests', '2.30').affected, true, 'PEP 440 equality: 2.30 is 2.30.0');
  assert.equal(affects(listed, 'PyPI', 'requests', '2.28.0').affected, false, 'GIT ranges are not evaluated');

  assert.equal(affects({ ...LODASH, withdrawn: '2024-03-01T00:00:00Z' }, 'npm', 'lodash', '4.17.20').affected, false, 'withdrawn');
});

test('CVSS v3 base scores computed from NVD vectors', () => {
  const v3: [string, number][] = [
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10.0], // CVE-2021-44228
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8], // CVE-2023-38545
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H', 9.1], // CVE-2019-10744
    ['CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', 7.8], // CVE-2021-3156
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', 7.5], // CVE-2014-0160
    ['CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H', 7.2], // CVE-2021-23337
    ['CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N', 6.1], // CVE-2023-32681
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 6.1], // reflected XSS, the spec's most common vector
    ['CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8],
    ['CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N', 0],
  ];
  for (const [vector, score] of v3) assert.equal(cvss3BaseScore(vector)?.score, score, vector);
  assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H'), undefined, 'A missing');
  assert.equal(cvss3BaseScore('AV:N/AC:L/Au:N/C:P/I:N/A:N'), undefined, 'a v2 vector');
});

test('CVSS v2 base scores computed from NVD vectors', () => {
  const v2: [string, number][] = [
    ['AV:N/AC:M/Au:N/C:C/I:C/A:C', 9.3], // CVE-2021-44228
    ['AV:N/AC:L/Au:N/C:P/I:N/A:N', 5.0], // CVE-2014-0160
    ['AV:L/AC:L/Au:N/C:C/I:C/A:C', 7.2], // CVE-2021-3156
    ['AV:N/AC:L/Au:N/C:P/I:P/A:P', 7.5],
    ['AV:N/AC:L/Au:N/C:C/I:C/A:C', 10.0],
    ['AV:N/AC:M/Au:N/C:N/I:P/A:N', 4.3], // the classic XSS vector
    ['(AV:N/AC:L/Au:N/C:N/I:N/A:N)', 0],
  ];
  for (const [vector, score] of v2) assert.equal(cvss2BaseScore(vector)?.score, score, vector);
  assert.equal(cvss2BaseScore('AV:N/AC:L'), undefined);
});

test('severity: CVSS v3 bands, then CVSS v4, then the distribution rating, then CVSS v2', () => {
  assert.deepEqual([9, 8.9, 7, 6.9, 4, 3.9, 0.1, 0].map(severityFromScore), [
    'CRITICAL',
    'HIGH',
    'HIGH',
    'MEDIUM',
    'MEDIUM',
    'LOW',
    'LOW',
    'INFORMATIONAL',
  ]);
  assert.deepEqual(severityOf(LODASH, LODASH.affected![0]), {
    severity: 'HIGH',
    score: 7.2,
    vector: 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H',
  });
  assert.equal(severityOf(REQUESTS).severity, 'MEDIUM');
  assert.equal(severityOf(OPENSSL_DEBIAN, OPENSSL_DEBIAN.affected![0]).severity, 'LOW', 'Debian urgency');
  assert.equal(severityOf(CURL_ALPINE).severity, 'UNDEFINED');
  assert.equal(severityOf({ ...CURL_ALPINE, database_specific: { severity: 'MODERATE' } }).severity, 'MEDIUM', 'GHSA word');
  assert.equal(severityOf({ ...CURL_ALPINE, severity: [{ type: 'Ubuntu', score: 'negligible' }] }).severity, 'INFORMATIONAL');
  assert.equal(severityOf({ ...CURL_ALPINE, database_specific: { severity: 'Important' } }).severity, 'HIGH', 'Red Hat word');
  const heartbleed = severityOf({ ...CURL_ALPINE, severity: [{ type: 'CVSS_V2', score: 'AV:N/AC:L/Au:N/C:P/I:N/A:N' }] });
  assert.deepEqual(heartbleed, { severity: 'MEDIUM', cvss2Score: 5, cvss2Vector: 'AV:N/AC:L/Au:N/C:P/I:N/A:N' });
  const both = severityOf({
    ...CURL_ALPINE,
    severity: [
      { type: 'CVSS_V2', score: 'AV:N/AC:M/Au:N/C:C/I:C/A:C' },
      { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H' },
    ],
  });
  assert.deepEqual(both, {
    severity: 'CRITICAL',
    score: 10,
    vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
    cvss2Score: 9.3,
    cvss2Vector: 'AV:N/AC:M/Au:N/C:C/I:C/A:C',
  });
  // CVSS v4 (its computed score) comes after CVSS v3 and before the distribution's word.
  const v4 = 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N';
  assert.deepEqual(severityOf({ ...CURL_ALPINE, severity: [{ type: 'CVSS_V4', score: v4 }], database_specific: { severity: 'LOW' } }), {
    severity: 'CRITICAL',
    cvss4Score: 9.3,
    cvss4Vector: v4,
  });
  const low4 = 'CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N';
  assert.equal(severityOf({ ...CURL_ALPINE, severity: [{ type: 'CVSS_V4', score: low4 }] }).severity, 'LOW');
  const v3and4 = severityOf({
    ...CURL_ALPINE,
    severity: [
      { type: 'CVSS_V4', score: low4 },
      { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N' },
    ],
  });
  assert.deepEqual(v3and4, {
    severity: 'HIGH',
    score: 7.5,
    vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N',
    cvss4Score: 1,
    cvss4Vector: low4,
  });
});

test('CVSS v4.0 scores by the MacroVector method, threat and environmental metrics included', () => {
  // Vector and score pairs as FIRST's CVSS v4.0 calculator computes them.
  const v4: [string, number][] = [
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H', 10.0],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 9.3],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:H/SI:H/SA:H', 7.9],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N', 6.9],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N', 5.3], // CVE-2024-7657
    ['CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:P/VC:N/VI:H/VA:H/SC:N/SI:L/SA:L', 5.2],
    ['CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N', 1.0],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N', 0],
    // Threat (E) and environmental metrics: E:X is E:A; CR/IR/AR default to High; modified metrics replace base ones.
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N/E:X', 5.3],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U', 9.1],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:L/SC:N/SI:N/SA:N/E:A/MAV:A', 8.7],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/MVI:L/MSA:S', 9.8],
    ['CVSS:4.0/AV:N/AC:H/AT:N/PR:H/UI:N/VC:N/VI:N/VA:H/SC:H/SI:H/SA:H/CR:L/IR:L/AR:L', 5.8],
    [
      'CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:P/VC:N/VI:H/VA:H/SC:N/SI:L/SA:L/E:P/CR:H/IR:M/AR:H/MAV:A/MAT:P/MPR:N/MVI:H/MVA:N/MSI:H/MSA:N/S:N/V:C/U:Amber',
      4.7,
    ],
  ];
  for (const [vector, score] of v4) assert.equal(cvss4Score(vector)?.score, score, vector);
  for (const bad of [
    'CVSS:4.0/AV:F/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N', // an unknown value
    'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/ui:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N', // a metric name in lower case
    'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/SC:N/SI:N/SA:N', // VA missing
    'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
  ])
    assert.equal(cvss4Score(bad), undefined, bad);
  // In the last MacroVector (every EQ at its lowest level) no lower one exists: the score is the table's, 0.1.
  assert.equal(cvss4Score('CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:N/VI:N/VA:L/SC:N/SI:N/SA:N/E:U/CR:L/IR:L/AR:L')?.score, 0.1);
});

test('OSV sources: an all.zip read entry by entry, a directory tree, a single file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-osv-'));
  try {
    const zipPath = join(dir, 'all.zip');
    const zip = new yazl.ZipFile();
    for (const r of [LODASH, REQUESTS, X_NET]) zip.addBuffer(Buffer.from(JSON.stringify(r)), `${r.id}.json`);
    zip.addBuffer(Buffer.from('not a record'), 'README.txt');
    zip.end();
    const out = createWriteStream(zipPath);
    zip.outputStream.pipe(out);
    await once(out, 'close');
    const fromZip = [];
    for await (const { name, record } of readOsvSource(zipPath)) fromZip.push([name, record.id]);
    assert.deepEqual(fromZip, [
      ['GHSA-35jh-r3h4-6jhm.json', 'GHSA-35jh-r3h4-6jhm'],
      ['GHSA-j8r2-6x86-q33q.json', 'GHSA-j8r2-6x86-q33q'],
      ['GO-2022-0969.json', 'GO-2022-0969'],
    ]);

    const tree = join(dir, 'advisories');
    await mkdir(join(tree, 'alpine', 'v3.18'), { recursive: true });
    await mkdir(join(tree, 'debian'), { recursive: true });
    await writeFile(join(tree, 'alpine', 'v3.18', 'ALPINE-CVE-2023-38545.json'), JSON.stringify(CURL_ALPINE));
    await writeFile(join(tree, 'debian', 'DEBIAN-CVE-2024-2511.json'), JSON.stringify(OPENSSL_DEBIAN));
    await writeFile(join(tree, 'notes.md'), '# not a record');
    const fromDir = [];
    for await (const { name, record } of readOsvSource(tree)) fromDir.push([name, record.id]);
    assert.deepEqual(fromDir, [
      [join('alpine', 'v3.18', 'ALPINE-CVE-2023-38545.json'), 'ALPINE-CVE-2023-38545'],
      [join('debian', 'DEBIAN-CVE-2024-2511.json'), 'DEBIAN-CVE-2024-2511'],
    ]);

    const single = [];
    for await (const { record } of readOsvSource(join(tree, 'debian', 'DEBIAN-CVE-2024-2511.json'))) single.push(record.id);
    assert.deepEqual(single, ['DEBIAN-CVE-2024-2511']);

    // An invalid record in a zip stops the reading with the entry's name.
    const badZip = join(dir, 'bad.zip');
    const bad = new yazl.ZipFile();
    bad.addBuffer(Buffer.from(JSON.stringify(LODASH)), 'ok.json');
    bad.addBuffer(Buffer.from(JSON.stringify({ id: 'GHSA-xxxx', summary: 'no modified' })), 'bad.json');
    bad.end();
    const badOut = createWriteStream(badZip);
    bad.outputStream.pipe(badOut);
    await once(badOut, 'close');
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const { record } of readOsvSource(badZip)) seen.push(record.id);
    }, /bad\.json GHSA-xxxx is not a valid OSV record/);
    assert.deepEqual(seen, ['GHSA-35jh-r3h4-6jhm']);

    // A zip of several 4 MiB blocks (the unit it is read in): stored and deflated records, some across a block's
    // end, each read whole; an entry over the size limit is refused.
    const bigZip = join(dir, 'big.zip');
    const big = new yazl.ZipFile();
    const records = Array.from({ length: 40 }, (_, i) => ({ ...LODASH, id: `GHSA-big-${i}`, details: `${i} `.repeat(100_000 + i * 997) }));
    records.forEach((r, i) => big.addBuffer(Buffer.from(JSON.stringify(r)), `${r.id}.json`, { compress: i % 2 === 0 }));
    big.end();
    const bigOut = createWriteStream(bigZip);
    big.outputStream.pipe(bigOut);
    await once(bigOut, 'close');
    const read: OsvRecord[] = [];
    for await (const { record } of readOsvSource(bigZip)) read.push(record);
    assert.deepEqual(
      read.map((r) => [r.id, r.details]),
      records.map((r) => [r.id, r.details]),
    );
    const { openZipFile, readZipEntry, zipEntries } = await import('../../src/scan/zip.ts');
    const zip2 = await openZipFile(bigZip);
    for await (const entry of zipEntries(zip2)) {
      await assert.rejects(readZipEntry(zip2, entry, 1000), /is larger than 1000 bytes/);
      break;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

function pick(v: { affected: boolean; fixed?: string }): { affected: boolean; fixed?: string } {
  return v.fixed === undefined ? { affected: v.affected } : { affected: v.affected, fixed: v.fixed };
}
