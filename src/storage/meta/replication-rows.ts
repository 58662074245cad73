// Rows of the replication tables as the store returns them, shared by the SQLite and PostgreSQL stores.
import type {
  ReplicationBackfillResultRow,
  ReplicationBackfillRow,
  ReplicationDestinationRow,
  ReplicationState,
  ReplicationStatusRow,
} from './store.ts';

type Row = Record<string, unknown>;

export function toReplicationDestination(r: Row): ReplicationDestinationRow {
  return {
    accountId: String(r.account_id),
    region: String(r.region),
    registryId: String(r.registry_id),
    kind: String(r.kind) as 'berth' | 'oci',
    endpoint: String(r.endpoint),
    username: r.username === null ? null : String(r.username),
    secretCiphertext: r.secret_ciphertext === null ? null : String(r.secret_ciphertext),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export function toReplicationBackfill(r: Row): ReplicationBackfillRow {
  return {
    id: String(r.id),
    accountId: String(r.account_id),
    region: String(r.region),
    registryId: String(r.registry_id),
    status: String(r.status) as ReplicationBackfillRow['status'],
    failureCode: r.failure_code === null ? null : String(r.failure_code),
    total: r.total === null ? null : Number(r.total),
    completed: Number(r.completed),
    failed: Number(r.failed),
    failureCodes: JSON.parse(String(r.failure_codes)) as string[],
    startedAt: Number(r.started_at),
    endedAt: r.ended_at === null ? null : Number(r.ended_at),
  };
}

export function toReplicationBackfillResult(r: Row): ReplicationBackfillResultRow {
  return {
    repositoryName: String(r.repository_name),
    digest: String(r.digest),
    tag: r.tag === '' ? null : String(r.tag),
    status: String(r.status) as 'COMPLETE' | 'FAILED',
    failureCode: r.failure_code === null ? null : String(r.failure_code),
  };
}

/** A backfill being stopped stays STOPPING until it ends (then STOPPED), whatever status its worker writes. */
export function backfillStatusAfter(
  current: ReplicationBackfillRow['status'],
  update: { status?: ReplicationBackfillRow['status']; endedAt?: number | null },
): ReplicationBackfillRow['status'] {
  if (current === 'STOPPING' || current === 'STOPPED') return update.endedAt != null ? 'STOPPED' : current;
  return update.status ?? current;
}

export function toReplicationStatus(r: Row): ReplicationStatusRow {
  return {
    region: String(r.region),
    registryId: String(r.registry_id),
    status: String(r.status) as ReplicationState,
    failureReason: r.failure_reason === null ? null : String(r.failure_reason),
    updatedAt: Number(r.updated_at),
  };
}
