// The registry `berth import` and `berth export` talk to: a remote Berth (--url, with an access key from the
// environment), the server that runs on the data directory (found through its server.json, called with the root
// key), or, when none runs, a server started in this process on the data directory for the time of the command
// (on 127.0.0.1, an ephemeral port, plain HTTP). Every way goes through the same /v2/ API and so the same core.
import { resolve } from 'node:path';
import type { Config } from '../config.ts';
import { ConfigError } from '../config.ts';
import { openStores, startBerth } from '../server/app.ts';
import { runningServer } from '../server/presence.ts';
import { RegistryClient, type Credentials } from './registry-client.ts';

export interface Target {
  client: RegistryClient;
  /** Where the registry is and the access key it is called with (for its ECR and admin APIs). */
  endpoint: { url: string; creds: Credentials };
  describe: string;
  close(): Promise<void>;
}

export async function openTarget(config: Config, url: string | undefined, env: NodeJS.ProcessEnv): Promise<Target> {
  if (url) {
    const accessKeyId = env.BERTH_ACCESS_KEY_ID ?? env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.BERTH_SECRET_ACCESS_KEY ?? env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
      throw new ConfigError(
        '--url needs an access key: set BERTH_ACCESS_KEY_ID and BERTH_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)',
      );
    }
    const base = url.includes('://') ? url : `https://${url}`;
    const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? config.region;
    return endpointTarget(base, { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN, region }, base, async () => {});
  }
  const dataDir = resolve(config.dataDir);
  const running = runningServer(dataDir);
  if (running) {
    const stores = await openStores(config);
    const { accessKeyId, secretAccessKey } = stores.rootKey;
    await stores.close();
    return endpointTarget(
      running,
      { accessKeyId, secretAccessKey, region: config.region },
      `the server running on ${dataDir} (${running})`,
      async () => {},
    );
  }
  const berth = await startBerth({
    ...config,
    listen: '127.0.0.1:0',
    publicUrl: undefined,
    tlsCertFile: undefined,
    tlsKeyFile: undefined,
    tlsSelfSigned: false,
    logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel,
  });
  const { accessKeyId, secretAccessKey } = berth.rootKey;
  return endpointTarget(berth.url, { accessKeyId, secretAccessKey, region: config.region }, `the data directory ${dataDir}`, () =>
    berth.close(),
  );
}

function endpointTarget(url: string, creds: Credentials, describe: string, close: () => Promise<void>): Target {
  const client = new RegistryClient(url, creds);
  return { client, endpoint: { url: client.url, creds }, describe, close };
}
