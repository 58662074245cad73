// docker push and docker pull of an image of random layers, with the Docker daemon already running on the machine.
// The image is built once per run FROM scratch with the legacy builder (DOCKER_BUILDKIT=0), saved to a tar and
// removed; before each push it is loaded again, and before each pull every local copy is removed, so that the
// pull downloads every layer. Each run has its own DOCKER_CONFIG (docker login to Berth with the root key).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secondsSince } from '../lib/stats.ts';
import type { Context, Sizes, Workload } from '../lib/workload.ts';

export interface Cmd { code: number | null; stdout: string; stderr: string }

export interface DockerImage {
  dir: string;
  env: Record<string, string>;
  tag: string;      // the local tag the saved image carries
  tarPath: string;
  layers: number;
  version: string;
}

function docker(env: Record<string, string>, args: string[], input?: string, timeoutMs = 300_000): Promise<Cmd> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e.code === 'ENOENT' ? new Error('docker is not installed (apt-get install -y docker.io)') : e);
    });
    child.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

async function ok(env: Record<string, string>, args: string[], input?: string): Promise<Cmd> {
  const r = await docker(env, args, input);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited with ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Builds the image (once per run) and saves it; throws clearly when no Docker daemon answers. */
export async function prepareDockerImage(sizes: Sizes, log: (m: string) => void): Promise<DockerImage> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-docker-'));
  const env = { DOCKER_CONFIG: join(dir, 'config'), DOCKER_BUILDKIT: '0' };
  try {
    const v = await docker(env, ['version', '--format', '{{.Server.Version}}'], undefined, 30_000);
    if (v.code !== 0 || !v.stdout.trim()) {
      throw new Error('the docker workload needs a running Docker daemon, and `docker version` cannot reach one:\n' + v.stderr);
    }
    const context = join(dir, 'context');
    mkdirSync(context);
    const lines = ['FROM scratch'];
    for (let i = 0; i < sizes.dockerLayers; i++) {
      const name = `layer${i}.bin`;
      const fd = openSync(join(context, name), 'w');
      for (let left = sizes.dockerLayerSize; left > 0; left -= 1024 * 1024) writeSync(fd, randomBytes(Math.min(left, 1024 * 1024)));
      closeSync(fd);
      lines.push(`COPY ${name} /data/${name}`);
    }
    writeFileSync(join(context, 'Dockerfile'), lines.join('\n') + '\n');
    const tag = `berth-bench-image:${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const t0 = process.hrtime.bigint();
    await ok(env, ['build', '--network=none', '-q', '-t', tag, context]);
    const tarPath = join(dir, 'image.tar');
    await ok(env, ['save', '-o', tarPath, tag]);
    await ok(env, ['rmi', tag]);
    rmSync(context, { recursive: true, force: true });
    log(`docker image built and saved in ${secondsSince(t0).toFixed(1)} s (${sizes.dockerLayers} layers)`);
    return { dir, env, tag, tarPath, layers: sizes.dockerLayers, version: v.stdout.trim() };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export async function disposeDockerImage(image: DockerImage | undefined): Promise<void> {
  if (!image) return;
  await docker(image.env, ['rmi', '-f', image.tag]);
  rmSync(image.dir, { recursive: true, force: true });
}

const refOf = (ctx: Context) => `${ctx.reg.host}/bench/docker:v1`;

export function dockerWorkload(image: () => DockerImage): Workload {
  return {
    name: 'docker',
    title: 'docker push, then docker pull (every layer downloaded), of an image of random layers',
    needsDocker: true,
    setupAfterRestart: true,
    setup: async (ctx) => {
      const img = image();
      await ok(img.env, ['load', '-q', '-i', img.tarPath]);
      await ok(img.env, ['tag', img.tag, refOf(ctx)]);
      if (ctx.reg.accessKeyId) {
        await ok(img.env, ['login', '--username', ctx.reg.accessKeyId, '--password-stdin', ctx.reg.host], ctx.reg.secretAccessKey + '\n');
      }
    },
    run: async (ctx) => {
      const img = image();
      const ref = refOf(ctx);
      const t0 = process.hrtime.bigint();
      await ok(img.env, ['push', ref]);
      const push = secondsSince(t0);
      // Remove every local copy (both tags: the image and its layers go), so that the pull downloads each layer.
      await ok(img.env, ['rmi', img.tag, ref]);
      const t1 = process.hrtime.bigint();
      const pulled = await ok(img.env, ['pull', ref]);
      const pull = secondsSince(t1);
      const complete = (pulled.stdout.match(/Pull complete/g) ?? []).length;
      if (complete !== img.layers) throw new Error(`docker pull downloaded ${complete} of ${img.layers} layers:\n${pulled.stdout}`);
      return { docker_push_s: push, docker_pull_s: pull };
    },
    teardown: async (ctx) => {
      const img = image();
      await docker(img.env, ['rmi', '-f', refOf(ctx), img.tag]);
      if (ctx.reg.accessKeyId) await docker(img.env, ['logout', ctx.reg.host]);
    },
  };
}
