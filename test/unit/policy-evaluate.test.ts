// IAM policy evaluation (src/auth/policy/evaluate.ts), table-driven. Every expectation follows a rule of the AWS
// documentation, quoted in the group comments: the IAM User Guide ("Policy evaluation logic", "Cross-account policy
// evaluation logic", "AWS JSON policy elements: Principal / NotPrincipal / Action / Resource", "Condition operators",
// "Conditions with multiple context keys or values", "Multivalued context key examples", "Variables and tags") and
// the Amazon ECR User Guide ("Private repository policy examples", "Repository policies vs IAM policies").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy } from '../../src/auth/policy/document.ts';
import { evaluate, type Decision, type RequestContext } from '../../src/auth/policy/evaluate.ts';

const A = '111122223333'; // the registry's own account
const B = '444455556666'; // another account
const C = '777788889999'; // a third account

type Who = RequestContext['principal'];
const root = (account: string): Who => ({ kind: 'root', accountId: account, arn: `arn:aws:iam::${account}:root` });
const user = (account: string, name: string, path = ''): Who => ({
  kind: 'user',
  accountId: account,
  arn: `arn:aws:iam::${account}:user/${path}${name}`,
  userName: name,
});
const ANON: Who = { kind: 'anonymous', accountId: A, arn: '*' };
const userArn = (account: string, name: string) => `arn:aws:iam::${account}:user/${name}`;
const rootArn = (account: string) => `arn:aws:iam::${account}:root`;
const repo = (name: string, account = A, region = 'us-east-1') => `arn:aws:ecr:${region}:${account}:repository/${name}`;
const REPO = repo('app');

type Doc = Record<string, unknown>;
type Stmt = Record<string, unknown>;
const policy = (...Statement: Stmt[]): Doc => ({ Version: '2012-10-17', Statement });
const allow = (Action: string | string[], Resource: string | string[] = '*', extra: Stmt = {}): Stmt => ({
  Effect: 'Allow',
  Action,
  Resource,
  ...extra,
});
const deny = (Action: string | string[], Resource: string | string[] = '*', extra: Stmt = {}): Stmt => ({
  Effect: 'Deny',
  Action,
  Resource,
  ...extra,
});
/** A repository-policy statement (no Resource: it covers the repository it is attached to). */
const grant = (Principal: unknown, Action: string | string[], extra: Stmt = {}): Stmt => ({ Effect: 'Allow', Principal, Action, ...extra });
const refuse = (Principal: unknown, Action: string | string[], extra: Stmt = {}): Stmt => ({ Effect: 'Deny', Principal, Action, ...extra });

const PULL_ACTIONS = ['ecr:GetAuthorizationToken', 'ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'];
const ADMIN_ACTIONS = [
  'ecr:CreateRepository',
  'ecr:DeleteRepository',
  'ecr:DescribeRepositories',
  'ecr:PutLifecyclePolicy',
  'ecr:GetLifecyclePolicy',
  'ecr:DescribeImages',
  'ecr:GetAuthorizationToken',
  'ecr:TagResource',
];
const PUSH_ACTIONS = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:CompleteLayerUpload',
  'ecr:InitiateLayerUpload',
  'ecr:PutImage',
  'ecr:UploadLayerPart',
];
const PULL_ONLY = policy({ Sid: 'PullOnly', Effect: 'Allow', Action: PULL_ACTIONS, Resource: '*' });
const ADMIN = policy({ Sid: 'Admin', Effect: 'Allow', Action: ADMIN_ACTIONS, Resource: '*' });
const ALL_ECR = policy(allow('ecr:*'));

interface Case {
  name: string;
  who: Who;
  action: string;
  /** Resource ARN (default: repository "app" of account A). */
  on?: string;
  /** Owner account of the resource (default: the account in the ARN, else A). */
  owner?: string;
  idp?: Doc[];
  rp?: Doc;
  keys?: RequestContext['keys'];
  expect: Decision['effect'];
  /** Which statement decided: [policy name, statement index, Sid]. */
  by?: [string, number, string?];
}

const CI = user(A, 'ci');
const DEV = user(A, 'dev');

/** Condition cases: an identity policy allows ecr:BatchGetImage only under `condition`; Allow iff it holds. */
const when = (name: string, condition: Record<string, unknown>, keys: RequestContext['keys'], holds: boolean, who: Who = CI): Case => ({
  name,
  who,
  action: 'ecr:BatchGetImage',
  idp: [policy(allow('ecr:BatchGetImage', '*', { Condition: condition }))],
  keys,
  expect: holds ? 'Allow' : 'ImplicitDeny',
});
/** Deny-with-condition cases: ecr:* is allowed, and ecr:BatchGetImage is denied under `condition`. */
const denyWhen = (
  name: string,
  condition: Record<string, unknown>,
  keys: RequestContext['keys'],
  denied: boolean,
  who: Who = CI,
): Case => ({
  name,
  who,
  action: 'ecr:BatchGetImage',
  idp: [policy(allow('ecr:*'), deny('ecr:BatchGetImage', '*', { Condition: condition }))],
  keys,
  expect: denied ? 'ExplicitDeny' : 'Allow',
});

const NOW = '2024-05-01T00:00:00Z';

