// Helpers for the lifecycle end-to-end tests: the `berth` command against a running server's data directory
// (advance-clock, lifecycle run, gc, fsck), the lifecycle preview polled to completion, the audit log's events, and
// docker images built FROM scratch (on one shared base layer) and pushed.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetLifecyclePolicyPreviewCommand, type ECRClient, type GetLifecyclePolicyPreviewCommandOutput } from '@aws-sdk/client-ecr';
import type { Berth } from './berth.ts';
import type { DockerSession } from './dockerd.ts';
import { MEDIA } from './ecr.ts';
import { berthJson, berthRun, readAudit } from './policies.ts';
import { makeTempDir, parseJson, removeDir, writeFiles, type RunResult } from './tools.ts';

// ---------------------------------------------------------------------------------------------------------------
// The `berth` command, as an operator runs it next to the server (same data directory, the root key), through
// policies.ts's berthRun.

/** `lifecycle run`, `gc` and `fsck` go over every image and blob: they get longer than an admin command. */
const CLI_TIMEOUT_MS = 120_000;

export interface CliResult extends RunResult {
  /** What it printed on stdout, parsed as JSON (undefined when it is not JSON). */
  json: any;
}

/** Runs `berth ARGS` on `berth`'s data directory; never throws for a non-zero exit. */
export async function berthCli(berth: Berth, args: string[]): Promise<CliResult> {
  const r = await berthRun(berth, args, CLI_TIMEOUT_MS);
  let json: any;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

/** Runs `berth ARGS`, which must exit 0 and print JSON; returns the JSON. */
export function berthOk(berth: Berth, args: string[]): Promise<any> {
  return berthJson(berth, args, CLI_TIMEOUT_MS);
}

/** Moves the registry's test clock forward by `seconds` (`berth admin advance-clock`); returns the new time. */
export async function advanceClock(berth: Berth, seconds: number): Promise<Date> {
  const out = await berthOk(berth, ['admin', 'advance-clock', '--seconds', String(seconds)]);
  const now = new Date(out.now);
  assert.ok(!Number.isNaN(now.getTime()), `advance-clock prints the new time: ${JSON.stringify(out)}`);
  return now;
}

// ---------------------------------------------------------------------------------------------------------------
// Lifecycle previews and the audit log.

/** Polls GetLifecyclePolicyPreview until it is no longer IN_PROGRESS (up to `ms`); it must then be COMPLETE. */
export async function completedPreview(
  ecr: ECRClient,
  repositoryName: string,
  ms = 10_000,
): Promise<GetLifecyclePolicyPreviewCommandOutput> {
  const until = Date.now() + ms;
  for (;;) {
    const p = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName }));
    if (p.status !== 'IN_PROGRESS') {
      assert.equal(p.status, 'COMPLETE', `the preview completes: ${JSON.stringify(p)}`);
      return p;
    }
    if (Date.now() > until) assert.fail(`the lifecycle preview of ${repositoryName} was still IN_PROGRESS after ${ms} ms`);
    await sleep(50);
  }
}

/** The audit log's lines whose `event` is `event`. */
export function auditEvents(berth: Berth, event: string): Record<string, any>[] {
  return readAudit(berth).entries.filter((e) => e.event === event);
}

// ---------------------------------------------------------------------------------------------------------------
// Docker images: FROM a shared base (itself FROM scratch), plus one small file of their own.

export interface PushedImage {
  digest: string;
  configDigest: string;
  configSize: number;
  layers: { digest: string; size: number }[];
}

/**
 * Builds `ref` FROM `from` (an image, or scratch) with one file of its own, `data` at /data/<file>, and `cmd` as
 * its CMD when given.
 */
export async function buildImage(
  docker: DockerSession,
  ref: string,
  opts: { from: string; file: string; data: Buffer; cmd?: string[] },
): Promise<void> {
  const ctx = makeTempDir('berth-e2e-lc-ctx-');
  try {
    const dockerfile = `FROM ${opts.from}\nCOPY ${opts.file} /data/${opts.file}\n${opts.cmd ? `CMD ${JSON.stringify(opts.cmd)}\n` : ''}`;
    writeFiles(ctx, { [opts.file]: opts.data, Dockerfile: Buffer.from(dockerfile) });
    docker.trackImage(ref);
    await docker.ok(['build', '-q', '--network=none', '-t', ref, ctx]);
  } finally {
    removeDir(ctx);
  }
}

/** Runs `fn` over `items`, at most `concurrency` at a time. */
export async function inPool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** `docker push host/repo:tag`; returns the manifest digest docker printed. */
export async function dockerPush(docker: DockerSession, ref: string): Promise<string> {
  const tag = ref.slice(ref.lastIndexOf(':') + 1);
  const r = await docker.ok(['push', ref]);
  const m = new RegExp(`${tag}: digest: (sha256:[0-9a-f]{64}) size: \\d+`).exec(r.stdout);
  assert.ok(m, `docker push printed the digest:\n${r.stdout}`);
  return m[1];
}

/** The manifest of `repo@digest` as the registry serves it: its config and layers. */
export async function manifestOf(berth: Berth, repo: string, digest: string): Promise<PushedImage> {
  const res = await fetch(`${berth.url}/v2/${repo}/manifests/${digest}`, {
    headers: { authorization: berth.authHeader, accept: MEDIA.dockerManifest },
  });
  assert.equal(res.status, 200, `GET manifest ${repo}@${digest}`);
  const m = parseJson(await res.text(), 'a manifest');
  return {
    digest,
    configDigest: m.config.digest,
    configSize: m.config.size,
    layers: m.layers.map((l: { digest: string; size: number }) => ({ digest: l.digest, size: l.size })),
  };
}
