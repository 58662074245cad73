// One ECR operation called by a key holder: the input validated against ECR's model, the operation's table entry
// authorized (src/ecr/authorize.ts), then run. The ECR API (src/ecr/protocol.ts) and the web console
// (src/console/) both call it, so an action is validated and authorized the same way whichever way it comes.
import type { KeyHolder } from '../auth/identity.ts';
import { RegistryError } from '../core/errors.ts';
import type { EcrContext } from './context.ts';
import { EcrError, fromRegistryError } from './errors.ts';
import { operationFor } from './operations.ts';
import { authorizeOperation } from './authorize.ts';
import { validateInput } from './validate.ts';

/** What an operation's context holds besides the caller: the core and the registry's address. */
export type OperationDeps = Pick<
  EcrContext,
  | 'identity'
  | 'authorizer'
  | 'registry'
  | 'repositories'
  | 'images'
  | 'lifecycle'
  | 'scanner'
  | 'region'
  | 'publicHost'
  | 'publicScheme'
  | 'layerParts'
>;

export interface Call {
  holder: KeyHolder;
  operation: string;
  input: unknown;
  sourceIp?: string;
  /** The web console reading to show (see EcrContext.toShow). */
  toShow?: boolean;
}

/** Runs the operation, or throws an EcrError (a core error mapped as ECR reports it); other errors as they are. */
export async function invokeOperation(deps: OperationDeps, call: Call): Promise<object> {
  const { holder, operation, input } = call;
  let registryId = holder.principal.accountId;
  try {
    const entry = operationFor(operation);
    if (!entry)
      throw new EcrError('UnknownOperationException', operation ? `Operation ${operation} is not known` : 'Missing X-Amz-Target header');
    validateInput(operation, input);
    if ((input as { registryId?: string }).registryId) registryId = (input as { registryId: string }).registryId;
    const ctx: EcrContext = {
      operation,
      principal: holder.principal,
      holder,
      identity: deps.identity,
      authorizer: deps.authorizer,
      authzScope: deps.authorizer.scope(),
      authorized: { registryId },
      sourceIp: call.sourceIp,
      registry: deps.registry,
      repositories: deps.repositories,
      images: deps.images,
      lifecycle: deps.lifecycle,
      scanner: deps.scanner,
      region: deps.region,
      publicHost: deps.publicHost,
      publicScheme: deps.publicScheme,
      layerParts: deps.layerParts,
      ...(call.toShow ? { toShow: true } : {}),
    };
    // The table's decision before the operation runs (src/ecr/operations.ts).
    ctx.authorized = await authorizeOperation(ctx, entry, input as Record<string, unknown>);
    return await entry.run(ctx, input);
  } catch (e) {
    if (e instanceof RegistryError) throw fromRegistryError(e, registryId);
    throw e;
  }
}
