// ECR's errors on the wire: AWS JSON 1.1 `{"__type": "<Exception>", "message": "..."}` with the HTTP status
// ECR uses, and the mapping of core errors onto ECR's exception names and messages.
import { RegistryError } from '../core/errors.ts';

export class EcrError extends Error {
  readonly type: string;
  readonly status: number;
  /** Members of the exception's shape besides its message (e.g. lastValidByteReceived). */
  readonly fields: Record<string, unknown>;
  constructor(type: string, message: string, status = 400, fields: Record<string, unknown> = {}) {
    super(message);
    this.name = 'EcrError';
    this.type = type;
    this.status = status;
    this.fields = fields;
  }
}

export const invalidParameter = (message: string) => new EcrError('InvalidParameterException', message);

/** ECR's message for a member that fails a constraint. */
export const constraintFailed = (member: string, constraint: string) =>
  invalidParameter(`Invalid parameter at '${member}' failed to satisfy constraint: '${constraint}'`);

/** ECR's ImageNotFoundException for an identifier that names no image of the repository. */
export const imageNotFound = (repo: { name: string; accountId: string }, id: { imageDigest?: string; imageTag?: string }) =>
  new EcrError(
    'ImageNotFoundException',
    `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${repo.name}' in the registry with id '${repo.accountId}'`,
  );

export const repositoryNotFound = (name: string, registryId: string) =>
  new EcrError('RepositoryNotFoundException', `The repository with name '${name}' does not exist in the registry with id '${registryId}'`);

/** Core errors as ECR reports them (the operation-specific ones are mapped by the operations themselves). */
export function fromRegistryError(e: RegistryError, registryId: string): EcrError {
  const name = (e.detail as { name?: string } | undefined)?.name ?? '';
  switch (e.code) {
    case 'NAME_UNKNOWN':
      return repositoryNotFound(name, registryId);
    case 'NAME_INVALID':
      return constraintFailed(
        'repositoryName',
        "must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*'",
      );
    case 'REPOSITORY_EXISTS':
      return new EcrError('RepositoryAlreadyExistsException', e.message);
    case 'REPOSITORY_NOT_EMPTY':
      return new EcrError('RepositoryNotEmptyException', e.message);
    case 'IMAGE_TAG_IMMUTABLE':
      return new EcrError('ImageTagAlreadyExistsException', e.message);
    case 'DENIED':
      return new EcrError('AccessDeniedException', e.message);
    case 'UNAUTHORIZED':
      return new EcrError('UnrecognizedClientException', e.message);
    case 'TOO_MANY_UPLOADS':
      return new EcrError('LimitExceededException', e.message);
    case 'TOO_MANY_REQUESTS':
      return new EcrError('ThrottlingException', e.message);
    // ECR has no exception for it: a server-side failure the client may retry, as ECR's own ServerException.
    case 'STORAGE_FULL':
      return new EcrError('ServerException', e.message, 500);
    default:
      return invalidParameter(e.message);
  }
}
