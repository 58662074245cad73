// Regular expressions applied to client input run in linear time (issue 16, ReDoS): every pattern of the ECR model
// (RE2) and every hand-written one (src/server/input-patterns.ts), fed adversarial inputs of 10,000 characters
// (a prefix the pattern accepts, a long run of what its repetitions accept, then a character that makes it fail),
// answers within 100 ms each. Before the fix, the model's ScanningRepositoryFilterValue pattern took 9 s on
// 24 characters in V8's backtracking engine, and the policy variable default pattern 150 ms on 10,000 spaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HAND_WRITTEN_PATTERNS, MODEL_PATTERNS } from '../../src/server/input-patterns.ts';
import { matchesModelPattern } from '../../src/ecr/validate.ts';
import { substitute } from '../../src/auth/policy/wildcard.ts';
import { PEP440_PATTERN } from '../../src/scan/versions/pep440.ts';

const LENGTH = 10_000;
const BOUND_MS = 100;

const PREFIXES = ['', 'a', '/v2/', 'arn:aws:', 'arn:aws-x:iam::123456789012:user/', 'bytes=', 'sha256:', '::ffff:', '${'];
const RUNS = [
  'a',
  '0',
  'a.',
  'a-',
  'a_',
  'a__',
  'a/',
  'a*',
  '-',
  '.',
  '/',
  ' ',
  '1.',
  'a:',
  '*',
  '/manifests/',
  '.amazonaws.com',
  'aws-',
  '0-',
  // What the scanner reads in images: paths, package databases, versions.
  'node_modules/',
  'a (',
  '=',
  ' =',
  'CVE-1',
  '.so.1',
  '1a1',
  'a\\',
  '0.',
];
const ENDINGS = ['!', '\n', '/'];

/** Inputs of LENGTH characters: prefix, a repeated run, a mismatching end. */
function* adversarial(): Generator<string> {
  for (const prefix of PREFIXES) {
    for (const run of RUNS) {
      const body = prefix + run.repeat(Math.ceil((LENGTH - prefix.length) / run.length));
      for (const end of ENDINGS) yield body.slice(0, LENGTH - end.length) + end;
    }
  }
}

/** The slowest input, by the best of up to three runs each: backtracking is deterministic, a busy machine's pauses
 * (garbage collection, other processes on the two cores) are not. */
function slowest(match: (s: string) => unknown): { ms: number; input: string } {
  let worst = { ms: 0, input: '' };
  match('warm-up');
  for (const input of adversarial()) {
    let best = Infinity;
    for (let run = 0; run < 3 && best >= BOUND_MS / 2; run++) {
      const started = process.hrtime.bigint();
      match(input);
      best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e6);
    }
    if (best > worst.ms) worst = { ms: best, input };
  }
  return worst;
}

const show = (s: string) => JSON.stringify(s.slice(0, 40)) + `... (${s.length} characters)`;

test('every pattern of the ECR model answers adversarial 10,000-character inputs within 100 ms', () => {
  assert.ok(MODEL_PATTERNS.length >= 10, 'the model has patterns');
  for (const { pattern, shapes } of MODEL_PATTERNS) {
    const worst = slowest((s) => matchesModelPattern(pattern, s));
    assert.ok(worst.ms < BOUND_MS, `${shapes.join(', ')} /${pattern}/ took ${worst.ms.toFixed(1)} ms on ${show(worst.input)}`);
  }
});

test('the reported input: a ScanningRepositoryFilterValue of 40 letters and "!" is refused at once', () => {
  const { pattern } = MODEL_PATTERNS.find((p) => p.shapes.includes('ScanningRepositoryFilterValue'))!;
  const started = Date.now();
  assert.equal(matchesModelPattern(pattern, 'a'.repeat(40) + '!'), false);
  assert.equal(matchesModelPattern(pattern, 'prod-*'), true);
  assert.ok(Date.now() - started < BOUND_MS);
});

test('every hand-written pattern applied to client input answers adversarial 10,000-character inputs within 100 ms', () => {
  assert.ok(HAND_WRITTEN_PATTERNS.length >= 30);
  for (const { name, pattern } of HAND_WRITTEN_PATTERNS) {
    const worst = slowest((s) => {
      pattern.lastIndex = 0;
      return pattern.global ? s.replace(pattern, ' ') : pattern.exec(s);
    });
    assert.ok(worst.ms < BOUND_MS, `${name} /${pattern.source}/ took ${worst.ms.toFixed(1)} ms on ${show(worst.input)}`);
  }
});

