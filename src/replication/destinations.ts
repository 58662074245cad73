// Replication destinations: where an ECR destination (a region and a registry id, as PutReplicationConfiguration
// names it) is, as registry resources of an account managed through the admin API (`berth admin
// put-replication-destination`, ...): another Berth (`berth`: its ECR API and /v2/, the registry id being one of
// its accounts) or any OCI registry (`oci`: /v2/ only, Basic or Bearer auth), with the credentials to push there.
// The secret is kept encrypted with the registry's key (SecretBox) and never shown again.
import type { SecretBox } from '../auth/secrets.ts';
import { IdentityError as DestinationError } from '../auth/identity.ts';
import { ACCOUNT_ID } from '../auth/policy/document.ts';
import type { MetaStore, ReplicationDestinationRow } from '../storage/meta/store.ts';
import { RegistryClient, withoutTrailingSlashes } from '../transfer/registry-client.ts';
import { createReplicatedRepository } from './templates.ts';

/** The model's Region pattern (ReplicationDestination.region). */
// ECR's region pattern ([0-9a-z-]{2,25}, the whole value), as a plain expression: matching it through the ECR model's
// RE2 patterns (src/ecr/validate.ts) would load the model and RE2 with the server, for one character class.
export const REGION_PATTERN = /^[0-9a-z-]{2,25}$/;

export interface DestinationArgs {
  region?: string;
  registryId?: string;
  url?: string;
  destinationType?: string;
  username?: string;
  password?: string;
}

export interface DestinationView {
  region: string;
  registryId: string;
  destinationType: 'berth' | 'oci';
  url: string;
  username: string | null;
  hasPassword: boolean;
  createdAt: string;
  updatedAt: string;
}

const view = (d: ReplicationDestinationRow): DestinationView => ({
  region: d.region,
  registryId: d.registryId,
  destinationType: d.kind,
  url: d.endpoint,
  username: d.username,
  hasPassword: d.secretCiphertext !== null,
  createdAt: new Date(d.createdAt).toISOString(),
  updatedAt: new Date(d.updatedAt).toISOString(),
});

export class ReplicationDestinations {
  private readonly meta: MetaStore;
  private readonly box: SecretBox;
  private readonly now: () => number;

  constructor(meta: MetaStore, box: SecretBox, now: () => number = Date.now) {
    this.meta = meta;
    this.box = box;
    this.now = now;
  }

  /** Adds the destination of (region, registry id), or replaces it. */
  async put(accountId: string, args: DestinationArgs): Promise<DestinationView> {
    const { region, registryId } = where(args);
    const url = URL.parse(args.url ?? '');
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash)
      throw new DestinationError('url must be an http:// or https:// URL of a registry');
    const kind = args.destinationType ?? 'berth';
    if (kind !== 'berth' && kind !== 'oci') throw new DestinationError('destinationType must be berth or oci');
    for (const [name, value, max] of [
      ['username', args.username, 256],
      ['password', args.password, 4096],
    ] as const) {
      if (value !== undefined && (typeof value !== 'string' || value.length === 0 || value.length > max))
        throw new DestinationError(`${name} must be a string of 1 to ${max} characters`);
    }
    if ((args.username === undefined) !== (args.password === undefined)) throw new DestinationError('username and password go together');
    if (kind === 'berth' && args.username === undefined)
      throw new DestinationError('a berth destination needs an access key: username (its id) and password (its secret)');
    const now = this.now();
    const existing = await this.meta.getReplicationDestination(accountId, region, registryId);
    const row: ReplicationDestinationRow = {
      accountId,
      region,
      registryId,
      kind,
      endpoint: withoutTrailingSlashes(url.href),
      username: args.username ?? null,
      secretCiphertext: args.password === undefined ? null : this.box.encrypt(args.password),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    await this.meta.putReplicationDestination(row);
    return view(row);
  }

  async list(accountId: string): Promise<DestinationView[]> {
    return (await this.meta.listReplicationDestinations(accountId)).map(view);
  }

  async delete(accountId: string, args: DestinationArgs): Promise<{ deleted: { region: string; registryId: string } }> {
    const { region, registryId } = where(args);
    if (!(await this.meta.deleteReplicationDestination(accountId, region, registryId)))
      throw new DestinationError(`no replication destination for region ${region} and registry ${registryId} in account ${accountId}`);
    return { deleted: { region, registryId } };
  }

  /** A client of the destination, with its credentials. */
  client(d: ReplicationDestinationRow): RegistryClient {
    const secret = d.secretCiphertext === null ? '' : this.box.decrypt(d.secretCiphertext);
    const client: RegistryClient = new RegistryClient(
      d.endpoint,
      { accessKeyId: d.username ?? '', secretAccessKey: secret, region: d.region },
      {
        ecrApi: d.kind === 'berth',
        createRepository: (repo) => createReplicatedRepository(client, repo),
      },
    );
    return client;
  }
}

function where(args: DestinationArgs): { region: string; registryId: string } {
  const { region, registryId } = args;
  if (typeof region !== 'string' || !REGION_PATTERN.test(region))
    throw new DestinationError('region must be a region name (2 to 25 of a-z, 0-9 and -)');
  if (typeof registryId !== 'string' || !ACCOUNT_ID.test(registryId))
    throw new DestinationError('registryId must be a 12-digit registry (account) id');
  return { region, registryId };
}
