// The ECR control plane over AWS JSON 1.1: POST / with X-Amz-Target, SigV4-signed. Reads the body (bounded),
// verifies the signature, validates the input against ECR's model, authorizes what the operation's table entry
// declares (src/ecr/operations.ts), runs the operation, and answers in JSON or with an AWS JSON error.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity, KeyHolder } from '../auth/identity.ts';
import type { Authorizer } from '../auth/authorizer.ts';
import type { Principal } from '../auth/principal.ts';
import { sha256hex, verifySigV4 } from '../auth/sigv4.ts';
import { RegistryError } from '../core/errors.ts';
import type { Images } from '../core/images.ts';
import type { Lifecycle } from '../lifecycle/worker.ts';
import type { Registry } from '../core/registry.ts';
import type { Repositories } from '../core/repositories.ts';
import type { Logger } from '../server/log.ts';
import { LayerParts, type EcrContext } from './context.ts';
import { EcrError, fromRegistryError } from './errors.ts';
import { operationFor } from './operations.ts';
import { authorizeOperation } from './authorize.ts';
import { model, validateInput } from './validate.ts';
import { sendJson } from '../server/json.ts';
import { readBody } from '../server/body.ts';
import type { PrincipalRequests } from '../server/request-limits.ts';

/** SigV4's refusals of a credential or signature: failed logins (a request with no credential at all is not). */
const LOGIN_FAILURES = new Set(['IncompleteSignatureException', 'InvalidSignatureException', 'UnrecognizedClientException']);

/** The largest request body: an UploadLayerPart of 20 MiB, base64-encoded, with room to spare. */
const MAX_BODY = 32 * 1024 * 1024;
const CONTENT_TYPE = 'application/x-amz-json-1.1';

export interface EcrDeps {
  identity: Identity;
  authorizer: Authorizer;
  requests: PrincipalRequests;
  registry: Registry;
  repositories: Repositories;
  images: Images;
  lifecycle: Lifecycle;
  region: string;
  publicHost: string;
  publicScheme: string;
  log: Logger;
  now?: () => number;
}

export function ecrHandler(deps: EcrDeps) {
  const now = deps.now ?? Date.now;
  const layerParts = new LayerParts();
  return async (req: IncomingMessage, res: ServerResponse, url: URL, seen: { principal?: Principal; operation?: string; loginFailed?: boolean }): Promise<void> => {
    const requestId = randomUUID();
    res.setHeader('x-amzn-RequestId', requestId);
    let registryId = '';
    try {
      const { bytes: body } = await readBody(req, MAX_BODY);
      if (!body) throw new EcrError('SerializationException', `The request body is larger than ${MAX_BODY} bytes`, 413);
      const target = header(req, 'x-amz-target') ?? '';
      const prefix = `${model.targetPrefix}.`;
      const operation = target.startsWith(prefix) ? target.slice(prefix.length) : '';
      seen.operation = operation || undefined;
      const holder = await authenticate(deps.identity, req, url, body, now());
      seen.principal = holder.principal;
      deps.requests.admit(holder.principal, res);
      registryId = holder.principal.accountId;
      const entry = operationFor(operation);
      if (!entry) throw new EcrError('UnknownOperationException', target ? `Operation ${target} is not known` : 'Missing X-Amz-Target header');
      let input: unknown;
      try {
        input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch {
        throw new EcrError('SerializationException', 'The request body is not valid JSON');
      }
      validateInput(operation, input);
      if ((input as { registryId?: string }).registryId) registryId = (input as { registryId: string }).registryId;
      const ctx: EcrContext = {
        operation, principal: holder.principal, holder, identity: deps.identity, authorizer: deps.authorizer, authzScope: deps.authorizer.scope(),
        authorized: { registryId }, sourceIp: req.socket.remoteAddress, registry: deps.registry,
        repositories: deps.repositories, images: deps.images, lifecycle: deps.lifecycle, region: deps.region, publicHost: deps.publicHost,
        publicScheme: deps.publicScheme, layerParts,
      };
      // The table's decision before the operation runs (src/ecr/operations.ts).
      ctx.authorized = await authorizeOperation(ctx, entry, input as Record<string, unknown>);
      const output = await entry.run(ctx, input);
      send(res, 200, output);
    } catch (e) {
      const error = e instanceof EcrError ? e
        : e instanceof RegistryError ? fromRegistryError(e, registryId)
        : undefined;
      if (!error) {
        deps.log.error({ err: e, requestId }, 'ECR request failed');
        return send(res, 500, { __type: 'ServerException', message: `An internal error occurred (request id ${requestId})` });
      }
      if (!seen.principal && LOGIN_FAILURES.has(error.type)) seen.loginFailed = true;
      res.setHeader('x-amzn-ErrorType', error.type);
      send(res, error.status, { __type: error.type, message: error.message, ...error.fields });
    }
  };
}

async function authenticate(identity: Identity, req: IncomingMessage, url: URL, body: Buffer, now: number): Promise<KeyHolder> {
  const accessKeyId = accessKeyOf(req, url);
  const holder = accessKeyId ? await identity.lookup(accessKeyId) : undefined;
  const result = verifySigV4({
    method: req.method ?? 'POST',
    path: url.pathname,
    query: url.search.slice(1),
    headers: req.headers,
    payloadHash: sha256hex(body),
  }, { service: 'ecr', now, secretFor: (id) => (holder && id === holder.accessKeyId ? holder.secretAccessKey : undefined) });
  if (!result.ok) throw new EcrError(result.error, result.message, result.error === 'MissingAuthenticationTokenException' ? 403 : 400);
  return holder!;
}

/** The access key id a request claims (header or presigned query), to look its secret up before verifying. */
function accessKeyOf(req: IncomingMessage, url: URL): string | undefined {
  const auth = header(req, 'authorization');
  const credential = auth ? /Credential=([^/,\s]+)\//.exec(auth)?.[1] : url.searchParams.get('X-Amz-Credential')?.split('/')[0];
  return credential || undefined;
}


function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function send(res: ServerResponse, status: number, body: object): void {
  sendJson(res, status, body, CONTENT_TYPE);
}
