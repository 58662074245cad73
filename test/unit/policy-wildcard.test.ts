// Glob matching of IAM policy strings (src/auth/policy/wildcard.ts): `*` and `?` by code point, case folding for
// actions, and the token cache, which must keep case-sensitive and case-insensitive patterns apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchTokens, matchWildcard, substitute, tokenize } from '../../src/auth/policy/wildcard.ts';

test('? matches exactly one character, counted by code point', () => {
  assert.equal(matchWildcard('team-?', 'team-é'), true);
  assert.equal(matchWildcard('team-?', 'team-😀'), true);
  assert.equal(matchWildcard('team-??', 'team-😀'), false);
  assert.equal(matchWildcard('team-?', 'team-ab'), false);
});

test('* matches any run, including : and /, and nothing', () => {
  assert.equal(matchWildcard('arn:aws:ecr:*:*:repository/app/*', 'arn:aws:ecr:us-east-1:111122223333:repository/app/web'), true);
  assert.equal(matchWildcard('arn:aws:ecr:*:*:repository/app/*', 'arn:aws:ecr:us-east-1:111122223333:repository/other'), false);
  assert.equal(matchWildcard('app*', 'app'), true);
  assert.equal(matchWildcard('*a*a*b', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'), false);
});

test('the same pattern matched with and without case folding keeps its own tokens', () => {
  assert.equal(matchWildcard('ECR:Describe*', 'ecr:DescribeImages', true), true);
  assert.equal(matchWildcard('ECR:Describe*', 'ecr:DescribeImages', false), false);
  assert.equal(matchWildcard('ECR:Describe*', 'ecr:describeimages', true), true);
  assert.equal(matchWildcard('ECR:Describe*', 'ECR:DescribeImages', false), true);
});

test('text from a policy variable is literal', () => {
  const pieces = substitute('repository/${aws:username}/*', () => 'a*b');
  assert.ok(pieces);
  assert.equal(matchTokens(tokenize(pieces), 'repository/a*b/x'), true);
  assert.equal(matchTokens(tokenize(pieces), 'repository/axxb/x'), false);
});