test('a policy variable with a long run of spaces before its default is substituted in linear time', () => {
  for (const inner of [' '.repeat(LENGTH), `aws:username${' '.repeat(LENGTH)}, 'x'`, `a,${' '.repeat(LENGTH)}'`]) {
    const started = process.hrtime.bigint();
    substitute(`\${${inner}}`, () => undefined);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(ms < BOUND_MS, `${ms} ms`);
  }
  // The default still works as before.
  assert.deepEqual(
    substitute("arn:${aws:username , 'nobody' }", () => undefined),
    [
      { text: 'arn:', wild: true },
      { text: 'nobody', wild: false },
    ],
  );
  assert.deepEqual(
    substitute("${aws:username,'x'}", (n) => (n === 'aws:username' ? 'ann' : undefined)),
    [{ text: 'ann', wild: false }],
  );
});

/** The pattern in V8's engine, as the model meant it: with the `u` flag when it allows (one pattern escapes a `-`
 * outside a class, which only the legacy syntax accepts; the engine before the fix threw on it). */
function jsRegExp(pattern: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`, 'u');
  } catch {
    return new RegExp(`^(?:${pattern})$`);
  }
}

test('RE2 and the model agree with what the JS engine says on ordinary values', () => {
  const samples = [
    'my-app',
    'team/app',
    'a',
    'ab',
    'Ab',
    'a..b',
    'a__b',
    'prod-*',
    '*',
    'ROOT',
    'team/',
    '123456789012',
    'sha256:' + 'a'.repeat(64),
    'us-east-1',
    '0123abcd-0123-0123-0123-0123456789ab',
    'arn:aws:iam::123456789012:role/x',
    'arn:aws:kms:us-east-1:123456789012:key/abc-1',
    '',
    'v1.0',
    'a/b/c',
    'a-/b',
  ];
  for (const { pattern } of MODEL_PATTERNS) {
    const js = jsRegExp(pattern);
    for (const s of samples) assert.equal(matchesModelPattern(pattern, s), js.test(s), `/${pattern}/ on ${JSON.stringify(s)}`);
  }
});

// The registry is complete: every regular expression written in src/ is in it, or is listed here with the reason
// it never sees client input (or is a bare literal, linear by construction). A new pattern must go to one or the other.
const NOT_CLIENT_INPUT: Record<string, string> = {
  'src/core/signing.ts /signing-profiles/': 'a path in a template string (a signing profile ARN Berth writes), not a pattern',
  'src/auth/authorizer.ts /resourcetag/i': 'a literal, over a stored policy',
  'src/auth/identity.ts /[+/]/g': "Berth's own random secrets",
  'src/auth/policy/document.ts /^\\uFEFF/': 'an anchored literal',
  'src/auth/sigv4.ts /[-:]/g': "Berth's own clock",
  'src/auth/sigv4.ts /\\.\\d{3}/': "Berth's own clock",
  'src/config.ts /^(1|true|yes|on)$/i': "the operator's configuration",
  'src/config.ts /^(0|false|no|off)$/i': "the operator's configuration",
  'src/config.ts /^\\d{12}$/': "the operator's configuration",
  'src/config.ts /^(\\[[^\\]]+\\]|[^:]+):(\\d+)$/': "the operator's configuration",
  'src/config.ts /^\\[|\\]$/g': "the operator's configuration",
  'src/config.ts /^postgres(ql)?:\\/\\/./': "the operator's configuration",
  'src/config.ts /^s3:\\/\\/[^/]+/': "the operator's configuration",
  'src/config.ts /^https?:\\/\\/[^/]/': "the operator's configuration",
  'src/storage/blobs/s3.ts /^s3:\\/\\/([^/]+)\\/?(.*)$/': "the operator's configuration (BERTH_BLOB_STORE)",
  'src/storage/blobs/s3.ts /^\\/+|\\/+$/g': "the operator's configuration (the prefix of BERTH_BLOB_STORE)",
  'src/storage/blobs/s3.ts /^\\d{16}$/': 'object keys Berth wrote, listed from its own bucket',
  'src/server/app.ts /^\\[|\\]$/g': "the operator's configuration (the listen host)",
  'src/console/layout.ts /\\.\\d+Z$/': 'dates Berth formats itself',
  'src/console/users.ts /\\.\\d+Z$/': 'dates Berth formats itself',
  'src/transfer/archive-source.ts /^(\\.\\/|\\/)+/': "berth import, in the operator's own process, on the archive it was given",
  'src/transfer/import.ts /^blobs\\/(sha256)\\/([0-9a-f]{64})$/':
    "berth import, in the operator's own process, on the archive it was given",
  'src/transfer/reference.ts /^(index\\.)?docker\\.io$/': 'berth import/export, on names the operator gave or the archive holds',
  'src/transfer/registry-client.ts /([a-z]+)="([^"]*)"/g': "a destination registry's WWW-Authenticate header (replication)",
  'src/ecr/operations.ts /Scan|ScanningConfiguration/': 'operation names already found in the model',
  'src/ecr/operations.ts /Replication/': 'operation names already found in the model',
  'src/ecr/operations.ts /Signing/': 'operation names already found in the model',
  'src/ecr/operations.ts /ImageStorageClass/': 'operation names already found in the model',
  'src/oci/routes.ts /(<[a-z]+>)/': "the route table's own path templates",
  'src/oci/routes.ts /^<[a-z]+>$/': "the route table's own path templates",
  'src/oci/routes.ts /[.*+?^${}()|[\\]\\\\]/g': "the route table's own path templates",
};

/** Regular expression literals in TypeScript source, found where an expression starts (not a division). */
const LITERAL =
  /(?:^|[=(,:!&|?[]|\breturn)\s*\/((?:\\.|\[(?:\\.|[^\]\\\n])*\]|[^/\\\n[*])(?:\\.|\[(?:\\.|[^\]\\\n])*\]|[^/\\\n[])*)\/([dgimsuvy]*)/g;

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (path.endsWith('.ts')) yield path;
  }
}

/** The scanner's patterns (src/scan/), found in the source as written: they read image content, which clients
 * push, so each is timed on adversarial input where it stands instead of being registered. */
function scannerPatterns(): { where: string; pattern: RegExp }[] {
  const found: { where: string; pattern: RegExp }[] = [{ where: 'src/scan/versions/pep440.ts PEP440_PATTERN', pattern: PEP440_PATTERN }];
  for (const file of sources(join('src', 'scan'))) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const trimmed = line.trimStart();
        if (trimmed.startsWith('//') || trimmed.startsWith('*')) return;
        for (const m of line.matchAll(LITERAL)) {
          let pattern: RegExp;
          try {
            pattern = new RegExp(m[1], m[2]);
          } catch {
            continue; // not a pattern (a comment's slashes)
          }
          found.push({ where: `${file}:${i + 1}`, pattern });
        }
      });
  }
  return found;
}

test('every pattern the scanner applies to image content answers adversarial 10,000-character inputs within 100 ms', () => {
  const patterns = scannerPatterns();
  assert.ok(patterns.length >= 20, `${patterns.length} scanner patterns found`);
  for (const { where, pattern } of patterns) {
    const worst = slowest((s) => {
      pattern.lastIndex = 0;
      return pattern.global ? s.replace(pattern, ' ') : pattern.exec(s);
    });
    assert.ok(worst.ms < BOUND_MS, `${where} /${pattern.source}/ took ${worst.ms.toFixed(1)} ms on ${show(worst.input)}`);
  }
});

test('every regular expression in src/ is registered as client-facing or listed as not seeing client input', () => {
  const registered = new Set(HAND_WRITTEN_PATTERNS.map((p) => `/${p.pattern.source}/${p.pattern.flags}`));
  const unaccounted: string[] = [];
  let found = 0;
  for (const file of sources('src')) {
    // The scanner's patterns are timed where they stand (above).
    if (file.startsWith(join('src', 'scan') + '/')) continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const trimmed = line.trimStart();
        if (trimmed.startsWith('//') || trimmed.startsWith('*')) return;
        for (const m of line.matchAll(LITERAL)) {
          found++;
          const literal = `/${m[1]}/${m[2]}`;
          if (!registered.has(literal) && !NOT_CLIENT_INPUT[`${file} ${literal}`]) unaccounted.push(`${file}:${i + 1} ${literal}`);
        }
        // Built patterns: only the OCI routes, built from the route table and registered (ROUTES).
        if (line.includes('new RegExp(') && file !== join('src', 'oci', 'routes.ts')) unaccounted.push(`${file}:${i + 1} new RegExp`);
      });
  }
  assert.ok(found > 40, `${found} literals found: the scan works`);
  assert.deepEqual(unaccounted, []);
});
