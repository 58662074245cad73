// Domain errors raised by the core. Each protocol adapter maps a code to its own wire format
// (OCI error JSON in src/oci/errors.ts; ECR exceptions later).

export type RegistryErrorCode =
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'TAG_INVALID'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'MANIFEST_ARCHIVED'
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
  | 'TOO_MANY_REQUESTS'
  | 'STORAGE_FULL'
  /** A pull through cache's upstream registry could not give what is not cached (unreachable, refused, broken). */
  | 'UPSTREAM_UNAVAILABLE';

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

/** The message every protocol gives for a write refused because the data directory's filesystem is full. */
export const STORAGE_FULL_MESSAGE = 'storage is full';

/** Where storage ran out of space: the metadata store, the blob store, the audit log (or elsewhere in the data
 * directory). */
export type StorageArea = 'metadata' | 'blobs' | 'audit log' | 'data directory';

/** Whether a filesystem error says there is no space left (ENOSPC) or the quota is used up (EDQUOT). */
export function isNoSpace(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** The core error for a write that storage had no space for (each protocol maps it: OCI 503 UNAVAILABLE, ECR
 * ServerException). */
export function storageFull(area: StorageArea): RegistryError {
  return new RegistryError('STORAGE_FULL', STORAGE_FULL_MESSAGE, { area });
}

export const isStorageFull = (e: unknown): boolean => e instanceof RegistryError && e.code === 'STORAGE_FULL';
