// The SQLite metadata store (embedded default), on Node's built-in node:sqlite. WAL journal with
// synchronous=FULL: a committed transaction survives power loss. Calls are synchronous underneath and
// each method is one transaction, so a method is atomic with respect to every other request.
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementResultingChanges, type StatementSync } from 'node:sqlite';
import type {
  CreationTemplateRow,
  PullThroughRuleRow,
  SecretRow,
  AccessKeyRow,
  ImageId,
  ImageRow,
  ManifestWrite,
  MetaStore,
  NewManifest,
  Page,
  Referrer,
  Repository,
  RepositorySettings,
  ResourceTag,
  StoredBlob,
  StoredManifest,
  TagStatus,
  Upload,
  NamedPolicy,
  GcCandidate,
  Usage,
  LifecycleImageRow,
  LifecyclePreview,
  RefreshTokenRow,
  ConsoleSessionRow,
  Job,
  JobStatus,
  NewJob,
  BlobUnlink,
  RecordedUse,
  ImageScan,
  ScanOnWrite,
  ScanOutcome,
  StagedVulnRecord,
  VulnSource,
  AuditRecord,
  AuditSearch,
  LargeImage,
  UsageSnapshot,
  NewEvent,
  StoredEvent,
  WebhookRow,
  ReplicationBackfillResultRow,
  ReplicationBackfillRow,
  ReplicationDestinationRow,
  ReplicationOnWrite,
  ReplicationState,
  ReplicationStatusRow,
  SignOnWrite,
  SigningProfileRow,
  ImageSigningRow,
  StorageClass,
  UserRow,
} from './store.ts';
import { storageOf, toImageSigning, toSigningProfile } from './signing-rows.ts';
import { toImageScan, toLargeImage, toUsageSnapshot, toVulnSource } from './scan-rows.ts';
import {
  backfillStatusAfter,
  toReplicationBackfill,
  toReplicationBackfillResult,
  toReplicationDestination,
  toReplicationStatus,
} from './replication-rows.ts';
import { isOwnArtifact } from './own-artifacts.ts';
import { SQLITE_MIGRATIONS } from './sqlite-schema.ts';
import { storageFull } from '../../core/errors.ts';

type Row = Record<string, unknown>;

/** An image's columns (for toImage), its tags gathered in the same query, sorted. */
const IMAGE_COLUMNS = `m.digest, m.media_type, m.config_media_type, m.image_size, m.pushed_at, m.last_pulled_at, m.storage_class, m.archived_at, m.activated_at,
  (SELECT json_group_array(name) FROM (SELECT name FROM tags t WHERE t.repository_id = m.repository_id AND t.digest = m.digest ORDER BY name)) AS tag_list`;

/** A tag's image is of the class given (twice; null: any class). */
const IN_CLASS =
  'AND (? IS NULL OR EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = t.repository_id AND m.digest = t.digest AND m.storage_class = ?))';

/** SQLite's result code for a write the disk (or the database's size limit) has no room for. */
const SQLITE_FULL = 13;
/** SQLITE_IOERR_SHMOPEN, _SHMSIZE and _SHMMAP: the WAL's shared-memory index could not be made (a full disk). */
const SQLITE_NO_ROOM_FOR_INDEX = [4618, 4874, 5386];

const PRAGMAS = 'PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;';

export interface SqliteOptions {
  /** Hears of each write refused for lack of space (the server logs it once and counts). */
  onFull?: () => void;
  /** synchronous = OFF: for loading a database in bulk (the scale benchmark's seeding, bench/scale.ts --bulk), where
   * a crash may lose the last commits. Never for serving. */
  bulkLoad?: boolean;
}

export class SqliteMetaStore implements MetaStore {
  private db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  private readonly onFull: () => void;
  private readonly bulkLoad: boolean;
  /** Set while the database is open in exclusive locking mode (see open()): looks for space to leave it. */
  private exclusive: NodeJS.Timeout | undefined;

  constructor(path: string, options: SqliteOptions = {}) {
    this.onFull = options.onFull ?? (() => {});
    this.bulkLoad = options.bulkLoad ?? false;
    this.db = this.open(path);
    try {
      this.migrate();
    } catch (e) {
      this.db.close();
      throw this.mapped(e);
    }
  }

  /**
   * Opens the database. On a full disk SQLite cannot make the shared-memory index of its WAL (`meta.db-shm`,
   * made anew when no process has the database open): it is then opened in exclusive locking mode, where that
   * index lives in memory. Reads work and writes fail as on any full disk (STORAGE_FULL). Once there is space
   * again the database is opened shared again, between two requests (a transaction never spans an await), and
   * other processes (the `berth` commands) can open it again.
   */
  private open(path: string): DatabaseSync {
    const db = new DatabaseSync(path);
    try {
      db.exec(PRAGMAS);
      if (this.bulkLoad) db.exec('PRAGMA synchronous = OFF; PRAGMA cache_size = -262144');
      return db;
    } catch (e) {
      db.close();
      const code = (e as { errcode?: number }).errcode ?? 0;
      if (!SQLITE_NO_ROOM_FOR_INDEX.includes(code) && code % 256 !== SQLITE_FULL) throw e;
    }
    this.onFull();
    return this.openExclusive(path);
  }

  private openExclusive(path: string): DatabaseSync {
    const solo = new DatabaseSync(path);
    try {
      solo.exec(`PRAGMA locking_mode = EXCLUSIVE; ${PRAGMAS}`);
    } catch (e) {
      solo.close();
      throw this.mapped(e);
    }
    this.exclusive ??= setInterval(() => void this.shareWhenSpace(path), 2000);
    this.exclusive.unref();
    return solo;
  }

