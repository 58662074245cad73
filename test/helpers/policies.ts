// Helpers for the end-to-end proof of IAM-style policies (issue 4): `berth` and `berth admin` on a running server's
// data directory (users, access keys, identity policies, accounts), the AWS CLI signed as any of those keys, the
// errors the CLI prints, and the audit log of authorization decisions.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Berth } from './berth.ts';
import type { RunOptions, RunResult } from './tools.ts';
import { describeResult, makeTempDir, parseJson, removeDir, requireTool, run } from './tools.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const REGION = 'us-east-1';
/** The Debian package's AWS CLI by absolute path (a pip copy earlier on PATH is not what CI installs). */
export const AWS_CLI = process.env.BERTH_TEST_AWS_CLI ?? '/usr/bin/aws';

export interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Runs `berth ARGS` (node bin/berth.js) on the server's data directory, as the default account's root, as an
 * operator runs it next to the server (with `env`: more of the server's settings); never throws for a non-zero exit. */
export function berthRun(berth: Berth, args: string[], timeoutMs = 60_000, env: Record<string, string> = {}): Promise<RunResult> {
  return run(process.execPath, [join(root, 'bin', 'berth.js'), ...args], {
    cwd: root,
    env: {
      BERTH_DATA_DIR: berth.dataDir,
      BERTH_ROOT_ACCESS_KEY_ID: berth.accessKeyId,
      BERTH_ROOT_SECRET_ACCESS_KEY: berth.secretAccessKey,
      ...env,
    },
    timeoutMs,
  });
}

/** Runs `berth ARGS`, which must exit 0 and print JSON; returns the JSON. */
export async function berthJson<T = any>(berth: Berth, args: string[], timeoutMs?: number): Promise<T> {
  const r = await berthRun(berth, args, timeoutMs);
  if (r.code !== 0) throw new Error(describeResult(r));
  return parseJson<T>(r.stdout, `berth ${args.slice(0, 2).join(' ')}`);
}

/** Runs `berth admin ARGS`; never throws for a non-zero exit. */
export function adminRun(berth: Berth, args: string[]): Promise<RunResult> {
  return berthRun(berth, ['admin', ...args]);
}

/** Runs `berth admin ARGS`, which must exit 0; returns the JSON it printed. */
export function admin<T = any>(berth: Berth, ...args: string[]): Promise<T> {
  return berthJson<T>(berth, ['admin', ...args]);
}

/** Creates a user with one access key and (optionally) one inline identity policy. */
export async function createUser(berth: Berth, name: string, policy?: { name: string; document: object }): Promise<Keys & { arn: string }> {
  const { arn } = await admin<{ arn: string }>(berth, 'create-user', '--user', name);
  const key = await admin<Keys>(berth, 'create-access-key', '--user', name);
  if (policy) {
    await admin(
      berth,
      'put-user-policy',
      '--user',
      name,
      '--policy-name',
      policy.name,
      '--policy-document',
      JSON.stringify(policy.document),
    );
  }
  return { arn, accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
}

export interface AwsCli {
  /** Runs `aws ecr ARGS --endpoint-url ... --region us-east-1 --output json`; never throws for a non-zero exit. */
  run: (args: string[], opts?: RunOptions) => Promise<RunResult>;
  /** Same, must exit 0; returns the parsed JSON ({} for no output). */
  ok: <T = any>(args: string[]) => Promise<T>;
  /** Same, must fail with an AWS error; returns the error the CLI printed. */
  fails: (args: string[]) => Promise<CliError>;
  /** `aws ecr get-login-password`: the password for `docker login --username AWS`. */
  loginPassword: () => Promise<string>;
  cleanup: () => void;
}

/** The AWS CLI signing with `keys`, with no config or credentials file of the machine (they point nowhere). */
export async function awsCli(berth: Berth, keys: Keys): Promise<AwsCli> {
  await requireTool(AWS_CLI);
  const home = makeTempDir('berth-e2e-policies-aws-');
  const env: Record<string, string> = {
    AWS_ACCESS_KEY_ID: keys.accessKeyId,
    AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    AWS_SESSION_TOKEN: '',
    AWS_CONFIG_FILE: join(home, 'no-such-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-such-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    AWS_RETRY_MODE: 'standard',
    AWS_MAX_ATTEMPTS: '1',
  };
  const base = ['--endpoint-url', berth.url, '--region', REGION];
  const runCli = (args: string[], opts: RunOptions = {}) =>
    run(AWS_CLI, ['ecr', ...args, ...base], { timeoutMs: 60_000, ...opts, env: { ...env, ...opts.env } });
  return {
    run: runCli,
    ok: async <T>(args: string[]): Promise<T> => {
      const r = await runCli([...args, '--output', 'json']);
      if (r.code !== 0) throw new Error(describeResult(r));
      return (r.stdout.trim() === '' ? {} : parseJson<T>(r.stdout, `aws ecr ${args[0]}`)) as T;
    },
    fails: async (args) => {
      const r = await runCli([...args, '--output', 'json']);
      if (r.code === 0 || r.timedOut) throw new Error(`expected aws ecr ${args[0]} to fail, but ${describeResult(r)}`);
      return cliError(r);
    },
    loginPassword: async () => {
      const r = await runCli(['get-login-password']);
      if (r.code !== 0) throw new Error(describeResult(r));
      const password = r.stdout.trim();
      assert.ok(password.length > 0, 'get-login-password printed a password');
      return password;
    },
    cleanup: () => removeDir(home),
  };
}

export interface CliError {
  name: string;
  operation: string;
  message: string;
  result: RunResult;
}

/** The AWS error the CLI printed: "An error occurred (Name) when calling the Op operation: message". */
export function cliError(r: RunResult): CliError {
  const m = /An error occurred \(([A-Za-z]+)\) when calling the ([A-Za-z]+) operation(?: \(reached max retries: \d+\))?: (.*)/s.exec(
    r.stderr,
  );
  assert.ok(m, `the AWS CLI printed an AWS error:\n${describeResult(r)}`);
  return { name: m[1], operation: m[2], message: m[3].trim(), result: r };
}

/** One line of the audit log. */
export interface AuditEntry {
  principal: string;
  action: string;
  resource: string;
  allowed: boolean;
  effect?: string;
  policy?: string;
  sid?: string;
  reason?: string;
  [field: string]: unknown;
}

/** The audit log's text and its JSON lines (every line must be JSON). */
export function readAudit(berth: Berth): { text: string; entries: AuditEntry[]; decisions: AuditEntry[] } {
  const file = join(berth.dataDir, 'audit.log');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const entries = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => parseJson<AuditEntry>(l, `audit.log line ${i + 1}`));
  // Authorization decisions have no `event` name; the other lines are events (token grants, lifecycle expiries).
  return { text, entries, decisions: entries.filter((e) => e.event === undefined) };
}

/** Polls `check` (which throws until it holds) for up to `ms`; the last failure is thrown. */
export async function eventually<T>(check: () => T | Promise<T>, ms = 5_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Regex-escapes a literal. */
export function literal(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export const PULL_ONLY = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['ecr:GetAuthorizationToken', 'ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
      Resource: '*',
    },
  ],
};

export const ADMINISTRATION = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: [
        'ecr:CreateRepository',
        'ecr:DeleteRepository',
        'ecr:DescribeRepositories',
        'ecr:PutLifecyclePolicy',
        'ecr:GetLifecyclePolicy',
        'ecr:DescribeImages',
        'ecr:GetAuthorizationToken',
        'ecr:TagResource',
      ],
      Resource: '*',
    },
  ],
};

/** The actions a repository policy grants for pulling, as the ECR user guide's examples list them. */
export const PULL_ACTIONS = ['ecr:BatchGetImage', 'ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer'];
