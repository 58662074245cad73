// Rows of the scan and usage tables as the store's types, the same for SQLite and PostgreSQL.
import type { ImageScan, LargeImage, UsageSnapshot, VulnSource } from './store.ts';

type Row = Record<string, unknown>;

const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function toImageScan(row: Row): ImageScan {
  return {
    repositoryId: Number(row.repository_id),
    digest: String(row.digest),
    scanType: String(row.scan_type) as ImageScan['scanType'],
    status: String(row.status),
    description: text(row.description),
    startedAt: Number(row.started_at),
    completedAt: num(row.completed_at),
    vulnerabilitySourceUpdatedAt: num(row.vuln_source_updated_at),
    findings: text(row.findings),
    severityCounts: text(row.severity_counts),
    inventory: text(row.inventory),
    manualScanAt: num(row.manual_scan_at),
  };
}

export function toVulnSource(row: Row): VulnSource {
  return {
    name: String(row.name),
    records: Number(row.records),
    importedAt: Number(row.imported_at),
    sha256: text(row.sha256),
    origin: String(row.origin),
  };
}

export function toUsageSnapshot(row: Row): UsageSnapshot {
  return {
    day: String(row.day),
    at: Number(row.at),
    storedBytes: Number(row.stored_bytes),
    referencedBytes: Number(row.referenced_bytes),
    repositories: Number(row.repositories),
    images: Number(row.images),
  };
}

export function toLargeImage(row: Row): LargeImage {
  return {
    accountId: String(row.account_id),
    repositoryName: String(row.repository_name),
    digest: String(row.digest),
    tags: row.tags ? String(row.tags).split(',') : [],
    imageSize: Number(row.image_size),
    pushedAt: Number(row.pushed_at),
  };
}