  private async shareWhenSpace(path: string): Promise<void> {
    const fs = await statfs(dirname(path)).catch(() => undefined);
    if (!fs || fs.bavail * fs.bsize < 1024 * 1024 || !this.exclusive) return;
    clearInterval(this.exclusive);
    this.exclusive = undefined;
    this.statements.clear();
    this.db.close();
    // Opened shared, or exclusive again (watching again) should the space be gone already.
    try {
      this.db = this.open(path);
    } catch {
      this.db = this.openExclusive(path);
    }
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const done = new Set(
      this.db
        .prepare('SELECT version FROM schema_migrations')
        .all()
        .map((r) => Number(r.version)),
    );
    SQLITE_MIGRATIONS.forEach((sql, i) => {
      const version = i + 1;
      if (done.has(version)) return;
      this.transaction(() => {
        this.db.exec(sql);
        this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, Date.now());
      });
    });
  }

  /** The prepared statement, kept; with `arrays`, one that returns rows as arrays rather than objects. */
  private sql(text: string, arrays = false): StatementSync {
    const key = arrays ? `arrays:${text}` : text;
    let s = this.statements.get(key);
    if (!s) {
      s = this.prepare(text);
      if (arrays) s.setReturnArrays(true);
      this.statements.set(key, s);
    }
    return s;
  }

  /** A statement whose writes report a full disk as the core's STORAGE_FULL. Reads need no free space (the WAL
   * and its index exist already) and are left as they are: serving pulls costs nothing more. */
  private prepare(text: string): StatementSync {
    const s = this.db.prepare(text);
    const run = s.run.bind(s) as (...params: unknown[]) => StatementResultingChanges;
    s.run = ((...params: unknown[]) => {
      try {
        return run(...params);
      } catch (e) {
        throw this.mapped(e);
      }
    }) as StatementSync['run'];
    return s;
  }

  /** SQLITE_FULL as the core's STORAGE_FULL; any other error as it is. */
  private mapped(e: unknown): unknown {
    if (((e as { errcode?: number }).errcode ?? 0) % 256 !== SQLITE_FULL) return e;
    this.onFull();
    return storageFull('metadata');
  }

  /** The values of a query's first column. Rows come back as arrays, not objects: a third of the cost for a
   * long list (1,000 tag names: 180 µs against 540). */
  private column(text: string, ...params: (string | number)[]): unknown[] {
    return (this.sql(text, true).all(...params) as unknown as unknown[][]).map((row) => row[0]);
  }

  private transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (e) {
      // SQLite rolls back by itself on some errors (SQLITE_FULL among them, at COMMIT too): a second ROLLBACK
      // would fail and hide the first error.
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw this.mapped(e);
    }
  }

  async close(): Promise<void> {
    if (this.exclusive) clearInterval(this.exclusive);
    this.exclusive = undefined;
    this.db.close();
  }

  async getSetting(key: string): Promise<string | undefined> {
    const row = this.sql('SELECT value FROM settings WHERE key = ?').get(key);
    return row ? String(row.value) : undefined;
  }

  async setSetting(key: string, value: string): Promise<void> {
    this.sql('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  async addSetting(key: string, value: string): Promise<string> {
    return this.transaction(() => {
      this.sql('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run(key, value);
      return String(this.sql('SELECT value FROM settings WHERE key = ?').get(key)!.value);
    });
  }

  async getRepository(accountId: string, name: string): Promise<Repository | undefined> {
    const row = this.sql('SELECT * FROM repositories WHERE account_id = ? AND name = ?').get(accountId, name);
    return row ? toRepository(row) : undefined;
  }

  async createRepository(
    accountId: string,
    name: string,
    settings: RepositorySettings,
    tags: ResourceTag[],
    now: number,
  ): Promise<Repository | undefined> {
    return this.transaction(() => {
      const inserted =
        this.sql(`INSERT INTO repositories (account_id, name, created_at, image_tag_mutability, mutability_exclusions, scan_on_push, encryption_type, kms_key)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, name) DO NOTHING`).run(
          accountId,
          name,
          now,
          settings.imageTagMutability,
          JSON.stringify(settings.mutabilityExclusions),
          settings.scanOnPush ? 1 : 0,
          settings.encryptionType,
          settings.kmsKey,
        );
      if (Number(inserted.changes) === 0) return undefined;
      const repo = toRepository(this.sql('SELECT * FROM repositories WHERE account_id = ? AND name = ?').get(accountId, name)!);
      const tag = this.sql('INSERT INTO repository_resource_tags (repository_id, key, value) VALUES (?, ?, ?)');
      for (const t of tags) tag.run(repo.id, t.Key, t.Value);
      return repo;
    });
  }

  async updateRepository(id: number, settings: Partial<RepositorySettings>): Promise<void> {
    const columns: [string, unknown][] = [];
    if (settings.imageTagMutability !== undefined) columns.push(['image_tag_mutability', settings.imageTagMutability]);
    if (settings.mutabilityExclusions !== undefined) columns.push(['mutability_exclusions', JSON.stringify(settings.mutabilityExclusions)]);
    if (settings.scanOnPush !== undefined) columns.push(['scan_on_push', settings.scanOnPush ? 1 : 0]);
    if (settings.encryptionType !== undefined) columns.push(['encryption_type', settings.encryptionType]);
    if (settings.kmsKey !== undefined) columns.push(['kms_key', settings.kmsKey]);
    if (columns.length === 0) return;
    this.prepare(`UPDATE repositories SET ${columns.map(([c]) => `${c} = ?`).join(', ')} WHERE id = ?`).run(
      ...(columns.map(([, v]) => v) as (string | number | null)[]),
      id,
    );
  }

  async deleteRepository(id: number): Promise<void> {
    this.transaction(() => {
      this.sql('DELETE FROM tags WHERE repository_id = ?').run(id);
      this.sql('DELETE FROM manifest_references WHERE repository_id = ?').run(id);
      this.sql('DELETE FROM manifests WHERE repository_id = ?').run(id);
      this.sql('DELETE FROM repositories WHERE id = ?').run(id);
    });
  }

  async listRepositories(accountId: string, page: Page): Promise<Repository[]> {
    return this.sql('SELECT * FROM repositories WHERE account_id = ? AND name > ? ORDER BY name LIMIT ?')
      .all(accountId, page.last ?? '', page.limit)
      .map(toRepository);
  }

  async countImages(repositoryId: number): Promise<number> {
    return Number(this.sql('SELECT count(*) AS n FROM manifests WHERE repository_id = ?').get(repositoryId)!.n);
  }

  async getResourceTags(repositoryId: number): Promise<ResourceTag[]> {
    return this.sql('SELECT key, value FROM repository_resource_tags WHERE repository_id = ? ORDER BY key')
      .all(repositoryId)
      .map((r) => ({ Key: String(r.key), Value: String(r.value) }));
  }

  async putResourceTags(repositoryId: number, tags: ResourceTag[]): Promise<void> {
    this.transaction(() => {
      const s = this.sql(
        'INSERT INTO repository_resource_tags (repository_id, key, value) VALUES (?, ?, ?) ON CONFLICT (repository_id, key) DO UPDATE SET value = excluded.value',
      );
      for (const t of tags) s.run(repositoryId, t.Key, t.Value);
    });
  }

  async deleteResourceTags(repositoryId: number, keys: string[]): Promise<void> {
    this.transaction(() => {
      const s = this.sql('DELETE FROM repository_resource_tags WHERE repository_id = ? AND key = ?');
      for (const k of keys) s.run(repositoryId, k);
    });
  }

  async ensureRepository(accountId: string, name: string, now: number): Promise<Repository> {
    this.sql('INSERT INTO repositories (account_id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (account_id, name) DO NOTHING').run(
      accountId,
      name,
      now,
    );
    return (await this.getRepository(accountId, name))!;
  }

  async recordBlob(blob: StoredBlob, now: number): Promise<void> {
    this.sql(
      'INSERT INTO blobs (digest, size, created_at, touched_at) VALUES (?, ?, ?, ?) ON CONFLICT (digest) DO UPDATE SET touched_at = excluded.touched_at',
    ).run(blob.digest, blob.size, now, now);
  }

  async touchBlob(digest: string, now: number): Promise<void> {
    this.sql('UPDATE blobs SET touched_at = ? WHERE digest = ? AND touched_at < ?').run(now, digest, now);
  }

  async unreferencedBlobs(before: number, after: string, scan: number): Promise<{ candidates: GcCandidate[]; last: string | undefined }> {
    const rows = this.sql(
      `SELECT digest, CASE WHEN touched_at < ?
          AND NOT EXISTS (SELECT 1 FROM manifest_references r WHERE r.child_digest = b.digest AND r.kind = 'blob') THEN size END
        FROM blobs b WHERE digest > ? ORDER BY digest LIMIT ?`,
      true,
    ).all(before, after, scan) as unknown as [string, number | null][];
    const candidates: GcCandidate[] = [];
    for (const [digest, size] of rows) if (size !== null) candidates.push({ digest, size: Number(size) });
    return { candidates, last: rows.length === scan ? rows[rows.length - 1][0] : undefined };
  }

  async unrecordedBlobs(digests: string[]): Promise<string[]> {
    if (digests.length === 0) return [];
    return (
      this.sql('SELECT j.value FROM json_each(?) j WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.digest = j.value)', true).all(
        JSON.stringify(digests),
      ) as unknown as [string][]
    ).map((r) => r[0]);
  }

  async deleteBlobIfUnreferenced(digest: string, before: number): Promise<boolean> {
    return this.transaction(() => {
      const still = this.sql(`SELECT 1 FROM blobs b WHERE digest = ? AND touched_at < ?
        AND NOT EXISTS (SELECT 1 FROM manifest_references r WHERE r.child_digest = b.digest AND r.kind = 'blob')`).get(digest, before);
      if (!still) return false;
      this.sql('DELETE FROM repository_blobs WHERE digest = ?').run(digest);
      this.sql('DELETE FROM blobs WHERE digest = ?').run(digest);
      return true;
    });
  }

  async listBlobs(after: string, limit: number): Promise<GcCandidate[]> {
    return this.sql('SELECT digest, size FROM blobs WHERE digest > ? ORDER BY digest LIMIT ?')
      .all(after, limit)
      .map((r) => ({ digest: String(r.digest), size: Number(r.size) }));
  }

  async listUploads(): Promise<Upload[]> {
    return this.sql('SELECT id, repository_id, started_at FROM uploads ORDER BY started_at')
      .all()
      .map((r) => ({ id: String(r.id), repositoryId: Number(r.repository_id), startedAt: Number(r.started_at) }));
  }

  async listManifestReferences(afterRepository: number, afterDigest: string, limit: number) {
    const rows = this.sql(`SELECT m.repository_id, m.digest,
        (SELECT json_group_array(child_digest) FROM manifest_references r WHERE r.repository_id = m.repository_id AND r.manifest_digest = m.digest AND r.kind = 'blob') AS blobs,
        (SELECT json_group_array(child_digest) FROM manifest_references r WHERE r.repository_id = m.repository_id AND r.manifest_digest = m.digest AND r.kind = 'manifest') AS children
      FROM manifests m WHERE (m.repository_id, m.digest) > (?, ?) ORDER BY m.repository_id, m.digest LIMIT ?`).all(
      afterRepository,
      afterDigest,
      limit,
    );
    return rows.map((r) => ({
      repositoryId: Number(r.repository_id),
      digest: String(r.digest),
      blobs: JSON.parse(String(r.blobs)) as string[],
      manifests: JSON.parse(String(r.children)) as string[],
    }));
  }

  async usage(): Promise<Usage> {
    const repositories = this.sql(`SELECT r.name, r.account_id,
        (SELECT count(*) FROM manifests m WHERE m.repository_id = r.id) AS images,
        (SELECT coalesce(sum(size), 0) FROM manifests m WHERE m.repository_id = r.id)
          + (SELECT coalesce(sum(b.size), 0) FROM blobs b WHERE b.digest IN
              (SELECT child_digest FROM manifest_references x WHERE x.repository_id = r.id AND x.kind = 'blob')) AS bytes
      FROM repositories r ORDER BY r.account_id, r.name`)
      .all()
      .map((r) => ({ name: String(r.name), accountId: String(r.account_id), images: Number(r.images), bytes: Number(r.bytes) }));
    const referenced = this.sql(`SELECT
        (SELECT coalesce(sum(size), 0) FROM manifests) AS manifests,
        (SELECT coalesce(sum(b.size), 0) FROM blobs b WHERE b.digest IN (SELECT child_digest FROM manifest_references WHERE kind = 'blob')) AS blobs`).get()!;
    const stored = this.sql('SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM blobs').get()!;
    const storageClasses = this.sql(
      'SELECT storage_class, count(*) AS images, coalesce(sum(image_size), 0) AS bytes FROM manifests GROUP BY storage_class ORDER BY storage_class DESC',
    )
      .all()
      .map((r) => ({ storageClass: String(r.storage_class) as StorageClass, images: Number(r.images), bytes: Number(r.bytes) }));
    return {
      storageClasses,
      repositories,
      referencedBytes: Number(referenced.manifests) + Number(referenced.blobs),
      referencedBlobBytes: Number(referenced.blobs),
      storedBytes: Number(stored.bytes),
      storedBlobs: Number(stored.n),
    };
  }

  async largestImages(limit: number): Promise<LargeImage[]> {
    return this.sql(`SELECT r.account_id, r.name AS repository_name, m.digest, m.image_size, m.pushed_at,
        (SELECT group_concat(t.name, ',') FROM (SELECT name FROM tags WHERE repository_id = m.repository_id AND digest = m.digest ORDER BY name) t) AS tags
      FROM manifests m JOIN repositories r ON r.id = m.repository_id ORDER BY m.image_size DESC, r.account_id, r.name, m.digest LIMIT ?`)
      .all(limit)
      .map(toLargeImage);
  }

  async getBlob(digest: string): Promise<StoredBlob | undefined> {
    const row = this.sql('SELECT digest, size FROM blobs WHERE digest = ?').get(digest);
    return row ? { digest: String(row.digest), size: Number(row.size) } : undefined;
  }

  async linkBlob(repositoryId: number, digest: string, now: number): Promise<void> {
    this.transaction(() => {
      this.sql('INSERT INTO repository_blobs (repository_id, digest, linked_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(
        repositoryId,
        digest,
        now,
      );
      this.sql('UPDATE blobs SET touched_at = ? WHERE digest = ? AND touched_at < ?').run(now, digest, now);
    });
  }

  async getRepositoryBlob(repositoryId: number, digest: string): Promise<StoredBlob | undefined> {
    const row = this.sql(`SELECT b.digest, b.size, b.touched_at FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest
      WHERE rb.repository_id = ? AND rb.digest = ?`).get(repositoryId, digest);
    return row ? { digest: String(row.digest), size: Number(row.size), touchedAt: Number(row.touched_at) } : undefined;
  }

  async unlinkBlobIfUnreferenced(repositoryId: number, digest: string): Promise<BlobUnlink> {
    return this.transaction(() => {
      const holder =
        this.sql(`SELECT manifest_digest FROM manifest_references WHERE repository_id = ? AND child_digest = ? AND kind = 'blob'
        ORDER BY manifest_digest LIMIT 1`).get(repositoryId, digest);
      if (holder) return { referencedBy: String(holder.manifest_digest) };
      const deleted = Number(
        this.sql('DELETE FROM repository_blobs WHERE repository_id = ? AND digest = ?').run(repositoryId, digest).changes,
      );
      return deleted > 0 ? 'unlinked' : 'unknown';
    });
  }

  async repositoriesHoldingBlob(accountId: string, digest: string, limit: number): Promise<Repository[]> {
    return this.sql(`SELECT r.* FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id
      WHERE rb.digest = ? AND r.account_id = ? ORDER BY r.name LIMIT ?`)
      .all(digest, accountId, limit)
      .map(toRepository);
  }

  async mountBlob(repositoryId: number, fromRepositoryId: number, digest: string, now: number): Promise<StoredBlob | undefined> {
    return this.transaction(() => {
      const row = this.sql(`SELECT b.digest, b.size FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest
        WHERE rb.repository_id = ? AND rb.digest = ?`).get(fromRepositoryId, digest);
      if (!row) return undefined;
      this.sql('INSERT INTO repository_blobs (repository_id, digest, linked_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(
        repositoryId,
        digest,
        now,
      );
      this.sql('UPDATE blobs SET touched_at = ? WHERE digest = ? AND touched_at < ?').run(now, digest, now);
      return { digest: String(row.digest), size: Number(row.size) };
    });
  }

  async missingManifests(repositoryId: number, digests: string[]): Promise<string[]> {
    const s = this.sql('SELECT 1 FROM manifests WHERE repository_id = ? AND digest = ?');
    return digests.filter((d) => s.get(repositoryId, d) === undefined);
  }

  async putManifest(
    m: NewManifest,
    tag: string | undefined,
    now: number,
    tagImmutable: boolean,
    scan?: ScanOnWrite,
    event?: NewEvent,
    replication?: ReplicationOnWrite,
    sign?: SignOnWrite,
  ): Promise<ManifestWrite> {
    return this.transaction(() => {
      if (!this.sql('SELECT 1 FROM repositories WHERE id = ?').get(m.repositoryId))
        return { created: false, refused: false, repositoryMissing: true };
      const previous =
        tag === undefined ? undefined : this.sql('SELECT digest FROM tags WHERE repository_id = ? AND name = ?').get(m.repositoryId, tag);
      const previousTagDigest = previous ? String(previous.digest) : undefined;
      if (tagImmutable && previousTagDigest !== undefined && previousTagDigest !== m.digest) {
        return { created: false, previousTagDigest, refused: true };
      }
      // References are checked here, in the write's transaction, so that garbage collection cannot remove a blob
      // between the check and the write (DESIGN.md invariants 2 and 6).
      const linked = this.sql('SELECT 1 FROM repository_blobs WHERE repository_id = ? AND digest = ?');
      const missingBlobs = m.blobs.filter((d) => linked.get(m.repositoryId, d) === undefined);
      const manifest = this.sql('SELECT 1 FROM manifests WHERE repository_id = ? AND digest = ?');
      const missingManifests = m.manifests.filter((d) => manifest.get(m.repositoryId, d) === undefined);
      if (missingBlobs.length > 0 || missingManifests.length > 0) {
        return { created: false, previousTagDigest, refused: false, missingBlobs, missingManifests };
      }
      const inserted =
        this.sql(`INSERT INTO manifests (repository_id, digest, media_type, artifact_type, subject_digest, size, content, annotations, pushed_at, image_size, config_media_type)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repository_id, digest) DO NOTHING`).run(
          m.repositoryId,
          m.digest,
          m.mediaType,
          m.artifactType,
          m.subjectDigest,
          m.size,
          m.content,
          m.annotations ? JSON.stringify(m.annotations) : null,
          m.pushedAt,
          m.imageSize,
          m.configMediaType,
        );
      const created = Number(inserted.changes) > 0;
      if (created) {
        const ref = this.sql(
          'INSERT INTO manifest_references (repository_id, manifest_digest, child_digest, kind) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
        );
        for (const b of m.blobs) ref.run(m.repositoryId, m.digest, b, 'blob');
        for (const c of m.manifests) ref.run(m.repositoryId, m.digest, c, 'manifest');
        if (scan) this.beginScan(m.repositoryId, m.digest, scan.scanType, now, scan.job, null);
        if (sign) this.beginSigning(m.repositoryId, m.digest, sign, now);
      }
      if (tag !== undefined && previousTagDigest !== m.digest) {
        this.sql(`INSERT INTO tags (repository_id, name, digest, updated_at) VALUES (?, ?, ?, ?)
          ON CONFLICT (repository_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at`).run(
          m.repositoryId,
          tag,
          m.digest,
          now,
        );
      }
      if (event && (created || (tag !== undefined && previousTagDigest !== m.digest))) this.insertEvent(event);
      if (replication && (created || (tag !== undefined && previousTagDigest !== m.digest)))
        this.beginReplication(m.repositoryId, m.digest, replication, now);
      return { created, previousTagDigest, refused: false };
    });
  }

  async getManifest(repositoryId: number, digest: string): Promise<StoredManifest | undefined> {
    const row = this.sql(`SELECT * FROM manifests WHERE repository_id = ? AND digest = ?`).get(repositoryId, digest);
    return row ? toManifest(row) : undefined;
  }

  async getTaggedManifest(repositoryId: number, tag: string): Promise<StoredManifest | undefined> {
    const row = this.sql(`SELECT m.* FROM tags t JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.digest
      WHERE t.repository_id = ? AND t.name = ?`).get(repositoryId, tag);
    return row ? toManifest(row) : undefined;
  }

  async manifestParents(repositoryId: number, digest: string): Promise<string[]> {
    return this.sql(
      `SELECT manifest_digest FROM manifest_references WHERE repository_id = ? AND child_digest = ? AND kind = 'manifest' ORDER BY manifest_digest`,
    )
      .all(repositoryId, digest)
      .map((r) => String(r.manifest_digest));
  }

  async deleteManifest(repositoryId: number, digest: string, event?: NewEvent): Promise<boolean> {
    return this.transaction(() => this.deleteManifestIn(repositoryId, digest, event));
  }

  async deleteManifests(repositoryId: number, images: { digest: string; event?: NewEvent }[]): Promise<string[]> {
    return this.transaction(() => images.filter((i) => this.deleteManifestIn(repositoryId, i.digest, i.event)).map((i) => i.digest));
  }

  /** deleteManifest, in the caller's transaction. */
  private deleteManifestIn(repositoryId: number, digest: string, event?: NewEvent): boolean {
    // An index referencing it keeps it (checked here, in the delete's transaction: DESIGN.md invariant 2).
    if (this.isReferencedByIndex(repositoryId, digest)) return false;
    const deleted = this.deleteManifestRows(repositoryId, digest);
    if (deleted && event) this.insertEvent(event);
    // The referrers Berth wrote for it go with it (and theirs), unless an index keeps one.
    for (const pending = deleted ? [digest] : []; pending.length > 0; ) {
      const subject = pending.pop()!;
      for (const r of this.sql('SELECT digest, annotations FROM manifests WHERE repository_id = ? AND subject_digest = ?').all(
        repositoryId,
        subject,
      )) {
        const own = String(r.digest);
        if (isOwnArtifact(r.annotations) && !this.isReferencedByIndex(repositoryId, own) && this.deleteManifestRows(repositoryId, own))
          pending.push(own);
      }
    }
    return deleted;
  }

  private isReferencedByIndex(repositoryId: number, digest: string): boolean {
    return (
      this.sql(`SELECT 1 FROM manifest_references WHERE repository_id = ? AND child_digest = ? AND kind = 'manifest' LIMIT 1`).get(
        repositoryId,
        digest,
      ) !== undefined
    );
  }

  /** A manifest's tags, references and row, in the caller's transaction; true when it existed. */
  private deleteManifestRows(repositoryId: number, digest: string): boolean {
    this.sql('DELETE FROM tags WHERE repository_id = ? AND digest = ?').run(repositoryId, digest);
    this.sql('DELETE FROM manifest_references WHERE repository_id = ? AND manifest_digest = ?').run(repositoryId, digest);
    return Number(this.sql('DELETE FROM manifests WHERE repository_id = ? AND digest = ?').run(repositoryId, digest).changes) > 0;
  }

  async deleteTag(repositoryId: number, tag: string, event?: NewEvent): Promise<boolean> {
    return this.transaction(() => {
      const deleted = Number(this.sql('DELETE FROM tags WHERE repository_id = ? AND name = ?').run(repositoryId, tag).changes) > 0;
      if (deleted && event) this.insertEvent(event);
      return deleted;
    });
  }

  private insertEvent(e: NewEvent): void {
    this.sql('INSERT INTO events (at, detail_type, account_id, repository_name, detail) VALUES (?, ?, ?, ?, ?)').run(
      e.at,
      e.detailType,
      e.accountId,
      e.repositoryName,
      e.detail,
    );
  }

  async listEvents(after: number, limit: number): Promise<StoredEvent[]> {
    return this.sql('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?')
      .all(after, limit)
      .map((r) => ({
        seq: Number(r.seq),
        at: Number(r.at),
        detailType: String(r.detail_type),
        accountId: String(r.account_id),
        repositoryName: String(r.repository_name),
        detail: String(r.detail),
      }));
  }

  async listTags(repositoryId: number, page: Page): Promise<string[]> {
    return this.column(
      'SELECT name FROM tags WHERE repository_id = ? AND name > ? ORDER BY name LIMIT ?',
      repositoryId,
      page.last ?? '',
      page.limit,
    ).map(String);
  }

  async getTag(repositoryId: number, tag: string): Promise<string | undefined> {
    const row = this.sql('SELECT digest FROM tags WHERE repository_id = ? AND name = ?').get(repositoryId, tag);
    return row ? String(row.digest) : undefined;
  }

  async listImageIds(
    repositoryId: number,
    status: TagStatus,
    after: string | undefined,
    limit: number,
    storageClass?: StorageClass,
  ): Promise<ImageId[]> {
    // Entries are ordered by "digest tag" (an untagged image: "digest "); the cursor is the last one returned.
    const cursor = after ?? '';
    const cls = storageClass ?? null;
    const space = cursor.indexOf(' ');
    const [afterDigest, afterTag] = space < 0 ? [cursor, null] : [cursor.slice(0, space), cursor.slice(space + 1)];
    if (status === 'TAGGED') {
      return this.sql(`SELECT digest, name FROM tags t WHERE repository_id = ? AND digest >= ? AND (digest > ? OR name > ?) ${IN_CLASS}
        ORDER BY digest, name LIMIT ?`)
        .all(repositoryId, afterDigest, afterDigest, afterTag ?? '', cls, cls, limit)
        .map((r) => ({ digest: String(r.digest), tag: String(r.name) }));
    }
    if (status === 'UNTAGGED') {
      return this.sql(`SELECT digest FROM manifests m WHERE m.repository_id = ? AND m.digest > ?
          AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.digest = m.digest) AND (? IS NULL OR m.storage_class = ?)
        ORDER BY m.digest LIMIT ?`)
        .all(repositoryId, afterDigest, cls, cls, limit)
        .map((r) => ({ digest: String(r.digest), tag: null }));
    }
    // ANY: each manifest with each of its tags, or once with none (its tag NULL, which sorts first).
    return this.sql(`SELECT m.digest, t.name FROM manifests m
        LEFT JOIN tags t ON t.repository_id = m.repository_id AND t.digest = m.digest
      WHERE m.repository_id = ? AND m.digest >= ? AND (m.digest > ? OR t.name > ?) AND (? IS NULL OR m.storage_class = ?)
      ORDER BY m.digest, t.name LIMIT ?`)
      .all(repositoryId, afterDigest, afterDigest, afterTag ?? '', cls, cls, limit)
      .map((r) => ({ digest: String(r.digest), tag: r.name === null ? null : String(r.name) }));
  }

  async listImages(
    repositoryId: number,
    status: TagStatus,
    after: string | undefined,
    limit: number,
    storageClass?: StorageClass,
  ): Promise<ImageRow[]> {
    const filter =
      status === 'TAGGED'
        ? 'AND EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.digest = m.digest)'
        : status === 'UNTAGGED'
          ? 'AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.digest = m.digest)'
          : '';
    return this.sql(
      `SELECT ${IMAGE_COLUMNS} FROM manifests m WHERE m.repository_id = ? AND m.digest > ? ${filter} AND (? IS NULL OR m.storage_class = ?) ORDER BY m.digest LIMIT ?`,
    )
      .all(repositoryId, after ?? '', storageClass ?? null, storageClass ?? null, limit)
      .map(toImage);
  }

  async setImageStorageClass(
    repositoryId: number,
    digest: string,
    storageClass: StorageClass,
    now: number,
  ): Promise<'changed' | 'unchanged' | 'missing'> {
    return this.transaction(() => {
      const row = this.sql('SELECT storage_class FROM manifests WHERE repository_id = ? AND digest = ?').get(repositoryId, digest);
      if (!row) return 'missing';
      if (String(row.storage_class) === storageClass) return 'unchanged';
      const stamp = storageClass === 'ARCHIVE' ? 'archived_at' : 'activated_at';
      this.sql(`UPDATE manifests SET storage_class = ?, ${stamp} = ? WHERE repository_id = ? AND digest = ?`).run(
        storageClass,
        now,
        repositoryId,
        digest,
      );
      return 'changed';
    });
  }

  // --- signing ---

  private beginSigning(repositoryId: number, digest: string, sign: SignOnWrite, now: number): void {
    const row =
      this.sql(`INSERT INTO image_signing (repository_id, digest, signing_profile_arn, status, updated_at) VALUES (?, ?, ?, 'IN_PROGRESS', ?)
      ON CONFLICT (repository_id, digest, signing_profile_arn) DO UPDATE SET status = 'IN_PROGRESS', failure_code = NULL, failure_reason = NULL, signature_digest = NULL, updated_at = excluded.updated_at`);
    for (const arn of sign.signingProfileArns) row.run(repositoryId, digest, arn, now);
    this.insertJob(sign.job, now);
  }

  async createSigningProfile(p: SigningProfileRow): Promise<boolean> {
    return (
      Number(
        this.sql(
          `INSERT INTO signing_profiles (account_id, name, key_ciphertext, certificate_pem, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        ).run(p.accountId, p.name, p.keyCiphertext, p.certificatePem, p.createdAt).changes,
      ) > 0
    );
  }

  async getSigningProfile(accountId: string, name: string): Promise<SigningProfileRow | undefined> {
    const row = this.sql('SELECT * FROM signing_profiles WHERE account_id = ? AND name = ?').get(accountId, name);
    return row ? toSigningProfile(row) : undefined;
  }

  async listSigningProfiles(accountId: string): Promise<SigningProfileRow[]> {
    return this.sql('SELECT * FROM signing_profiles WHERE account_id = ? ORDER BY name').all(accountId).map(toSigningProfile);
  }

  async listImageSigning(repositoryId: number, digest: string): Promise<ImageSigningRow[]> {
    return this.sql('SELECT * FROM image_signing WHERE repository_id = ? AND digest = ? ORDER BY signing_profile_arn')
      .all(repositoryId, digest)
      .map(toImageSigning);
  }

  async finishImageSigning(
    repositoryId: number,
    digest: string,
    arn: string,
    o: Pick<ImageSigningRow, 'status' | 'failureCode' | 'failureReason' | 'signatureDigest'>,
    now: number,
  ): Promise<void> {
    this.sql(`UPDATE image_signing SET status = ?, failure_code = ?, failure_reason = ?, signature_digest = ?, updated_at = ?
      WHERE repository_id = ? AND digest = ? AND signing_profile_arn = ?`).run(
      o.status,
      o.failureCode,
      o.failureReason,
      o.signatureDigest,
      now,
      repositoryId,
      digest,
      arn,
    );
  }

  async getImage(repositoryId: number, digest: string): Promise<ImageRow | undefined> {
    const row = this.sql(`SELECT ${IMAGE_COLUMNS} FROM manifests m WHERE m.repository_id = ? AND m.digest = ?`).get(repositoryId, digest);
    return row ? toImage(row) : undefined;
  }

  async recordUse(use: RecordedUse): Promise<void> {
    this.transaction(() => {
      const touch = this.sql('UPDATE blobs SET touched_at = ? WHERE digest = ? AND touched_at < ?');
      for (const b of use.blobs) touch.run(b.at, b.digest, b.at);
      const pulled = this.sql(
        'UPDATE manifests SET last_pulled_at = ? WHERE repository_id = ? AND digest = ? AND (last_pulled_at IS NULL OR last_pulled_at < ?)',
      );
      for (const p of use.pulls) pulled.run(p.at, p.repositoryId, p.digest, p.at);
    });
  }

  async listReferrers(repositoryId: number, subjectDigest: string, artifactType?: string): Promise<Referrer[]> {
    const rows =
      artifactType === undefined
        ? this.sql(
            `SELECT digest, media_type, artifact_type, size, annotations FROM manifests WHERE repository_id = ? AND subject_digest = ? ORDER BY digest`,
          ).all(repositoryId, subjectDigest)
        : this.sql(
            `SELECT digest, media_type, artifact_type, size, annotations FROM manifests WHERE repository_id = ? AND subject_digest = ? AND artifact_type = ? ORDER BY digest`,
          ).all(repositoryId, subjectDigest, artifactType);
    return rows.map((r) => ({
      digest: String(r.digest),
      mediaType: String(r.media_type),
      artifactType: r.artifact_type === null ? null : String(r.artifact_type),
      size: Number(r.size),
      annotations: r.annotations === null ? null : JSON.parse(String(r.annotations)),
    }));
  }

  async ensureAccount(accountId: string, now: number): Promise<void> {
    this.sql('INSERT INTO accounts (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING').run(accountId, now);
  }

  async listAccounts(): Promise<string[]> {
    return this.sql('SELECT id FROM accounts ORDER BY id')
      .all()
      .map((r) => String(r.id));
  }

  async createUser(accountId: string, name: string, now: number, managedBy: string | null = null): Promise<boolean> {
    return (
      Number(
        this.sql('INSERT INTO users (account_id, name, created_at, managed_by) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING').run(
          accountId,
          name,
          now,
          managedBy,
        ).changes,
      ) > 0
    );
  }

  async deleteUser(accountId: string, name: string): Promise<boolean> {
    return this.transaction(() => {
      this.sql(
        'DELETE FROM refresh_tokens WHERE access_key_id IN (SELECT access_key_id FROM access_keys WHERE account_id = ? AND user_name = ?)',
      ).run(accountId, name);
      this.sql(
        'DELETE FROM console_sessions WHERE access_key_id IN (SELECT access_key_id FROM access_keys WHERE account_id = ? AND user_name = ?)',
      ).run(accountId, name);
      this.sql('DELETE FROM access_keys WHERE account_id = ? AND user_name = ?').run(accountId, name);
      return Number(this.sql('DELETE FROM users WHERE account_id = ? AND name = ?').run(accountId, name).changes) > 0;
    });
  }

  async listUsers(accountId: string): Promise<UserRow[]> {
    return this.sql('SELECT name, created_at, managed_by FROM users WHERE account_id = ? ORDER BY name')
      .all(accountId)
      .map((r) => ({
        name: String(r.name),
        createdAt: Number(r.created_at),
        managedBy: r.managed_by === null ? null : String(r.managed_by),
      }));
  }

  async createAccessKey(k: AccessKeyRow): Promise<void> {
    this.sql(
      'INSERT INTO access_keys (access_key_id, account_id, user_name, secret_ciphertext, status, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(k.accessKeyId, k.accountId, k.userName, k.secretCiphertext, k.status, k.createdAt);
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKeyRow | undefined> {
    const row = this.sql('SELECT * FROM access_keys WHERE access_key_id = ?').get(accessKeyId);
    return row ? toAccessKey(row) : undefined;
  }

  async listAccessKeys(accountId: string, userName: string | null): Promise<AccessKeyRow[]> {
    return (
      userName === null
        ? this.sql('SELECT * FROM access_keys WHERE account_id = ? AND user_name IS NULL ORDER BY created_at').all(accountId)
        : this.sql('SELECT * FROM access_keys WHERE account_id = ? AND user_name = ? ORDER BY created_at').all(accountId, userName)
    ).map(toAccessKey);
  }

  async setAccessKeyStatus(accessKeyId: string, status: 'Active' | 'Inactive'): Promise<boolean> {
    return this.transaction(() => {
      if (status === 'Inactive') {
        this.sql('DELETE FROM refresh_tokens WHERE access_key_id = ?').run(accessKeyId);
        this.sql('DELETE FROM console_sessions WHERE access_key_id = ?').run(accessKeyId);
      }
      return Number(this.sql('UPDATE access_keys SET status = ? WHERE access_key_id = ?').run(status, accessKeyId).changes) > 0;
    });
  }

  async deleteAccessKey(accessKeyId: string): Promise<boolean> {
    return this.transaction(() => {
      this.sql('DELETE FROM refresh_tokens WHERE access_key_id = ?').run(accessKeyId);
      this.sql('DELETE FROM console_sessions WHERE access_key_id = ?').run(accessKeyId);
      return Number(this.sql('DELETE FROM access_keys WHERE access_key_id = ?').run(accessKeyId).changes) > 0;
    });
  }

  async createRefreshToken(t: RefreshTokenRow, now: number): Promise<void> {
    this.transaction(() => {
      this.sql('DELETE FROM refresh_tokens WHERE expires_at <= ?').run(now);
      this.sql('INSERT INTO refresh_tokens (token_hash, access_key_id, principal_arn, created_at, expires_at) VALUES (?, ?, ?, ?, ?)').run(
        t.tokenHash,
        t.accessKeyId,
        t.principalArn,
        t.createdAt,
        t.expiresAt,
      );
    });
  }

  async getRefreshToken(tokenHash: string): Promise<RefreshTokenRow | undefined> {
    const row = this.sql('SELECT * FROM refresh_tokens WHERE token_hash = ?').get(tokenHash);
    return row && toKeyBoundToken(row);
  }

  async deleteRefreshTokens(accessKeyId: string): Promise<number> {
    return Number(this.sql('DELETE FROM refresh_tokens WHERE access_key_id = ?').run(accessKeyId).changes);
  }

  async createConsoleSession(t: ConsoleSessionRow, now: number): Promise<void> {
    this.transaction(() => {
      this.sql('DELETE FROM console_sessions WHERE expires_at <= ?').run(now);
      this.sql(
        'INSERT INTO console_sessions (token_hash, access_key_id, principal_arn, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      ).run(t.tokenHash, t.accessKeyId, t.principalArn, t.createdAt, t.expiresAt);
    });
  }

  async getConsoleSession(tokenHash: string): Promise<ConsoleSessionRow | undefined> {
    const row = this.sql('SELECT * FROM console_sessions WHERE token_hash = ?').get(tokenHash);
    return row && toKeyBoundToken(row);
  }

  async deleteConsoleSession(tokenHash: string): Promise<boolean> {
    return Number(this.sql('DELETE FROM console_sessions WHERE token_hash = ?').run(tokenHash).changes) > 0;
  }

  async setRepositoryPolicy(repositoryId: number, text: string | null): Promise<void> {
    this.sql('UPDATE repositories SET policy_text = ? WHERE id = ?').run(text, repositoryId);
  }

  async setLifecyclePolicy(repositoryId: number, text: string | null): Promise<void> {
    this.sql('UPDATE repositories SET lifecycle_policy_text = ? WHERE id = ?').run(text, repositoryId);
  }

  async setLifecycleEvaluatedAt(repositoryId: number, at: number): Promise<void> {
    this.sql('UPDATE repositories SET lifecycle_evaluated_at = ? WHERE id = ?').run(at, repositoryId);
  }

  async repositoriesWithLifecyclePolicy(): Promise<Repository[]> {
    return this.sql('SELECT * FROM repositories WHERE lifecycle_policy_text IS NOT NULL ORDER BY account_id, name').all().map(toRepository);
  }

  async lifecycleImages(repositoryId: number): Promise<LifecycleImageRow[]> {
    // Rows as arrays: a lifecycle run reads every image of the repository (100,000 and more; issue 21).
    const tags = new Map<string, string[]>();
    for (const [digest, name] of this.sql('SELECT digest, name FROM tags WHERE repository_id = ? ORDER BY name', true).all(
      repositoryId,
    ) as unknown as [string, string][]) {
      const list = tags.get(digest);
      if (list) list.push(name);
      else tags.set(digest, [name]);
    }
    const children = new Set(
      this.sql(`SELECT DISTINCT child_digest FROM manifest_references WHERE repository_id = ? AND kind = 'manifest'`)
        .all(repositoryId)
        .map((r) => String(r.child_digest)),
    );
    const rows = this.sql(
      'SELECT digest, pushed_at, last_pulled_at, storage_class, archived_at, activated_at FROM manifests WHERE repository_id = ?',
      true,
    ).all(repositoryId) as unknown as [string, number, number | null, string | null, number | null, number | null][];
    return rows.map(([digest, pushedAt, lastPulledAt, storageClass, archivedAt, activatedAt]) => ({
      digest,
      tags: tags.get(digest) ?? [],
      pushedAt: Number(pushedAt),
      lastPulledAt: lastPulledAt === null ? null : Number(lastPulledAt),
      referencedByIndex: children.has(digest),
      ...storageOf({ storage_class: storageClass, archived_at: archivedAt, activated_at: activatedAt }),
    }));
  }

  async getLifecyclePreview(repositoryId: number, withResults = true): Promise<LifecyclePreview | undefined> {
    const row = this.sql(`SELECT policy_text, status, started_at, generation, ${withResults ? 'results' : 'NULL AS results'}
      FROM lifecycle_previews WHERE repository_id = ?`).get(repositoryId);
    return row
      ? {
          policyText: String(row.policy_text),
          status: String(row.status) as LifecyclePreview['status'],
          startedAt: Number(row.started_at),
          generation: Number(row.generation),
          results: row.results === null ? null : String(row.results),
        }
      : undefined;
  }

  async startLifecyclePreview(repositoryId: number, policyText: string, now: number, job?: NewJob): Promise<boolean> {
    return this.transaction(() => {
      const current = this.sql('SELECT status FROM lifecycle_previews WHERE repository_id = ?').get(repositoryId);
      if (current && current.status === 'IN_PROGRESS') return false;
      // Generations come from one counter for the whole store, never reused: a repository id is reused after the
      // newest repository is deleted, and its previews must not look like the deleted one's.
      const generation = Number(
        this.sql(`INSERT INTO settings (key, value) VALUES ('lifecycle_preview_generation', 1)
        ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING value`).get()!.value,
      );
      this.sql(`INSERT INTO lifecycle_previews (repository_id, policy_text, status, started_at, results, generation) VALUES (?, ?, 'IN_PROGRESS', ?, NULL, ?)
        ON CONFLICT (repository_id) DO UPDATE SET policy_text = excluded.policy_text, status = 'IN_PROGRESS', started_at = excluded.started_at, results = NULL,
          generation = excluded.generation`).run(repositoryId, policyText, now, generation);
      if (job) this.insertJob(job, now);
      return true;
    });
  }

  async finishLifecyclePreview(repositoryId: number, status: 'COMPLETE' | 'FAILED', results: string): Promise<void> {
    this.sql('UPDATE lifecycle_previews SET status = ?, results = ? WHERE repository_id = ?').run(status, results, repositoryId);
  }

  async getRegistryPolicy(accountId: string): Promise<string | undefined> {
    const row = this.sql('SELECT policy_text FROM registry_policies WHERE account_id = ?').get(accountId);
    return row ? String(row.policy_text) : undefined;
  }

  async setRegistryPolicy(accountId: string, text: string | null): Promise<void> {
    if (text === null) this.sql('DELETE FROM registry_policies WHERE account_id = ?').run(accountId);
    else
      this.sql(
        'INSERT INTO registry_policies (account_id, policy_text) VALUES (?, ?) ON CONFLICT (account_id) DO UPDATE SET policy_text = excluded.policy_text',
      ).run(accountId, text);
  }

  async putUserPolicy(accountId: string, userName: string, policy: NamedPolicy): Promise<void> {
    this.sql(`INSERT INTO user_policies (account_id, user_name, policy_name, policy_text) VALUES (?, ?, ?, ?)
      ON CONFLICT (account_id, user_name, policy_name) DO UPDATE SET policy_text = excluded.policy_text`).run(
      accountId,
      userName,
      policy.name,
      policy.text,
    );
  }

  async listUserPolicies(accountId: string, userName: string): Promise<NamedPolicy[]> {
    return this.sql('SELECT policy_name, policy_text FROM user_policies WHERE account_id = ? AND user_name = ? ORDER BY policy_name')
      .all(accountId, userName)
      .map((r) => ({ name: String(r.policy_name), text: String(r.policy_text) }));
  }

  async deleteUserPolicy(accountId: string, userName: string, name: string): Promise<boolean> {
    return (
      Number(
        this.sql('DELETE FROM user_policies WHERE account_id = ? AND user_name = ? AND policy_name = ?').run(accountId, userName, name)
          .changes,
      ) > 0
    );
  }

  // --- image scans and vulnerability data ---

  private beginScan(
    repositoryId: number,
    digest: string,
    scanType: string,
    now: number,
    job: NewJob | undefined,
    manualAt: number | null,
  ): void {
    this.sql(`INSERT INTO image_scans (repository_id, digest, scan_type, status, description, started_at, completed_at, vuln_source_updated_at, findings, severity_counts, inventory, manual_scan_at)
      VALUES (?, ?, ?, 'IN_PROGRESS', NULL, ?, NULL, NULL, NULL, NULL, NULL, ?)
      ON CONFLICT (repository_id, digest) DO UPDATE SET scan_type = excluded.scan_type, status = 'IN_PROGRESS', description = NULL,
        started_at = excluded.started_at, completed_at = NULL, findings = NULL, severity_counts = NULL,
        manual_scan_at = coalesce(excluded.manual_scan_at, image_scans.manual_scan_at)`).run(repositoryId, digest, scanType, now, manualAt);
    if (job) this.insertJob(job, now);
  }

  async getImageScan(repositoryId: number, digest: string): Promise<ImageScan | undefined> {
    const row = this.sql('SELECT * FROM image_scans WHERE repository_id = ? AND digest = ?').get(repositoryId, digest);
    return row ? toImageScan(row) : undefined;
  }

  async getImageScans(repositoryId: number, digests: string[]): Promise<Map<string, ImageScan>> {
    if (digests.length === 0) return new Map();
    const rows = this.sql('SELECT * FROM image_scans WHERE repository_id = ? AND digest IN (SELECT value FROM json_each(?))').all(
      repositoryId,
      JSON.stringify(digests),
    );
    return new Map(rows.map((r) => [String(r.digest), toImageScan(r)]));
  }

  async startImageScan(
    repositoryId: number,
    digest: string,
    scanType: 'BASIC' | 'ENHANCED',
    now: number,
    job: NewJob | undefined,
    manualSince?: number,
  ): Promise<'started' | 'limited' | 'missing'> {
    return this.transaction(() => {
      if (!this.sql('SELECT 1 FROM manifests WHERE repository_id = ? AND digest = ?').get(repositoryId, digest)) return 'missing';
      if (manualSince !== undefined) {
        const row = this.sql('SELECT manual_scan_at FROM image_scans WHERE repository_id = ? AND digest = ?').get(repositoryId, digest);
        if (row && row.manual_scan_at !== null && Number(row.manual_scan_at) > manualSince) return 'limited';
      }
      this.beginScan(repositoryId, digest, scanType, now, job, manualSince === undefined ? null : now);
      return 'started';
    });
  }

  async createWebhook(
    w: Omit<WebhookRow, 'cursor' | 'failures' | 'nextAttemptAt' | 'lastError' | 'managedBy'> & { managedBy?: string | null },
  ): Promise<WebhookRow> {
    // In a transaction: its COMMIT reports a failed write (a full disk); a RETURNING row read with get() would not.
    const row = this.transaction(
      () =>
        this.sql(`INSERT INTO webhooks (id, account_id, url, event_types, repositories, secret_ciphertext, created_at, cursor, managed_by)
      VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) FROM events), ?) RETURNING *`).get(
          w.id,
          w.accountId,
          w.url,
          JSON.stringify(w.eventTypes),
          JSON.stringify(w.repositories),
          w.secretCiphertext,
          w.createdAt,
          w.managedBy ?? null,
        )!,
    );
    return toWebhook(row);
  }

  async updateWebhookFilters(accountId: string, id: string, f: { eventTypes?: string[]; repositories?: string[] }): Promise<boolean> {
    const text = (list: string[] | undefined) => (list === undefined ? null : JSON.stringify(list));
    return (
      Number(
        this.sql(
          'UPDATE webhooks SET event_types = COALESCE(?, event_types), repositories = COALESCE(?, repositories) WHERE account_id = ? AND id = ?',
        ).run(text(f.eventTypes), text(f.repositories), accountId, id).changes,
      ) > 0
    );
  }

  async listWebhooks(accountId?: string): Promise<WebhookRow[]> {
    return (
      accountId === undefined
        ? this.sql('SELECT * FROM webhooks ORDER BY created_at, id').all()
        : this.sql('SELECT * FROM webhooks WHERE account_id = ? ORDER BY created_at, id').all(accountId)
    ).map(toWebhook);
  }

  async deleteWebhook(accountId: string, id: string): Promise<boolean> {
    return Number(this.sql('DELETE FROM webhooks WHERE account_id = ? AND id = ?').run(accountId, id).changes) > 0;
  }

  async updateWebhookDelivery(
    id: string,
    d: { cursor: number; failures: number; nextAttemptAt: number; lastError: string | null },
  ): Promise<void> {
    this.sql('UPDATE webhooks SET cursor = ?, failures = ?, next_attempt_at = ?, last_error = ? WHERE id = ?').run(
      d.cursor,
      d.failures,
      d.nextAttemptAt,
      d.lastError,
      id,
    );
  }

  async finishImageScan(repositoryId: number, digest: string, o: ScanOutcome, now: number, event?: NewEvent): Promise<void> {
    this.transaction(() => {
      this.sql(`UPDATE image_scans SET status = ?, description = ?, completed_at = ?, findings = ?, severity_counts = ?, vuln_source_updated_at = ?,
      inventory = CASE WHEN ? THEN ? ELSE inventory END WHERE repository_id = ? AND digest = ?`).run(
        o.status,
        o.description,
        now,
        o.findings,
        o.severityCounts,
        o.vulnerabilitySourceUpdatedAt,
        o.inventory === undefined ? 0 : 1,
        o.inventory ?? null,
        repositoryId,
        digest,
      );
      if (event) this.insertEvent(event);
    });
  }

  async listScannedImages(after: { repositoryId: number; digest: string } | undefined, limit: number) {
    return this.sql(`SELECT s.repository_id, s.digest, s.scan_type, r.account_id, r.name FROM image_scans s JOIN repositories r ON r.id = s.repository_id
      WHERE s.inventory IS NOT NULL AND (s.repository_id > ? OR (s.repository_id = ? AND s.digest > ?)) ORDER BY s.repository_id, s.digest LIMIT ?`)
      .all(after?.repositoryId ?? 0, after?.repositoryId ?? 0, after?.digest ?? '', limit)
      .map((r) => ({
        repositoryId: Number(r.repository_id),
        digest: String(r.digest),
        accountId: String(r.account_id),
        repositoryName: String(r.name),
        scanType: String(r.scan_type) as 'BASIC' | 'ENHANCED',
      }));
  }

  async stageVulnRecords(importId: string, records: StagedVulnRecord[]): Promise<void> {
    this.transaction(() => {
      const put = this.sql(`INSERT INTO vuln_staging (import_id, record_id, modified, record) VALUES (?, ?, ?, ?)
        ON CONFLICT (import_id, record_id) DO UPDATE SET modified = excluded.modified, record = excluded.record`);
      for (const r of records) put.run(importId, r.id, r.modified, r.record);
    });
  }

  async commitVulnImport(importId: string, source: VulnSource, job?: NewJob): Promise<number> {
    return this.transaction(() => {
      this.sql('DELETE FROM vuln_records WHERE source = ?').run(source.name);
      this.sql(
        'INSERT INTO vuln_records (source, record_id, modified, record) SELECT ?, record_id, modified, record FROM vuln_staging WHERE import_id = ?',
      ).run(source.name, importId);
      const records = Number(this.sql('SELECT count(*) AS n FROM vuln_records WHERE source = ?').get(source.name)!.n);
      this.sql('DELETE FROM vuln_staging WHERE import_id = ?').run(importId);
      this.sql(`INSERT INTO vuln_sources (name, records, imported_at, sha256, origin) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET records = excluded.records, imported_at = excluded.imported_at, sha256 = excluded.sha256, origin = excluded.origin`).run(
        source.name,
        records,
        source.importedAt,
        source.sha256,
        source.origin,
      );
      const version = Number(
        this.sql(`INSERT INTO settings (key, value) VALUES ('vulndb_version', 1)
        ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING value`).get()!.value,
      );
      if (job) this.insertJob(job, source.importedAt);
      return version;
    });
  }

  async discardVulnImport(importId: string): Promise<void> {
    this.sql('DELETE FROM vuln_staging WHERE import_id = ?').run(importId);
  }

  async listVulnSources(): Promise<VulnSource[]> {
    return this.sql('SELECT * FROM vuln_sources ORDER BY name').all().map(toVulnSource);
  }

  async vulnDataVersion(): Promise<number> {
    const row = this.sql(`SELECT value FROM settings WHERE key = 'vulndb_version'`).get();
    return row ? Number(row.value) : 0;
  }

  async listVulnRecords(after: string | undefined, limit: number): Promise<{ key: string; record: string }[]> {
    const [source, id] = after === undefined ? ['', ''] : after.split('\u0000');
    return this.sql(
      `SELECT source, record_id, record FROM vuln_records WHERE (source, record_id) > (?, ?) ORDER BY source, record_id LIMIT ?`,
    )
      .all(source, id ?? '', limit)
      .map((r) => ({ key: `${String(r.source)}\u0000${String(r.record_id)}`, record: String(r.record) }));
  }

  async enqueueJob(job: NewJob, now: number): Promise<number> {
    // In a transaction: its COMMIT reports a full disk (a RETURNING row read with get() would not).
    return this.transaction(() => this.insertJob(job, now));
  }

  private insertJob(job: NewJob, now: number): number {
    return Number(
      this.sql(`INSERT INTO jobs (kind, payload, status, max_attempts, run_at, created_at, updated_at)
      VALUES (?, ?, 'queued', ?, ?, ?, ?)`).run(job.kind, job.payload, job.maxAttempts, job.runAt, now, now).lastInsertRowid,
    );
  }

  async claimJob(owner: string, kinds: string[], now: number, leaseUntil: number): Promise<Job | undefined> {
    if (kinds.length === 0) return undefined;
    return this.transaction(() => {
      const row = this.sql(`SELECT id FROM jobs
        WHERE kind IN (${kinds.map(() => '?').join(', ')})
          AND ((status = 'queued' AND run_at <= ?) OR (status = 'running' AND lease_until < ?))
        ORDER BY run_at, id LIMIT 1`).get(...kinds, now, now);
      if (!row) return undefined;
      return toJob(
        this.sql(`UPDATE jobs SET status = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
        WHERE id = ? RETURNING *`).get(owner, leaseUntil, now, Number(row.id))!,
      );
    });
  }

  async heartbeatJob(id: number, owner: string, leaseUntil: number, now: number): Promise<boolean> {
    return (
      Number(
        this.sql(`UPDATE jobs SET lease_until = ?, updated_at = ? WHERE id = ? AND status = 'running' AND lease_owner = ?`).run(
          leaseUntil,
          now,
          id,
          owner,
        ).changes,
      ) > 0
    );
  }

  async finishJob(
    id: number,
    owner: string,
    outcome: { result: string } | { error: string; retryAt: number | null },
    now: number,
  ): Promise<boolean> {
    const held = `WHERE id = ? AND status = 'running' AND lease_owner = ?`;
    if ('result' in outcome) {
      return (
        Number(
          this.sql(`UPDATE jobs SET status = 'succeeded', result = ?, lease_owner = NULL, lease_until = NULL, updated_at = ? ${held}`).run(
            outcome.result,
            now,
            id,
            owner,
          ).changes,
        ) > 0
      );
    }
    return (
      Number(
        this.sql(
          `UPDATE jobs SET status = ?, run_at = COALESCE(?, run_at), last_error = ?, lease_owner = NULL, lease_until = NULL, updated_at = ? ${held}`,
        ).run(outcome.retryAt === null ? 'dead' : 'queued', outcome.retryAt, outcome.error, now, id, owner).changes,
      ) > 0
    );
  }

  async getJob(id: number): Promise<Job | undefined> {
    const row = this.sql('SELECT * FROM jobs WHERE id = ?').get(id);
    return row ? toJob(row) : undefined;
  }

  async pruneJobs(kind: string, before: number): Promise<number> {
    return Number(this.sql(`DELETE FROM jobs WHERE kind = ? AND status = 'succeeded' AND updated_at < ?`).run(kind, before).changes);
  }

  async listJobs(filter: { status?: JobStatus; kind?: string }, before: number | undefined, limit: number): Promise<Job[]> {
    return this.sql(
      `SELECT * FROM jobs WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR kind = ?2) AND id < ?3 ORDER BY id DESC LIMIT ?4`,
    )
      .all(filter.status ?? null, filter.kind ?? null, before ?? Number.MAX_SAFE_INTEGER, limit)
      .map(toJob);
  }

  async setJobSchedule(kind: string, intervalMs: number, payload: string, firstRunAt: number): Promise<void> {
    if (intervalMs <= 0) {
      this.sql('DELETE FROM job_schedules WHERE kind = ?').run(kind);
      return;
    }
    // A changed interval applies from the next run on; a schedule already set keeps its next time.
    this.sql(`INSERT INTO job_schedules (kind, interval_ms, payload, next_run_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (kind) DO UPDATE SET interval_ms = excluded.interval_ms, payload = excluded.payload,
        next_run_at = MIN(job_schedules.next_run_at, excluded.next_run_at)`).run(kind, intervalMs, payload, firstRunAt);
  }

  async runDueSchedules(now: number, maxAttempts: number): Promise<number[]> {
    return this.transaction(() => {
      const due = this.sql('SELECT kind, interval_ms, payload FROM job_schedules WHERE next_run_at <= ? ORDER BY kind').all(now);
      return due.map((d) => {
        this.sql('UPDATE job_schedules SET next_run_at = ? WHERE kind = ?').run(now + Number(d.interval_ms), String(d.kind));
        return this.insertJob({ kind: String(d.kind), payload: String(d.payload), maxAttempts, runAt: now }, now);
      });
    });
  }

  async createUpload(u: Upload, maxPerPrincipal = Infinity): Promise<boolean> {
    return this.transaction(() => {
      if (u.principalArn !== undefined && Number.isFinite(maxPerPrincipal)) {
        const open = Number(this.sql('SELECT count(*) AS n FROM uploads WHERE principal_arn = ?').get(u.principalArn)!.n);
        if (open >= maxPerPrincipal) return false;
      }
      this.sql('INSERT INTO uploads (id, repository_id, started_at, principal_arn) VALUES (?, ?, ?, ?)').run(
        u.id,
        u.repositoryId,
        u.startedAt,
        u.principalArn ?? null,
      );
      return true;
    });
  }

  async getUpload(id: string): Promise<Upload | undefined> {
    const row = this.sql('SELECT id, repository_id, started_at FROM uploads WHERE id = ?').get(id);
    return row ? { id: String(row.id), repositoryId: Number(row.repository_id), startedAt: Number(row.started_at) } : undefined;
  }

  async deleteUpload(id: string): Promise<void> {
    this.sql('DELETE FROM uploads WHERE id = ?').run(id);
  }

  async recordUploadPart(id: string, size: number, minimum: number): Promise<void> {
    // One statement: the SET expressions see the row as it was (the part before this one).
    this.sql(`UPDATE uploads SET
      small_part_before_last = small_part_before_last OR (last_part_size IS NOT NULL AND last_part_size < ?),
      last_part_size = ? WHERE id = ?`).run(minimum, size, id);
  }

  async smallPartBeforeLast(id: string): Promise<boolean> {
    const row = this.sql('SELECT small_part_before_last FROM uploads WHERE id = ?').get(id);
    return Number(row?.small_part_before_last ?? 0) !== 0;
  }

  async appendAuditRecords(records: { at: number; record: string }[]): Promise<void> {
    if (records.length === 0) return;
    this.transaction(() => {
      const insert = this.sql('INSERT INTO audit_records (at, record) VALUES (?, ?)');
      for (const r of records) insert.run(r.at, r.record);
    });
  }

  async listAuditRecords(after: number, limit: number): Promise<AuditRecord[]> {
    return this.sql('SELECT id, at, record FROM audit_records WHERE id > ? ORDER BY id LIMIT ?')
      .all(after, limit)
      .map((r) => ({ id: Number(r.id), at: Number(r.at), record: String(r.record) }));
  }

  async searchAuditRecords(q: AuditSearch): Promise<AuditRecord[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.contains) {
      where.push('instr(record, ?) > 0');
      args.push(q.contains);
    }
    if (q.since !== undefined) {
      where.push('at >= ?');
      args.push(q.since);
    }
    if (q.until !== undefined) {
      where.push('at < ?');
      args.push(q.until);
    }
    if (q.beforeId !== undefined) {
      where.push('id < ?');
      args.push(q.beforeId);
    }
    return this.sql(
      `SELECT id, at, record FROM audit_records ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
    )
      .all(...args, q.limit)
      .map((r) => ({ id: Number(r.id), at: Number(r.at), record: String(r.record) }));
  }

  async pruneAuditRecords(before: number): Promise<number> {
    return Number(this.sql('DELETE FROM audit_records WHERE at < ?').run(before).changes);
  }

  async recordUsageSnapshot(s: UsageSnapshot): Promise<void> {
    this.sql(`INSERT INTO usage_snapshots (day, at, stored_bytes, referenced_bytes, repositories, images) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (day) DO UPDATE SET at = excluded.at, stored_bytes = excluded.stored_bytes, referenced_bytes = excluded.referenced_bytes,
      repositories = excluded.repositories, images = excluded.images`).run(
      s.day,
      s.at,
      s.storedBytes,
      s.referencedBytes,
      s.repositories,
      s.images,
    );
  }

  async listUsageSnapshots(sinceDay: string, limit: number): Promise<UsageSnapshot[]> {
    return this.sql('SELECT * FROM usage_snapshots WHERE day >= ? ORDER BY day LIMIT ?').all(sinceDay, limit).map(toUsageSnapshot);
  }

  async createCreationTemplate(t: CreationTemplateRow): Promise<boolean> {
    const r = this.sql(
      'INSERT INTO creation_templates (account_id, prefix, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, prefix) DO NOTHING',
    ).run(t.accountId, t.prefix, t.body, t.createdAt, t.updatedAt);
    return Number(r.changes) > 0;
  }

  async listCreationTemplates(accountId: string): Promise<CreationTemplateRow[]> {
    return this.sql('SELECT * FROM creation_templates WHERE account_id = ? ORDER BY prefix').all(accountId).map(toPrefixedBody);
  }

  async updateCreationTemplate(accountId: string, prefix: string, body: string, updatedAt: number): Promise<boolean> {
    const r = this.sql('UPDATE creation_templates SET body = ?, updated_at = ? WHERE account_id = ? AND prefix = ?').run(
      body,
      updatedAt,
      accountId,
      prefix,
    );
    return Number(r.changes) > 0;
  }

  async deleteCreationTemplate(accountId: string, prefix: string): Promise<CreationTemplateRow | undefined> {
    const row = this.transaction(() =>
      this.sql('DELETE FROM creation_templates WHERE account_id = ? AND prefix = ? RETURNING *').get(accountId, prefix),
    );
    return row ? toPrefixedBody(row) : undefined;
  }

  async addPullTimeExclusion(accountId: string, principalArn: string, now: number): Promise<boolean> {
    const r = this.sql(
      'INSERT INTO pull_time_exclusions (account_id, principal_arn, created_at) VALUES (?, ?, ?) ON CONFLICT (account_id, principal_arn) DO NOTHING',
    ).run(accountId, principalArn, now);
    return Number(r.changes) > 0;
  }

  async removePullTimeExclusion(accountId: string, principalArn: string): Promise<boolean> {
    return (
      Number(this.sql('DELETE FROM pull_time_exclusions WHERE account_id = ? AND principal_arn = ?').run(accountId, principalArn).changes) >
      0
    );
  }

  async listPullTimeExclusions(accountId: string): Promise<{ principalArn: string; createdAt: number }[]> {
    return this.sql('SELECT principal_arn, created_at FROM pull_time_exclusions WHERE account_id = ? ORDER BY principal_arn')
      .all(accountId)
      .map((r) => ({ principalArn: String(r.principal_arn), createdAt: Number(r.created_at) }));
  }

  async hasPullTimeExclusion(accountId: string, principalArn: string): Promise<boolean> {
    return (
      this.sql('SELECT 1 FROM pull_time_exclusions WHERE account_id = ? AND principal_arn = ?').get(accountId, principalArn) !== undefined
    );
  }

  // --- replication ---

  async putReplicationDestination(d: ReplicationDestinationRow): Promise<void> {
    this.sql(`INSERT INTO replication_destinations (account_id, region, registry_id, kind, endpoint, username, secret_ciphertext, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, region, registry_id) DO UPDATE SET kind = excluded.kind, endpoint = excluded.endpoint,
      username = excluded.username, secret_ciphertext = excluded.secret_ciphertext, updated_at = excluded.updated_at`).run(
      d.accountId,
      d.region,
      d.registryId,
      d.kind,
      d.endpoint,
      d.username,
      d.secretCiphertext,
      d.createdAt,
      d.updatedAt,
    );
  }

  async getReplicationDestination(accountId: string, region: string, registryId: string): Promise<ReplicationDestinationRow | undefined> {
    const row = this.sql('SELECT * FROM replication_destinations WHERE account_id = ? AND region = ? AND registry_id = ?').get(
      accountId,
      region,
      registryId,
    );
    return row ? toReplicationDestination(row) : undefined;
  }

  async listReplicationDestinations(accountId: string): Promise<ReplicationDestinationRow[]> {
    return this.sql('SELECT * FROM replication_destinations WHERE account_id = ? ORDER BY region, registry_id')
      .all(accountId)
      .map(toReplicationDestination);
  }

  async deleteReplicationDestination(accountId: string, region: string, registryId: string): Promise<boolean> {
    return (
      Number(
        this.sql('DELETE FROM replication_destinations WHERE account_id = ? AND region = ? AND registry_id = ?').run(
          accountId,
          region,
          registryId,
        ).changes,
      ) > 0
    );
  }

  private beginReplication(repositoryId: number, digest: string, r: ReplicationOnWrite, now: number): void {
    for (const d of r.destinations) this.writeReplicationStatus(repositoryId, digest, d, 'IN_PROGRESS', null, now);
    for (const job of r.jobs) this.insertJob(job, now);
  }

  private writeReplicationStatus(
    repositoryId: number,
    digest: string,
    d: { region: string; registryId: string },
    status: ReplicationState,
    reason: string | null,
    now: number,
  ): void {
    this.sql(`INSERT INTO replication_statuses (repository_id, digest, region, registry_id, status, failure_reason, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (repository_id, digest, region, registry_id) DO UPDATE SET status = excluded.status, failure_reason = excluded.failure_reason, updated_at = excluded.updated_at`).run(
      repositoryId,
      digest,
      d.region,
      d.registryId,
      status,
      reason,
      now,
    );
  }

  async startReplication(repositoryId: number, digest: string, replication: ReplicationOnWrite, now: number): Promise<void> {
    this.transaction(() => {
      if (this.sql('SELECT 1 FROM manifests WHERE repository_id = ? AND digest = ?').get(repositoryId, digest))
        this.beginReplication(repositoryId, digest, replication, now);
    });
  }

  async setReplicationStatus(
    repositoryId: number,
    digest: string,
    d: { region: string; registryId: string },
    status: ReplicationState,
    reason: string | null,
    now: number,
  ): Promise<void> {
    this.transaction(() => {
      if (this.sql('SELECT 1 FROM repositories WHERE id = ?').get(repositoryId))
        this.writeReplicationStatus(repositoryId, digest, d, status, reason, now);
    });
  }

  async listReplicationStatuses(repositoryId: number, digest: string): Promise<ReplicationStatusRow[]> {
    return this.sql('SELECT * FROM replication_statuses WHERE repository_id = ? AND digest = ? ORDER BY region, registry_id')
      .all(repositoryId, digest)
      .map(toReplicationStatus);
  }

  async startReplicationBackfill(
    b: ReplicationBackfillRow,
    maxInProgress: number,
    job: NewJob,
  ): Promise<'started' | 'in-progress' | 'limit'> {
    return this.transaction(() => {
      const active = this.sql(
        `SELECT region FROM replication_backfills WHERE account_id = ? AND status IN ('PREPARING', 'IN_PROGRESS', 'STOPPING')`,
      ).all(b.accountId);
      if (active.some((r) => r.region === b.region)) return 'in-progress';
      if (active.length >= maxInProgress) return 'limit';
      this.sql(`INSERT INTO replication_backfills (id, account_id, region, registry_id, status, failure_code, total, completed, failed, failure_codes, started_at, ended_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        b.id,
        b.accountId,
        b.region,
        b.registryId,
        b.status,
        b.failureCode,
        b.total,
        b.completed,
        b.failed,
        JSON.stringify(b.failureCodes),
        b.startedAt,
        b.endedAt,
      );
      this.insertJob(job, b.startedAt);
      return 'started';
    });
  }

  async getReplicationBackfill(accountId: string, id: string): Promise<ReplicationBackfillRow | undefined> {
    const row = this.sql('SELECT * FROM replication_backfills WHERE account_id = ? AND id = ?').get(accountId, id);
    return row ? toReplicationBackfill(row) : undefined;
  }

  async listReplicationBackfills(accountId: string): Promise<ReplicationBackfillRow[]> {
    return this.sql('SELECT * FROM replication_backfills WHERE account_id = ? ORDER BY started_at DESC, id')
      .all(accountId)
      .map(toReplicationBackfill);
  }

  async updateReplicationBackfill(
    id: string,
    update: Partial<Pick<ReplicationBackfillRow, 'status' | 'failureCode' | 'total' | 'completed' | 'failed' | 'failureCodes' | 'endedAt'>>,
  ): Promise<ReplicationBackfillRow | undefined> {
    return this.transaction(() => {
      const row = this.sql('SELECT * FROM replication_backfills WHERE id = ?').get(id);
      if (!row) return undefined;
      const next = {
        ...toReplicationBackfill(row),
        ...update,
        status: backfillStatusAfter(String(row.status) as ReplicationBackfillRow['status'], update),
      };
      this.sql(
        `UPDATE replication_backfills SET status = ?, failure_code = ?, total = ?, completed = ?, failed = ?, failure_codes = ?, ended_at = ? WHERE id = ?`,
      ).run(next.status, next.failureCode, next.total, next.completed, next.failed, JSON.stringify(next.failureCodes), next.endedAt, id);
      return next;
    });
  }

  async stopReplicationBackfill(accountId: string, id: string): Promise<ReplicationBackfillRow | 'invalid' | undefined> {
    return this.transaction(() => {
      const row = this.sql('SELECT * FROM replication_backfills WHERE account_id = ? AND id = ?').get(accountId, id);
      if (!row) return undefined;
      if (row.status !== 'PREPARING' && row.status !== 'IN_PROGRESS') return 'invalid';
      this.sql(`UPDATE replication_backfills SET status = 'STOPPING' WHERE id = ?`).run(id);
      return { ...toReplicationBackfill(row), status: 'STOPPING' };
    });
  }

  async putReplicationBackfillResult(id: string, r: ReplicationBackfillResultRow): Promise<void> {
    this.sql(`INSERT INTO replication_backfill_results (backfill_id, repository_name, digest, tag, status, failure_code) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (backfill_id, repository_name, digest, tag) DO UPDATE SET status = excluded.status, failure_code = excluded.failure_code`).run(
      id,
      r.repositoryName,
      r.digest,
      r.tag ?? '',
      r.status,
      r.failureCode,
    );
  }

  async listReplicationBackfillResults(id: string, status?: 'COMPLETE' | 'FAILED'): Promise<ReplicationBackfillResultRow[]> {
    return this.sql(
      `SELECT * FROM replication_backfill_results WHERE backfill_id = ? AND status LIKE ? ORDER BY repository_name, digest, tag`,
    )
      .all(id, status ?? '%')
      .map(toReplicationBackfillResult);
  }

  // --- pull through cache rules, upstream tag checks, secrets ---

  async createPullThroughRule(r: PullThroughRuleRow, max: number): Promise<'created' | 'exists' | 'limit'> {
    return this.transaction(() => {
      if (this.sql('SELECT 1 FROM pull_through_rules WHERE account_id = ? AND prefix = ?').get(r.accountId, r.prefix)) return 'exists';
      if (Number(this.sql('SELECT count(*) AS n FROM pull_through_rules WHERE account_id = ?').get(r.accountId)!.n) >= max) return 'limit';
      this.sql('INSERT INTO pull_through_rules (account_id, prefix, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(
        r.accountId,
        r.prefix,
        r.body,
        r.createdAt,
        r.updatedAt,
      );
      return 'created';
    });
  }

  async listPullThroughRules(accountId: string): Promise<PullThroughRuleRow[]> {
    return this.sql('SELECT * FROM pull_through_rules WHERE account_id = ? ORDER BY prefix').all(accountId).map(toPrefixedBody);
  }

  async updatePullThroughRule(accountId: string, prefix: string, body: string, updatedAt: number): Promise<boolean> {
    return (
      Number(
        this.sql('UPDATE pull_through_rules SET body = ?, updated_at = ? WHERE account_id = ? AND prefix = ?').run(
          body,
          updatedAt,
          accountId,
          prefix,
        ).changes,
      ) > 0
    );
  }

  async deletePullThroughRule(accountId: string, prefix: string): Promise<PullThroughRuleRow | undefined> {
    const row = this.transaction(() =>
      this.sql('DELETE FROM pull_through_rules WHERE account_id = ? AND prefix = ? RETURNING *').get(accountId, prefix),
    );
    return row ? toPrefixedBody(row) : undefined;
  }

  async upstreamTagCheckedAt(repositoryId: number, tag: string): Promise<number | undefined> {
    const row = this.sql('SELECT checked_at FROM upstream_tag_checks WHERE repository_id = ? AND tag = ?').get(repositoryId, tag);
    return row ? Number(row.checked_at) : undefined;
  }

  async recordUpstreamTagCheck(repositoryId: number, tag: string, at: number): Promise<void> {
    // A repository deleted meanwhile takes its checks with it: nothing is written for it.
    this.sql(`INSERT INTO upstream_tag_checks (repository_id, tag, checked_at) SELECT id, ?, ? FROM repositories WHERE id = ?
      ON CONFLICT (repository_id, tag) DO UPDATE SET checked_at = excluded.checked_at`).run(tag, at, repositoryId);
  }

  async putSecret(s: SecretRow): Promise<boolean> {
    return this.transaction(() => {
      const existed = this.sql('SELECT 1 FROM secrets WHERE account_id = ? AND name = ?').get(s.accountId, s.name) !== undefined;
      this.sql(`INSERT INTO secrets (account_id, name, ciphertext, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (account_id, name) DO UPDATE SET ciphertext = excluded.ciphertext, updated_at = excluded.updated_at`).run(
        s.accountId,
        s.name,
        s.ciphertext,
        s.createdAt,
        s.updatedAt,
      );
      return !existed;
    });
  }

  async getSecret(accountId: string, name: string): Promise<SecretRow | undefined> {
    const r = this.sql('SELECT * FROM secrets WHERE account_id = ? AND name = ?').get(accountId, name);
    return r
      ? {
          accountId: String(r.account_id),
          name: String(r.name),
          ciphertext: String(r.ciphertext),
          createdAt: Number(r.created_at),
          updatedAt: Number(r.updated_at),
        }
      : undefined;
  }

  async listSecrets(accountId: string): Promise<Omit<SecretRow, 'ciphertext'>[]> {
    return this.sql('SELECT account_id, name, created_at, updated_at FROM secrets WHERE account_id = ? ORDER BY name')
      .all(accountId)
      .map((r) => ({
        accountId: String(r.account_id),
        name: String(r.name),
        createdAt: Number(r.created_at),
        updatedAt: Number(r.updated_at),
      }));
  }

  async deleteSecret(accountId: string, name: string): Promise<boolean> {
    return Number(this.sql('DELETE FROM secrets WHERE account_id = ? AND name = ?').run(accountId, name).changes) > 0;
  }
}

/** A row of a per-account, per-prefix JSON body table: creation templates and pull-through cache rules alike. */
function toPrefixedBody(row: Row): CreationTemplateRow {
  return {
    accountId: String(row.account_id),
    prefix: String(row.prefix),
    body: String(row.body),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toWebhook(r: Row): WebhookRow {
  return {
    id: String(r.id),
    accountId: String(r.account_id),
    url: String(r.url),
    eventTypes: JSON.parse(String(r.event_types)) as string[],
    repositories: JSON.parse(String(r.repositories)) as string[],
    secretCiphertext: String(r.secret_ciphertext),
    createdAt: Number(r.created_at),
    cursor: Number(r.cursor),
    failures: Number(r.failures),
    nextAttemptAt: Number(r.next_attempt_at),
    lastError: r.last_error === null ? null : String(r.last_error),
    managedBy: r.managed_by === null || r.managed_by === undefined ? null : String(r.managed_by),
  };
}

function toRepository(row: Row): Repository {
  return {
    id: Number(row.id),
    accountId: String(row.account_id),
    name: String(row.name),
    createdAt: Number(row.created_at),
    imageTagMutability: String(row.image_tag_mutability) as Repository['imageTagMutability'],
    mutabilityExclusions: JSON.parse(String(row.mutability_exclusions)),
    scanOnPush: Number(row.scan_on_push) === 1,
    encryptionType: String(row.encryption_type),
    kmsKey: row.kms_key === null ? null : String(row.kms_key),
    policyText: row.policy_text === null || row.policy_text === undefined ? null : String(row.policy_text),
    lifecyclePolicyText:
      row.lifecycle_policy_text === null || row.lifecycle_policy_text === undefined ? null : String(row.lifecycle_policy_text),
    lifecycleEvaluatedAt:
      row.lifecycle_evaluated_at === null || row.lifecycle_evaluated_at === undefined ? null : Number(row.lifecycle_evaluated_at),
  };
}

function toImage(row: Row): ImageRow {
  return {
    digest: String(row.digest),
    tags: JSON.parse(String(row.tag_list)),
    mediaType: String(row.media_type),
    configMediaType: row.config_media_type === null ? null : String(row.config_media_type),
    imageSize: Number(row.image_size),
    pushedAt: Number(row.pushed_at),
    lastPulledAt: row.last_pulled_at === null ? null : Number(row.last_pulled_at),
    ...storageOf(row),
  };
}

function toJob(row: Row): Job {
  const nullable = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    id: Number(row.id),
    kind: String(row.kind),
    payload: String(row.payload),
    status: String(row.status) as JobStatus,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    runAt: Number(row.run_at),
    leaseOwner: nullable(row.lease_owner),
    leaseUntil: row.lease_until === null ? null : Number(row.lease_until),
    lastError: nullable(row.last_error),
    result: nullable(row.result),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toAccessKey(row: Row): AccessKeyRow {
  return {
    accessKeyId: String(row.access_key_id),
    accountId: String(row.account_id),
    userName: row.user_name === null ? null : String(row.user_name),
    secretCiphertext: String(row.secret_ciphertext),
    status: String(row.status) as AccessKeyRow['status'],
    createdAt: Number(row.created_at),
  };
}

function toManifest(row: Row): StoredManifest {
  const content = row.content as Uint8Array;
  return {
    repositoryId: Number(row.repository_id),
    digest: String(row.digest),
    mediaType: String(row.media_type),
    artifactType: row.artifact_type === null ? null : String(row.artifact_type),
    subjectDigest: row.subject_digest === null ? null : String(row.subject_digest),
    size: Number(row.size),
    content: Buffer.from(content.buffer, content.byteOffset, content.byteLength),
    annotations: row.annotations === null ? null : JSON.parse(String(row.annotations)),
    pushedAt: Number(row.pushed_at),
    imageSize: Number(row.image_size),
    configMediaType: row.config_media_type === null ? null : String(row.config_media_type),
    lastPulledAt: row.last_pulled_at === null ? null : Number(row.last_pulled_at),
    storageClass: storageOf(row).storageClass,
  };
}

/** A refresh token's or console session's row: both are hashed credentials bound to an access key. */
function toKeyBoundToken(row: Row): RefreshTokenRow {
  return {
    tokenHash: String(row.token_hash),
    accessKeyId: String(row.access_key_id),
    principalArn: String(row.principal_arn),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}
