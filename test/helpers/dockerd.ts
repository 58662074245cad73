// A docker CLI session for one test file, against the Docker daemon that is already running on the machine
// (.ci/run starts one; locally, start it by hand). Each session has its own DOCKER_CONFIG directory, so
// `docker login` credentials never leak between tests or into ~/.docker, and it removes the images and
// containers it made when cleaned up.
import type { RunOptions, RunResult } from './tools.ts';
import { makeTempDir, removeDir, requireDocker, run, runFails, runOk } from './tools.ts';

export interface DockerSession {
  configDir: string; // this session's DOCKER_CONFIG
  env: Record<string, string>; // env for any docker (or skopeo) command of this session
  serverVersion: string;
  /** Runs `docker ARGS` with this session's config; never throws for a non-zero exit. */
  run: (args: string[], opts?: RunOptions) => Promise<RunResult>;
  /** Runs `docker ARGS`; throws with the output unless it exits 0. */
  ok: (args: string[], opts?: RunOptions) => Promise<RunResult>;
  /** Runs `docker ARGS`; throws unless it fails. */
  fails: (args: string[], opts?: RunOptions) => Promise<RunResult>;
  /** Remember an image reference (name:tag or image id) to remove in cleanup. */
  trackImage: (ref: string) => void;
  /** Remember a container id to remove in cleanup. */
  trackContainer: (id: string) => void;
  /** Removes the tracked containers and images and the config directory. */
  cleanup: () => Promise<void>;
}

export async function dockerSession(): Promise<DockerSession> {
  const configDir = makeTempDir('berth-e2e-docker-config-');
  // DOCKER_BUILDKIT=0: the legacy builder is built into the daemon; BuildKit would need the buildx plugin.
  const env: Record<string, string> = {
    DOCKER_CONFIG: configDir,
    DOCKER_BUILDKIT: '0',
    REGISTRY_AUTH_FILE: `${configDir}/containers-auth.json`,
  };
  let serverVersion: string;
  try {
    serverVersion = await requireDocker(env);
  } catch (err) {
    removeDir(configDir);
    throw err;
  }
  const images = new Set<string>();
  const containers = new Set<string>();
  const withEnv = (opts: RunOptions = {}): RunOptions => ({ ...opts, env: { ...env, ...opts.env } });
  return {
    configDir,
    env,
    serverVersion,
    run: (args, opts) => run('docker', args, withEnv(opts)),
    ok: (args, opts) => runOk('docker', args, withEnv(opts)),
    fails: (args, opts) => runFails('docker', args, withEnv(opts)),
    trackImage: (ref) => {
      images.add(ref);
    },
    trackContainer: (id) => {
      containers.add(id);
    },
    cleanup: async () => {
      for (const id of containers) await run('docker', ['rm', '-f', id], withEnv());
      // An image whose tags all go is removed with its now unused parent (intermediate build) images.
      if (images.size > 0) await run('docker', ['rmi', '-f', ...images], withEnv());
      removeDir(configDir);
    },
  };
}
