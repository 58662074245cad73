// Parsing and validating IAM policy documents (src/auth/policy/document.ts). The rules come from the IAM User
// Guide ("Grammar of the IAM JSON policy language", the element references for Version, Id, Sid, Effect, Principal,
// NotPrincipal, Action, Resource and Condition, and "Condition operators").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy, PolicyError, type PolicyKind } from '../../src/auth/policy/document.ts';

const A = '111122223333';
const REPO = `arn:aws:ecr:us-east-1:${A}:repository/app`;

const PULL_ONLY = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['ecr:GetAuthorizationToken', 'ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
      Resource: '*',
    },
  ],
};

test('a single statement object is normalized to an array, strings to lists', () => {
  const doc = parsePolicy(
    JSON.stringify({ Version: '2012-10-17', Statement: { Sid: 'One', Effect: 'Allow', Action: 'ecr:BatchGetImage', Resource: REPO } }),
    'identity',
  );
  assert.deepEqual(doc, {
    Version: '2012-10-17',
    Statement: [{ Sid: 'One', Effect: 'Allow', Action: ['ecr:BatchGetImage'], Resource: [REPO] }],
  });
});

test('the canonical pull-only policy parses', () => {
  const doc = parsePolicy(JSON.stringify(PULL_ONLY), 'identity');
  assert.equal(doc.Statement.length, 1);
  assert.deepEqual(doc.Statement[0].Action, PULL_ONLY.Statement[0].Action);
  assert.deepEqual(doc.Statement[0].Resource, ['*']);
});

test('Version is optional and may be 2008-10-17', () => {
  assert.equal(parsePolicy('{"Statement":{"Effect":"Deny","NotAction":"ecr:Get*","NotResource":"*"}}', 'identity').Version, undefined);
  assert.equal(
    parsePolicy('{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}', 'identity').Version,
    '2008-10-17',
  );
});