const CASES: Case[] = [
  // --- The canonical pull-only policy for CI (ECR identity-based policy examples; issue #4) ---------------------
  {
    name: 'pull-only: GetAuthorizationToken',
    who: CI,
    action: 'ecr:GetAuthorizationToken',
    on: '*',
    idp: [PULL_ONLY],
    expect: 'Allow',
    by: ['identity-0', 0, 'PullOnly'],
  },
  { name: 'pull-only: BatchCheckLayerAvailability', who: CI, action: 'ecr:BatchCheckLayerAvailability', idp: [PULL_ONLY], expect: 'Allow' },
  { name: 'pull-only: GetDownloadUrlForLayer', who: CI, action: 'ecr:GetDownloadUrlForLayer', idp: [PULL_ONLY], expect: 'Allow' },
  { name: 'pull-only: BatchGetImage', who: CI, action: 'ecr:BatchGetImage', idp: [PULL_ONLY], expect: 'Allow' },
  {
    name: 'pull-only: BatchGetImage on another repository of the account',
    who: CI,
    action: 'ecr:BatchGetImage',
    on: repo('team/api'),
    idp: [PULL_ONLY],
    expect: 'Allow',
  },
  {
    name: 'pull-only: InitiateLayerUpload is not granted',
    who: CI,
    action: 'ecr:InitiateLayerUpload',
    idp: [PULL_ONLY],
    expect: 'ImplicitDeny',
  },
  { name: 'pull-only: UploadLayerPart is not granted', who: CI, action: 'ecr:UploadLayerPart', idp: [PULL_ONLY], expect: 'ImplicitDeny' },
  {
    name: 'pull-only: CompleteLayerUpload is not granted',
    who: CI,
    action: 'ecr:CompleteLayerUpload',
    idp: [PULL_ONLY],
    expect: 'ImplicitDeny',
  },
  { name: 'pull-only: PutImage is not granted', who: CI, action: 'ecr:PutImage', idp: [PULL_ONLY], expect: 'ImplicitDeny' },
  {
    name: 'pull-only: CreateRepository is not granted',
    who: CI,
    action: 'ecr:CreateRepository',
    on: repo('new'),
    idp: [PULL_ONLY],
    expect: 'ImplicitDeny',
  },
  { name: 'pull-only: DeleteRepository is not granted', who: CI, action: 'ecr:DeleteRepository', idp: [PULL_ONLY], expect: 'ImplicitDeny' },
  {
    name: 'pull-only: DescribeRepositories is not granted',
    who: CI,
    action: 'ecr:DescribeRepositories',
    idp: [PULL_ONLY],
    expect: 'ImplicitDeny',
  },
  {
    name: "pull-only: another account's repository needs that account's repository policy",
    who: CI,
    action: 'ecr:BatchGetImage',
    on: repo('app', B),
    idp: [PULL_ONLY],
    expect: 'ImplicitDeny',
  },
  { name: 'a user without policies cannot pull', who: CI, action: 'ecr:BatchGetImage', expect: 'ImplicitDeny' },
  {
    name: 'a user without policies cannot get an authorization token',
    who: CI,
    action: 'ecr:GetAuthorizationToken',
    on: '*',
    expect: 'ImplicitDeny',
  },

  // --- The canonical administration policy ------------------------------------------------------------------
  ...ADMIN_ACTIONS.map(
    (action): Case => ({
      name: `admin: ${action}`,
      who: user(A, 'admin'),
      action,
      idp: [ADMIN],
      expect: 'Allow',
      by: ['identity-0', 0, 'Admin'],
    }),
  ),
  { name: 'admin: cannot push (PutImage)', who: user(A, 'admin'), action: 'ecr:PutImage', idp: [ADMIN], expect: 'ImplicitDeny' },
  {
    name: 'admin: cannot push (InitiateLayerUpload)',
    who: user(A, 'admin'),
    action: 'ecr:InitiateLayerUpload',
    idp: [ADMIN],
    expect: 'ImplicitDeny',
  },
  { name: 'admin: cannot pull (BatchGetImage)', who: user(A, 'admin'), action: 'ecr:BatchGetImage', idp: [ADMIN], expect: 'ImplicitDeny' },
  {
    name: 'admin: cannot SetRepositoryPolicy',
    who: user(A, 'admin'),
    action: 'ecr:SetRepositoryPolicy',
    idp: [ADMIN],
    expect: 'ImplicitDeny',
  },
  {
    name: 'admin + pull-only: identity policies add up (pull)',
    who: user(A, 'admin'),
    action: 'ecr:BatchGetImage',
    idp: [ADMIN, PULL_ONLY],
    expect: 'Allow',
    by: ['identity-1', 0, 'PullOnly'],
  },
  {
    name: 'admin + pull-only: still no push',
    who: user(A, 'admin'),
    action: 'ecr:PutImage',
    idp: [ADMIN, PULL_ONLY],
    expect: 'ImplicitDeny',
  },

  // --- Action: "Action names can include wildcards"; actions are not case-sensitive -------------------------------
  { name: 'Action ecr:* covers PutImage', who: DEV, action: 'ecr:PutImage', idp: [policy(allow('ecr:*'))], expect: 'Allow' },
  { name: 'Action * covers PutImage', who: DEV, action: 'ecr:PutImage', idp: [policy(allow('*'))], expect: 'Allow' },
  {
    name: 'Action ecr:Batch* covers BatchGetImage',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [policy(allow('ecr:Batch*'))],
    expect: 'Allow',
  },
  {
    name: 'Action ecr:Batch* covers BatchCheckLayerAvailability',
    who: DEV,
    action: 'ecr:BatchCheckLayerAvailability',
    idp: [policy(allow('ecr:Batch*'))],
    expect: 'Allow',
  },
  {
    name: 'Action ecr:Batch* does not cover PutImage',
    who: DEV,
    action: 'ecr:PutImage',
    idp: [policy(allow('ecr:Batch*'))],
    expect: 'ImplicitDeny',
  },
  { name: 'Action ecr:*Image covers PutImage', who: DEV, action: 'ecr:PutImage', idp: [policy(allow('ecr:*Image'))], expect: 'Allow' },
  {
    name: 'Action ecr:*Image does not cover ListImages',
    who: DEV,
    action: 'ecr:ListImages',
    idp: [policy(allow('ecr:*Image'))],
    expect: 'ImplicitDeny',
  },
  {
    name: 'Action ecr:Get* covers GetDownloadUrlForLayer',
    who: DEV,
    action: 'ecr:GetDownloadUrlForLayer',
    idp: [policy(allow('ecr:Get*'))],
    expect: 'Allow',
  },
  {
    name: 'Action ecr:Get* does not cover BatchGetImage (anchored)',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [policy(allow('ecr:Get*'))],
    expect: 'ImplicitDeny',
  },
  {
    name: 'Action ? matches one character',
    who: DEV,
    action: 'ecr:GetAuthorizationToken',
    on: '*',
    idp: [policy(allow('ecr:?etAuthorizationToken'))],
    expect: 'Allow',
  },
  {
    name: 'Action ? does not match a different letter',
    who: DEV,
    action: 'ecr:PutImage',
    idp: [policy(allow('ecr:?etImage'))],
    expect: 'ImplicitDeny',
  },
  {
    name: 'Action ? does not match nothing',
    who: DEV,
    action: 'ecr:PutImage',
    idp: [policy(allow('ecr:?PutImage'))],
    expect: 'ImplicitDeny',
  },
  {
    name: 'Action in the policy is case-insensitive',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [policy(allow('ECR:batchgetimage'))],
    expect: 'Allow',
  },
  {
    name: 'Action in the request is case-insensitive',
    who: DEV,
    action: 'ECR:BATCHGETIMAGE',
    idp: [policy(allow('ecr:BatchGetImage'))],
    expect: 'Allow',
  },
  {
    name: 'Action of another service does not match',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [policy(allow('s3:*'))],
    expect: 'ImplicitDeny',
  },
  {
    name: 'one of several listed actions matches',
    who: DEV,
    action: 'ecr:ListImages',
    idp: [policy(allow(['ecr:PutImage', 'ecr:ListImages']))],
    expect: 'Allow',
  },

  // --- NotAction: the statement covers every action except those listed ---------------------------------------------
  {
    name: 'Allow NotAction ecr:Delete* allows CreateRepository',
    who: DEV,
    action: 'ecr:CreateRepository',
    idp: [policy({ Effect: 'Allow', NotAction: 'ecr:Delete*', Resource: '*' })],
    expect: 'Allow',
  },
  {
    name: 'Allow NotAction ecr:Delete* does not allow DeleteRepository',
    who: DEV,
    action: 'ecr:DeleteRepository',
    idp: [policy({ Effect: 'Allow', NotAction: 'ecr:Delete*', Resource: '*' })],
    expect: 'ImplicitDeny',
  },
  {
    name: 'Allow NotAction ecr:Delete* does not allow DeleteLifecyclePolicy',
    who: DEV,
    action: 'ecr:DeleteLifecyclePolicy',
    idp: [policy({ Effect: 'Allow', NotAction: 'ecr:Delete*', Resource: '*' })],
    expect: 'ImplicitDeny',
  },
  {
    name: 'Deny NotAction (pull) denies PutImage',
    who: DEV,
    action: 'ecr:PutImage',
    idp: [policy(allow('ecr:*'), { Effect: 'Deny', NotAction: PULL_ACTIONS, Resource: '*' })],
    expect: 'ExplicitDeny',
    by: ['identity-0', 1],
  },
  {
    name: 'Deny NotAction (pull) leaves BatchGetImage allowed',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [policy(allow('ecr:*'), { Effect: 'Deny', NotAction: PULL_ACTIONS, Resource: '*' })],
    expect: 'Allow',
    by: ['identity-0', 0],
  },
  {
    name: 'Allow NotAction ecr:* does not allow an ECR action',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [policy({ Effect: 'Allow', NotAction: 'ecr:*', Resource: '*' })],
    expect: 'ImplicitDeny',
  },
  {
    name: 'Allow NotAction ecr:* allows another service',
    who: DEV,
    action: 's3:GetObject',
    on: 'arn:aws:s3:::bucket/key',
    idp: [policy({ Effect: 'Allow', NotAction: 'ecr:*', Resource: '*' })],
    expect: 'Allow',
  },
  {
    name: 'NotAction is case-insensitive too',
    who: DEV,
    action: 'ecr:DeleteRepository',
    idp: [policy({ Effect: 'Allow', NotAction: 'ECR:DELETE*', Resource: '*' })],
    expect: 'ImplicitDeny',
  },

  // --- Resource: ARNs with * and ? wildcards, case-sensitive -----------------------------------------------------------
  {
    name: 'Resource: exact repository ARN',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [policy(allow('ecr:BatchGetImage', REPO))],
    expect: 'Allow',
  },
  {
    name: 'Resource: exact ARN of another repository',
    who: DEV,
    action: 'ecr:BatchGetImage',
    on: repo('other'),
    idp: [policy(allow('ecr:BatchGetImage', REPO))],
    expect: 'ImplicitDeny',
  },
  {
    name: 'Resource: repository/* covers a namespaced repository',
    who: DEV,
    action: 'ecr:BatchGetImage',
    on: repo('team/api'),
    idp: [policy(allow('ecr:BatchGetImage', repo('*')))],
    expect: 'Allow',
  },
  {
    name: 'Resource: repository/app* covers app-v2',
    who: DEV,
    action: 'ecr:BatchGetImage',
    on: repo('app-v2'),
    idp: [policy(allow('ecr:BatchGetImage', repo('app*')))],
    expect: 'Allow',
  },
  {
    name: 'Resource: repository/app* covers app itself',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [policy(allow('ecr:BatchGetImage', repo('app*')))],
    expect: 'Allow',
  },
  {
    name: 'Resource: repository/app* does not cover web',
    who: DEV,
    action: 'ecr:BatchGetImage',
    on: repo('web'),
    idp: [policy(allow('ecr:BatchGetImage', repo('app*')))],
    expect: 'ImplicitDeny',
  },
  {
    name: 'Resource: ? matches one character (app1)',
    who: DEV,
    action: 'ecr:BatchGetImage',
    on: repo('app1'),
    idp: [policy(allow('ecr:BatchGetImage', repo('app?')))],
    expect: 'Allow',
  },
  {
    name: 'Resource: ? needs a character (app)',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [policy(allow('ecr:BatchGetImage', repo('app?')))],
    expect: 'ImplicitDeny',
  },
  {
    name: 'Resource: ? matches only one character (app12)',
    who: DEV,
    action: 'ecr:BatchGetImage',
    on: repo('app12'),
    idp: [policy(allow('ecr:BatchGetImage', repo('app?')))],
    expect: 'ImplicitDeny',
  },
  {
    name: 'Resource: ARNs are case-sensitive',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [policy(allow('ecr:BatchGetImage', repo('App')))],
    expect: 'ImplicitDeny',
  },
  {
    name: 'Resource: region wildcard',
    who: DEV,
    action: 'ecr:BatchGetImage',
    on: repo('app', A, 'eu-west-1'),
    idp: [policy(allow('ecr:BatchGetImage', `arn:aws:ecr:*:${A}:repository/app`))],
    expect: 'Allow',
  },
  {
    name: 'Resource: account wildcard',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [policy(allow('ecr:BatchGetImage', 'arn:aws:ecr:us-east-1:*:repository/app'))],
    expect: 'Allow',
  },
  {
    name: 'Resource: another region does not match',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [policy(allow('ecr:BatchGetImage', repo('app', A, 'us-west-2')))],
    expect: 'ImplicitDeny',
  },
  {
    name: 'Resource: a trailing * expands beyond the segment',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [policy(allow('ecr:BatchGetImage', `arn:aws:ecr:us-east-1:${A}:*`))],
    expect: 'Allow',
  },
  {
    name: 'Resource: namespace prefix team/*',
    who: DEV,
    action: 'ecr:BatchGetImage',
    on: repo('team/api'),
    idp: [policy(allow('ecr:BatchGetImage', repo('team/*')))],
    expect: 'Allow',
  },
  {
    name: 'Resource: namespace prefix team/* does not cover teamx/api',
    who: DEV,
    action: 'ecr:BatchGetImage',
    on: repo('teamx/api'),
    idp: [policy(allow('ecr:BatchGetImage', repo('team/*')))],
    expect: 'ImplicitDeny',
  },
  {
    name: 'Resource: the second of two listed ARNs matches',
    who: DEV,
    action: 'ecr:BatchGetImage',
    on: repo('web'),
    idp: [policy(allow('ecr:BatchGetImage', [REPO, repo('web')]))],
    expect: 'Allow',
  },
  {
    name: 'NotResource: covers every other repository',
    who: DEV,
    action: 'ecr:BatchGetImage',
    on: repo('other'),
    idp: [policy({ Effect: 'Allow', Action: 'ecr:BatchGetImage', NotResource: REPO })],
    expect: 'Allow',
  },
  {
    name: 'NotResource: excludes the listed repository',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [policy({ Effect: 'Allow', Action: 'ecr:BatchGetImage', NotResource: REPO })],
    expect: 'ImplicitDeny',
  },
  {
    name: 'Deny on prod-* repositories',
    who: DEV,
    action: 'ecr:PutImage',
    on: repo('prod-api'),
    idp: [policy(allow('ecr:*'), deny('ecr:PutImage', repo('prod-*')))],
    expect: 'ExplicitDeny',
  },
  {
    name: 'Deny on prod-* leaves dev-api allowed',
    who: DEV,
    action: 'ecr:PutImage',
    on: repo('dev-api'),
    idp: [policy(allow('ecr:*'), deny('ecr:PutImage', repo('prod-*')))],
    expect: 'Allow',
  },

  // --- "An explicit deny in any of the policies overrides the allow" ----------------------------------------------------
  {
    name: 'identity Deny overrides identity Allow in the same policy',
    who: DEV,
    action: 'ecr:DeleteRepository',
    idp: [policy(allow('ecr:*'), deny('ecr:DeleteRepository'))],
    expect: 'ExplicitDeny',
    by: ['identity-0', 1],
  },
  {
    name: 'an unrelated identity Deny leaves the Allow',
    who: DEV,
    action: 'ecr:CreateRepository',
    idp: [policy(allow('ecr:*'), deny('ecr:DeleteRepository'))],
    expect: 'Allow',
  },
  {
    name: 'a Deny in a second identity policy overrides',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [PULL_ONLY, policy({ Sid: 'NoPull', ...deny('ecr:BatchGetImage') })],
    expect: 'ExplicitDeny',
    by: ['identity-1', 0, 'NoPull'],
  },
  {
    name: 'a repository-policy Deny overrides an identity Allow',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [PULL_ONLY],
    rp: policy({ Sid: 'DenyPull', ...refuse('*', 'ecr:BatchGetImage') }),
    expect: 'ExplicitDeny',
    by: ['repository', 0, 'DenyPull'],
  },
  {
    name: 'an identity Deny overrides a repository-policy Allow',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [policy(deny('ecr:BatchGetImage'))],
    rp: policy(grant({ AWS: DEV.arn }, 'ecr:BatchGetImage')),
    expect: 'ExplicitDeny',
    by: ['identity-0', 0],
  },
  {
    name: 'Deny and Allow for the same user in one repository policy',
    who: DEV,
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: DEV.arn }, 'ecr:*'), refuse({ AWS: DEV.arn }, 'ecr:BatchGetImage')),
    expect: 'ExplicitDeny',
    by: ['repository', 1],
  },
  {
    name: 'the root user is subject to a repository-policy Deny for "*"',
    who: root(A),
    action: 'ecr:DeleteRepository',
    rp: policy(refuse('*', 'ecr:DeleteRepository')),
    expect: 'ExplicitDeny',
  },
  {
    name: 'the root user is subject to a Deny naming its account id',
    who: root(A),
    action: 'ecr:BatchGetImage',
    rp: policy(refuse({ AWS: A }, 'ecr:BatchGetImage')),
    expect: 'ExplicitDeny',
  },
  {
    name: "a Deny naming the account root ARN applies to the account's users",
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [PULL_ONLY],
    rp: policy(refuse({ AWS: rootArn(A) }, 'ecr:BatchGetImage')),
    expect: 'ExplicitDeny',
  },
  {
    name: 'a Deny naming another user does not apply',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [PULL_ONLY],
    rp: policy(refuse({ AWS: userArn(A, 'intern') }, 'ecr:BatchGetImage')),
    expect: 'Allow',
  },
  {
    name: 'a Deny naming another account does not apply',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [PULL_ONLY],
    rp: policy(refuse({ AWS: B }, 'ecr:BatchGetImage')),
    expect: 'Allow',
  },
  {
    name: 'Deny ecr:* overrides Allow *',
    who: DEV,
    action: 'ecr:GetAuthorizationToken',
    on: '*',
    idp: [policy(allow('*'), deny('ecr:*'))],
    expect: 'ExplicitDeny',
  },
  {
    name: 'a Deny for another action does not apply',
    who: DEV,
    action: 'ecr:GetAuthorizationToken',
    on: '*',
    idp: [policy(allow('*'), deny('ecr:Delete*'))],
    expect: 'Allow',
  },

  // --- Same account: "If an action is allowed by an identity-based policy, a resource-based policy, or both, then AWS
  //     allows the action"; "Within the same account, resource-based policies that grant permissions to an IAM user
  //     ARN ... are not limited by an implicit deny in an identity-based policy"; an account principal "delegates
  //     authority to the account", so the account's users still need an identity-based Allow -----------------------
  {
    name: 'same account: repository policy naming the user allows without identity policy',
    who: DEV,
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: DEV.arn }, ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'])),
    expect: 'Allow',
    by: ['repository', 0],
  },
  {
    name: 'same account: repository policy naming the account (root ARN) delegates to IAM',
    who: DEV,
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: rootArn(A) }, 'ecr:BatchGetImage')),
    expect: 'ImplicitDeny',
  },
  {
    name: 'same account: repository policy naming the account id delegates to IAM',
    who: DEV,
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: A }, 'ecr:BatchGetImage')),
    expect: 'ImplicitDeny',
  },
  {
    name: 'same account: account grant plus identity Allow',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [PULL_ONLY],
    rp: policy(grant({ AWS: A }, 'ecr:BatchGetImage')),
    expect: 'Allow',
    by: ['identity-0', 0, 'PullOnly'],
  },
  { name: 'same account: identity Allow alone', who: DEV, action: 'ecr:BatchGetImage', idp: [PULL_ONLY], expect: 'Allow' },
  {
    name: 'same account: identity Allow, repository policy silent on the action',
    who: DEV,
    action: 'ecr:BatchGetImage',
    idp: [PULL_ONLY],
    rp: policy(grant({ AWS: userArn(A, 'other') }, 'ecr:PutImage')),
    expect: 'Allow',
  },
  { name: 'same account: root user without any policy (full access)', who: root(A), action: 'ecr:DeleteRepository', expect: 'Allow' },
  {
    name: 'same account: root user, repository policy naming only another user',
    who: root(A),
    action: 'ecr:PutImage',
    rp: policy(grant({ AWS: userArn(A, 'pusher') }, 'ecr:PutImage')),
    expect: 'Allow',
  },
  {
    name: 'same account: root user may get an authorization token',
    who: root(A),
    action: 'ecr:GetAuthorizationToken',
    on: '*',
    expect: 'Allow',
  },
  {
    name: 'same account: repository policy naming another user',
    who: DEV,
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: userArn(A, 'other') }, 'ecr:BatchGetImage')),
    expect: 'ImplicitDeny',
  },
  {
    name: 'same account: repository policy for "*" allows an authenticated user',
    who: DEV,
    action: 'ecr:BatchGetImage',
    rp: policy(grant('*', 'ecr:BatchGetImage')),
    expect: 'Allow',
  },
  {
    name: 'same account: repository policy for {"AWS": "*"} allows an authenticated user',
    who: DEV,
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: '*' }, 'ecr:BatchGetImage')),
    expect: 'Allow',
  },
  {
    name: 'same account: repository policy names the user for another action',
    who: DEV,
    action: 'ecr:PutImage',
    rp: policy(grant({ AWS: DEV.arn }, 'ecr:BatchGetImage')),
    expect: 'ImplicitDeny',
  },
  {
    name: 'same account: repository policy with Resource of another repository does not apply',
    who: DEV,
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: DEV.arn }, 'ecr:BatchGetImage', { Resource: repo('other') })),
    expect: 'ImplicitDeny',
  },
  {
    name: 'same account: repository policy with its own Resource applies',
    who: DEV,
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: DEV.arn }, 'ecr:BatchGetImage', { Resource: REPO })),
    expect: 'Allow',
  },

  // --- ECR "Private repository policy examples" ---------------------------------------------------------------------
  ...((): Case[] => {
    const pushPull = policy({
      Sid: 'AllowPushPull',
      Effect: 'Allow',
      Principal: { AWS: [userArn(A, 'push-pull-user-1'), userArn(A, 'push-pull-user-2')] },
      Action: [
        'ecr:BatchGetImage',
        'ecr:BatchCheckLayerAvailability',
        'ecr:CompleteLayerUpload',
        'ecr:GetDownloadUrlForLayer',
        'ecr:InitiateLayerUpload',
        'ecr:PutImage',
        'ecr:UploadLayerPart',
      ],
    });
    const pullAndAdmin = policy(
      {
        Sid: 'AllowPull',
        Effect: 'Allow',
        Principal: { AWS: [userArn(A, 'pull-user-1'), userArn(A, 'pull-user-2')] },
        Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
      },
      { Sid: 'AllowAll', Effect: 'Allow', Principal: { AWS: userArn(A, 'admin-user') }, Action: ['ecr:*'] },
    );
    const denyAll = policy({
      Sid: 'DenyPull',
      Effect: 'Deny',
      Principal: '*',
      Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
    });
    const ipRestrict = {
      Version: '2012-10-17',
      Id: 'ECRPolicyId1',
      Statement: [
        {
          Sid: 'IPAllow',
          Effect: 'Deny',
          Principal: '*',
          Action: 'ecr:*',
          Condition: { NotIpAddress: { 'aws:SourceIp': '54.240.143.0/24' } },
        },
      ],
    };
    return [
      {
        name: 'ECR example "Allow one or more users": push-pull-user-1 pushes',
        who: user(A, 'push-pull-user-1'),
        action: 'ecr:PutImage',
        rp: pushPull,
        expect: 'Allow',
        by: ['repository', 0, 'AllowPushPull'],
      },
      {
        name: 'ECR example "Allow one or more users": push-pull-user-2 starts an upload',
        who: user(A, 'push-pull-user-2'),
        action: 'ecr:InitiateLayerUpload',
        rp: pushPull,
        expect: 'Allow',
      },
      {
        name: 'ECR example "Allow one or more users": push-pull-user-1 cannot delete',
        who: user(A, 'push-pull-user-1'),
        action: 'ecr:DeleteRepository',
        rp: pushPull,
        expect: 'ImplicitDeny',
      },
      {
        name: 'ECR example "Allow one or more users": an unlisted user cannot pull',
        who: user(A, 'push-pull-user-3'),
        action: 'ecr:BatchGetImage',
        rp: pushPull,
        expect: 'ImplicitDeny',
      },
      {
        name: 'ECR example "AllowPull/AllowAll": pull-user-1 pulls',
        who: user(A, 'pull-user-1'),
        action: 'ecr:BatchGetImage',
        rp: pullAndAdmin,
        expect: 'Allow',
        by: ['repository', 0, 'AllowPull'],
      },
      {
        name: 'ECR example "AllowPull/AllowAll": pull-user-2 downloads a layer',
        who: user(A, 'pull-user-2'),
        action: 'ecr:GetDownloadUrlForLayer',
        rp: pullAndAdmin,
        expect: 'Allow',
      },
      {
        name: 'ECR example "AllowPull/AllowAll": pull-user-1 cannot push',
        who: user(A, 'pull-user-1'),
        action: 'ecr:PutImage',
        rp: pullAndAdmin,
        expect: 'ImplicitDeny',
      },
      {
        name: 'ECR example "AllowPull/AllowAll": admin-user pushes',
        who: user(A, 'admin-user'),
        action: 'ecr:PutImage',
        rp: pullAndAdmin,
        expect: 'Allow',
        by: ['repository', 1, 'AllowAll'],
      },
      {
        name: 'ECR example "AllowPull/AllowAll": admin-user deletes the repository',
        who: user(A, 'admin-user'),
        action: 'ecr:DeleteRepository',
        rp: pullAndAdmin,
        expect: 'Allow',
      },
      {
        name: 'ECR example "Deny all": a user with ecr:* cannot pull',
        who: DEV,
        action: 'ecr:BatchGetImage',
        idp: [ALL_ECR],
        rp: denyAll,
        expect: 'ExplicitDeny',
        by: ['repository', 0, 'DenyPull'],
      },
      {
        name: 'ECR example "Deny all": the root user cannot pull',
        who: root(A),
        action: 'ecr:GetDownloadUrlForLayer',
        rp: denyAll,
        expect: 'ExplicitDeny',
      },
      {
        name: 'ECR example "Deny all": other actions stay allowed',
        who: DEV,
        action: 'ecr:DescribeImages',
        idp: [ALL_ECR],
        rp: denyAll,
        expect: 'Allow',
      },
      {
        name: 'ECR example "Deny all": another account cannot pull either',
        who: user(B, 'ci'),
        action: 'ecr:BatchGetImage',
        idp: [ALL_ECR],
        rp: policy(grant({ AWS: B }, 'ecr:BatchGetImage'), ...(denyAll.Statement as Stmt[])),
        expect: 'ExplicitDeny',
      },
      {
        name: 'ECR example IP restriction: inside 54.240.143.0/24',
        who: DEV,
        action: 'ecr:PutImage',
        idp: [ALL_ECR],
        rp: ipRestrict,
        keys: { 'aws:SourceIp': '54.240.143.10' },
        expect: 'Allow',
      },
      {
        name: 'ECR example IP restriction: outside the range',
        who: DEV,
        action: 'ecr:PutImage',
        idp: [ALL_ECR],
        rp: ipRestrict,
        keys: { 'aws:SourceIp': '192.0.2.10' },
        expect: 'ExplicitDeny',
        by: ['repository', 0, 'IPAllow'],
      },
      {
        name: 'ECR example IP restriction: applies to the root user',
        who: root(A),
        action: 'ecr:DeleteRepository',
        rp: ipRestrict,
        keys: { 'aws:SourceIp': '192.0.2.10' },
        expect: 'ExplicitDeny',
      },
      {
        name: 'ECR example IP restriction: no source address (NotIpAddress, key absent: true)',
        who: DEV,
        action: 'ecr:PutImage',
        idp: [ALL_ECR],
        rp: ipRestrict,
        expect: 'ExplicitDeny',
      },
    ];
  })(),

  // --- Cross-account: "the identity-based policy must allow ... AND the resource-based policy ... must specify the
  //     principal of the trusted account" ---------------------------------------------------------------------------
  {
    name: "cross-account: repository policy grants the account (root ARN) and the user's policy allows",
    who: user(B, 'ci'),
    action: 'ecr:BatchGetImage',
    idp: [PULL_ONLY],
    rp: policy({ Sid: 'AllowCrossAccountPull', ...grant({ AWS: rootArn(B) }, ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']) }),
    expect: 'Allow',
    by: ['repository', 0, 'AllowCrossAccountPull'],
  },
  {
    name: 'cross-account: repository policy grants the account id',
    who: user(B, 'ci'),
    action: 'ecr:GetDownloadUrlForLayer',
    idp: [PULL_ONLY],
    rp: policy(grant({ AWS: B }, ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'])),
    expect: 'Allow',
  },
  {
    name: 'cross-account: repository policy grants, user has no identity policy',
    who: user(B, 'ci'),
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: B }, 'ecr:BatchGetImage')),
    expect: 'ImplicitDeny',
  },
  {
    name: 'cross-account: identity policy allows, no repository policy',
    who: user(B, 'ci'),
    action: 'ecr:BatchGetImage',
    idp: [PULL_ONLY],
    expect: 'ImplicitDeny',
  },
  {
    name: 'cross-account: repository policy grants a third account',
    who: user(B, 'ci'),
    action: 'ecr:BatchGetImage',
    idp: [PULL_ONLY],
    rp: policy(grant({ AWS: C }, 'ecr:BatchGetImage')),
    expect: 'ImplicitDeny',
  },
  {
    name: 'cross-account: repository policy grants the user directly, identity allows',
    who: user(B, 'ci'),
    action: 'ecr:BatchGetImage',
    idp: [PULL_ONLY],
    rp: policy(grant({ AWS: userArn(B, 'ci') }, 'ecr:BatchGetImage')),
    expect: 'Allow',
  },
  {
    name: 'cross-account: repository policy grants the user directly, no identity policy',
    who: user(B, 'ci'),
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: userArn(B, 'ci') }, 'ecr:BatchGetImage')),
    expect: 'ImplicitDeny',
  },
  {
    name: 'cross-account: repository policy grants another user of that account',
    who: user(B, 'ci'),
    action: 'ecr:BatchGetImage',
    idp: [PULL_ONLY],
    rp: policy(grant({ AWS: userArn(B, 'deploy') }, 'ecr:BatchGetImage')),
    expect: 'ImplicitDeny',
  },
  {
    name: "cross-account: the other account's root with a grant to its account",
    who: root(B),
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: rootArn(B) }, 'ecr:BatchGetImage')),
    expect: 'Allow',
  },
  {
    name: "cross-account: the other account's root with a grant to its account id",
    who: root(B),
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: B }, 'ecr:BatchGetImage')),
    expect: 'Allow',
  },
  {
    name: "cross-account: the other account's root without a repository policy",
    who: root(B),
    action: 'ecr:BatchGetImage',
    expect: 'ImplicitDeny',
  },
  {
    name: "cross-account: the other account's root when only one of its users is named",
    who: root(B),
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: userArn(B, 'ci') }, 'ecr:BatchGetImage')),
    expect: 'ImplicitDeny',
  },
  {
    name: 'cross-account: repository policy for "*" and identity Allow',
    who: user(B, 'ci'),
    action: 'ecr:BatchGetImage',
    idp: [PULL_ONLY],
    rp: policy(grant('*', 'ecr:BatchGetImage')),
    expect: 'Allow',
  },
  {
    name: 'cross-account: repository policy for "*" without identity Allow',
    who: user(B, 'ci'),
    action: 'ecr:BatchGetImage',
    rp: policy(grant('*', 'ecr:BatchGetImage')),
    expect: 'ImplicitDeny',
  },
  {
    name: 'cross-account: identity policy names the repository ARN',
    who: user(B, 'ci'),
    action: 'ecr:BatchGetImage',
    idp: [policy(allow('ecr:BatchGetImage', REPO))],
    rp: policy(grant({ AWS: B }, 'ecr:BatchGetImage')),
    expect: 'Allow',
  },
  {
    name: 'cross-account: identity policy names a different repository',
    who: user(B, 'ci'),
    action: 'ecr:BatchGetImage',
    idp: [policy(allow('ecr:BatchGetImage', repo('other')))],
    rp: policy(grant({ AWS: B }, 'ecr:BatchGetImage')),
    expect: 'ImplicitDeny',
  },
  {
    name: 'cross-account: ECR example AllowCrossAccountPush, push',
    who: user(B, 'ci'),
    action: 'ecr:PutImage',
    idp: [ALL_ECR],
    rp: policy({ Sid: 'AllowCrossAccountPush', Effect: 'Allow', Principal: { AWS: rootArn(B) }, Action: PUSH_ACTIONS }),
    expect: 'Allow',
    by: ['repository', 0, 'AllowCrossAccountPush'],
  },
  {
    name: 'cross-account: ECR example AllowCrossAccountPush, pull is not granted',
    who: user(B, 'ci'),
    action: 'ecr:BatchGetImage',
    idp: [ALL_ECR],
    rp: policy({ Sid: 'AllowCrossAccountPush', Effect: 'Allow', Principal: { AWS: rootArn(B) }, Action: PUSH_ACTIONS }),
    expect: 'ImplicitDeny',
  },
  {
    name: "cross-account: a Deny in the caller's identity policy wins",
    who: user(B, 'ci'),
    action: 'ecr:BatchGetImage',
    idp: [PULL_ONLY, policy(deny('ecr:*', repo('*', A)))],
    rp: policy(grant({ AWS: B }, 'ecr:BatchGetImage')),
    expect: 'ExplicitDeny',
    by: ['identity-1', 0],
  },
  {
    name: 'cross-account: a Deny for the account in the repository policy wins',
    who: user(B, 'ci'),
    action: 'ecr:BatchGetImage',
    idp: [PULL_ONLY],
    rp: policy(grant('*', 'ecr:BatchGetImage'), refuse({ AWS: B }, 'ecr:BatchGetImage')),
    expect: 'ExplicitDeny',
    by: ['repository', 1],
  },
  {
    name: "cross-account: the registry account's root reaching into another account",
    who: root(A),
    action: 'ecr:BatchGetImage',
    on: repo('app', B),
    rp: policy(grant({ AWS: A }, 'ecr:BatchGetImage')),
    expect: 'Allow',
  },
  {
    name: 'cross-account: registry policy lets a source account replicate',
    who: root(B),
    action: 'ecr:ReplicateImage',
    on: repo('prod-api', A, 'us-west-2'),
    rp: policy({
      Sid: 'ReplicationAccessCrossAccount',
      Effect: 'Allow',
      Principal: { AWS: rootArn(B) },
      Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'],
      Resource: [`arn:aws:ecr:us-west-2:${A}:repository/prod-*`],
    }),
    expect: 'Allow',
  },
  {
    name: 'cross-account: registry policy limited to prod-* repositories',
    who: root(B),
    action: 'ecr:ReplicateImage',
    on: repo('dev-api', A, 'us-west-2'),
    rp: policy({
      Sid: 'ReplicationAccessCrossAccount',
      Effect: 'Allow',
      Principal: { AWS: rootArn(B) },
      Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'],
      Resource: [`arn:aws:ecr:us-west-2:${A}:repository/prod-*`],
    }),
    expect: 'ImplicitDeny',
  },

  // --- Anonymous: no identity side; only a resource-based Allow to "*" -------------------------------------------------
  {
    name: 'anonymous: repository policy Principal "*" allows a pull',
    who: ANON,
    action: 'ecr:BatchGetImage',
    rp: policy({ Sid: 'Public', ...grant('*', ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']) }),
    expect: 'Allow',
    by: ['repository', 0, 'Public'],
  },
  {
    name: 'anonymous: Principal "*" allows a layer download',
    who: ANON,
    action: 'ecr:GetDownloadUrlForLayer',
    rp: policy(grant('*', ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'])),
    expect: 'Allow',
  },
  {
    name: 'anonymous: Principal "*" for pull does not allow a push',
    who: ANON,
    action: 'ecr:PutImage',
    rp: policy(grant('*', ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'])),
    expect: 'ImplicitDeny',
  },
  {
    name: 'anonymous: {"AWS": "*"} allows a pull',
    who: ANON,
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: '*' }, 'ecr:BatchGetImage')),
    expect: 'Allow',
  },
  {
    name: 'anonymous: a grant to the account is not a grant to everyone',
    who: ANON,
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: A }, 'ecr:BatchGetImage')),
    expect: 'ImplicitDeny',
  },
  {
    name: 'anonymous: a grant to a user is not a grant to everyone',
    who: ANON,
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: DEV.arn }, 'ecr:BatchGetImage')),
    expect: 'ImplicitDeny',
  },
  { name: 'anonymous: no repository policy', who: ANON, action: 'ecr:BatchGetImage', expect: 'ImplicitDeny' },
  {
    name: 'anonymous: identity policies do not apply',
    who: ANON,
    action: 'ecr:BatchGetImage',
    idp: [policy(allow('*'))],
    expect: 'ImplicitDeny',
  },
  {
    name: 'anonymous: a Deny for "*" wins over the public grant',
    who: ANON,
    action: 'ecr:BatchGetImage',
    rp: policy(grant('*', 'ecr:BatchGetImage'), refuse('*', 'ecr:*', { Condition: { Bool: { 'aws:SecureTransport': 'false' } } })),
    keys: { 'aws:SecureTransport': false },
    expect: 'ExplicitDeny',
  },
  {
    name: 'anonymous: the same Deny does not apply over TLS',
    who: ANON,
    action: 'ecr:BatchGetImage',
    rp: policy(grant('*', 'ecr:BatchGetImage'), refuse('*', 'ecr:*', { Condition: { Bool: { 'aws:SecureTransport': 'false' } } })),
    keys: { 'aws:SecureTransport': true },
    expect: 'Allow',
  },
  {
    name: 'anonymous: public grant limited to an address range, inside',
    who: ANON,
    action: 'ecr:BatchGetImage',
    rp: policy(grant('*', 'ecr:BatchGetImage', { Condition: { IpAddress: { 'aws:SourceIp': '192.0.2.0/24' } } })),
    keys: { 'aws:SourceIp': '192.0.2.44' },
    expect: 'Allow',
  },
  {
    name: 'anonymous: public grant limited to an address range, outside',
    who: ANON,
    action: 'ecr:BatchGetImage',
    rp: policy(grant('*', 'ecr:BatchGetImage', { Condition: { IpAddress: { 'aws:SourceIp': '192.0.2.0/24' } } })),
    keys: { 'aws:SourceIp': '198.51.100.1' },
    expect: 'ImplicitDeny',
  },
  {
    name: 'anonymous: has no aws:PrincipalAccount (a condition on it is false)',
    who: ANON,
    action: 'ecr:BatchGetImage',
    rp: policy(grant('*', 'ecr:BatchGetImage', { Condition: { StringEquals: { 'aws:PrincipalAccount': A } } })),
    expect: 'ImplicitDeny',
  },
  {
    name: 'anonymous: aws:PrincipalType is Anonymous',
    who: ANON,
    action: 'ecr:BatchGetImage',
    rp: policy(
      grant('*', 'ecr:BatchGetImage'),
      refuse('*', 'ecr:BatchGetImage', { Condition: { StringEquals: { 'aws:PrincipalType': 'Anonymous' } } }),
    ),
    expect: 'ExplicitDeny',
  },

  // --- Principal matching: user ARNs are exact ("the user name part of the ARN is case sensitive"); a list is an OR ---
  {
    name: 'principal: user name is case-sensitive',
    who: CI,
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: userArn(A, 'CI') }, 'ecr:BatchGetImage')),
    expect: 'ImplicitDeny',
  },
  {
    name: 'principal: the second of two users matches',
    who: CI,
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: [userArn(A, 'deploy'), userArn(A, 'ci')] }, 'ecr:BatchGetImage')),
    expect: 'Allow',
  },
  {
    name: 'principal: an account and a user in one list',
    who: CI,
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: [rootArn(C), CI.arn] }, 'ecr:BatchGetImage')),
    expect: 'Allow',
  },
  {
    name: 'principal: a service principal does not name a user',
    who: CI,
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ Service: 'codebuild.amazonaws.com' }, 'ecr:BatchGetImage')),
    expect: 'ImplicitDeny',
  },
  {
    name: 'principal: a user with a path is named by its full ARN only',
    who: user(A, 'ci', 'ops/'),
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: userArn(A, 'ci') }, 'ecr:BatchGetImage')),
    expect: 'ImplicitDeny',
  },
  {
    name: 'principal: a user with a path, full ARN',
    who: user(A, 'ci', 'ops/'),
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: `arn:aws:iam::${A}:user/ops/ci` }, 'ecr:BatchGetImage')),
    expect: 'Allow',
  },
  {
    name: 'principal: a role ARN does not name a user',
    who: CI,
    action: 'ecr:BatchGetImage',
    rp: policy(grant({ AWS: `arn:aws:iam::${A}:role/ci` }, 'ecr:BatchGetImage')),
    expect: 'ImplicitDeny',
  },

  // --- NotPrincipal with Deny: "all principals except the one named ... are explicitly denied"; "you must also specify
  //     the account ARN of the not-denied principal. Otherwise, the policy might deny access to the entire account" ---
  ...((): Case[] => {
    const bob = user(B, 'Bob');
    const except = (ids: string[]) =>
      policy(grant('*', 'ecr:BatchGetImage'), { Sid: 'DenyAllButBob', Effect: 'Deny', NotPrincipal: { AWS: ids }, Action: 'ecr:*' });
    const bobAndAccount = except([userArn(B, 'Bob'), rootArn(B)]);
    return [
      {
        name: "NotPrincipal [Bob, Bob's account]: Bob is not denied",
        who: bob,
        action: 'ecr:BatchGetImage',
        idp: [PULL_ONLY],
        rp: bobAndAccount,
        expect: 'Allow',
      },
      {
        name: "NotPrincipal [Bob, Bob's account]: Alice of the same account is denied",
        who: user(B, 'Alice'),
        action: 'ecr:BatchGetImage',
        idp: [PULL_ONLY],
        rp: bobAndAccount,
        expect: 'ExplicitDeny',
        by: ['repository', 1, 'DenyAllButBob'],
      },
      {
        name: "NotPrincipal [Bob, Bob's account]: Bob's account root is not denied",
        who: root(B),
        action: 'ecr:BatchGetImage',
        rp: bobAndAccount,
        expect: 'Allow',
      },
      {
        name: "NotPrincipal [Bob, Bob's account]: the repository owner's root is denied",
        who: root(A),
        action: 'ecr:BatchGetImage',
        rp: bobAndAccount,
        expect: 'ExplicitDeny',
      },
      {
        name: "NotPrincipal [Bob, Bob's account]: a user of the owner account is denied",
        who: DEV,
        action: 'ecr:BatchGetImage',
        idp: [PULL_ONLY],
        rp: bobAndAccount,
        expect: 'ExplicitDeny',
      },
      {
        name: "NotPrincipal [Bob, Bob's account]: anonymous is denied",
        who: ANON,
        action: 'ecr:BatchGetImage',
        rp: bobAndAccount,
        expect: 'ExplicitDeny',
      },
      {
        name: "NotPrincipal [Bob, Bob's account]: an action outside the Deny",
        who: user(B, 'Alice'),
        action: 's3:GetObject',
        idp: [policy(allow('*'))],
        rp: bobAndAccount,
        expect: 'ImplicitDeny',
      },
      {
        name: 'NotPrincipal [Bob] without his account: Bob is denied with his account',
        who: bob,
        action: 'ecr:BatchGetImage',
        idp: [PULL_ONLY],
        rp: except([userArn(B, 'Bob')]),
        expect: 'ExplicitDeny',
      },
      {
        name: 'NotPrincipal [account]: the account root is not denied',
        who: root(B),
        action: 'ecr:BatchGetImage',
        rp: except([B]),
        expect: 'Allow',
      },
      {
        name: 'NotPrincipal [account]: a user of the account is still denied',
        who: bob,
        action: 'ecr:BatchGetImage',
        idp: [PULL_ONLY],
        rp: except([B]),
        expect: 'ExplicitDeny',
      },
      {
        name: 'NotPrincipal {"AWS": "*"} excludes everyone',
        who: bob,
        action: 'ecr:BatchGetImage',
        idp: [PULL_ONLY],
        rp: except(['*']),
        expect: 'Allow',
      },
    ];
  })(),

  // --- String condition operators -------------------------------------------------------------------------------------
  when('StringEquals aws:username (from the principal) matches', { StringEquals: { 'aws:username': 'ci' } }, {}, true),
  when('StringEquals aws:username of another user', { StringEquals: { 'aws:username': 'ci' } }, {}, false, user(A, 'deploy')),
  when('StringEquals is case-sensitive on values', { StringEquals: { 'aws:username': 'CI' } }, {}, false),
  when('condition key names are case-insensitive', { StringEquals: { 'AWS:UserName': 'ci' } }, {}, true),
  when(
    'condition key names are case-insensitive in the request too',
    { StringEquals: { 'aws:ResourceTag/team': 'infra' } },
    { 'AWS:RESOURCETAG/TEAM': 'infra' },
    true,
  ),
  when('StringEquals: several values are ORed', { StringEquals: { 'aws:username': ['deploy', 'ci'] } }, {}, true),
  when('StringEquals: none of several values', { StringEquals: { 'aws:username': ['deploy', 'release'] } }, {}, false),
  when('StringEquals: a missing key makes the condition false', { StringEquals: { 'aws:ResourceTag/team': 'infra' } }, {}, false),
  when('StringEquals on a resource tag', { StringEquals: { 'aws:ResourceTag/team': 'infra' } }, { 'aws:ResourceTag/team': 'infra' }, true),
  when(
    'StringEquals on a resource tag with another value',
    { StringEquals: { 'aws:ResourceTag/team': 'infra' } },
    { 'aws:ResourceTag/team': 'web' },
    false,
  ),
  when(
    'StringEquals treats * literally (no match)',
    { StringEquals: { 'ecr:ResourceTag/team': '*' } },
    { 'ecr:ResourceTag/team': 'infra' },
    false,
  ),
  when('StringEquals treats * literally (match)', { StringEquals: { 'ecr:ResourceTag/team': '*' } }, { 'ecr:ResourceTag/team': '*' }, true),
  when('StringEquals on aws:PrincipalAccount (from the principal)', { StringEquals: { 'aws:PrincipalAccount': A } }, {}, true),
  when('StringEquals on aws:PrincipalType User', { StringEquals: { 'aws:PrincipalType': 'User' } }, {}, true),
  when(
    'StringNotEquals: a different value',
    { StringNotEquals: { 'aws:ResourceTag/env': 'prod' } },
    { 'aws:ResourceTag/env': 'dev' },
    true,
  ),
  when('StringNotEquals: the same value', { StringNotEquals: { 'aws:ResourceTag/env': 'prod' } }, { 'aws:ResourceTag/env': 'prod' }, false),
  when('StringNotEquals: a missing key makes the condition true', { StringNotEquals: { 'aws:ResourceTag/env': 'prod' } }, {}, true),
  when(
    'StringNotEquals: values are NORed (one matches)',
    { StringNotEquals: { 'aws:ResourceTag/env': ['prod', 'staging'] } },
    { 'aws:ResourceTag/env': 'staging' },
    false,
  ),
  when(
    'StringNotEquals: values are NORed (none matches)',
    { StringNotEquals: { 'aws:ResourceTag/env': ['prod', 'staging'] } },
    { 'aws:ResourceTag/env': 'dev' },
    true,
  ),
  when(
    'StringNotEquals is case-sensitive',
    { StringNotEquals: { 'aws:ResourceTag/env': 'PROD' } },
    { 'aws:ResourceTag/env': 'prod' },
    true,
  ),
  when(
    'StringEqualsIgnoreCase: different case matches',
    { StringEqualsIgnoreCase: { 'aws:ResourceTag/team': 'INFRA' } },
    { 'aws:ResourceTag/team': 'infra' },
    true,
  ),
  when(
    'StringEqualsIgnoreCase: different value',
    { StringEqualsIgnoreCase: { 'aws:ResourceTag/team': 'INFRA' } },
    { 'aws:ResourceTag/team': 'web' },
    false,
  ),
  when('StringEqualsIgnoreCase: missing key', { StringEqualsIgnoreCase: { 'aws:ResourceTag/team': 'infra' } }, {}, false),
  when(
    'StringNotEqualsIgnoreCase: same value in another case',
    { StringNotEqualsIgnoreCase: { 'aws:ResourceTag/env': 'PROD' } },
    { 'aws:ResourceTag/env': 'prod' },
    false,
  ),
  when(
    'StringNotEqualsIgnoreCase: another value',
    { StringNotEqualsIgnoreCase: { 'aws:ResourceTag/env': 'PROD' } },
    { 'aws:ResourceTag/env': 'dev' },
    true,
  ),
  when('StringNotEqualsIgnoreCase: missing key', { StringNotEqualsIgnoreCase: { 'aws:ResourceTag/env': 'prod' } }, {}, true),
  when('StringLike with *', { StringLike: { 'aws:ResourceTag/team': 'infra-*' } }, { 'aws:ResourceTag/team': 'infra-core' }, true),
  when('StringLike with * (no match)', { StringLike: { 'aws:ResourceTag/team': 'infra-*' } }, { 'aws:ResourceTag/team': 'web' }, false),
  when(
    'StringLike needs a wildcard for a partial match',
    { StringLike: { 'aws:ResourceTag/team': 'infra' } },
    { 'aws:ResourceTag/team': 'infra-core' },
    false,
  ),
  when('StringLike with ?', { StringLike: { 'aws:ResourceTag/team': 'team-?' } }, { 'aws:ResourceTag/team': 'team-a' }, true),
  when(
    'StringLike with ? (two characters)',
    { StringLike: { 'aws:ResourceTag/team': 'team-?' } },
    { 'aws:ResourceTag/team': 'team-ab' },
    false,
  ),
  when(
    'StringLike is case-sensitive',
    { StringLike: { 'aws:ResourceTag/team': 'Infra*' } },
    { 'aws:ResourceTag/team': 'infra-core' },
    false,
  ),
  when('StringLike: missing key', { StringLike: { 'aws:ResourceTag/team': '*' } }, {}, false),
  when(
    'StringNotLike: matching value',
    { StringNotLike: { 'aws:ResourceTag/env': 'prod*' } },
    { 'aws:ResourceTag/env': 'production' },
    false,
  ),
  when('StringNotLike: other value', { StringNotLike: { 'aws:ResourceTag/env': 'prod*' } }, { 'aws:ResourceTag/env': 'dev' }, true),
  when(
    'StringNotLike: missing key ("the right key is not present, the condition is true")',
    { StringNotLike: { 'aws:ResourceTag/env': 'prod*' } },
    {},
    true,
  ),
  when(
    'StringNotLike: values are NORed',
    { StringNotLike: { 'aws:ResourceTag/env': ['prod*', 'stag*'] } },
    { 'aws:ResourceTag/env': 'staging' },
    false,
  ),
  when('a boolean key compared as a string', { StringEquals: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': true }, true),

  // --- ARN condition operators: "Each of the six colon-delimited components of the ARN is checked separately" ---------
  when('ArnLike on aws:PrincipalArn', { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${A}:user/*` } }, {}, true),
  when('ArnLike on aws:PrincipalArn of another account', { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${B}:user/*` } }, {}, false),
  when('ArnEquals behaves like ArnLike (wildcards)', { ArnEquals: { 'aws:PrincipalArn': 'arn:aws:iam::*:user/ci' } }, {}, true),
  when('ArnEquals exact', { ArnEquals: { 'aws:PrincipalArn': CI.arn } }, {}, true),
  when('ArnEquals is case-sensitive', { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${A}:user/Ci` } }, {}, false),
  when('ArnNotEquals the caller', { ArnNotEquals: { 'aws:PrincipalArn': CI.arn } }, {}, false),
  when('ArnNotEquals another user', { ArnNotEquals: { 'aws:PrincipalArn': CI.arn } }, {}, true, user(A, 'deploy')),
  when('ArnNotLike another account', { ArnNotLike: { 'aws:PrincipalArn': `arn:aws:iam::${B}:*` } }, {}, true),
  when('ArnNotLike: missing key', { ArnNotLike: { 'aws:SourceArn': 'arn:aws:sns:*:*:*' } }, {}, true),
  when('ArnLike: missing key', { ArnLike: { 'aws:SourceArn': 'arn:aws:sns:*:*:*' } }, {}, false),
  when(
    'documented example: StringLike matches across colons',
    { StringLike: { 'aws:SourceArn': 'arn:aws:someservice:*:111122223333:finance/*' } },
    { 'aws:SourceArn': 'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt' },
    true,
  ),
  when(
    'documented example: ArnLike matches segment by segment',
    { ArnLike: { 'aws:SourceArn': 'arn:aws:someservice:*:111122223333:finance/*' } },
    { 'aws:SourceArn': 'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt' },
    false,
  ),
  when('ArnLike against a value that is not an ARN', { ArnLike: { 'aws:SourceArn': '*' } }, { 'aws:SourceArn': 'not-an-arn' }, false),
  when(
    'ArnLike on a repository ARN (resource segment with /)',
    { ArnLike: { 'aws:SourceArn': `arn:aws:ecr:*:${A}:repository/team/*` } },
    { 'aws:SourceArn': repo('team/api', A, 'eu-west-1') },
    true,
  ),

  // --- IP address condition operators (CIDR, IPv4 and IPv6; "without the associated routing prefix, ... /32") -------
  when('IpAddress inside an IPv4 range', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '203.0.113.7' }, true),
  when('IpAddress outside an IPv4 range', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '198.51.100.7' }, false),
  when(
    'IpAddress without a prefix is /32 (same address)',
    { IpAddress: { 'aws:SourceIp': '203.0.113.7' } },
    { 'aws:SourceIp': '203.0.113.7' },
    true,
  ),
  when(
    'IpAddress without a prefix is /32 (next address)',
    { IpAddress: { 'aws:SourceIp': '203.0.113.7' } },
    { 'aws:SourceIp': '203.0.113.8' },
    false,
  ),
  when(
    'IpAddress inside an IPv6 range',
    { IpAddress: { 'aws:SourceIp': '2001:DB8:1234:5678::/64' } },
    { 'aws:SourceIp': '2001:db8:1234:5678::abcd' },
    true,
  ),
  when(
    'IpAddress outside an IPv6 range',
    { IpAddress: { 'aws:SourceIp': '2001:DB8:1234:5678::/64' } },
    { 'aws:SourceIp': '2001:db8:1234:9999::1' },
    false,
  ),
  when(
    'IpAddress: IPv4 and IPv6 ranges mixed, IPv6 caller',
    { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:DB8:1234:5678::/64'] } },
    { 'aws:SourceIp': '2001:db8:1234:5678::1' },
    true,
  ),
  when(
    'IpAddress: IPv4 and IPv6 ranges mixed, IPv4 caller',
    { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:DB8:1234:5678::/64'] } },
    { 'aws:SourceIp': '203.0.113.200' },
    true,
  ),
  when(
    'IpAddress: an IPv4 range does not contain an IPv6 address',
    { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } },
    { 'aws:SourceIp': '2001:db8::1' },
    false,
  ),
  when('IpAddress: missing aws:SourceIp', { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }, {}, false),
  when('NotIpAddress: inside the range', { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': '10.1.2.3' }, false),
  when('NotIpAddress: outside the range', { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': '192.0.2.1' }, true),
  when('NotIpAddress: missing aws:SourceIp', { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, {}, true),
  when(
    'NotIpAddress: values are NORed',
    { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '192.0.2.0/24'] } },
    { 'aws:SourceIp': '192.0.2.1' },
    false,
  ),

  // --- Bool --------------------------------------------------------------------------------------------------------------
  when('Bool aws:SecureTransport true', { Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': true }, true),
  when(
    'Bool aws:SecureTransport true, request over HTTP',
    { Bool: { 'aws:SecureTransport': 'true' } },
    { 'aws:SecureTransport': false },
    false,
  ),
  when('Bool with a string request value', { Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': 'true' }, true),
  when(
    'Bool with an unquoted JSON boolean in the policy',
    { Bool: { 'aws:SecureTransport': true } },
    { 'aws:SecureTransport': true },
    true,
  ),
  when('Bool: missing key', { Bool: { 'aws:SecureTransport': 'true' } }, {}, false),
  denyWhen(
    'documented Deny when aws:SecureTransport is false: over HTTP',
    { Bool: { 'aws:SecureTransport': 'false' } },
    { 'aws:SecureTransport': false },
    true,
  ),
  denyWhen(
    'documented Deny when aws:SecureTransport is false: over HTTPS',
    { Bool: { 'aws:SecureTransport': 'false' } },
    { 'aws:SecureTransport': true },
    false,
  ),
  denyWhen('Deny with Bool false, key missing: the condition is false', { Bool: { 'aws:SecureTransport': 'false' } }, {}, false),
  denyWhen(
    'Deny with BoolIfExists false, key missing: the condition is true',
    { BoolIfExists: { 'aws:SecureTransport': 'false' } },
    {},
    true,
  ),

  // --- Date condition operators (ISO 8601 or epoch seconds) --------------------------------------------------------------
  when('DateGreaterThan: after', { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:01Z' } }, { 'aws:CurrentTime': NOW }, true),
  when(
    'DateGreaterThan: before',
    { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:01Z' } },
    { 'aws:CurrentTime': '2019-12-31T23:59:59Z' },
    false,
  ),
  when('DateLessThan: before', { DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } }, { 'aws:CurrentTime': NOW }, true),
  when(
    'DateLessThan: after',
    { DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } },
    { 'aws:CurrentTime': '2030-01-01T00:00:01Z' },
    false,
  ),
  when('DateLessThan: at the instant', { DateLessThan: { 'aws:CurrentTime': NOW } }, { 'aws:CurrentTime': NOW }, false),
  when('DateLessThanEquals: at the instant', { DateLessThanEquals: { 'aws:CurrentTime': NOW } }, { 'aws:CurrentTime': NOW }, true),
  when('DateGreaterThanEquals: at the instant', { DateGreaterThanEquals: { 'aws:CurrentTime': NOW } }, { 'aws:CurrentTime': NOW }, true),
  when('DateGreaterThan: at the instant', { DateGreaterThan: { 'aws:CurrentTime': NOW } }, { 'aws:CurrentTime': NOW }, false),
  when(
    'DateEquals: same instant written with an offset',
    { DateEquals: { 'aws:CurrentTime': '2024-05-01T02:00:00+02:00' } },
    { 'aws:CurrentTime': NOW },
    true,
  ),
  when('DateEquals: one second later', { DateEquals: { 'aws:CurrentTime': NOW } }, { 'aws:CurrentTime': '2024-05-01T00:00:01Z' }, false),
  when('DateNotEquals: same instant', { DateNotEquals: { 'aws:CurrentTime': NOW } }, { 'aws:CurrentTime': NOW }, false),
  when(
    'DateNotEquals: another instant',
    { DateNotEquals: { 'aws:CurrentTime': NOW } },
    { 'aws:CurrentTime': '2024-05-02T00:00:00Z' },
    true,
  ),
  when('DateNotEquals: missing key', { DateNotEquals: { 'aws:CurrentTime': NOW } }, {}, true),
  when('DateGreaterThan: missing key', { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }, {}, false),
  when('Date in epoch seconds in the policy', { DateGreaterThan: { 'aws:CurrentTime': '1577836800' } }, { 'aws:CurrentTime': NOW }, true),
  when('Date as a date without time', { DateLessThan: { 'aws:CurrentTime': '2024-05-02' } }, { 'aws:CurrentTime': NOW }, true),
  when(
    'aws:EpochTime against an ISO date',
    { DateLessThan: { 'aws:EpochTime': '2030-01-01T00:00:00Z' } },
    { 'aws:EpochTime': 1714521600 },
    true,
  ),
  when('aws:EpochTime follows aws:CurrentTime', { DateGreaterThan: { 'aws:EpochTime': 1577836800 } }, { 'aws:CurrentTime': NOW }, true),
  ...((): Case[] => {
    // "let user John access ... after 12:00 p.m. on 7/16/2019, before 3:00 p.m. on 7/16/2019, from 192.0.2.0/24 or 203.0.113.0/24"
    const window = {
      DateGreaterThan: { 'aws:CurrentTime': '2019-07-16T12:00:00Z' },
      DateLessThan: { 'aws:CurrentTime': '2019-07-16T15:00:00Z' },
      IpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '203.0.113.0/24'] },
    };
    return [
      when(
        'documented window: 13:00 from 192.0.2.5',
        window,
        { 'aws:CurrentTime': '2019-07-16T13:00:00Z', 'aws:SourceIp': '192.0.2.5' },
        true,
      ),
      when(
        'documented window: 13:00 from 203.0.113.9',
        window,
        { 'aws:CurrentTime': '2019-07-16T13:00:00Z', 'aws:SourceIp': '203.0.113.9' },
        true,
      ),
      when('documented window: 16:00', window, { 'aws:CurrentTime': '2019-07-16T16:00:00Z', 'aws:SourceIp': '192.0.2.5' }, false),
      when('documented window: 11:00', window, { 'aws:CurrentTime': '2019-07-16T11:00:00Z', 'aws:SourceIp': '192.0.2.5' }, false),
      when(
        'documented window: 13:00 from another network',
        window,
        { 'aws:CurrentTime': '2019-07-16T13:00:00Z', 'aws:SourceIp': '198.51.100.1' },
        false,
      ),
    ];
  })(),

  // --- Numeric condition operators ("s3:max-keys ... less than or equal to 10") ----------------------------------------------
  when('NumericLessThanEquals 10: 10', { NumericLessThanEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': '10' }, true),
  when('NumericLessThanEquals 10: 11', { NumericLessThanEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': '11' }, false),
  when('NumericLessThanEquals 10: key missing', { NumericLessThanEquals: { 's3:max-keys': '10' } }, {}, false),
  when('NumericEquals: same number as a number', { NumericEquals: { 'ecr:MaxResults': '5' } }, { 'ecr:MaxResults': 5 }, true),
  when('NumericEquals compares numbers, not text', { NumericEquals: { 'ecr:MaxResults': '5' } }, { 'ecr:MaxResults': '5.0' }, true),
  when('NumericEquals: another number', { NumericEquals: { 'ecr:MaxResults': '5' } }, { 'ecr:MaxResults': '6' }, false),
  when('NumericNotEquals: another number', { NumericNotEquals: { 'ecr:MaxResults': '5' } }, { 'ecr:MaxResults': 6 }, true),
  when('NumericNotEquals: same number', { NumericNotEquals: { 'ecr:MaxResults': '5' } }, { 'ecr:MaxResults': 5 }, false),
  when('NumericNotEquals: missing key', { NumericNotEquals: { 'ecr:MaxResults': '5' } }, {}, true),
  when('NumericLessThan: equal is not less', { NumericLessThan: { 'ecr:MaxResults': '10' } }, { 'ecr:MaxResults': 10 }, false),
  when('NumericLessThan: decimal', { NumericLessThan: { 'ecr:MaxResults': '10' } }, { 'ecr:MaxResults': 9.5 }, true),
  when('NumericGreaterThan: greater', { NumericGreaterThan: { 'ecr:MaxResults': '10' } }, { 'ecr:MaxResults': 11 }, true),
  when('NumericGreaterThan: equal is not greater', { NumericGreaterThan: { 'ecr:MaxResults': '10' } }, { 'ecr:MaxResults': 10 }, false),
  when('NumericGreaterThanEquals: equal', { NumericGreaterThanEquals: { 'ecr:MaxResults': '10' } }, { 'ecr:MaxResults': 10 }, true),
  when('Numeric against a value that is not a number', { NumericLessThan: { 'ecr:MaxResults': '10' } }, { 'ecr:MaxResults': 'ten' }, false),

  // --- Null: "true (the key doesn't exist — it is null) or false (the key exists and its value is not null)" -----------
  when('Null true: key absent', { Null: { 'aws:TokenIssueTime': 'true' } }, {}, true),
  when('Null true: key present', { Null: { 'aws:TokenIssueTime': 'true' } }, { 'aws:TokenIssueTime': '2024-05-01T00:00:00Z' }, false),
  when('Null false: key absent', { Null: { 'aws:ResourceTag/team': 'false' } }, {}, false),
  when('Null false: key present', { Null: { 'aws:ResourceTag/team': 'false' } }, { 'aws:ResourceTag/team': 'infra' }, true),
  when('a key given as undefined is absent', { Null: { 'aws:username': 'true' } }, { 'aws:username': undefined }, true),

  // --- ...IfExists: "If the key is not present, evaluate the condition element as true" -----------------------------------
  when('StringEqualsIfExists: key missing', { StringEqualsIfExists: { 'aws:ResourceTag/team': 'infra' } }, {}, true),
  when(
    'StringEqualsIfExists: key matches',
    { StringEqualsIfExists: { 'aws:ResourceTag/team': 'infra' } },
    { 'aws:ResourceTag/team': 'infra' },
    true,
  ),
  when(
    'StringEqualsIfExists: key differs',
    { StringEqualsIfExists: { 'aws:ResourceTag/team': 'infra' } },
    { 'aws:ResourceTag/team': 'web' },
    false,
  ),
  when('documented StringLikeIfExists: key missing', { StringLikeIfExists: { 'ec2:InstanceType': ['t1.*', 't2.*', 'm3.*'] } }, {}, true),
  when(
    'documented StringLikeIfExists: t2.micro',
    { StringLikeIfExists: { 'ec2:InstanceType': ['t1.*', 't2.*', 'm3.*'] } },
    { 'ec2:InstanceType': 't2.micro' },
    true,
  ),
  when(
    'documented StringLikeIfExists: m5.large',
    { StringLikeIfExists: { 'ec2:InstanceType': ['t1.*', 't2.*', 'm3.*'] } },
    { 'ec2:InstanceType': 'm5.large' },
    false,
  ),
  when('IpAddressIfExists: key missing', { IpAddressIfExists: { 'aws:SourceIp': '10.0.0.0/8' } }, {}, true),
  when('IpAddressIfExists: outside', { IpAddressIfExists: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': '192.0.2.1' }, false),
  when('DateLessThanIfExists: key missing', { DateLessThanIfExists: { 'aws:TokenIssueTime': '2020-01-01T00:00:00Z' } }, {}, true),
  when('NumericLessThanIfExists: key missing', { NumericLessThanIfExists: { 'ecr:MaxResults': '10' } }, {}, true),
  when('ArnLikeIfExists: key missing', { ArnLikeIfExists: { 'aws:SourceArn': 'arn:aws:sns:*:*:*' } }, {}, true),
  denyWhen(
    'Deny StringNotEqualsIfExists: "still denied even if the tag is missing"',
    { StringNotEqualsIfExists: { 'aws:ResourceTag/team': 'infra' } },
    {},
    true,
  ),
  denyWhen(
    'Deny StringNotEqualsIfExists: other tag value',
    { StringNotEqualsIfExists: { 'aws:ResourceTag/team': 'infra' } },
    { 'aws:ResourceTag/team': 'web' },
    true,
  ),
  denyWhen(
    'Deny StringNotEqualsIfExists: the allowed tag value',
    { StringNotEqualsIfExists: { 'aws:ResourceTag/team': 'infra' } },
    { 'aws:ResourceTag/team': 'infra' },
    false,
  ),

  // --- Set operators over multivalued keys (aws:TagKeys): ForAllValues is true for a missing key or an empty data
  //     set, ForAnyValue is false -----------------------------------------------------------------------------------------
  when(
    'ForAllValues:StringEquals: a subset',
    { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] } },
    { 'aws:TagKeys': ['team'] },
    true,
  ),
  when(
    'ForAllValues:StringEquals: the same set',
    { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] } },
    { 'aws:TagKeys': ['env', 'team'] },
    true,
  ),
  when(
    'ForAllValues:StringEquals: one value outside',
    { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] } },
    { 'aws:TagKeys': ['team', 'owner'] },
    false,
  ),
  when('ForAllValues:StringEquals: key missing', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] } }, {}, true),
  when(
    'ForAllValues:StringEquals: empty list',
    { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] } },
    { 'aws:TagKeys': [] },
    true,
  ),
  when(
    'ForAllValues:StringEquals: empty string',
    { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] } },
    { 'aws:TagKeys': '' },
    true,
  ),
  when(
    'ForAnyValue:StringEquals: overlap',
    { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team', 'env'] } },
    { 'aws:TagKeys': ['owner', 'env'] },
    true,
  ),
  when(
    'ForAnyValue:StringEquals: no overlap',
    { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team', 'env'] } },
    { 'aws:TagKeys': ['owner'] },
    false,
  ),
  when('ForAnyValue:StringEquals: key missing', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team', 'env'] } }, {}, false),
  when(
    'ForAnyValue:StringEquals: empty list',
    { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team', 'env'] } },
    { 'aws:TagKeys': [] },
    false,
  ),
  when('ForAnyValue:StringLike', { 'ForAnyValue:StringLike': { 'aws:TagKeys': 'prod*' } }, { 'aws:TagKeys': ['dev', 'prod-x'] }, true),
  when(
    'ForAllValues:StringLike',
    { 'ForAllValues:StringLike': { 'aws:TagKeys': ['team*', 'env'] } },
    { 'aws:TagKeys': ['team-a', 'env'] },
    true,
  ),
  when(
    'ForAnyValue:StringNotEquals: every request value is listed',
    { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['DataClass', 'Owner'] } },
    { 'aws:TagKeys': ['DataClass', 'Owner'] },
    false,
  ),
  when(
    'ForAnyValue:StringNotEquals: one request value is not listed',
    { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['DataClass', 'Owner'] } },
    { 'aws:TagKeys': ['Dept', 'DataClass'] },
    true,
  ),
  when('ForAnyValue:StringNotEquals: key missing', { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['DataClass', 'Owner'] } }, {}, false),
  when(
    'ForAllValues:StringNotEquals: no request value listed',
    { 'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['DataClass', 'Owner'] } },
    { 'aws:TagKeys': ['Dept', 'SIC'] },
    true,
  ),
  when(
    'ForAllValues:StringNotEquals: one request value listed',
    { 'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['DataClass', 'Owner'] } },
    { 'aws:TagKeys': ['Dept', 'Owner'] },
    false,
  ),
  when(
    'documented ForAllValues:StringEquals attributes: all allowed',
    { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['ID', 'Message', 'Tags'] } },
    { 'dynamodb:Attributes': ['Message', 'Tags'] },
    true,
  ),
  when(
    'documented ForAllValues:StringEquals attributes: PostDateTime and UserName',
    { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['PostDateTime', 'Message', 'Tags'] } },
    { 'dynamodb:Attributes': ['PostDateTime', 'UserName'] },
    false,
  ),
  denyWhen(
    'documented Deny ForAnyValue:StringEquals: request includes PostDateTime',
    { 'ForAnyValue:StringEquals': { 'dynamodb:Attributes': ['ID', 'PostDateTime'] } },
    { 'dynamodb:Attributes': ['UserName', 'Message', 'PostDateTime'] },
    true,
  ),
  denyWhen(
    'documented Deny ForAnyValue:StringEquals: only UserName',
    { 'ForAnyValue:StringEquals': { 'dynamodb:Attributes': ['ID', 'PostDateTime'] } },
    { 'dynamodb:Attributes': ['UserName'] },
    false,
  ),
  // "Multivalued context key examples": Deny with "ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}
  denyWhen(
    'documented ForAllValues:StringNotLike key1*: key1:legal',
    { 'ForAllValues:StringNotLike': { 'aws:TagKeys': 'key1*' } },
    { 'aws:TagKeys': ['key1:legal'] },
    false,
  ),
  denyWhen(
    'documented ForAllValues:StringNotLike key1*: key1:hr, key1:personnel',
    { 'ForAllValues:StringNotLike': { 'aws:TagKeys': 'key1*' } },
    { 'aws:TagKeys': ['key1:hr', 'key1:personnel'] },
    false,
  ),
  denyWhen(
    'documented ForAllValues:StringNotLike key1*: key2:audit',
    { 'ForAllValues:StringNotLike': { 'aws:TagKeys': 'key1*' } },
    { 'aws:TagKeys': ['key2:audit'] },
    true,
  ),
  denyWhen(
    'documented ForAllValues:StringNotLike key1*: no aws:TagKeys',
    { 'ForAllValues:StringNotLike': { 'aws:TagKeys': 'key1*' } },
    {},
    true,
  ),
  // The same page: Deny with "Null": {"aws:TagKeys": "false"} and "ForAllValues:StringLike" [key1*, key2*, key3*]
  ...((): Case[] => {
    const c = { Null: { 'aws:TagKeys': 'false' }, 'ForAllValues:StringLike': { 'aws:TagKeys': ['key1*', 'key2*', 'key3*'] } };
    return [
      denyWhen('documented Null false + ForAllValues:StringLike: no tag keys', c, {}, false),
      denyWhen('documented Null false + ForAllValues:StringLike: key1 tag', c, { 'aws:TagKeys': ['key1:x'] }, true),
      denyWhen('documented Null false + ForAllValues:StringLike: key1 and key3 tags', c, { 'aws:TagKeys': ['key1:x', 'key3:y'] }, true),
      denyWhen('documented Null false + ForAllValues:StringLike: key4 tag', c, { 'aws:TagKeys': ['key4:x'] }, false),
      denyWhen('documented Null false + ForAllValues:StringLike: key1 and key4 tags', c, { 'aws:TagKeys': ['key1:x', 'key4:y'] }, false),
    ];
  })(),

  // --- Several keys under one operator, and several operators, are ANDed ---------------------------------------------------
  when(
    'two keys under StringEquals, both hold',
    { StringEquals: { 'aws:username': 'ci', 'aws:ResourceTag/team': 'infra' } },
    { 'aws:ResourceTag/team': 'infra' },
    true,
  ),
  when(
    'two keys under StringEquals, one fails',
    { StringEquals: { 'aws:username': 'ci', 'aws:ResourceTag/team': 'infra' } },
    { 'aws:ResourceTag/team': 'web' },
    false,
  ),
  when(
    'StringEquals and Bool, both hold',
    { StringEquals: { 'aws:ResourceTag/team': 'infra' }, Bool: { 'aws:SecureTransport': 'true' } },
    { 'aws:ResourceTag/team': 'infra', 'aws:SecureTransport': true },
    true,
  ),
  when(
    'StringEquals and Bool, Bool fails',
    { StringEquals: { 'aws:ResourceTag/team': 'infra' }, Bool: { 'aws:SecureTransport': 'true' } },
    { 'aws:ResourceTag/team': 'infra', 'aws:SecureTransport': false },
    false,
  ),
  when(
    'documented StringEquals + ArnLike block',
    {
      StringEquals: { 'aws:PrincipalTag/department': ['finance', 'hr', 'legal'], 'aws:PrincipalTag/role': ['audit', 'security'] },
      ArnLike: { 'aws:PrincipalArn': [`arn:aws:iam::${A}:user/Mary*`, `arn:aws:iam::${A}:user/Stephen*`] },
    },
    { 'aws:PrincipalTag/department': 'hr', 'aws:PrincipalTag/role': 'audit' },
    true,
    user(A, 'Mary_Major'),
  ),
  when(
    'documented StringEquals + ArnLike block, wrong role tag',
    {
      StringEquals: { 'aws:PrincipalTag/department': ['finance', 'hr', 'legal'], 'aws:PrincipalTag/role': ['audit', 'security'] },
      ArnLike: { 'aws:PrincipalArn': [`arn:aws:iam::${A}:user/Mary*`, `arn:aws:iam::${A}:user/Stephen*`] },
    },
    { 'aws:PrincipalTag/department': 'hr', 'aws:PrincipalTag/role': 'dev' },
    false,
    user(A, 'Mary_Major'),
  ),

  // --- Policy variables ("${aws:username}" in Resource and in string conditions; only with Version 2012-10-17) -----------
  {
    name: "variable in Resource: the user's own repository",
    who: user(A, 'alice'),
    action: 'ecr:PutImage',
    on: repo('home/alice'),
    idp: [policy(allow('ecr:*', repo('home/${aws:username}')))],
    expect: 'Allow',
  },
  {
    name: "variable in Resource: another user's repository",
    who: user(A, 'alice'),
    action: 'ecr:PutImage',
    on: repo('home/bob'),
    idp: [policy(allow('ecr:*', repo('home/${aws:username}')))],
    expect: 'ImplicitDeny',
  },
  {
    name: 'variable in Resource with a wildcard after it',
    who: user(A, 'alice'),
    action: 'ecr:PutImage',
    on: repo('home/alice/tools'),
    idp: [policy(allow('ecr:*', repo('home/${aws:username}/*')))],
    expect: 'Allow',
  },
  {
    name: 'variable without a value: the statement cannot match',
    who: user(A, 'alice'),
    action: 'ecr:PutImage',
    on: repo('home/alice'),
    keys: { 'aws:username': undefined },
    idp: [policy(allow('ecr:*', repo('home/${aws:username}')))],
    expect: 'ImplicitDeny',
  },
  {
    name: 'variable with a default value',
    who: user(A, 'alice'),
    action: 'ecr:PutImage',
    on: repo('home/shared'),
    keys: { 'aws:username': undefined },
    idp: [policy(allow('ecr:*', repo("home/${aws:username, 'shared'}")))],
    expect: 'Allow',
  },
  {
    name: 'Version 2008-10-17: variables are literal text',
    who: user(A, 'alice'),
    action: 'ecr:PutImage',
    on: repo('home/alice'),
    idp: [{ Version: '2008-10-17', Statement: [allow('ecr:*', repo('home/${aws:username}'))] }],
    expect: 'ImplicitDeny',
  },
  {
    name: 'no Version: variables are literal text',
    who: user(A, 'alice'),
    action: 'ecr:PutImage',
    on: repo('home/${aws:username}'),
    idp: [{ Statement: [allow('ecr:*', repo('home/${aws:username}'))] }],
    expect: 'Allow',
  },
  when(
    'variable in a condition value',
    { StringEquals: { 'aws:ResourceTag/owner': '${aws:username}' } },
    { 'aws:ResourceTag/owner': 'ci' },
    true,
  ),
  when(
    'variable in a condition value (another owner)',
    { StringEquals: { 'aws:ResourceTag/owner': '${aws:username}' } },
    { 'aws:ResourceTag/owner': 'bob' },
    false,
  ),
  when(
    'variable inside a StringLike pattern',
    { StringLike: { 'aws:ResourceTag/path': 'home/${aws:username}/*' } },
    { 'aws:ResourceTag/path': 'home/ci/cache' },
    true,
  ),
  when(
    '${aws:PrincipalAccount} in a condition',
    { StringEquals: { 'aws:ResourceAccount': '${aws:PrincipalAccount}' } },
    { 'aws:ResourceAccount': A },
    true,
  ),
  when(
    '${aws:PrincipalAccount} in a condition, other account',
    { StringEquals: { 'aws:ResourceAccount': '${aws:PrincipalAccount}' } },
    { 'aws:ResourceAccount': C },
    false,
  ),
  when('${*} is a literal asterisk (match)', { StringLike: { 'aws:ResourceTag/x': 'a${*}b' } }, { 'aws:ResourceTag/x': 'a*b' }, true),
  when(
    '${*} is a literal asterisk (no wildcard)',
    { StringLike: { 'aws:ResourceTag/x': 'a${*}b' } },
    { 'aws:ResourceTag/x': 'axxb' },
    false,
  ),
  when(
    'a multivalued key cannot be a policy variable',
    { StringEquals: { 'aws:ResourceTag/x': '${aws:TagKeys}' } },
    { 'aws:ResourceTag/x': 'a', 'aws:TagKeys': ['a'] },
    false,
  ),
];

test('the table has at least 200 cases', () => {
  assert.ok(CASES.length >= 200, `only ${CASES.length} cases`);
  assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, 'case names are unique');
});

CASES.forEach((c, i) => {
  test(`#${i + 1} ${c.name}`, () => {
    const identity = (c.idp ?? []).map((doc, n) => ({ name: `identity-${n}`, document: parsePolicy(JSON.stringify(doc), 'identity') }));
    const resource = c.rp ? { name: 'repository', document: parsePolicy(JSON.stringify(c.rp), 'resource') } : undefined;
    const on = c.on ?? REPO;
    const owner = c.owner ?? (on.split(':')[4] || A);
    const decision = evaluate(
      { identity, resource },
      { principal: c.who, action: c.action, resource: on, resourceAccount: owner, keys: c.keys ?? {} },
    );
    assert.equal(decision.effect, c.expect, decision.reason);
    assert.equal(decision.allowed, c.expect === 'Allow');
    assert.ok(decision.reason.length > 0);
    if (c.by) {
      const [name, index, sid] = c.by;
      assert.deepEqual(
        { policy: decision.policy, statementIndex: decision.statementIndex, sid: decision.sid },
        { policy: name, statementIndex: index, sid },
      );
    }
    if (c.expect === 'ImplicitDeny') assert.equal(decision.policy, undefined);
  });
});

test('the decision names the statement for the audit log', () => {
  const identity = [{ name: 'ci-pull', document: parsePolicy(JSON.stringify(PULL_ONLY), 'identity') }];
  const resource = {
    name: 'repository/app',
    document: parsePolicy(
      JSON.stringify(policy(grant('*', 'ecr:BatchGetImage'), { Sid: 'NoPush', ...refuse('*', 'ecr:PutImage') })),
      'resource',
    ),
  };
  const ctx = (action: string): RequestContext => ({ principal: CI, action, resource: REPO, resourceAccount: A, keys: {} });
  assert.deepEqual(evaluate({ identity, resource }, ctx('ecr:PutImage')), {
    allowed: false,
    effect: 'ExplicitDeny',
    policy: 'repository/app',
    statementIndex: 1,
    sid: 'NoPush',
    reason: 'explicitly denied by statement 1 (Sid "NoPush") of resource-based policy "repository/app"',
  });
  const allowed = evaluate({ identity, resource }, ctx('ecr:BatchGetImage'));
  assert.deepEqual([allowed.effect, allowed.policy, allowed.statementIndex, allowed.sid], ['Allow', 'ci-pull', 0, 'PullOnly']);
  const rootDecision = evaluate({ identity: [] }, { ...ctx('ecr:DeleteRepository'), principal: root(A) });
  assert.deepEqual([rootDecision.effect, rootDecision.policy], ['Allow', undefined]);
  assert.match(rootDecision.reason, /root user of account 111122223333/);
  const denied = evaluate({ identity }, ctx('ecr:PutImage'));
  assert.match(denied.reason, /^implicitly denied: /);
});
