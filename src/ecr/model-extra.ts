// Operations of the newest ECR API that botocore's model (src/ecr/model.json) does not have yet, written by hand from
// ECR's API reference and @aws-sdk/client-ecr (3.1169): the replication backfill operations. Their shapes use the
// model's own where one exists (RegistryId, ReplicationDestination, NextToken); validate.ts adds them to the model
// it loads, so that validation, the route table and the tests that walk it treat them as the model's.
export const EXTRA_OPERATIONS: Record<string, { input: string; errors: string[] }> = {
  StartReplicationBackfill: {
    input: 'StartReplicationBackfillRequest',
    errors: [
      'ServerException',
      'InvalidParameterException',
      'ValidationException',
      'LimitExceededException',
      'ReplicationBackfillInProgressException',
    ],
  },
  StopReplicationBackfill: {
    input: 'StopReplicationBackfillRequest',
    errors: [
      'ServerException',
      'InvalidParameterException',
      'ValidationException',
      'ReplicationBackfillNotFoundException',
      'ReplicationBackfillInvalidStatusException',
    ],
  },
  ListReplicationBackfills: {
    input: 'ListReplicationBackfillsRequest',
    errors: ['ServerException', 'InvalidParameterException', 'ValidationException'],
  },
  DescribeReplicationBackfillResults: {
    input: 'DescribeReplicationBackfillResultsRequest',
    errors: ['ServerException', 'InvalidParameterException', 'ValidationException', 'ReplicationBackfillNotFoundException'],
  },
};

export const EXTRA_SHAPES: Record<
  string,
  { type: string; min?: number; max?: number; pattern?: string; enum?: string[]; required?: string[]; members?: Record<string, string> }
> = {
  ReplicationBackfillId: { type: 'string', pattern: '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}' },
  ReplicationBackfillResultStatus: { type: 'string', enum: ['COMPLETE', 'FAILED'] },
  /** ListReplicationBackfills: 1 to 50 (25 when not given). */
  ReplicationBackfillMaxResults: { type: 'integer', min: 1, max: 50 },
  /** DescribeReplicationBackfillResults: 1 to 1000 (100 when not given). */
  ReplicationBackfillResultsMaxResults: { type: 'integer', min: 1, max: 1000 },
  StartReplicationBackfillRequest: {
    type: 'structure',
    required: ['destination'],
    members: { registryId: 'RegistryId', destination: 'ReplicationDestination' },
  },
  StopReplicationBackfillRequest: {
    type: 'structure',
    required: ['replicationBackfillId'],
    members: { registryId: 'RegistryId', replicationBackfillId: 'ReplicationBackfillId' },
  },
  ListReplicationBackfillsRequest: {
    type: 'structure',
    members: { registryId: 'RegistryId', maxResults: 'ReplicationBackfillMaxResults', nextToken: 'NextToken' },
  },
  DescribeReplicationBackfillResultsRequest: {
    type: 'structure',
    required: ['replicationBackfillId'],
    members: {
      registryId: 'RegistryId',
      replicationBackfillId: 'ReplicationBackfillId',
      resultStatusFilter: 'ReplicationBackfillResultStatus',
      maxResults: 'ReplicationBackfillResultsMaxResults',
      nextToken: 'NextToken',
    },
  },
};