test('a repository policy: Principal forms, Id allowed, Resource optional', () => {
  const doc = parsePolicy(
    JSON.stringify({
      Version: '2012-10-17',
      Id: 'ECRPolicyId1',
      Statement: [
        { Sid: 'AllowPull', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:user/pull-user-1` }, Action: ['ecr:BatchGetImage'] },
        { Sid: 'Public', Effect: 'Allow', Principal: '*', Action: 'ecr:GetDownloadUrlForLayer' },
        { Sid: 'Accounts', Effect: 'Allow', Principal: { AWS: ['444455556666', 'arn:aws:iam::777788889999:root'] }, Action: 'ecr:*' },
        { Sid: 'Deny all but', Effect: 'Deny', NotPrincipal: { AWS: [`arn:aws:iam::${A}:root`] }, Action: 'ecr:DeleteRepository' },
        { Effect: 'Allow', Principal: { Service: 'codebuild.amazonaws.com' }, Action: 'ecr:BatchGetImage', Resource: REPO },
      ],
    }),
    'resource',
  );
  assert.equal(doc.Id, 'ECRPolicyId1');
  assert.deepEqual(doc.Statement[0].Principal, { AWS: [`arn:aws:iam::${A}:user/pull-user-1`] });
  assert.equal(doc.Statement[1].Principal, '*');
  assert.deepEqual(doc.Statement[2].Principal, { AWS: ['444455556666', 'arn:aws:iam::777788889999:root'] });
  assert.deepEqual(doc.Statement[3].NotPrincipal, { AWS: [`arn:aws:iam::${A}:root`] });
  assert.equal(doc.Statement[0].Resource, undefined);
  assert.deepEqual(doc.Statement[4].Resource, [REPO]);
});

test('condition values: strings, numbers and booleans ("Quotation marks are optional for numeric and Boolean values")', () => {
  const doc = parsePolicy(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: {
        Effect: 'Allow',
        Action: 'ecr:*',
        Resource: '*',
        Condition: {
          Bool: { 'aws:SecureTransport': true },
          NumericLessThanEquals: { 's3:max-keys': 10 },
          'ForAnyValue:StringLike': { 'aws:TagKeys': ['team*', 'env'] },
          IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:DB8:1234:5678::/64'] },
          DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:01Z', 'aws:EpochTime': 1577836800 },
          StringEqualsIfExists: { 'aws:ResourceTag/team': 'infra' },
          Null: { 'aws:TokenIssueTime': 'true' },
        },
      },
    }),
    'identity',
  );
  assert.deepEqual(doc.Statement[0].Condition, {
    Bool: { 'aws:SecureTransport': ['true'] },
    NumericLessThanEquals: { 's3:max-keys': ['10'] },
    'ForAnyValue:StringLike': { 'aws:TagKeys': ['team*', 'env'] },
    IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:DB8:1234:5678::/64'] },
    DateGreaterThan: { 'aws:CurrentTime': ['2020-01-01T00:00:01Z'], 'aws:EpochTime': ['1577836800'] },
    StringEqualsIfExists: { 'aws:ResourceTag/team': ['infra'] },
    Null: { 'aws:TokenIssueTime': ['true'] },
  });
});

test('every documented condition operator, with IfExists and the set operators, is accepted', () => {
  const operators = [
    'StringEquals',
    'StringNotEquals',
    'StringEqualsIgnoreCase',
    'StringNotEqualsIgnoreCase',
    'StringLike',
    'StringNotLike',
    'ArnEquals',
    'ArnLike',
    'ArnNotEquals',
    'ArnNotLike',
  ];
  const values: Record<string, string> = {
    NumericEquals: '1',
    NumericNotEquals: '1',
    NumericLessThan: '1',
    NumericLessThanEquals: '1',
    NumericGreaterThan: '1',
    NumericGreaterThanEquals: '1',
    DateEquals: '2020-01-01',
    DateNotEquals: '2020-01-01T00:00Z',
    DateLessThan: '1577836800',
    DateLessThanEquals: '2020-01-01T00:00:00.123+02:00',
    DateGreaterThan: '2020',
    DateGreaterThanEquals: '2020-01',
    Bool: 'false',
    IpAddress: '10.0.0.0/8',
    NotIpAddress: '::1',
    BinaryEquals: 'QmluYXJ5VmFsdWVJbkJhc2U2NA==',
  };
  for (const op of operators) values[op] = 'x';
  for (const [op, value] of Object.entries(values)) {
    for (const name of [op, `${op}IfExists`, `ForAnyValue:${op}`, `ForAllValues:${op}IfExists`]) {
      const text = JSON.stringify({
        Version: '2012-10-17',
        Statement: { Effect: 'Allow', Action: 'ecr:*', Resource: '*', Condition: { [name]: { 'some:key': value } } },
      });
      assert.doesNotThrow(() => parsePolicy(text, 'identity'), name);
    }
  }
});

// Each malformed policy gives a PolicyError whose message says what is wrong.
const stmt = (s: Record<string, unknown>) => JSON.stringify({ Version: '2012-10-17', Statement: [s] });
const ok = { Effect: 'Allow', Action: 'ecr:BatchGetImage', Resource: '*' };
const okResource = { Effect: 'Allow', Principal: { AWS: A }, Action: 'ecr:BatchGetImage' };
const withCondition = (Condition: unknown) => stmt({ ...ok, Condition });

const ERRORS: { name: string; text: string; kind?: PolicyKind; message: RegExp }[] = [
  { name: 'malformed JSON', text: '{"Statement": [', message: /^Policy document is not valid JSON: / },
  { name: 'trailing comma', text: '{"Statement": {"Effect": "Allow",}}', message: /not valid JSON/ },
  { name: 'empty text', text: '', message: /Policy document is empty/ },
  { name: 'blank text', text: '  \n ', message: /Policy document is empty/ },
  { name: 'a JSON array', text: '[]', message: /Policy document must be a JSON object/ },
  { name: 'a JSON string', text: '"policy"', message: /Policy document must be a JSON object/ },
  {
    name: 'unknown top-level element',
    text: JSON.stringify({ Version: '2012-10-17', Statements: [ok] }),
    message: /unknown top-level element 'Statements'/,
  },
  {
    name: 'bad Version',
    text: JSON.stringify({ Version: '2012-10-18', Statement: [ok] }),
    message: /Version must be "2012-10-17" or "2008-10-17", not "2012-10-18"/,
  },
  { name: 'Version as a number', text: JSON.stringify({ Version: 2012, Statement: [ok] }), message: /Version must be .* not 2012/ },
  { name: 'missing Statement', text: JSON.stringify({ Version: '2012-10-17' }), message: /Statement is missing/ },
  {
    name: 'empty Statement list',
    text: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
    message: /Statement must contain at least one statement/,
  },
  { name: 'statement that is a string', text: JSON.stringify({ Statement: ['Allow'] }), message: /^Statement\[0\]: must be a JSON object/ },
  { name: 'statement that is a list', text: JSON.stringify({ Statement: [[ok]] }), message: /^Statement\[0\]: must be a JSON object/ },
  { name: 'unknown statement element', text: stmt({ ...ok, Effects: 'Allow' }), message: /^Statement\[0\]: unknown element 'Effects'/ },
  { name: 'missing Effect', text: stmt({ Action: 'ecr:*', Resource: '*' }), message: /^Statement\[0\]: Effect is missing/ },
  {
    name: 'lower-case Effect',
    text: stmt({ ...ok, Effect: 'allow' }),
    message: /^Statement\[0\]: Effect must be Allow or Deny, not "allow"/,
  },
  { name: 'Effect null', text: stmt({ ...ok, Effect: null }), message: /^Statement\[0\]: Effect must be Allow or Deny/ },
  {
    name: 'bad Effect in the second statement',
    text: JSON.stringify({ Statement: [ok, { ...ok, Effect: 'Permit' }] }),
    message: /^Statement\[1\]: Effect must be Allow or Deny, not "Permit"/,
  },
  {
    name: 'missing Action and NotAction',
    text: stmt({ Effect: 'Allow', Resource: '*' }),
    message: /^Statement\[0\]: Action or NotAction is missing/,
  },
  {
    name: 'both Action and NotAction',
    text: stmt({ ...ok, NotAction: 'ecr:PutImage' }),
    message: /^Statement\[0\]: has both Action and NotAction/,
  },
  {
    name: 'Action that is a number',
    text: stmt({ ...ok, Action: 5 }),
    message: /^Statement\[0\]: Action must be a string or a list of strings, not number 5/,
  },
  {
    name: 'Action list with an object',
    text: stmt({ ...ok, Action: ['ecr:BatchGetImage', {}] }),
    message: /Action must be a string or a list of strings, not an object/,
  },
  { name: 'empty Action list', text: stmt({ ...ok, Action: [] }), message: /^Statement\[0\]: Action must not be an empty list/ },
  { name: 'empty Action string', text: stmt({ ...ok, Action: '' }), message: /Action must not contain an empty string/ },
  {
    name: 'Action without a service',
    text: stmt({ ...ok, Action: 'BatchGetImage' }),
    message: /Action 'BatchGetImage' must be '\*' or '<service>:<action>'/,
  },
  {
    name: 'Action with a wildcard in the service',
    text: stmt({ ...ok, Action: 'ec*:BatchGetImage' }),
    message: /Action 'ec\*:BatchGetImage' must be/,
  },
  {
    name: 'NotAction with spaces',
    text: stmt({ Effect: 'Allow', NotAction: 'ecr:Batch Get', Resource: '*' }),
    message: /NotAction 'ecr:Batch Get' must be/,
  },
  {
    name: 'identity policy without Resource',
    text: stmt({ Effect: 'Allow', Action: 'ecr:*' }),
    message: /^Statement\[0\]: Resource or NotResource is missing/,
  },
  { name: 'both Resource and NotResource', text: stmt({ ...ok, NotResource: REPO }), message: /has both Resource and NotResource/ },
  {
    name: 'Resource that is not an ARN',
    text: stmt({ ...ok, Resource: 'repository/app' }),
    message: /Resource 'repository\/app' must be '\*' or an ARN/,
  },
  {
    name: 'Resource ARN with too few parts',
    text: stmt({ ...ok, Resource: 'arn:aws:ecr:us-east-1' }),
    message: /Resource 'arn:aws:ecr:us-east-1' must be '\*' or an ARN/,
  },
  {
    name: 'Resource that is a boolean',
    text: stmt({ ...ok, Resource: [true] }),
    message: /Resource must be a string or a list of strings, not boolean true/,
  },
  {
    name: 'NotResource that is null',
    text: stmt({ Effect: 'Allow', Action: '*', NotResource: null }),
    message: /NotResource must be a string or a list of strings, not null/,
  },
  {
    name: 'Principal in an identity policy',
    text: stmt({ ...ok, Principal: '*' }),
    message: /^Statement\[0\]: Principal is not allowed in an identity-based policy/,
  },
  {
    name: 'NotPrincipal in an identity policy',
    text: stmt({ ...ok, Effect: 'Deny', NotPrincipal: { AWS: A } }),
    message: /NotPrincipal is not allowed in an identity-based policy/,
  },
  {
    name: 'Id in an identity policy',
    text: JSON.stringify({ Id: 'x', Statement: [ok] }),
    message: /Id is not allowed in an identity-based policy/,
  },
  {
    name: 'Id that is not a string',
    kind: 'resource',
    text: JSON.stringify({ Id: 5, Statement: [okResource] }),
    message: /Id must be a string/,
  },
  {
    name: 'resource policy without Principal',
    kind: 'resource',
    text: stmt({ Effect: 'Allow', Action: 'ecr:BatchGetImage' }),
    message: /^Statement\[0\]: Principal is missing/,
  },
  {
    name: 'both Principal and NotPrincipal',
    kind: 'resource',
    text: stmt({ ...okResource, Effect: 'Deny', NotPrincipal: { AWS: A } }),
    message: /has both Principal and NotPrincipal/,
  },
  {
    name: 'NotPrincipal with Allow',
    kind: 'resource',
    text: stmt({ Effect: 'Allow', NotPrincipal: { AWS: A }, Action: 'ecr:*' }),
    message: /NotPrincipal can only be used with "Effect": "Deny"/,
  },
  {
    name: 'Principal that is a word',
    kind: 'resource',
    text: stmt({ ...okResource, Principal: 'everyone' }),
    message: /Principal must be "\*" or an object .*not "everyone"/,
  },
  {
    name: 'Principal that is a list',
    kind: 'resource',
    text: stmt({ ...okResource, Principal: [A] }),
    message: /Principal must be "\*" or an object/,
  },
  {
    name: 'unsupported principal type',
    kind: 'resource',
    text: stmt({ ...okResource, Principal: { CanonicalUser: 'abc' } }),
    message: /Principal type 'CanonicalUser' is not supported/,
  },
  {
    name: 'empty Principal object',
    kind: 'resource',
    text: stmt({ ...okResource, Principal: {} }),
    message: /Principal must name at least one principal/,
  },
  {
    name: 'empty AWS principal list',
    kind: 'resource',
    text: stmt({ ...okResource, Principal: { AWS: [] } }),
    message: /Principal\.AWS must not be an empty list/,
  },
  {
    name: 'wildcard in a principal ARN',
    kind: 'resource',
    text: stmt({ ...okResource, Principal: { AWS: `arn:aws:iam::${A}:user/*` } }),
    message: /Principal\.AWS 'arn:aws:iam::111122223333:user\/\*' must be .*no wildcards/,
  },
  {
    name: 'account id with 11 digits',
    kind: 'resource',
    text: stmt({ ...okResource, Principal: { AWS: '11112222333' } }),
    message: /Principal\.AWS '11112222333' must be "\*", a 12-digit account id/,
  },
  {
    name: 'principal ARN of another service',
    kind: 'resource',
    text: stmt({ ...okResource, Principal: { AWS: `arn:aws:s3:::${A}` } }),
    message: /Principal\.AWS 'arn:aws:s3:::111122223333' must be/,
  },
  {
    name: 'bad service principal',
    kind: 'resource',
    text: stmt({ ...okResource, Principal: { Service: 'ecr' } }),
    message: /Principal\.Service 'ecr' must be a service principal/,
  },
  {
    name: 'AWS principal that is a number',
    kind: 'resource',
    text: stmt({ ...okResource, Principal: { AWS: 111122223333 } }),
    message: /Principal\.AWS must be a string or a list of strings, not number/,
  },
  {
    name: 'unknown condition operator',
    text: withCondition({ StringEqualz: { 'aws:username': 'ci' } }),
    message: /^Statement\[0\]: Condition: unknown condition operator 'StringEqualz'/,
  },
  {
    name: 'wrongly cased condition operator',
    text: withCondition({ stringEquals: { 'aws:username': 'ci' } }),
    message: /unknown condition operator 'stringEquals'/,
  },
  {
    name: 'unknown set operator',
    text: withCondition({ 'ForSomeValues:StringEquals': { 'aws:TagKeys': 'a' } }),
    message: /unknown condition set operator 'ForSomeValues'/,
  },
  {
    name: 'unknown operator after a set operator',
    text: withCondition({ 'ForAnyValue:StringMatches': { 'aws:TagKeys': 'a' } }),
    message: /unknown condition operator 'ForAnyValue:StringMatches'/,
  },
  {
    name: 'IfExists on Null',
    text: withCondition({ NullIfExists: { 'aws:TokenIssueTime': 'true' } }),
    message: /IfExists cannot be added to Null/,
  },
  { name: 'Condition that is a string', text: withCondition('StringEquals'), message: /^Statement\[0\]: Condition must be an object/ },
  { name: 'empty Condition', text: withCondition({}), message: /Condition must contain at least one condition operator/ },
  {
    name: 'operator block that is a string',
    text: withCondition({ StringEquals: 'aws:username' }),
    message: /Condition\.StringEquals must be an object of condition keys and values/,
  },
  {
    name: 'operator block without keys',
    text: withCondition({ StringEquals: {} }),
    message: /Condition\.StringEquals must contain at least one condition key/,
  },
  {
    name: 'condition key without values',
    text: withCondition({ StringEquals: { 'aws:username': [] } }),
    message: /Condition\.StringEquals\.aws:username must have at least one value/,
  },
  {
    name: 'condition value that is an object',
    text: withCondition({ StringEquals: { 'aws:username': { name: 'ci' } } }),
    message: /Condition\.StringEquals\.aws:username values must be strings, numbers or booleans, not an object/,
  },
  {
    name: 'condition value that is null',
    text: withCondition({ StringEquals: { 'aws:username': null } }),
    message: /values must be strings, numbers or booleans, not null/,
  },
  { name: 'condition value list with a list', text: withCondition({ StringEquals: { 'aws:username': [['ci']] } }), message: /not a list/ },
  {
    name: 'Numeric value that is not a number',
    text: withCondition({ NumericLessThan: { 's3:max-keys': 'ten' } }),
    message: /Condition\.NumericLessThan\.s3:max-keys: NumericLessThan value 'ten' is not a number/,
  },
  {
    name: 'Date value that is not a date',
    text: withCondition({ DateGreaterThan: { 'aws:CurrentTime': 'yesterday' } }),
    message: /DateGreaterThan value 'yesterday' is not an ISO 8601 date or an epoch time/,
  },
  {
    name: 'Date with an impossible month',
    text: withCondition({ DateLessThan: { 'aws:CurrentTime': '2020-13-01T00:00:00Z' } }),
    message: /is not an ISO 8601 date/,
  },
  {
    name: 'IpAddress that is not an address',
    text: withCondition({ IpAddress: { 'aws:SourceIp': '300.1.1.1/24' } }),
    message: /IpAddress value '300\.1\.1\.1\/24' is not an IPv4 or IPv6 address or CIDR range/,
  },
  {
    name: 'IPv4 prefix longer than 32',
    text: withCondition({ NotIpAddress: { 'aws:SourceIp': '10.0.0.0/33' } }),
    message: /NotIpAddress value '10\.0\.0\.0\/33' is not/,
  },
  {
    name: 'IpAddress with a wildcard',
    text: withCondition({ IpAddress: { 'aws:SourceIp': '54.240.143.*' } }),
    message: /is not an IPv4 or IPv6 address/,
  },
  {
    name: 'Bool value that is not true or false',
    text: withCondition({ Bool: { 'aws:SecureTransport': 'yes' } }),
    message: /Bool value 'yes' is not true or false/,
  },
  {
    name: 'Null value that is not true or false',
    text: withCondition({ Null: { 'aws:TokenIssueTime': 'maybe' } }),
    message: /Null value 'maybe' is not true or false/,
  },
  {
    name: 'BinaryEquals value that is not base64',
    text: withCondition({ BinaryEquals: { key: 'not base64!' } }),
    message: /is not base64/,
  },
  {
    name: 'duplicate key in a statement',
    text: '{"Statement":[{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}]}',
    message: /duplicate key 'Effect' in Statement\[0\]/,
  },
  {
    name: 'duplicate top-level key',
    text: '{"Version":"2012-10-17","Version":"2008-10-17","Statement":[]}',
    message: /duplicate key 'Version' at the top level/,
  },
  {
    name: 'duplicate condition key',
    text: '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a:b":"1","a:b":"2"}}}}',
    message: /duplicate key 'a:b' in Statement\.Condition\.StringEquals/,
  },
  { name: 'Sid that is a number', text: stmt({ ...ok, Sid: 1 }), message: /^Statement\[0\]: Sid must be a string/ },
  {
    name: 'identity Sid with a space',
    text: stmt({ ...ok, Sid: 'Allow pull' }),
    message: /Sid 'Allow pull' may contain only letters and digits/,
  },
  {
    name: 'identity Sids that repeat',
    text: JSON.stringify({
      Statement: [
        { ...ok, Sid: 'A1' },
        { ...ok, Sid: 'A1' },
      ],
    }),
    message: /^Statement\[1\]: Sid 'A1' is used by another statement/,
  },
];

for (const c of ERRORS) {
  test(`malformed policy: ${c.name}`, () => {
    assert.throws(
      () => parsePolicy(c.text, c.kind ?? 'identity'),
      (err: unknown) => {
        assert.ok(err instanceof PolicyError, `not a PolicyError: ${String(err)}`);
        assert.ok(err instanceof Error);
        assert.match(err.message, c.message);
        return true;
      },
    );
  });
}

test('resource-based policies allow Sids with spaces and repeated Sids (only IAM restricts them)', () => {
  const doc = parsePolicy(
    JSON.stringify({
      Statement: [
        { ...okResource, Sid: 'Allow pull' },
        { ...okResource, Sid: 'Allow pull' },
      ],
    }),
    'resource',
  );
  assert.equal(doc.Statement[1].Sid, 'Allow pull');
});
