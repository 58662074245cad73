// The parameters of a /v2/ route, percent-decoded. A malformed escape (`%zz`, a cut UTF-8 sequence such as
// `%E0%A4%A`) is the client's error, answered in the OCI format (400), never a crash: NAME_INVALID for the
// repository name (always the first parameter), and for the reference the code of an invalid reference of its kind.
import { fail, type RegistryErrorCode } from '../core/errors.ts';

export function decodePathParams(pathname: string, params: string[]): string[] {
  return params.map((param, i) => decodeParam(param, i === 0 ? 'NAME_INVALID' : referenceError(pathname)));
}

function decodeParam(param: string, code: RegistryErrorCode): string {
  try {
    return decodeURIComponent(param);
  } catch {
    const what = code === 'NAME_INVALID' ? 'repository name' : 'reference';
    return fail(
      code,
      `invalid percent-encoding in the ${what} "${param}"`,
      code === 'NAME_INVALID' ? { name: param } : { reference: param },
    );
  }
}

/** The kind of reference a path ends with. */
export const REFERENCE_KIND = /\/(manifests|blobs\/uploads|blobs|referrers)\/[^/]+$/;

/** What a malformed reference is, by the route it ends: a manifest's tag or digest, an upload id, or a digest. */
function referenceError(pathname: string): RegistryErrorCode {
  const kind = REFERENCE_KIND.exec(pathname)?.[1];
  if (kind === 'manifests') return 'MANIFEST_INVALID';
  if (kind === 'blobs/uploads') return 'BLOB_UPLOAD_INVALID';
  return 'DIGEST_INVALID';
}
