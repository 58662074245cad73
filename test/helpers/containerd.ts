// A private containerd for end-to-end tests: its own root, state directory and socket under a temporary directory
// (no system service, no CRI plugin), started as a child process and stopped by its own pid. `ctr` talks to it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeDir, requireTool, run, runOk, type RunOptions, type RunResult } from './tools.ts';

export interface Containerd {
  address: string;
  /** `ctr --address <socket> ARGS`; never throws for a non-zero exit. */
  ctr(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** The same, and it must exit 0. */
  ctrOk(args: string[], opts?: RunOptions): Promise<RunResult>;
  stop(): Promise<void>;
}

export async function startContainerd(): Promise<Containerd> {
  await requireTool('containerd');
  await requireTool('ctr');
  if (process.getuid?.() !== 0) throw new Error('containerd needs root to run its own daemon; the e2e tests run as root (as .ci/run does)');
  const dir = makeTempDir('berth-e2e-containerd-');
  const address = join(dir, 'containerd.sock');
  writeFileSync(
    join(dir, 'config.toml'),
    [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${join(dir, 'state')}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${address}"`,
      '[ttrpc]',
      `  address = "${address}.ttrpc"`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d) => {
    log += d;
  });
  child.stderr!.on('data', (d) => {
    log += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ctr = (args: string[], opts?: RunOptions) => run('ctr', ['--address', address, ...args], opts);
  const until = Date.now() + 20_000;
  while (!(existsSync(address) && (await ctr(['version'], { timeoutMs: 10_000 })).code === 0)) {
    if (child.exitCode !== null) throw new Error(`containerd exited with ${child.exitCode}:\n${log}`);
    if (Date.now() > until) throw new Error(`containerd did not answer on ${address} within 20 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    address,
    ctr,
    ctrOk: (args, opts) => runOk('ctr', ['--address', address, ...args], opts),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      removeDir(dir);
    },
  };
}
