// Rows of the signing tables as the store interfaces have them (shared by the SQLite and PostgreSQL stores), and
// the storage-class columns of an image's row.
import type { ImageSigningRow, SigningProfileRow, StorageClass } from './store.ts';

type Row = Record<string, unknown>;

const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
const time = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export function toSigningProfile(r: Row): SigningProfileRow {
  return {
    accountId: String(r.account_id),
    name: String(r.name),
    keyCiphertext: String(r.key_ciphertext),
    certificatePem: String(r.certificate_pem),
    createdAt: Number(r.created_at),
  };
}

export function toImageSigning(r: Row): ImageSigningRow {
  return {
    signingProfileArn: String(r.signing_profile_arn),
    status: String(r.status) as ImageSigningRow['status'],
    failureCode: text(r.failure_code),
    failureReason: text(r.failure_reason),
    signatureDigest: text(r.signature_digest),
    updatedAt: Number(r.updated_at),
  };
}

/** An image row's storage class and archive times. */
export function storageOf(r: Row): { storageClass: StorageClass; lastArchivedAt: number | null; lastActivatedAt: number | null } {
  return {
    storageClass: (text(r.storage_class) ?? 'STANDARD') as StorageClass,
    lastArchivedAt: time(r.archived_at),
    lastActivatedAt: time(r.activated_at),
  };
}
