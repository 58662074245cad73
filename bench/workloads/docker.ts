// docker push and docker pull of an image of random layers, with the Docker daemon already running on the machine.
// The image is built once per run FROM scratch with the legacy builder (DOCKER_BUILDKIT=0), saved to a tar and
// removed; before each push it is loaded again, and before each pull every local copy is removed, so that the
// pull downloads every layer. Each run has its own DOCKER_CONFIG (docker login to Berth with the root key).
// Beside each registry's push and pull, the same push and pull against the floor give docker's own time.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFloor, type Floor } from '../lib/floor.ts';
import { secondsSince } from '../lib/stats.ts';
import type { Context, Sizes, Workload } from '../lib/workload.ts';

export interface Cmd {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface DockerImage {
  dir: string;
  env: Record<string, string>;
  tag: string; // the local tag the saved image carries
  tarPath: string;
  layers: number;
  version: string;
}

function docker(env: Record<string, string>, args: string[], input?: string, timeoutMs = 300_000): Promise<Cmd> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e.code === 'ENOENT' ? new Error('docker is not installed (apt-get install -y docker.io)') : e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
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

const refOf = (host: string) => `${host}/bench/docker:v1`;

/** docker pull of ref; throws unless every layer was downloaded. */
async function pull(img: DockerImage, ref: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const pulled = await ok(img.env, ['pull', ref]);
  const seconds = secondsSince(t0);
  const complete = (pulled.stdout.match(/Pull complete/g) ?? []).length;
  if (complete !== img.layers) throw new Error(`docker pull ${ref} downloaded ${complete} of ${img.layers} layers:\n${pulled.stdout}`);
  return seconds;
}

async function push(img: DockerImage, ref: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  await ok(img.env, ['push', ref]);
  return secondsSince(t0);
}

/**
 * Each run pushes the image to the registry and to a fresh floor (bench/lib/floor.ts: a registry that only holds
 * bytes in memory), then pulls it from both, removing every local copy before each pull. Which of the two goes first
 * alternates from one round to the next, so that neither always finds the page cache warm.
 */
export function dockerWorkload(image: () => DockerImage): Workload {
  const floorOf = (ctx: Context) => ctx.state.dockerFloor as Floor;
  return {
    name: 'docker',
    title: 'docker push, then docker pull (every layer downloaded), of an image of random layers; the same against an in-memory floor',
    needsDocker: true,
    setupAfterRestart: true,
    setup: async (ctx) => {
      const img = image();
      const floor = await startFloor();
      ctx.state.dockerFloor = floor;
      await ok(img.env, ['load', '-q', '-i', img.tarPath]);
      await ok(img.env, ['tag', img.tag, refOf(ctx.reg.host)]);
      await ok(img.env, ['tag', img.tag, refOf(floor.host)]);
      if (ctx.reg.accessKeyId) {
        await ok(img.env, ['login', '--username', ctx.reg.accessKeyId, '--password-stdin', ctx.reg.host], ctx.reg.secretAccessKey + '\n');
      }
    },
    run: async (ctx) => {
      const img = image();
      const both = [
        { key: '', ref: refOf(ctx.reg.host) },
        { key: '_floor', ref: refOf(floorOf(ctx).host) },
      ];
      const order = ctx.round % 2 === 1 ? both : both.reverse();
      const figures: Record<string, number> = {};
      for (const { key, ref } of order) figures[`docker_push${key}_s`] = await push(img, ref);
      // Remove every local copy (every tag: the image and its layers go), so that each pull downloads each layer.
      await ok(img.env, ['rmi', img.tag, ...order.map((o) => o.ref)]);
      for (const [i, { key, ref }] of order.entries()) {
        figures[`docker_pull${key}_s`] = await pull(img, ref);
        if (i === 0) await ok(img.env, ['rmi', ref]);
      }
      return figures;
    },
    teardown: async (ctx) => {
      const img = image();
      const floor = floorOf(ctx);
      await docker(img.env, ['rmi', '-f', refOf(ctx.reg.host), refOf(floor.host), img.tag]);
      if (ctx.reg.accessKeyId) await docker(img.env, ['logout', ctx.reg.host]);
      await floor.close();
    },
  };
}
