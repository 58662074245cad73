// What every ECR operation gets: the caller, what the dispatcher authorized for it (the account addressed, the
// repository), the core, and helpers for the wire shapes.
import type { KeyHolder, Identity } from '../auth/identity.ts';
import type { Principal } from '../auth/principal.ts';
import type { Authorizer, AuthzScope } from '../auth/authorizer.ts';
import type { Registry } from '../core/registry.ts';
import type { Repositories } from '../core/repositories.ts';
import type { Images } from '../core/images.ts';
import type { Lifecycle } from '../lifecycle/worker.ts';
import type { Scanner } from '../scan/scanner.ts';
import type { Repository, UploadStore } from '../storage/meta/store.ts';
import { EcrError } from './errors.ts';
import type { Authorized } from './authorize.ts';
import { parseUntrustedJson } from '../core/json-limits.ts';

export interface EcrContext {
  operation: string;
  principal: Principal;
  holder: KeyHolder;
  identity: Identity;
  authorizer: Authorizer;
  /** This request's authorization scope (`authorizer.scope()`): every decision it makes shares it. */
  authzScope: AuthzScope;
  /** What the dispatcher decided before the operation ran (src/ecr/authorize.ts). */
  authorized: Authorized;
  /** The caller's address (aws:SourceIp). */
  sourceIp?: string;
  registry: Registry;
  repositories: Repositories;
  images: Images;
  lifecycle: Lifecycle;
  scanner: Scanner;
  region: string;
  /** host[:port] users reach the registry at, and its scheme. */
  publicHost: string;
  publicScheme: string;
  /** Part sizes of the ECR layer uploads in progress (parts but the last must be 5 MiB or more). */
  layerParts: LayerParts;
  /** The web console reads to show, not to pull: BatchGetImage records no pull time (authorized all the same). */
  toShow?: boolean;
}

/** Per ECR layer upload: its last part's size, and whether an earlier part was under the minimum. Kept with the
 * upload in the metadata store, so that a sequence of parts may go to any node, and survives a restart. */
export class LayerParts {
  private readonly uploads: Pick<UploadStore, 'recordUploadPart' | 'smallPartBeforeLast'>;

  constructor(uploads: Pick<UploadStore, 'recordUploadPart' | 'smallPartBeforeLast'>) {
    this.uploads = uploads;
  }

  add(id: string, size: number, minimum: number): Promise<void> {
    return this.uploads.recordUploadPart(id, size, minimum);
  }

  smallBeforeLast(id: string): Promise<boolean> {
    return this.uploads.smallPartBeforeLast(id);
  }
}

/** The repository the dispatcher authorized for this operation (its table entry names one that must exist). */
export function authorizedRepository(ctx: EcrContext): Repository {
  const repository = ctx.authorized.repository;
  if (!repository) throw new Error(`${ctx.operation}: the route table authorized no repository for this operation`);
  return repository;
}

/** AWS JSON timestamps are epoch seconds. */
export const epochSeconds = (ms: number) => ms / 1000;

/** A wire shape: the SDK's output type with its Date fields as epoch seconds (numbers). */
export type Wire<T> = T extends Date ? number : T extends (infer U)[] ? Wire<U>[] : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;

/** Opaque pagination tokens: the key of the last item returned. */
function nextTokenOf(after: string): string {
  return Buffer.from(JSON.stringify({ a: after })).toString('base64url');
}

/** A page from the `limit + 1` items read past the cursor: the first `limit`, and a token when more follow. */
export function pageOf<T>(items: T[], limit: number, keyOf: (item: T) => string): { shown: T[]; nextToken?: string } {
  if (items.length <= limit) return { shown: items };
  const shown = items.slice(0, limit);
  return { shown, nextToken: nextTokenOf(keyOf(shown[shown.length - 1])) };
}

export function afterOf(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  try {
    const parsed = parseUntrustedJson(Buffer.from(token, 'base64url')) as { a?: unknown };
    if (typeof parsed.a === 'string') return parsed.a;
  } catch {
    /* fall through */
  }
  throw new EcrError('InvalidParameterException', "Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid NextToken'");
}
