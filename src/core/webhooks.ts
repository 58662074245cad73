// Webhooks: registry resources of an account (URL, event types, repository filters, a secret kept encrypted) that
// the events outbox (src/core/events.ts) is delivered to, by a recurring job (WEBHOOK_JOB). Each webhook follows
// the events of its account from its own cursor, which moves only past events its receiver accepted (2xx) or that
// its filters leave out: at-least-once, in order, an id to deduplicate with. A failure waits 5 s, 10 s, 20 s, ...
// (at most an hour) before the next attempt. Requests are CloudEvents 1.0 in HTTP binary mode, signed as the
// Standard Webhooks convention says: `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed
// with the base64 bytes after `whsec_` of the secret.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { SecretBox } from '../auth/secrets.ts';
import type { MetaStore, StoredEvent, WebhookRow } from '../storage/meta/store.ts';
import { eventEnvelope } from './events.ts';
import { IdentityError as WebhookError } from '../auth/identity.ts';

export const WEBHOOK_JOB = 'webhooks';

export interface WebhookView {
  id: string;
  url: string;
  eventTypes: string[];
  repositories: string[];
  createdAt: string;
  /** The last event delivered to it; failures in a row and the last error, while it fails. */
  deliveredThrough: number;
  failures: number;
  lastError: string | null;
  /** What manages it ("apply": `berth apply`, whose --prune may delete it), null for none. */
  managedBy: string | null;
}

const view = (w: WebhookRow): WebhookView => ({
  id: w.id,
  url: w.url,
  eventTypes: w.eventTypes,
  repositories: w.repositories,
  createdAt: new Date(w.createdAt).toISOString(),
  deliveredThrough: w.cursor,
  failures: w.failures,
  lastError: w.lastError,
  managedBy: w.managedBy,
});

/** A filter list (event types, repositories): up to 20 strings; undefined when not given. */
function filterList(v: unknown, what: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length > 20 || !v.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 256))
    throw new WebhookError(`${what} must be a list of up to 20 strings`);
  return v as string[];
}

export function signature(secret: string, id: string, timestamp: string, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

const matches = (w: WebhookRow, e: StoredEvent): boolean =>
  e.accountId === w.accountId &&
  (w.eventTypes.length === 0 || w.eventTypes.includes(e.detailType)) &&
  (w.repositories.length === 0 ||
    w.repositories.some((r) => (r.endsWith('*') ? e.repositoryName.startsWith(r.slice(0, -1)) : e.repositoryName === r)));

export class Webhooks {
  private readonly meta: MetaStore;
  private readonly box: SecretBox;
  private readonly region: string;
  private readonly now: () => number;
  constructor(meta: MetaStore, box: SecretBox, region: string, now: () => number = Date.now) {
    this.meta = meta;
    this.box = box;
    this.region = region;
    this.now = now;
  }

  /** A new webhook and its secret (shown once, as an access key's). */
  /** A new webhook and its secret (shown once, as an access key's). `managedBy`: "apply" for `berth apply`'s. */
  async create(
    accountId: string,
    args: { url?: string; eventTypes?: unknown; repositories?: unknown; managedBy?: unknown },
  ): Promise<WebhookView & { secret: string }> {
    const url = URL.parse(args.url ?? '');
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new WebhookError('url must be an http:// or https:// URL');
    const { managedBy } = args;
    if (managedBy !== undefined && (typeof managedBy !== 'string' || managedBy.length < 1 || managedBy.length > 64))
      throw new WebhookError('managedBy is 1 to 64 characters');
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const row = await this.meta.createWebhook({
      id: randomUUID(),
      accountId,
      url: url.href,
      eventTypes: filterList(args.eventTypes, 'eventTypes') ?? [],
      repositories: filterList(args.repositories, 'repositories') ?? [],
      secretCiphertext: this.box.encrypt(secret),
      createdAt: this.now(),
      managedBy: managedBy ?? null,
    });
    return { ...view(row), secret };
  }

  /** Changes the filters given (the others, the secret and the delivery cursor are kept). */
  async update(accountId: string, id: string | undefined, args: { eventTypes?: unknown; repositories?: unknown }): Promise<WebhookView> {
    const filters = { eventTypes: filterList(args.eventTypes, 'eventTypes'), repositories: filterList(args.repositories, 'repositories') };
    if (!id || !(await this.meta.updateWebhookFilters(accountId, id, filters)))
      throw new WebhookError(`no webhook "${id ?? ''}" in account ${accountId}`);
    const row = (await this.meta.listWebhooks(accountId)).find((w) => w.id === id);
    if (!row) throw new WebhookError(`no webhook "${id}" in account ${accountId}`);
    return view(row);
  }

  async list(accountId: string): Promise<WebhookView[]> {
    return (await this.meta.listWebhooks(accountId)).map(view);
  }

  async delete(accountId: string, id: string | undefined): Promise<{ deleted: string }> {
    if (!id || !(await this.meta.deleteWebhook(accountId, id))) throw new WebhookError(`no webhook "${id ?? ''}" in account ${accountId}`);
    return { deleted: id };
  }

  /** One round: each webhook due gets the events after its cursor (up to 100), in order, until one fails. */
  async deliver(): Promise<{ delivered: number; failed: number }> {
    let delivered = 0;
    let failed = 0;
    for (const w of await this.meta.listWebhooks()) {
      if (w.nextAttemptAt > this.now()) continue;
      let cursor = w.cursor;
      try {
        for (const e of await this.meta.listEvents(w.cursor, 100)) {
          if (matches(w, e)) {
            await this.send(w, e);
            delivered++;
          }
          cursor = e.seq;
        }
        if (cursor !== w.cursor || w.failures > 0)
          await this.meta.updateWebhookDelivery(w.id, { cursor, failures: 0, nextAttemptAt: 0, lastError: null });
      } catch (err) {
        failed++;
        const failures = w.failures + 1;
        await this.meta.updateWebhookDelivery(w.id, {
          cursor,
          failures,
          nextAttemptAt: this.now() + Math.min(5_000 * 2 ** (failures - 1), 3_600_000),
          lastError: (err as Error).message,
        });
      }
    }
    return { delivered, failed };
  }

  private async send(w: WebhookRow, e: StoredEvent): Promise<void> {
    const envelope = eventEnvelope(e, this.region) as { time: string; resources: string[] };
    const body = JSON.stringify(envelope);
    const id = `evt_${e.seq}`;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const res = await fetch(w.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
      headers: {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': id,
        'ce-source': `arn:aws:ecr:${this.region}:${e.accountId}:registry`,
        'ce-type': e.detailType,
        'ce-subject': e.repositoryName,
        'ce-time': envelope.time,
        'webhook-id': id,
        'webhook-timestamp': timestamp,
        'webhook-signature': signature(this.box.decrypt(w.secretCiphertext), id, timestamp, body),
      },
      body,
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status >= 300) throw new Error(`${w.url} answered ${res.status}`);
  }
}
