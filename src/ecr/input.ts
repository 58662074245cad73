// An ECR request body as JSON: nesting bounded before it is parsed (src/core/json-limits.ts), errors as the
// AWS JSON protocol reports a body it cannot read (SerializationException).
import { JsonTooDeepError, parseUntrustedJson } from '../core/json-limits.ts';
import { EcrError } from './errors.ts';

export function parseEcrInput(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return parseUntrustedJson(body);
  } catch (e) {
    if (e instanceof JsonTooDeepError) throw new EcrError('SerializationException', `The request body is not valid: ${e.message}`);
    throw new EcrError('SerializationException', 'The request body is not valid JSON');
  }
}
