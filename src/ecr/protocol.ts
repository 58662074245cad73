// The ECR control plane over AWS JSON 1.1: POST / with X-Amz-Target, SigV4-signed. Checks the credential, reads
// the body (bounded by its operation's limit), verifies the signature, validates the input against ECR's model,
// authorizes what the operation's table entry declares (src/ecr/operations.ts), runs the operation, and answers in
// JSON or with an AWS JSON error.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity } from '../auth/identity.ts';
import type { Authorizer } from '../auth/authorizer.ts';
import type { Principal } from '../auth/principal.ts';
import { RegistryError } from '../core/errors.ts';
import type { Images } from '../core/images.ts';
import type { Lifecycle } from '../lifecycle/worker.ts';
import type { Scanner } from '../scan/scanner.ts';
import type { Registry } from '../core/registry.ts';
import type { Repositories } from '../core/repositories.ts';
import type { Logger } from '../server/log.ts';
import { LayerParts } from './context.ts';
import { EcrError, fromRegistryError } from './errors.ts';
import { operationFor } from './operations.ts';
import { invokeOperation } from './invoke.ts';
import { model } from './validate.ts';
import { sendJson } from '../server/json.ts';
import type { PrincipalRequests } from '../server/request-limits.ts';
import { closeUnread, readBody } from '../server/body.ts';
import { checkCaller, ecrTarget, verifyBody, type EcrCaller } from './authenticate.ts';
import { ecrBodyLimit } from './body-limits.ts';
import { parseEcrInput } from './input.ts';

/** SigV4's refusals of a credential or signature: failed logins (a request with no credential at all is not). */
const LOGIN_FAILURES = new Set(['IncompleteSignatureException', 'InvalidSignatureException', 'UnrecognizedClientException']);

const CONTENT_TYPE = 'application/x-amz-json-1.1';

export interface EcrDeps {
  identity: Identity;
  authorizer: Authorizer;
  requests: PrincipalRequests;
  registry: Registry;
  repositories: Repositories;
  images: Images;
  lifecycle: Lifecycle;
  scanner: Scanner;
  region: string;
  publicHost: string;
  publicScheme: string;
  log: Logger;
  now?: () => number;
}

export function ecrHandler(deps: EcrDeps) {
  const now = deps.now ?? Date.now;
  const layerParts = new LayerParts(deps.registry.meta);
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    seen: { principal?: Principal; operation?: string; loginFailed?: boolean },
  ): Promise<void> => {
    const requestId = randomUUID();
    res.setHeader('x-amzn-RequestId', requestId);
    let registryId = '';
    try {
      // The target first (it names the body limit), then the credential, and only then the body.
      const target = ecrTarget(req, url);
      const prefix = `${model.targetPrefix}.`;
      const operation = target.startsWith(prefix) ? target.slice(prefix.length) : '';
      seen.operation = operation || undefined;
      const caller = await checkCaller(deps.identity, req, url, now());
      const body = await signedBody(req, url, operation, caller);
      const { holder } = caller;
      seen.principal = holder.principal;
      deps.requests.admit(holder.principal, res);
      registryId = holder.principal.accountId;
      if (!operationFor(operation))
        throw new EcrError('UnknownOperationException', target ? `Operation ${target} is not known` : 'Missing X-Amz-Target header');
      // The body is let go once parsed (a layer part's is 27 MB, and the part itself is what the operation keeps).
      const input = parseEcrInput(body.bytes, operation);
      body.bytes = EMPTY;
      const output = await invokeOperation({ ...deps, layerParts }, { holder, operation, input, sourceIp: req.socket.remoteAddress });
      // The operation is done with its input (a layer part, decoded into the body's buffer, is stored by now).
      bodyBuffers.giveBack(body.buffer);
      send(res, 200, output);
    } catch (e) {
      closeUnread(req, res);
      const error = e instanceof EcrError ? e : e instanceof RegistryError ? fromRegistryError(e, registryId) : undefined;
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

const EMPTY = Buffer.alloc(0);

/** The body, read within its operation's limit, once its signature holds. */
async function signedBody(
  req: IncomingMessage,
  url: URL,
  operation: string,
  caller: EcrCaller,
): Promise<{ bytes: Buffer; buffer?: Buffer }> {
  const limit = ecrBodyLimit(operation);
  // The claim was checked (checkCaller): a large body may go straight into one buffer.
  let buffer: Buffer | undefined;
  const allocate = (size: number) => {
    buffer = bodyBuffers.take(size);
    return buffer.subarray(0, size);
  };
  const { bytes } = await readBody(req, limit, { intoOneBuffer: true, allocate });
  if (!bytes)
    throw new EcrError(
      'SerializationException',
      `The request body is larger than ${limit} bytes, the limit of ${operation || 'this request'}`,
      413,
    );
  verifyBody(caller, req, url, bytes);
  return { bytes, buffer };
}

/**
 * One large body buffer kept for the next large body (a client uploads a layer one 27 MB part after another):
 * each part then reuses the memory of the one before instead of leaving it to the garbage collector, which lets
 * two or three pile up between collections. Let go after IDLE_MS without a large body.
 */
const bodyBuffers = (() => {
  const IDLE_MS = 10_000;
  const BODY_ROUNDING = 1 << 20;
  let spare: Buffer | undefined;
  let timer: NodeJS.Timeout | undefined;
  return {
    take(size: number): Buffer {
      const s = spare;
      if (s && s.length >= size) {
        spare = undefined;
        return s;
      }
      // Rounded up: the parts of one layer differ in size by a few bytes (their byte offsets have more digits as
      // the layer goes on), and a spare a few bytes short was dropped for a new buffer, leaving two of 27 MB in
      // memory until the next collection. The pages beyond `size` are never written, so they take no memory.
      return Buffer.allocUnsafeSlow(Math.ceil(size / BODY_ROUNDING) * BODY_ROUNDING);
    },
    giveBack(buffer: Buffer | undefined): void {
      if (!buffer || (spare && spare.length >= buffer.length)) return;
      spare = buffer;
      clearTimeout(timer);
      timer = setTimeout(() => {
        spare = undefined;
      }, IDLE_MS);
      timer.unref();
    },
  };
})();

function send(res: ServerResponse, status: number, body: object): void {
  sendJson(res, status, body, CONTENT_TYPE);
}
