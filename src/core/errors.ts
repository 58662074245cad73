// Domain errors raised by the core. Each protocol adapter maps a code to its own wire format
// (OCI error JSON in src/oci/errors.ts; ECR exceptions later).

export type RegistryErrorCode =
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'TAG_INVALID'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_TOO_LARGE'
  | 'MANIFEST_REFERENCED'
  | 'DIGEST_INVALID'
  | 'BLOB_UNKNOWN'
  | 'BLOB_REFERENCED'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'RANGE_INVALID'
  | 'SIZE_INVALID'
  | 'PAGINATION_NUMBER_INVALID'
  | 'IMAGE_TAG_IMMUTABLE'
  | 'REPOSITORY_EXISTS'
  | 'REPOSITORY_NOT_EMPTY'
  | 'UNSUPPORTED'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'TOO_MANY_UPLOADS'
  | 'TOO_MANY_REQUESTS';

export class RegistryError extends Error {
  readonly code: RegistryErrorCode;
  readonly detail: unknown;
  constructor(code: RegistryErrorCode, message: string, detail?: unknown) {
    super(message);
    this.name = 'RegistryError';
    this.code = code;
    this.detail = detail;
  }
}

export const fail = (code: RegistryErrorCode, message: string, detail?: unknown): never => {
  throw new RegistryError(code, message, detail);
};
