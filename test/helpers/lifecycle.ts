// Helpers for the lifecycle end-to-end tests: the `berth` command against a running server's data directory
// (advance-clock, lifecycle run, gc, fsck), the lifecycle preview polled to completion, the audit log read back,
// the path of a stored blob, and docker images built FROM scratch (on one shared base layer) and pushed.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  GetLifecyclePolicyPreviewCommand, type ECRClient, type GetLifecyclePolicyPreviewCommandOutput,
} from '@aws-sdk/client-ecr';
import type { Berth } from './berth.ts';
import type { DockerSession } from './dockerd.ts';
import { describeResult, makeTempDir, parseJson, removeDir, run, writeFiles, type RunResult } from './tools.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// ---------------------------------------------------------------------------------------------------------------
// The `berth` command, as an operator runs it next to the server (same data directory, the root key).

export interface CliResult extends RunResult {
  /** What it printed on stdout, parsed as JSON (undefined when it is not JSON). */
  json: any;
}

/** Runs `node bin/berth.js ARGS` on `berth`'s data directory; never throws for a non-zero exit. */
export async function berthCli(berth: Berth, args: string[]): Promise<CliResult> {
  const r = await run(process.execPath, [join(root, 'bin', 'berth.js'), ...args], {
    cwd: root,
    timeoutMs: 120_000,
    env: {
      BERTH_DATA_DIR: berth.dataDir,
      BERTH_ROOT_ACCESS_KEY_ID: berth.accessKeyId,
      BERTH_ROOT_SECRET_ACCESS_KEY: berth.secretAccessKey,
    },
  });
  let json: any;
  try { json = JSON.parse(r.stdout); } catch { json = undefined; }
  return { ...r, json };
}

/** Runs `berth ARGS`, which must exit 0 and print JSON; returns the JSON. */
export async function berthOk(berth: Berth, args: string[]): Promise<any> {
  const r = await berthCli(berth, args);
  if (r.code !== 0 || r.json === undefined) throw new Error(`berth ${args.join(' ')} did not succeed with JSON:\n${describeResult(r)}`);
  return r.json;
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
export async function completedPreview(ecr: ECRClient, repositoryName: string, ms = 10_000): Promise<GetLifecyclePolicyPreviewCommandOutput> {
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

/** Every JSON line of <dataDir>/audit.log whose `event` is `event`. */
export function auditEvents(berth: Berth, event: string): Record<string, any>[] {
  const file = join(berth.dataDir, 'audit.log');
  if (!existsSync(file)) return [];
  const events: Record<string, any>[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const entry = parseJson(line, 'an audit log line');
    if (entry.event === event) events.push(entry);
  }
  return events;
}

/** Where the filesystem blob store keeps a blob: <dataDir>/blobs/sha256/<first two hex digits>/<hex>. */
export function blobFile(berth: Berth, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(berth.dataDir, 'blobs', 'sha256', hex.slice(0, 2), hex);
}

// ---------------------------------------------------------------------------------------------------------------
// Docker images: FROM a shared base (itself FROM scratch), plus one small file of their own.

export interface PushedImage {
  digest: string;
  configDigest: string;
  configSize: number;
  layers: { digest: string; size: number }[];
}

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

/** Builds FROM scratch a base image holding `data` at /data/base.bin, tagged `ref`. */
export async function buildBase(docker: DockerSession, ref: string, data: Buffer): Promise<void> {
  const ctx = makeTempDir('berth-e2e-lc-base-');
  try {
    writeFiles(ctx, { 'base.bin': data });
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY base.bin /data/base.bin\n');
    docker.trackImage(ref);
    await docker.ok(['build', '-q', '--network=none', '-t', ref, ctx]);
  } finally {
    removeDir(ctx);
  }
}

/** Builds `ref` FROM `base` with one file of its own (`content` at /data/own.txt), so every image is distinct. */
export async function buildOn(docker: DockerSession, base: string, ref: string, content: string): Promise<void> {
  const ctx = makeTempDir('berth-e2e-lc-ctx-');
  try {
    writeFiles(ctx, { 'own.txt': Buffer.from(content) });
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${base}\nCOPY own.txt /data/own.txt\nCMD ["/data/none"]\n`);
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
    headers: { authorization: berth.authHeader, accept: DOCKER_MANIFEST },
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
