// The OCI distribution spec's error format: {"errors":[{"code","message","detail"}]}, with the spec's codes and
// the HTTP status each takes. Core error codes map onto them here and nowhere else.
import type { ServerResponse } from 'node:http';
import { RegistryError, type RegistryErrorCode } from '../core/errors.ts';

const WIRE: Record<RegistryErrorCode, { code: string; status: number }> = {
  NAME_INVALID: { code: 'NAME_INVALID', status: 400 },
  NAME_UNKNOWN: { code: 'NAME_UNKNOWN', status: 404 },
  TAG_INVALID: { code: 'MANIFEST_INVALID', status: 400 },
  MANIFEST_INVALID: { code: 'MANIFEST_INVALID', status: 400 },
  MANIFEST_UNKNOWN: { code: 'MANIFEST_UNKNOWN', status: 404 },
  // ECR: "Archived images cannot be pulled. Requests to pull the archived image will fail with a 404 error."
  MANIFEST_ARCHIVED: { code: 'MANIFEST_UNKNOWN', status: 404 },
  MANIFEST_BLOB_UNKNOWN: { code: 'MANIFEST_BLOB_UNKNOWN', status: 400 },
  MANIFEST_TOO_LARGE: { code: 'MANIFEST_INVALID', status: 413 },
  MANIFEST_REFERENCED: { code: 'DENIED', status: 409 },
  DIGEST_INVALID: { code: 'DIGEST_INVALID', status: 400 },
  BLOB_UNKNOWN: { code: 'BLOB_UNKNOWN', status: 404 },
  // A blob a manifest of the repository references: deleting it would break the image. 405, the spec's status for a
  // DELETE the registry refuses (and zot's for this case): the conformance suite accepts only 2xx, 404 or 405 when it
  // deletes blobs its manifests still reference.
  BLOB_REFERENCED: { code: 'DENIED', status: 405 },
  BLOB_UPLOAD_UNKNOWN: { code: 'BLOB_UPLOAD_UNKNOWN', status: 404 },
  BLOB_UPLOAD_INVALID: { code: 'BLOB_UPLOAD_INVALID', status: 400 },
  RANGE_INVALID: { code: 'BLOB_UPLOAD_INVALID', status: 416 },
  SIZE_INVALID: { code: 'SIZE_INVALID', status: 400 },
  PAGINATION_NUMBER_INVALID: { code: 'PAGINATION_NUMBER_INVALID', status: 400 },
  // ECR answers a push over an immutable tag with "tag invalid: The image tag '...' already exists ...".
  IMAGE_TAG_IMMUTABLE: { code: 'TAG_INVALID', status: 400 },
  REPOSITORY_EXISTS: { code: 'DENIED', status: 409 },
  REPOSITORY_NOT_EMPTY: { code: 'DENIED', status: 409 },
  UNSUPPORTED: { code: 'UNSUPPORTED', status: 405 },
  UNAUTHORIZED: { code: 'UNAUTHORIZED', status: 401 },
  DENIED: { code: 'DENIED', status: 403 },
  TOO_MANY_UPLOADS: { code: 'TOOMANYREQUESTS', status: 429 },
  TOO_MANY_REQUESTS: { code: 'TOOMANYREQUESTS', status: 429 },
  // distribution's code for a registry that cannot take the request now (its errcode.ErrorCodeUnavailable).
  STORAGE_FULL: { code: 'UNAVAILABLE', status: 503 },
  // A pull through cache that cannot reach its upstream for what it has not cached (distribution's proxy answers so).
  UPSTREAM_UNAVAILABLE: { code: 'UNAVAILABLE', status: 503 },
};

export function sendOciError(res: ServerResponse, error: RegistryError, head = false): void {
  const wire = WIRE[error.code];
  const body = JSON.stringify({ errors: [{ code: wire.code, message: error.message, detail: error.detail ?? null }] });
  res.statusCode = wire.status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(head ? undefined : body);
}
