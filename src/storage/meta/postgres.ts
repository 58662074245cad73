// The PostgreSQL metadata store, for several Berth nodes on one database, on the pure-JavaScript `pg` driver with
// its connection pool. Method by method it behaves as the SQLite store (sqlite.ts) does: same ordering, cursors,
// idempotency and refusals (test/contracts/meta-store.contract.ts holds both to it). Where SQLite has one writer,
// here each method that must be atomic is one READ COMMITTED transaction whose invariant holds across nodes by
// row locks taken before the check (`SELECT ... FOR UPDATE` / `FOR KEY SHARE`) and transaction-scoped advisory
// locks for rows that may not exist yet (a new tag, a first preview). A transaction that deadlocks is retried.
import pg from 'pg';
import type {
  CreationTemplateRow,
  PullThroughRuleRow,
  SecretRow,
  AccessKeyRow,
  AuditRecord,
  AuditSearch,
  LargeImage,
  UsageSnapshot,
  BlobUnlink,
  GcCandidate,
  ImageId,
  ImageRow,
  Job,
  JobStatus,
  LifecycleImageRow,
  LifecyclePreview,
  ManifestWrite,
  MetaStore,
  NamedPolicy,
  NewJob,
  NewManifest,
  Page,
  RecordedUse,
  Referrer,
  RefreshTokenRow,
  ConsoleSessionRow,
  Repository,
  RepositorySettings,
  ResourceTag,
  StoredBlob,
  StoredManifest,
  TagStatus,
  Upload,
  Usage,
  ImageScan,
  ScanOnWrite,
  ScanOutcome,
  StagedVulnRecord,
  VulnSource,
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
import { POSTGRES_MIGRATIONS } from './postgres-schema.ts';

type Row = Record<string, unknown>;
type Param = string | number | boolean | null | Buffer | string[];

/** One connection's queries: the pool's (autocommit) or a transaction's. */
interface Queries {
  rows(text: string, params?: Param[]): Promise<Row[]>;
  row(text: string, params?: Param[]): Promise<Row | undefined>;
  /** The number of rows a statement changed. */
  run(text: string, params?: Param[]): Promise<number>;
}

/** Key of the advisory lock held while migrating (any constant: the bytes of "berth-mi"). */
const MIGRATION_LOCK = 0x626572746b2d6d69n.toString();
/** Errors after which a transaction is retried from the start: deadlock, serialization failure. */
const RETRY_CODES = new Set(['40P01', '40001']);
const RETRIES = 5;

const IMAGE_COLUMNS = `m.digest, m.media_type, m.config_media_type, m.image_size, m.pushed_at, m.last_pulled_at, m.storage_class, m.archived_at, m.activated_at,
  ARRAY(SELECT t.name FROM tags t WHERE t.repository_id = m.repository_id AND t.digest = m.digest ORDER BY t.name) AS tag_list`;

export interface PostgresOptions {
  /** Connections in the pool (default 10). */
  max?: number;
}

export class PostgresMetaStore implements MetaStore {
  private readonly pool: pg.Pool;
  private readonly names = new Map<string, string>();
  private readonly queries: Queries;

  private constructor(pool: pg.Pool) {
    this.pool = pool;
    this.queries = this.on(pool);
  }

  /** Connects to the database and applies the migrations it lacks. */
  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresMetaStore> {
    const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
    // An idle connection that breaks (the server restarts) is dropped by the pool; the next query reconnects.
    pool.on('error', () => {});
    const store = new PostgresMetaStore(pool);
    try {
      await store.migrate();
    } catch (e) {
      await pool.end();
      throw e;
    }
    return store;
  }

  /**
   * Applies the migrations not yet applied, in one transaction under an advisory lock (nodes starting together
   * wait for each other); returns the schema version.
   */
  async migrate(): Promise<number> {
    return this.transaction(async (q) => {
      await q.run(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
      await q.run('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
      const done = new Set((await q.rows('SELECT version FROM schema_migrations')).map((r) => Number(r.version)));
      for (const [i, sql] of POSTGRES_MIGRATIONS.entries()) {
        const version = i + 1;
        if (done.has(version)) continue;
        await q.run(sql);
        await q.run('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, Date.now()]);
      }
      return Number((await q.row('SELECT coalesce(max(version), 0) AS v FROM schema_migrations'))!.v);
    });
  }

  /** Queries on a pool or client, as named (prepared once per connection) statements. */
  private on(client: pg.Pool | pg.PoolClient): Queries {
    const query = async (text: string, params: Param[] = []) => {
      // Statements with several commands (migrations) cannot be prepared.
      if (params.length === 0 && text.includes(';')) return client.query(text);
      let name = this.names.get(text);
      if (!name) this.names.set(text, (name = `berth_${this.names.size}`));
      return client.query({ name, text, values: params });
    };
    return {
      rows: async (text, params) => (await query(text, params)).rows,
      row: async (text, params) => (await query(text, params)).rows[0],
      run: async (text, params) => (await query(text, params)).rowCount ?? 0,
    };
  }

  /** Runs `fn` in one transaction on one connection, retried when it deadlocks with another. */
  private async transaction<T>(fn: (q: Queries) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await fn(this.on(client));
        await client.query('COMMIT');
        return result;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        if (attempt < RETRIES && RETRY_CODES.has((e as { code?: string }).code ?? '')) continue;
        throw e;
      } finally {
        client.release(broken);
      }
    }
  }

  /** Serializes transactions on a key that may have no row yet (released at commit). */
  private async lock(q: Queries, key: string): Promise<void> {
    await q.run('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  // --- settings ---

  async getSetting(key: string): Promise<string | undefined> {
    const row = await this.queries.row('SELECT value FROM settings WHERE key = $1', [key]);
    return row ? String(row.value) : undefined;
  }

  async setSetting(key: string, value: string): Promise<void> {
    await this.queries.run('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [
      key,
      value,
    ]);
  }

  async addSetting(key: string, value: string): Promise<string> {
    // ON CONFLICT DO NOTHING waits for a racing insert to commit, then sees its row: one value wins.
    await this.queries.run('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, value]);
    return String((await this.queries.row('SELECT value FROM settings WHERE key = $1', [key]))!.value);
  }

  // --- repositories ---

  async getRepository(accountId: string, name: string): Promise<Repository | undefined> {
    const row = await this.queries.row('SELECT * FROM repositories WHERE account_id = $1 AND name = $2', [accountId, name]);
    return row ? toRepository(row) : undefined;
  }

  async ensureRepository(accountId: string, name: string, now: number): Promise<Repository> {
    await this.queries.run(
      'INSERT INTO repositories (account_id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (account_id, name) DO NOTHING',
      [accountId, name, now],
    );
    return (await this.getRepository(accountId, name))!;
  }

  async createRepository(
    accountId: string,
    name: string,
    settings: RepositorySettings,
    tags: ResourceTag[],
    now: number,
  ): Promise<Repository | undefined> {
    return this.transaction(async (q) => {
      const row = await q.row(
        `INSERT INTO repositories (account_id, name, created_at, image_tag_mutability, mutability_exclusions, scan_on_push, encryption_type, kms_key)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (account_id, name) DO NOTHING RETURNING *`,
        [
          accountId,
          name,
          now,
          settings.imageTagMutability,
          JSON.stringify(settings.mutabilityExclusions),
          settings.scanOnPush,
          settings.encryptionType,
          settings.kmsKey,
        ],
      );
      if (!row) return undefined;
      const repo = toRepository(row);
      for (const t of tags)
        await q.run('INSERT INTO repository_resource_tags (repository_id, key, value) VALUES ($1, $2, $3)', [repo.id, t.Key, t.Value]);
      return repo;
    });
  }

  async updateRepository(id: number, settings: Partial<RepositorySettings>): Promise<void> {
    const columns: [string, Param][] = [];
    if (settings.imageTagMutability !== undefined) columns.push(['image_tag_mutability', settings.imageTagMutability]);
    if (settings.mutabilityExclusions !== undefined) columns.push(['mutability_exclusions', JSON.stringify(settings.mutabilityExclusions)]);
    if (settings.scanOnPush !== undefined) columns.push(['scan_on_push', settings.scanOnPush]);
    if (settings.encryptionType !== undefined) columns.push(['encryption_type', settings.encryptionType]);
    if (settings.kmsKey !== undefined) columns.push(['kms_key', settings.kmsKey]);
    if (columns.length === 0) return;
    await this.queries.run(
      `UPDATE repositories SET ${columns.map(([c], i) => `${c} = $${i + 1}`).join(', ')} WHERE id = $${columns.length + 1}`,
      [...columns.map(([, v]) => v), id],
    );
  }

  async deleteRepository(id: number): Promise<void> {
    await this.transaction(async (q) => {
      // Waits for manifest writes in progress in the repository (they hold a key-share lock on its row) and
      // makes later ones find it gone.
      if (!(await q.row('SELECT 1 FROM repositories WHERE id = $1 FOR UPDATE', [id]))) return;
      await q.run('DELETE FROM tags WHERE repository_id = $1', [id]);
      await q.run('DELETE FROM manifest_references WHERE repository_id = $1', [id]);
      await q.run('DELETE FROM manifests WHERE repository_id = $1', [id]);
      await q.run('DELETE FROM repositories WHERE id = $1', [id]);
    });
  }

  async listRepositories(accountId: string, page: Page): Promise<Repository[]> {
    return (
      await this.queries.rows('SELECT * FROM repositories WHERE account_id = $1 AND name > $2 ORDER BY name LIMIT $3', [
        accountId,
        page.last ?? '',
        page.limit,
      ])
    ).map(toRepository);
  }

  async countImages(repositoryId: number): Promise<number> {
    return Number((await this.queries.row('SELECT count(*) AS n FROM manifests WHERE repository_id = $1', [repositoryId]))!.n);
  }

  async getResourceTags(repositoryId: number): Promise<ResourceTag[]> {
    return (
      await this.queries.rows('SELECT key, value FROM repository_resource_tags WHERE repository_id = $1 ORDER BY key', [repositoryId])
    ).map((r) => ({ Key: String(r.key), Value: String(r.value) }));
  }

  async putResourceTags(repositoryId: number, tags: ResourceTag[]): Promise<void> {
    await this.transaction(async (q) => {
      for (const t of tags) {
        await q.run(
          'INSERT INTO repository_resource_tags (repository_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (repository_id, key) DO UPDATE SET value = excluded.value',
          [repositoryId, t.Key, t.Value],
        );
      }
    });
  }

  async deleteResourceTags(repositoryId: number, keys: string[]): Promise<void> {
    await this.queries.run('DELETE FROM repository_resource_tags WHERE repository_id = $1 AND key = ANY($2::text[])', [repositoryId, keys]);
  }

  // --- blob records ---

  async recordBlob(blob: StoredBlob, now: number): Promise<void> {
    await this.queries.run(
      'INSERT INTO blobs (digest, size, created_at, touched_at) VALUES ($1, $2, $3, $3) ON CONFLICT (digest) DO UPDATE SET touched_at = excluded.touched_at',
      [blob.digest, blob.size, now],
    );
  }

  async getBlob(digest: string): Promise<StoredBlob | undefined> {
    const row = await this.queries.row('SELECT digest, size FROM blobs WHERE digest = $1', [digest]);
    return row ? { digest: String(row.digest), size: Number(row.size) } : undefined;
  }

  async listManifestReferences(afterRepository: number, afterDigest: string, limit: number) {
    const rows = await this.queries.rows(
      `SELECT m.repository_id, m.digest,
        ARRAY(SELECT child_digest FROM manifest_references r WHERE r.repository_id = m.repository_id AND r.manifest_digest = m.digest AND r.kind = 'blob' ORDER BY child_digest) AS blobs,
        ARRAY(SELECT child_digest FROM manifest_references r WHERE r.repository_id = m.repository_id AND r.manifest_digest = m.digest AND r.kind = 'manifest' ORDER BY child_digest) AS children
      FROM manifests m WHERE (m.repository_id, m.digest) > ($1, $2) ORDER BY m.repository_id, m.digest LIMIT $3`,
      [afterRepository, afterDigest, limit],
    );
    return rows.map((r) => ({
      repositoryId: Number(r.repository_id),
      digest: String(r.digest),
      blobs: r.blobs as string[],
      manifests: r.children as string[],
    }));
  }

  async linkBlob(repositoryId: number, digest: string, now: number): Promise<void> {
    await this.transaction(async (q) => {
      await q.run('INSERT INTO repository_blobs (repository_id, digest, linked_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
        repositoryId,
        digest,
        now,
      ]);
      await q.run('UPDATE blobs SET touched_at = $1 WHERE digest = $2 AND touched_at < $1', [now, digest]);
    });
  }

  async getRepositoryBlob(repositoryId: number, digest: string): Promise<StoredBlob | undefined> {
    const row = await this.queries.row(
      `SELECT b.digest, b.size, b.touched_at FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest
      WHERE rb.repository_id = $1 AND rb.digest = $2`,
      [repositoryId, digest],
    );
    return row ? { digest: String(row.digest), size: Number(row.size), touchedAt: Number(row.touched_at) } : undefined;
  }

  async unlinkBlobIfUnreferenced(repositoryId: number, digest: string): Promise<BlobUnlink> {
    return this.transaction(async (q) => {
      // The link first: a manifest write holds a key-share lock on the links it checked until it commits its
      // references, so the check below sees every manifest committed before this lock was granted.
      if (!(await q.row('SELECT 1 FROM repository_blobs WHERE repository_id = $1 AND digest = $2 FOR UPDATE', [repositoryId, digest])))
        return 'unknown';
      const holder = await q.row(
        `SELECT manifest_digest FROM manifest_references WHERE repository_id = $1 AND child_digest = $2 AND kind = 'blob'
        ORDER BY manifest_digest LIMIT 1`,
        [repositoryId, digest],
      );
      if (holder) return { referencedBy: String(holder.manifest_digest) };
      await q.run('DELETE FROM repository_blobs WHERE repository_id = $1 AND digest = $2', [repositoryId, digest]);
      return 'unlinked';
    });
  }

  async repositoriesHoldingBlob(accountId: string, digest: string, limit: number): Promise<Repository[]> {
    return (
      await this.queries.rows(
        `SELECT r.* FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id
      WHERE rb.digest = $1 AND r.account_id = $2 ORDER BY r.name LIMIT $3`,
        [digest, accountId, limit],
      )
    ).map(toRepository);
  }

  async mountBlob(repositoryId: number, fromRepositoryId: number, digest: string, now: number): Promise<StoredBlob | undefined> {
    return this.transaction(async (q) => {
      // The source's link, held (garbage collection's delete of it waits) while the new link is made.
      const row = await q.row(
        `SELECT b.digest, b.size FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest
        WHERE rb.repository_id = $1 AND rb.digest = $2 FOR KEY SHARE OF rb, b`,
        [fromRepositoryId, digest],
      );
      if (!row) return undefined;
      await q.run('INSERT INTO repository_blobs (repository_id, digest, linked_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
        repositoryId,
        digest,
        now,
      ]);
      await q.run('UPDATE blobs SET touched_at = $1 WHERE digest = $2 AND touched_at < $1', [now, digest]);
      return { digest: String(row.digest), size: Number(row.size) };
    });
  }

  async touchBlob(digest: string, now: number): Promise<void> {
    await this.queries.run('UPDATE blobs SET touched_at = $1 WHERE digest = $2 AND touched_at < $1', [now, digest]);
  }

  async unreferencedBlobs(before: number, after: string, scan: number): Promise<{ candidates: GcCandidate[]; last: string | undefined }> {
    const rows = await this.queries.rows(
      `SELECT digest, CASE WHEN touched_at < $1
          AND NOT EXISTS (SELECT 1 FROM manifest_references r WHERE r.child_digest = b.digest AND r.kind = 'blob') THEN size END AS size
        FROM blobs b WHERE digest > $2 ORDER BY digest LIMIT $3`,
      [before, after, scan],
    );
    const candidates: GcCandidate[] = [];
    for (const r of rows) if (r.size !== null) candidates.push({ digest: String(r.digest), size: Number(r.size) });
    return { candidates, last: rows.length === scan ? String(rows[rows.length - 1].digest) : undefined };
  }

  async unrecordedBlobs(digests: string[]): Promise<string[]> {
    if (digests.length === 0) return [];
    return (
      await this.queries.rows('SELECT d FROM unnest($1::text[]) AS d WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.digest = d)', [
        digests,
      ])
    ).map((r) => String(r.d));
  }

  async deleteBlobIfUnreferenced(digest: string, before: number): Promise<boolean> {
    return this.transaction(async (q) => {
      // Lock first, then check: the blob's row (a link being made waits on it, by its foreign key), then its links
      // (a manifest write holds a key-share lock on the links it checked until it commits its references). The
      // reference check below then sees every manifest committed before the locks were granted.
      if (!(await q.row('SELECT 1 FROM blobs WHERE digest = $1 AND touched_at < $2 FOR UPDATE', [digest, before]))) return false;
      await q.rows('SELECT 1 FROM repository_blobs WHERE digest = $1 FOR UPDATE', [digest]);
      if (await q.row(`SELECT 1 FROM manifest_references WHERE child_digest = $1 AND kind = 'blob' LIMIT 1`, [digest])) return false;
      await q.run('DELETE FROM repository_blobs WHERE digest = $1', [digest]);
      await q.run('DELETE FROM blobs WHERE digest = $1', [digest]);
      return true;
    });
  }

  async listBlobs(after: string, limit: number): Promise<GcCandidate[]> {
    return (await this.queries.rows('SELECT digest, size FROM blobs WHERE digest > $1 ORDER BY digest LIMIT $2', [after, limit])).map(
      (r) => ({ digest: String(r.digest), size: Number(r.size) }),
    );
  }

  async largestImages(limit: number): Promise<LargeImage[]> {
    return (
      await this.queries.rows(
        `SELECT r.account_id, r.name AS repository_name, m.digest, m.image_size, m.pushed_at,
        (SELECT string_agg(t.name, ',' ORDER BY t.name) FROM tags t WHERE t.repository_id = m.repository_id AND t.digest = m.digest) AS tags
      FROM manifests m JOIN repositories r ON r.id = m.repository_id ORDER BY m.image_size DESC, r.account_id, r.name, m.digest LIMIT $1`,
        [limit],
      )
    ).map(toLargeImage);
  }

  async usage(): Promise<Usage> {
    const repositories = (
      await this.queries.rows(`SELECT r.name, r.account_id,
        (SELECT count(*) FROM manifests m WHERE m.repository_id = r.id) AS images,
        (SELECT coalesce(sum(size), 0) FROM manifests m WHERE m.repository_id = r.id)
          + (SELECT coalesce(sum(b.size), 0) FROM blobs b WHERE b.digest IN
              (SELECT child_digest FROM manifest_references x WHERE x.repository_id = r.id AND x.kind = 'blob')) AS bytes
      FROM repositories r ORDER BY r.account_id, r.name`)
    ).map((r) => ({ name: String(r.name), accountId: String(r.account_id), images: Number(r.images), bytes: Number(r.bytes) }));
    const referenced = (await this.queries.row(`SELECT
        (SELECT coalesce(sum(size), 0) FROM manifests) AS manifests,
        (SELECT coalesce(sum(b.size), 0) FROM blobs b WHERE b.digest IN (SELECT child_digest FROM manifest_references WHERE kind = 'blob')) AS blobs`))!;
    const stored = (await this.queries.row('SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM blobs'))!;
    const storageClasses = (
      await this.queries.rows(
        'SELECT storage_class, count(*) AS images, coalesce(sum(image_size), 0) AS bytes FROM manifests GROUP BY storage_class ORDER BY storage_class DESC',
      )
    ).map((r) => ({ storageClass: String(r.storage_class) as StorageClass, images: Number(r.images), bytes: Number(r.bytes) }));
    return {
      storageClasses,
      repositories,
      referencedBytes: Number(referenced.manifests) + Number(referenced.blobs),
      referencedBlobBytes: Number(referenced.blobs),
      storedBytes: Number(stored.bytes),
      storedBlobs: Number(stored.n),
    };
  }

  // --- images ---

  async missingManifests(repositoryId: number, digests: string[]): Promise<string[]> {
    if (digests.length === 0) return [];
    const found = new Set(
      (
        await this.queries.rows('SELECT digest FROM manifests WHERE repository_id = $1 AND digest = ANY($2::text[])', [
          repositoryId,
          digests,
        ])
      ).map((r) => String(r.digest)),
    );
    return digests.filter((d) => !found.has(d));
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
    return this.transaction(async (q) => {
      // A repository being deleted is waited for (its delete holds its row), then found gone.
      if (!(await q.row('SELECT 1 FROM repositories WHERE id = $1 FOR KEY SHARE', [m.repositoryId]))) {
        return { created: false, refused: false, repositoryMissing: true };
      }
      let previousTagDigest: string | undefined;
      if (tag !== undefined) {
        // Writers of one tag take turns (the tag may have no row yet to lock), so that of two racing pushes to an
        // immutable tag exactly one lands and the other sees it.
        await this.lock(q, `tag ${m.repositoryId} ${tag}`);
        const previous = await q.row('SELECT digest FROM tags WHERE repository_id = $1 AND name = $2', [m.repositoryId, tag]);
        previousTagDigest = previous ? String(previous.digest) : undefined;
      }
      if (tagImmutable && previousTagDigest !== undefined && previousTagDigest !== m.digest) {
        return { created: false, previousTagDigest, refused: true };
      }
      // References are checked here, in the write's transaction, under key-share locks that a concurrent delete of
      // a link (garbage collection) or of a child manifest waits for: DESIGN.md invariants 2 and 6.
      const linked =
        m.blobs.length === 0
          ? new Set<string>()
          : new Set(
              (
                await q.rows(
                  'SELECT digest FROM repository_blobs WHERE repository_id = $1 AND digest = ANY($2::text[]) ORDER BY digest FOR KEY SHARE',
                  [m.repositoryId, m.blobs],
                )
              ).map((r) => String(r.digest)),
            );
      const missingBlobs = m.blobs.filter((d) => !linked.has(d));
      const children =
        m.manifests.length === 0
          ? new Set<string>()
          : new Set(
              (
                await q.rows(
                  'SELECT digest FROM manifests WHERE repository_id = $1 AND digest = ANY($2::text[]) ORDER BY digest FOR KEY SHARE',
                  [m.repositoryId, m.manifests],
                )
              ).map((r) => String(r.digest)),
            );
      const missingManifests = m.manifests.filter((d) => !children.has(d));
      if (missingBlobs.length > 0 || missingManifests.length > 0) {
        return { created: false, previousTagDigest, refused: false, missingBlobs, missingManifests };
      }
      let created = false;
      for (;;) {
        const inserted = await q.run(
          `INSERT INTO manifests (repository_id, digest, media_type, artifact_type, subject_digest, size, content, annotations, pushed_at, image_size, config_media_type)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (repository_id, digest) DO NOTHING`,
          [
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
          ],
        );
        if (inserted > 0) {
          created = true;
          break;
        }
        // Already stored: keep it (a delete in progress is waited for; if it removed the row, insert again).
        if (await q.row('SELECT 1 FROM manifests WHERE repository_id = $1 AND digest = $2 FOR KEY SHARE', [m.repositoryId, m.digest]))
          break;
      }
      if (created) {
        const kinds = [...m.blobs.map(() => 'blob'), ...m.manifests.map(() => 'manifest')];
        if (kinds.length > 0) {
          await q.run(
            `INSERT INTO manifest_references (repository_id, manifest_digest, child_digest, kind)
            SELECT $1, $2, child, kind FROM unnest($3::text[], $4::text[]) AS x (child, kind) ON CONFLICT DO NOTHING`,
            [m.repositoryId, m.digest, [...m.blobs, ...m.manifests], kinds],
          );
        }
        if (scan) await beginScan(q, m.repositoryId, m.digest, scan.scanType, now, scan.job, null);
        if (sign) await beginSigning(q, m.repositoryId, m.digest, sign, now);
      }
      if (tag !== undefined && previousTagDigest !== m.digest) {
        await q.run(
          `INSERT INTO tags (repository_id, name, digest, updated_at) VALUES ($1, $2, $3, $4)
          ON CONFLICT (repository_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at`,
          [m.repositoryId, tag, m.digest, now],
        );
      }
      if (event && (created || (tag !== undefined && previousTagDigest !== m.digest))) await this.insertEvent(q, event);
      if (replication && (created || (tag !== undefined && previousTagDigest !== m.digest)))
        await beginReplication(q, m.repositoryId, m.digest, replication, now);
      return { created, previousTagDigest, refused: false };
    });
  }

  async getManifest(repositoryId: number, digest: string): Promise<StoredManifest | undefined> {
    const row = await this.queries.row('SELECT * FROM manifests WHERE repository_id = $1 AND digest = $2', [repositoryId, digest]);
    return row ? toManifest(row) : undefined;
  }

  async getTaggedManifest(repositoryId: number, tag: string): Promise<StoredManifest | undefined> {
    const row = await this.queries.row(
      `SELECT m.* FROM tags t JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.digest
      WHERE t.repository_id = $1 AND t.name = $2`,
      [repositoryId, tag],
    );
    return row ? toManifest(row) : undefined;
  }

  async manifestParents(repositoryId: number, digest: string): Promise<string[]> {
    return (
      await this.queries.rows(
        `SELECT manifest_digest FROM manifest_references WHERE repository_id = $1 AND child_digest = $2 AND kind = 'manifest' ORDER BY manifest_digest`,
        [repositoryId, digest],
      )
    ).map((r) => String(r.manifest_digest));
  }

  async deleteManifest(repositoryId: number, digest: string, event?: NewEvent): Promise<boolean> {
    return this.transaction((q) => this.deleteManifestIn(q, repositoryId, digest, event));
  }

  async deleteManifests(repositoryId: number, images: { digest: string; event?: NewEvent }[]): Promise<string[]> {
    // Locked in digest order, as any other batch would: two batches cannot deadlock on each other.
    const sorted = [...images].sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
    return this.transaction(async (q) => {
      const deleted: string[] = [];
      for (const i of sorted) if (await this.deleteManifestIn(q, repositoryId, i.digest, i.event)) deleted.push(i.digest);
      return deleted;
    });
  }

  /** deleteManifest, in the caller's transaction. */
  private async deleteManifestIn(q: Queries, repositoryId: number, digest: string, event?: NewEvent): Promise<boolean> {
    // Lock, then check: an index being written that references it holds a key-share lock on its row until it
    // commits, and is then seen here.
    if (!(await q.row('SELECT 1 FROM manifests WHERE repository_id = $1 AND digest = $2 FOR UPDATE', [repositoryId, digest]))) return false;
    if (await isReferencedByIndex(q, repositoryId, digest)) return false;
    const deleted = await deleteManifestRows(q, repositoryId, digest);
    if (deleted && event) await this.insertEvent(q, event);
    // The referrers Berth wrote for it go with it (and theirs), unless an index keeps one. Each is locked as
    // the subject was, so an index being written that references it is seen.
    for (const pending = deleted ? [digest] : []; pending.length > 0; ) {
      const subject = pending.pop()!;
      const referrers = await q.rows(
        'SELECT digest, annotations FROM manifests WHERE repository_id = $1 AND subject_digest = $2 ORDER BY digest FOR UPDATE',
        [repositoryId, subject],
      );
      for (const r of referrers) {
        const own = String(r.digest);
        if (
          isOwnArtifact(r.annotations) &&
          !(await isReferencedByIndex(q, repositoryId, own)) &&
          (await deleteManifestRows(q, repositoryId, own))
        )
          pending.push(own);
      }
    }
    return deleted;
  }

  async deleteTag(repositoryId: number, tag: string, event?: NewEvent): Promise<boolean> {
    if (!event) return (await this.queries.run('DELETE FROM tags WHERE repository_id = $1 AND name = $2', [repositoryId, tag])) > 0;
    return this.transaction(async (q) => {
      const deleted = (await q.run('DELETE FROM tags WHERE repository_id = $1 AND name = $2', [repositoryId, tag])) > 0;
      if (deleted) await this.insertEvent(q, event);
      return deleted;
    });
  }

  /** Numbered under a lock held to the commit: sequence order is commit order (readers follow "after N"). */
  private async insertEvent(q: Queries, e: NewEvent): Promise<void> {
    await this.lock(q, 'events');
    await q.run('INSERT INTO events (at, detail_type, account_id, repository_name, detail) VALUES ($1, $2, $3, $4, $5)', [
      e.at,
      e.detailType,
      e.accountId,
      e.repositoryName,
      e.detail,
    ]);
  }

  async listEvents(after: number, limit: number): Promise<StoredEvent[]> {
    return (await this.queries.rows('SELECT * FROM events WHERE seq > $1 ORDER BY seq LIMIT $2', [after, limit])).map((r) => ({
      seq: Number(r.seq),
      at: Number(r.at),
      detailType: String(r.detail_type),
      accountId: String(r.account_id),
      repositoryName: String(r.repository_name),
      detail: String(r.detail),
    }));
  }

  async listTags(repositoryId: number, page: Page): Promise<string[]> {
    return (
      await this.queries.rows('SELECT name FROM tags WHERE repository_id = $1 AND name > $2 ORDER BY name LIMIT $3', [
        repositoryId,
        page.last ?? '',
        page.limit,
      ])
    ).map((r) => String(r.name));
  }

  async getTag(repositoryId: number, tag: string): Promise<string | undefined> {
    const row = await this.queries.row('SELECT digest FROM tags WHERE repository_id = $1 AND name = $2', [repositoryId, tag]);
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
      return (
        await this.queries.rows(
          `SELECT digest, name FROM tags t WHERE repository_id = $1 AND digest >= $2 AND (digest > $2 OR name > $3)
          AND ($5::text IS NULL OR EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = t.repository_id AND m.digest = t.digest AND m.storage_class = $5))
        ORDER BY digest, name LIMIT $4`,
          [repositoryId, afterDigest, afterTag ?? '', limit, cls],
        )
      ).map((r) => ({ digest: String(r.digest), tag: String(r.name) }));
    }
    if (status === 'UNTAGGED') {
      return (
        await this.queries.rows(
          `SELECT digest FROM manifests m WHERE m.repository_id = $1 AND m.digest > $2
          AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.digest = m.digest) AND ($4::text IS NULL OR m.storage_class = $4)
        ORDER BY m.digest LIMIT $3`,
          [repositoryId, afterDigest, limit, cls],
        )
      ).map((r) => ({ digest: String(r.digest), tag: null }));
    }
    // ANY: each manifest with each of its tags, or once with none (its tag NULL, which sorts first, as in SQLite).
    return (
      await this.queries.rows(
        `SELECT m.digest, t.name FROM manifests m
        LEFT JOIN tags t ON t.repository_id = m.repository_id AND t.digest = m.digest
      WHERE m.repository_id = $1 AND m.digest >= $2 AND (m.digest > $2 OR t.name > $3) AND ($5::text IS NULL OR m.storage_class = $5)
      ORDER BY m.digest, t.name NULLS FIRST LIMIT $4`,
        [repositoryId, afterDigest, afterTag ?? '', limit, cls],
      )
    ).map((r) => ({ digest: String(r.digest), tag: r.name === null ? null : String(r.name) }));
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
    return (
      await this.queries.rows(
        `SELECT ${IMAGE_COLUMNS} FROM manifests m WHERE m.repository_id = $1 AND m.digest > $2 ${filter}
      AND ($4::text IS NULL OR m.storage_class = $4) ORDER BY m.digest LIMIT $3`,
        [repositoryId, after ?? '', limit, storageClass ?? null],
      )
    ).map(toImage);
  }

  async setImageStorageClass(
    repositoryId: number,
    digest: string,
    storageClass: StorageClass,
    now: number,
  ): Promise<'changed' | 'unchanged' | 'missing'> {
    return this.transaction(async (q) => {
      const row = await q.row('SELECT storage_class FROM manifests WHERE repository_id = $1 AND digest = $2 FOR UPDATE', [
        repositoryId,
        digest,
      ]);
      if (!row) return 'missing';
      if (String(row.storage_class) === storageClass) return 'unchanged';
      const stamp = storageClass === 'ARCHIVE' ? 'archived_at' : 'activated_at';
      await q.run(`UPDATE manifests SET storage_class = $1, ${stamp} = $2 WHERE repository_id = $3 AND digest = $4`, [
        storageClass,
        now,
        repositoryId,
        digest,
      ]);
      return 'changed';
    });
  }

  // --- signing ---

  async createSigningProfile(p: SigningProfileRow): Promise<boolean> {
    return (
      (await this.queries.run(
        `INSERT INTO signing_profiles (account_id, name, key_ciphertext, certificate_pem, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [p.accountId, p.name, p.keyCiphertext, p.certificatePem, p.createdAt],
      )) > 0
    );
  }

  async getSigningProfile(accountId: string, name: string): Promise<SigningProfileRow | undefined> {
    const row = await this.queries.row('SELECT * FROM signing_profiles WHERE account_id = $1 AND name = $2', [accountId, name]);
    return row ? toSigningProfile(row) : undefined;
  }

  async listSigningProfiles(accountId: string): Promise<SigningProfileRow[]> {
    return (await this.queries.rows('SELECT * FROM signing_profiles WHERE account_id = $1 ORDER BY name', [accountId])).map(
      toSigningProfile,
    );
  }

  async listImageSigning(repositoryId: number, digest: string): Promise<ImageSigningRow[]> {
    return (
      await this.queries.rows('SELECT * FROM image_signing WHERE repository_id = $1 AND digest = $2 ORDER BY signing_profile_arn', [
        repositoryId,
        digest,
      ])
    ).map(toImageSigning);
  }

  async finishImageSigning(
    repositoryId: number,
    digest: string,
    arn: string,
    o: Pick<ImageSigningRow, 'status' | 'failureCode' | 'failureReason' | 'signatureDigest'>,
    now: number,
  ): Promise<void> {
    await this.queries.run(
      `UPDATE image_signing SET status = $1, failure_code = $2, failure_reason = $3, signature_digest = $4, updated_at = $5
      WHERE repository_id = $6 AND digest = $7 AND signing_profile_arn = $8`,
      [o.status, o.failureCode, o.failureReason, o.signatureDigest, now, repositoryId, digest, arn],
    );
  }

  async getImage(repositoryId: number, digest: string): Promise<ImageRow | undefined> {
    const row = await this.queries.row(`SELECT ${IMAGE_COLUMNS} FROM manifests m WHERE m.repository_id = $1 AND m.digest = $2`, [
      repositoryId,
      digest,
    ]);
    return row ? toImage(row) : undefined;
  }

  async recordUse(use: RecordedUse): Promise<void> {
    if (use.blobs.length === 0 && use.pulls.length === 0) return;
    await this.transaction(async (q) => {
      for (const b of use.blobs) await q.run('UPDATE blobs SET touched_at = $1 WHERE digest = $2 AND touched_at < $1', [b.at, b.digest]);
      for (const p of use.pulls) {
        await q.run(
          'UPDATE manifests SET last_pulled_at = $1 WHERE repository_id = $2 AND digest = $3 AND (last_pulled_at IS NULL OR last_pulled_at < $1)',
          [p.at, p.repositoryId, p.digest],
        );
      }
    });
  }

  async listReferrers(repositoryId: number, subjectDigest: string, artifactType?: string): Promise<Referrer[]> {
    const rows =
      artifactType === undefined
        ? await this.queries.rows(
            'SELECT digest, media_type, artifact_type, size, annotations FROM manifests WHERE repository_id = $1 AND subject_digest = $2 ORDER BY digest',
            [repositoryId, subjectDigest],
          )
        : await this.queries.rows(
            'SELECT digest, media_type, artifact_type, size, annotations FROM manifests WHERE repository_id = $1 AND subject_digest = $2 AND artifact_type = $3 ORDER BY digest',
            [repositoryId, subjectDigest, artifactType],
          );
    return rows.map((r) => ({
      digest: String(r.digest),
      mediaType: String(r.media_type),
      artifactType: r.artifact_type === null ? null : String(r.artifact_type),
      size: Number(r.size),
      annotations: r.annotations === null ? null : JSON.parse(String(r.annotations)),
    }));
  }

  // --- uploads ---

  async createUpload(u: Upload, maxPerPrincipal = Infinity): Promise<boolean> {
    return this.transaction(async (q) => {
      if (u.principalArn !== undefined && Number.isFinite(maxPerPrincipal)) {
        // Nodes starting uploads for one principal take turns: the count and the insert hold together.
        await this.lock(q, `uploads of ${u.principalArn}`);
        const open = Number((await q.row('SELECT count(*) AS n FROM uploads WHERE principal_arn = $1', [u.principalArn]))!.n);
        if (open >= maxPerPrincipal) return false;
      }
      await q.run('INSERT INTO uploads (id, repository_id, started_at, principal_arn) VALUES ($1, $2, $3, $4)', [
        u.id,
        u.repositoryId,
        u.startedAt,
        u.principalArn ?? null,
      ]);
      return true;
    });
  }

  async getUpload(id: string): Promise<Upload | undefined> {
    const row = await this.queries.row('SELECT id, repository_id, started_at, principal_arn FROM uploads WHERE id = $1', [id]);
    return row ? toUpload(row) : undefined;
  }

  async deleteUpload(id: string): Promise<void> {
    await this.queries.run('DELETE FROM uploads WHERE id = $1', [id]);
  }

  async listUploads(): Promise<Upload[]> {
    return (await this.queries.rows('SELECT id, repository_id, started_at, principal_arn FROM uploads ORDER BY started_at, id')).map(
      toUpload,
    );
  }

  async recordUploadPart(id: string, size: number, minimum: number): Promise<void> {
    // One statement: the SET expressions see the row as it was (the part before this one).
    await this.queries.run(
      `UPDATE uploads SET
      small_part_before_last = small_part_before_last OR (last_part_size IS NOT NULL AND last_part_size < $3),
      last_part_size = $2 WHERE id = $1`,
      [id, size, minimum],
    );
  }

  async smallPartBeforeLast(id: string): Promise<boolean> {
    const row = await this.queries.row('SELECT small_part_before_last FROM uploads WHERE id = $1', [id]);
    return row?.small_part_before_last === true;
  }

  // --- audit records ---

  async appendAuditRecords(records: { at: number; record: string }[]): Promise<void> {
    if (records.length === 0) return;
    await this.queries.run('INSERT INTO audit_records (at, record) SELECT * FROM unnest($1::bigint[], $2::text[])', [
      records.map((r) => String(r.at)),
      records.map((r) => r.record),
    ]);
  }

  async listAuditRecords(after: number, limit: number): Promise<AuditRecord[]> {
    return (await this.queries.rows('SELECT id, at, record FROM audit_records WHERE id > $1 ORDER BY id LIMIT $2', [after, limit])).map(
      (r) => ({ id: Number(r.id), at: Number(r.at), record: String(r.record) }),
    );
  }

  async searchAuditRecords(q: AuditSearch): Promise<AuditRecord[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const arg = (v: string | number) => {
      args.push(v);
      return `$${args.length}`;
    };
    if (q.contains) where.push(`strpos(record, ${arg(q.contains)}) > 0`);
    if (q.since !== undefined) where.push(`at >= ${arg(q.since)}`);
    if (q.until !== undefined) where.push(`at < ${arg(q.until)}`);
    if (q.beforeId !== undefined) where.push(`id < ${arg(q.beforeId)}`);
    const limit = arg(q.limit);
    return (
      await this.queries.rows(
        `SELECT id, at, record FROM audit_records ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${limit}`,
        args,
      )
    ).map((r) => ({ id: Number(r.id), at: Number(r.at), record: String(r.record) }));
  }

  async pruneAuditRecords(before: number): Promise<number> {
    return this.queries.run('DELETE FROM audit_records WHERE at < $1', [before]);
  }

  // --- usage snapshots ---

  async recordUsageSnapshot(s: UsageSnapshot): Promise<void> {
    await this.queries.run(
      `INSERT INTO usage_snapshots (day, at, stored_bytes, referenced_bytes, repositories, images) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (day) DO UPDATE SET at = excluded.at, stored_bytes = excluded.stored_bytes, referenced_bytes = excluded.referenced_bytes,
      repositories = excluded.repositories, images = excluded.images`,
      [s.day, s.at, s.storedBytes, s.referencedBytes, s.repositories, s.images],
    );
  }

  async listUsageSnapshots(sinceDay: string, limit: number): Promise<UsageSnapshot[]> {
    return (await this.queries.rows('SELECT * FROM usage_snapshots WHERE day >= $1 ORDER BY day LIMIT $2', [sinceDay, limit])).map(
      toUsageSnapshot,
    );
  }

  // --- repository creation templates ---

  async createCreationTemplate(t: CreationTemplateRow): Promise<boolean> {
    return (
      (await this.queries.run(
        'INSERT INTO creation_templates (account_id, prefix, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, prefix) DO NOTHING',
        [t.accountId, t.prefix, t.body, t.createdAt, t.updatedAt],
      )) > 0
    );
  }

  async listCreationTemplates(accountId: string): Promise<CreationTemplateRow[]> {
    return (await this.queries.rows('SELECT * FROM creation_templates WHERE account_id = $1 ORDER BY prefix', [accountId])).map(
      toPrefixedBody,
    );
  }

  async updateCreationTemplate(accountId: string, prefix: string, body: string, updatedAt: number): Promise<boolean> {
    return (
      (await this.queries.run('UPDATE creation_templates SET body = $1, updated_at = $2 WHERE account_id = $3 AND prefix = $4', [
        body,
        updatedAt,
        accountId,
        prefix,
      ])) > 0
    );
  }

  async deleteCreationTemplate(accountId: string, prefix: string): Promise<CreationTemplateRow | undefined> {
    const row = await this.queries.row('DELETE FROM creation_templates WHERE account_id = $1 AND prefix = $2 RETURNING *', [
      accountId,
      prefix,
    ]);
    return row ? toPrefixedBody(row) : undefined;
  }

  // --- pull time update exclusions ---

  async addPullTimeExclusion(accountId: string, principalArn: string, now: number): Promise<boolean> {
    return (
      (await this.queries.run(
        'INSERT INTO pull_time_exclusions (account_id, principal_arn, created_at) VALUES ($1, $2, $3) ON CONFLICT (account_id, principal_arn) DO NOTHING',
        [accountId, principalArn, now],
      )) > 0
    );
  }

  async removePullTimeExclusion(accountId: string, principalArn: string): Promise<boolean> {
    return (
      (await this.queries.run('DELETE FROM pull_time_exclusions WHERE account_id = $1 AND principal_arn = $2', [accountId, principalArn])) >
      0
    );
  }

  async listPullTimeExclusions(accountId: string): Promise<{ principalArn: string; createdAt: number }[]> {
    return (
      await this.queries.rows('SELECT principal_arn, created_at FROM pull_time_exclusions WHERE account_id = $1 ORDER BY principal_arn', [
        accountId,
      ])
    ).map((r) => ({ principalArn: String(r.principal_arn), createdAt: Number(r.created_at) }));
  }

  async hasPullTimeExclusion(accountId: string, principalArn: string): Promise<boolean> {
    return (
      (await this.queries.row('SELECT 1 AS found FROM pull_time_exclusions WHERE account_id = $1 AND principal_arn = $2', [
        accountId,
        principalArn,
      ])) !== undefined
    );
  }

  // --- pull through cache rules, upstream tag checks, secrets ---

  async createPullThroughRule(r: PullThroughRuleRow, max: number): Promise<'created' | 'exists' | 'limit'> {
    return this.transaction(async (q) => {
      // Nodes creating rules of one account take turns: the count and the insert hold together.
      await this.lock(q, `pull through cache rules of ${r.accountId}`);
      if (await q.row('SELECT 1 AS found FROM pull_through_rules WHERE account_id = $1 AND prefix = $2', [r.accountId, r.prefix]))
        return 'exists';
      if (Number((await q.row('SELECT count(*) AS n FROM pull_through_rules WHERE account_id = $1', [r.accountId]))!.n) >= max)
        return 'limit';
      await q.run('INSERT INTO pull_through_rules (account_id, prefix, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)', [
        r.accountId,
        r.prefix,
        r.body,
        r.createdAt,
        r.updatedAt,
      ]);
      return 'created';
    });
  }

  async listPullThroughRules(accountId: string): Promise<PullThroughRuleRow[]> {
    return (await this.queries.rows('SELECT * FROM pull_through_rules WHERE account_id = $1 ORDER BY prefix', [accountId])).map(
      toPrefixedBody,
    );
  }

  async updatePullThroughRule(accountId: string, prefix: string, body: string, updatedAt: number): Promise<boolean> {
    return (
      (await this.queries.run('UPDATE pull_through_rules SET body = $1, updated_at = $2 WHERE account_id = $3 AND prefix = $4', [
        body,
        updatedAt,
        accountId,
        prefix,
      ])) > 0
    );
  }

  async deletePullThroughRule(accountId: string, prefix: string): Promise<PullThroughRuleRow | undefined> {
    const row = await this.queries.row('DELETE FROM pull_through_rules WHERE account_id = $1 AND prefix = $2 RETURNING *', [
      accountId,
      prefix,
    ]);
    return row ? toPrefixedBody(row) : undefined;
  }

  async upstreamTagCheckedAt(repositoryId: number, tag: string): Promise<number | undefined> {
    const row = await this.queries.row('SELECT checked_at FROM upstream_tag_checks WHERE repository_id = $1 AND tag = $2', [
      repositoryId,
      tag,
    ]);
    return row ? Number(row.checked_at) : undefined;
  }

  async recordUpstreamTagCheck(repositoryId: number, tag: string, at: number): Promise<void> {
    // A repository deleted meanwhile takes its checks with it: nothing is written for it.
    await this.queries.run(
      `INSERT INTO upstream_tag_checks (repository_id, tag, checked_at) SELECT id, $1, $2 FROM repositories WHERE id = $3
      ON CONFLICT (repository_id, tag) DO UPDATE SET checked_at = excluded.checked_at`,
      [tag, at, repositoryId],
    );
  }

  async putSecret(s: SecretRow): Promise<boolean> {
    // xmax = 0 tells a row inserted by this statement from one it updated.
    const row = await this.queries.row(
      `INSERT INTO secrets (account_id, name, ciphertext, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (account_id, name) DO UPDATE SET ciphertext = excluded.ciphertext, updated_at = excluded.updated_at RETURNING (xmax = 0) AS created`,
      [s.accountId, s.name, s.ciphertext, s.createdAt, s.updatedAt],
    );
    return row!.created === true;
  }

  async getSecret(accountId: string, name: string): Promise<SecretRow | undefined> {
    const r = await this.queries.row('SELECT * FROM secrets WHERE account_id = $1 AND name = $2', [accountId, name]);
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
    return (
      await this.queries.rows('SELECT account_id, name, created_at, updated_at FROM secrets WHERE account_id = $1 ORDER BY name', [
        accountId,
      ])
    ).map((r) => ({
      accountId: String(r.account_id),
      name: String(r.name),
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    }));
  }

  async deleteSecret(accountId: string, name: string): Promise<boolean> {
    return (await this.queries.run('DELETE FROM secrets WHERE account_id = $1 AND name = $2', [accountId, name])) > 0;
  }

  // --- identity ---

  async ensureAccount(accountId: string, now: number): Promise<void> {
    await this.queries.run('INSERT INTO accounts (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [accountId, now]);
  }

  async listAccounts(): Promise<string[]> {
    return (await this.queries.rows('SELECT id FROM accounts ORDER BY id')).map((r) => String(r.id));
  }

  async createUser(accountId: string, name: string, now: number, managedBy: string | null = null): Promise<boolean> {
    return (
      (await this.queries.run(
        'INSERT INTO users (account_id, name, created_at, managed_by) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [accountId, name, now, managedBy],
      )) > 0
    );
  }

  async deleteUser(accountId: string, name: string): Promise<boolean> {
    return this.transaction(async (q) => {
      await q.run(
        'DELETE FROM refresh_tokens WHERE access_key_id IN (SELECT access_key_id FROM access_keys WHERE account_id = $1 AND user_name = $2)',
        [accountId, name],
      );
      await q.run(
        'DELETE FROM console_sessions WHERE access_key_id IN (SELECT access_key_id FROM access_keys WHERE account_id = $1 AND user_name = $2)',
        [accountId, name],
      );
      await q.run('DELETE FROM access_keys WHERE account_id = $1 AND user_name = $2', [accountId, name]);
      return (await q.run('DELETE FROM users WHERE account_id = $1 AND name = $2', [accountId, name])) > 0;
    });
  }

  async listUsers(accountId: string): Promise<UserRow[]> {
    return (await this.queries.rows('SELECT name, created_at, managed_by FROM users WHERE account_id = $1 ORDER BY name', [accountId])).map(
      (r) => ({ name: String(r.name), createdAt: Number(r.created_at), managedBy: r.managed_by === null ? null : String(r.managed_by) }),
    );
  }

  async createAccessKey(k: AccessKeyRow): Promise<void> {
    await this.queries.run(
      'INSERT INTO access_keys (access_key_id, account_id, user_name, secret_ciphertext, status, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [k.accessKeyId, k.accountId, k.userName, k.secretCiphertext, k.status, k.createdAt],
    );
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKeyRow | undefined> {
    const row = await this.queries.row('SELECT * FROM access_keys WHERE access_key_id = $1', [accessKeyId]);
    return row ? toAccessKey(row) : undefined;
  }

  async listAccessKeys(accountId: string, userName: string | null): Promise<AccessKeyRow[]> {
    return (
      userName === null
        ? await this.queries.rows('SELECT * FROM access_keys WHERE account_id = $1 AND user_name IS NULL ORDER BY created_at', [accountId])
        : await this.queries.rows('SELECT * FROM access_keys WHERE account_id = $1 AND user_name = $2 ORDER BY created_at', [
            accountId,
            userName,
          ])
    ).map(toAccessKey);
  }

  async setAccessKeyStatus(accessKeyId: string, status: 'Active' | 'Inactive'): Promise<boolean> {
    return this.transaction(async (q) => {
      if (status === 'Inactive') {
        await q.run('DELETE FROM refresh_tokens WHERE access_key_id = $1', [accessKeyId]);
        await q.run('DELETE FROM console_sessions WHERE access_key_id = $1', [accessKeyId]);
      }
      return (await q.run('UPDATE access_keys SET status = $1 WHERE access_key_id = $2', [status, accessKeyId])) > 0;
    });
  }

  async deleteAccessKey(accessKeyId: string): Promise<boolean> {
    return this.transaction(async (q) => {
      await q.run('DELETE FROM refresh_tokens WHERE access_key_id = $1', [accessKeyId]);
      await q.run('DELETE FROM console_sessions WHERE access_key_id = $1', [accessKeyId]);
      return (await q.run('DELETE FROM access_keys WHERE access_key_id = $1', [accessKeyId])) > 0;
    });
  }

  async createRefreshToken(t: RefreshTokenRow, now: number): Promise<void> {
    await this.transaction(async (q) => {
      await q.run('DELETE FROM refresh_tokens WHERE expires_at <= $1', [now]);
      await q.run(
        'INSERT INTO refresh_tokens (token_hash, access_key_id, principal_arn, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)',
        [t.tokenHash, t.accessKeyId, t.principalArn, t.createdAt, t.expiresAt],
      );
    });
  }

  async getRefreshToken(tokenHash: string): Promise<RefreshTokenRow | undefined> {
    const row = await this.queries.row('SELECT * FROM refresh_tokens WHERE token_hash = $1', [tokenHash]);
    return row && toKeyBoundToken(row);
  }

  async deleteRefreshTokens(accessKeyId: string): Promise<number> {
    return this.queries.run('DELETE FROM refresh_tokens WHERE access_key_id = $1', [accessKeyId]);
  }

  async createConsoleSession(t: ConsoleSessionRow, now: number): Promise<void> {
    await this.transaction(async (q) => {
      await q.run('DELETE FROM console_sessions WHERE expires_at <= $1', [now]);
      await q.run(
        'INSERT INTO console_sessions (token_hash, access_key_id, principal_arn, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)',
        [t.tokenHash, t.accessKeyId, t.principalArn, t.createdAt, t.expiresAt],
      );
    });
  }

  async getConsoleSession(tokenHash: string): Promise<ConsoleSessionRow | undefined> {
    const row = await this.queries.row('SELECT * FROM console_sessions WHERE token_hash = $1', [tokenHash]);
    return row && toKeyBoundToken(row);
  }

  async deleteConsoleSession(tokenHash: string): Promise<boolean> {
    return (await this.queries.run('DELETE FROM console_sessions WHERE token_hash = $1', [tokenHash])) > 0;
  }

  // --- policies ---

  async setRepositoryPolicy(repositoryId: number, text: string | null): Promise<void> {
    await this.queries.run('UPDATE repositories SET policy_text = $1 WHERE id = $2', [text, repositoryId]);
  }

  async getRegistryPolicy(accountId: string): Promise<string | undefined> {
    const row = await this.queries.row('SELECT policy_text FROM registry_policies WHERE account_id = $1', [accountId]);
    return row ? String(row.policy_text) : undefined;
  }

  async setRegistryPolicy(accountId: string, text: string | null): Promise<void> {
    if (text === null) await this.queries.run('DELETE FROM registry_policies WHERE account_id = $1', [accountId]);
    else
      await this.queries.run(
        'INSERT INTO registry_policies (account_id, policy_text) VALUES ($1, $2) ON CONFLICT (account_id) DO UPDATE SET policy_text = excluded.policy_text',
        [accountId, text],
      );
  }

  async putUserPolicy(accountId: string, userName: string, policy: NamedPolicy): Promise<void> {
    await this.queries.run(
      `INSERT INTO user_policies (account_id, user_name, policy_name, policy_text) VALUES ($1, $2, $3, $4)
      ON CONFLICT (account_id, user_name, policy_name) DO UPDATE SET policy_text = excluded.policy_text`,
      [accountId, userName, policy.name, policy.text],
    );
  }

  async listUserPolicies(accountId: string, userName: string): Promise<NamedPolicy[]> {
    return (
      await this.queries.rows(
        'SELECT policy_name, policy_text FROM user_policies WHERE account_id = $1 AND user_name = $2 ORDER BY policy_name',
        [accountId, userName],
      )
    ).map((r) => ({ name: String(r.policy_name), text: String(r.policy_text) }));
  }

  async deleteUserPolicy(accountId: string, userName: string, name: string): Promise<boolean> {
    return (
      (await this.queries.run('DELETE FROM user_policies WHERE account_id = $1 AND user_name = $2 AND policy_name = $3', [
        accountId,
        userName,
        name,
      ])) > 0
    );
  }

  // --- lifecycle ---

  async setLifecyclePolicy(repositoryId: number, text: string | null): Promise<void> {
    await this.queries.run('UPDATE repositories SET lifecycle_policy_text = $1 WHERE id = $2', [text, repositoryId]);
  }

  async setLifecycleEvaluatedAt(repositoryId: number, at: number): Promise<void> {
    await this.queries.run('UPDATE repositories SET lifecycle_evaluated_at = $1 WHERE id = $2', [at, repositoryId]);
  }

  async repositoriesWithLifecyclePolicy(): Promise<Repository[]> {
    return (await this.queries.rows('SELECT * FROM repositories WHERE lifecycle_policy_text IS NOT NULL ORDER BY account_id, name')).map(
      toRepository,
    );
  }

  async lifecycleImages(repositoryId: number): Promise<LifecycleImageRow[]> {
    const rows = await this.queries.rows(
      `SELECT m.digest, m.pushed_at, m.last_pulled_at, m.storage_class, m.archived_at, m.activated_at,
        ARRAY(SELECT t.name FROM tags t WHERE t.repository_id = m.repository_id AND t.digest = m.digest ORDER BY t.name) AS tag_list,
        EXISTS (SELECT 1 FROM manifest_references r WHERE r.repository_id = m.repository_id AND r.child_digest = m.digest AND r.kind = 'manifest') AS child
      FROM manifests m WHERE m.repository_id = $1 ORDER BY m.digest`,
      [repositoryId],
    );
    return rows.map((r) => ({
      digest: String(r.digest),
      tags: r.tag_list as string[],
      pushedAt: Number(r.pushed_at),
      lastPulledAt: r.last_pulled_at === null ? null : Number(r.last_pulled_at),
      referencedByIndex: r.child === true,
      ...storageOf(r),
    }));
  }

  async getLifecyclePreview(repositoryId: number, withResults = true): Promise<LifecyclePreview | undefined> {
    const row = await this.queries.row(
      `SELECT policy_text, status, started_at, generation, ${withResults ? 'results' : 'NULL AS results'}
      FROM lifecycle_previews WHERE repository_id = $1`,
      [repositoryId],
    );
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
    return this.transaction(async (q) => {
      // Nodes starting a preview of one repository take turns (it may have no preview row yet).
      await this.lock(q, `lifecycle-preview ${repositoryId}`);
      const current = await q.row('SELECT status FROM lifecycle_previews WHERE repository_id = $1', [repositoryId]);
      if (current && current.status === 'IN_PROGRESS') return false;
      // Generations come from one counter for the whole store, never reused.
      const generation = Number(
        (await q.row(`INSERT INTO settings (key, value) VALUES ('lifecycle_preview_generation', '1')
        ON CONFLICT (key) DO UPDATE SET value = (settings.value::bigint + 1)::text RETURNING value`))!.value,
      );
      await q.run(
        `INSERT INTO lifecycle_previews (repository_id, policy_text, status, started_at, results, generation) VALUES ($1, $2, 'IN_PROGRESS', $3, NULL, $4)
        ON CONFLICT (repository_id) DO UPDATE SET policy_text = excluded.policy_text, status = 'IN_PROGRESS', started_at = excluded.started_at, results = NULL,
          generation = excluded.generation`,
        [repositoryId, policyText, now, generation],
      );
      if (job) await insertJob(q, job, now);
      return true;
    });
  }

  async finishLifecyclePreview(repositoryId: number, status: 'COMPLETE' | 'FAILED', results: string): Promise<void> {
    await this.queries.run('UPDATE lifecycle_previews SET status = $1, results = $2 WHERE repository_id = $3', [
      status,
      results,
      repositoryId,
    ]);
  }

  // --- image scans and vulnerability data ---

  async getImageScan(repositoryId: number, digest: string): Promise<ImageScan | undefined> {
    const row = await this.queries.row('SELECT * FROM image_scans WHERE repository_id = $1 AND digest = $2', [repositoryId, digest]);
    return row ? toImageScan(row) : undefined;
  }

  async getImageScans(repositoryId: number, digests: string[]): Promise<Map<string, ImageScan>> {
    if (digests.length === 0) return new Map();
    const rows = await this.queries.rows('SELECT * FROM image_scans WHERE repository_id = $1 AND digest = ANY($2::text[])', [
      repositoryId,
      digests,
    ]);
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
    return this.transaction(async (q) => {
      // The manifest's row is locked: two manual scans of one image take turns, and a delete waits.
      if (!(await q.row('SELECT 1 FROM manifests WHERE repository_id = $1 AND digest = $2 FOR UPDATE', [repositoryId, digest])))
        return 'missing';
      if (manualSince !== undefined) {
        const row = await q.row('SELECT manual_scan_at FROM image_scans WHERE repository_id = $1 AND digest = $2', [repositoryId, digest]);
        if (row && row.manual_scan_at !== null && Number(row.manual_scan_at) > manualSince) return 'limited';
      }
      await beginScan(q, repositoryId, digest, scanType, now, job, manualSince === undefined ? null : now);
      return 'started';
    });
  }

  async createWebhook(
    w: Omit<WebhookRow, 'cursor' | 'failures' | 'nextAttemptAt' | 'lastError' | 'managedBy'> & { managedBy?: string | null },
  ): Promise<WebhookRow> {
    const row = await this.queries.row(
      `INSERT INTO webhooks (id, account_id, url, event_types, repositories, secret_ciphertext, created_at, cursor, managed_by)
      VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT COALESCE(MAX(seq), 0) FROM events), $8) RETURNING *`,
      [
        w.id,
        w.accountId,
        w.url,
        JSON.stringify(w.eventTypes),
        JSON.stringify(w.repositories),
        w.secretCiphertext,
        w.createdAt,
        w.managedBy ?? null,
      ],
    );
    return toWebhook(row!);
  }

  async updateWebhookFilters(accountId: string, id: string, f: { eventTypes?: string[]; repositories?: string[] }): Promise<boolean> {
    const text = (list: string[] | undefined) => (list === undefined ? null : JSON.stringify(list));
    return (
      (await this.queries.run(
        'UPDATE webhooks SET event_types = COALESCE($1, event_types), repositories = COALESCE($2, repositories) WHERE account_id = $3 AND id = $4',
        [text(f.eventTypes), text(f.repositories), accountId, id],
      )) > 0
    );
  }

  async listWebhooks(accountId?: string): Promise<WebhookRow[]> {
    return (
      accountId === undefined
        ? await this.queries.rows('SELECT * FROM webhooks ORDER BY created_at, id', [])
        : await this.queries.rows('SELECT * FROM webhooks WHERE account_id = $1 ORDER BY created_at, id', [accountId])
    ).map(toWebhook);
  }

  async deleteWebhook(accountId: string, id: string): Promise<boolean> {
    return (await this.queries.run('DELETE FROM webhooks WHERE account_id = $1 AND id = $2', [accountId, id])) > 0;
  }

  async updateWebhookDelivery(
    id: string,
    d: { cursor: number; failures: number; nextAttemptAt: number; lastError: string | null },
  ): Promise<void> {
    await this.queries.run('UPDATE webhooks SET cursor = $1, failures = $2, next_attempt_at = $3, last_error = $4 WHERE id = $5', [
      d.cursor,
      d.failures,
      d.nextAttemptAt,
      d.lastError,
      id,
    ]);
  }

  async finishImageScan(repositoryId: number, digest: string, o: ScanOutcome, now: number, event?: NewEvent): Promise<void> {
    await this.transaction(async (q) => {
      await q.run(
        `UPDATE image_scans SET status = $1, description = $2, completed_at = $3, findings = $4, severity_counts = $5, vuln_source_updated_at = $6,
      inventory = CASE WHEN $7 THEN $8 ELSE inventory END WHERE repository_id = $9 AND digest = $10`,
        [
          o.status,
          o.description,
          now,
          o.findings,
          o.severityCounts,
          o.vulnerabilitySourceUpdatedAt,
          o.inventory !== undefined,
          o.inventory ?? null,
          repositoryId,
          digest,
        ],
      );
      if (event) await this.insertEvent(q, event);
    });
  }

  async listScannedImages(after: { repositoryId: number; digest: string } | undefined, limit: number) {
    return (
      await this.queries.rows(
        `SELECT s.repository_id, s.digest, s.scan_type, r.account_id, r.name FROM image_scans s JOIN repositories r ON r.id = s.repository_id
      WHERE s.inventory IS NOT NULL AND (s.repository_id, s.digest) > ($1, $2) ORDER BY s.repository_id, s.digest LIMIT $3`,
        [after?.repositoryId ?? 0, after?.digest ?? '', limit],
      )
    ).map((r) => ({
      repositoryId: Number(r.repository_id),
      digest: String(r.digest),
      accountId: String(r.account_id),
      repositoryName: String(r.name),
      scanType: String(r.scan_type) as 'BASIC' | 'ENHANCED',
    }));
  }

  async stageVulnRecords(importId: string, records: StagedVulnRecord[]): Promise<void> {
    if (records.length === 0) return;
    // One id twice in a batch would make ON CONFLICT touch a row twice: the last one wins, as on SQLite.
    const last = new Map(records.map((r) => [r.id, r]));
    const rows = [...last.values()];
    await this.queries.run(
      `INSERT INTO vuln_staging (import_id, record_id, modified, record)
      SELECT $1, id, modified, record FROM unnest($2::text[], $3::text[], $4::text[]) AS x (id, modified, record)
      ON CONFLICT (import_id, record_id) DO UPDATE SET modified = excluded.modified, record = excluded.record`,
      [importId, rows.map((r) => r.id), rows.map((r) => r.modified), rows.map((r) => r.record)],
    );
  }

  async commitVulnImport(importId: string, source: VulnSource, job?: NewJob): Promise<number> {
    return this.transaction(async (q) => {
      // Imports of one source take turns (its status row may not exist yet).
      await this.lock(q, `vulndb ${source.name}`);
      await q.run('DELETE FROM vuln_records WHERE source = $1', [source.name]);
      const records = await q.run(
        'INSERT INTO vuln_records (source, record_id, modified, record) SELECT $1, record_id, modified, record FROM vuln_staging WHERE import_id = $2',
        [source.name, importId],
      );
      await q.run('DELETE FROM vuln_staging WHERE import_id = $1', [importId]);
      await q.run(
        `INSERT INTO vuln_sources (name, records, imported_at, sha256, origin) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (name) DO UPDATE SET records = excluded.records, imported_at = excluded.imported_at, sha256 = excluded.sha256, origin = excluded.origin`,
        [source.name, records, source.importedAt, source.sha256, source.origin],
      );
      const version = Number(
        (await q.row(`INSERT INTO settings (key, value) VALUES ('vulndb_version', '1')
        ON CONFLICT (key) DO UPDATE SET value = (settings.value::bigint + 1)::text RETURNING value`))!.value,
      );
      if (job) await insertJob(q, job, source.importedAt);
      return version;
    });
  }

  async discardVulnImport(importId: string): Promise<void> {
    await this.queries.run('DELETE FROM vuln_staging WHERE import_id = $1', [importId]);
  }

  async listVulnSources(): Promise<VulnSource[]> {
    return (await this.queries.rows('SELECT * FROM vuln_sources ORDER BY name')).map(toVulnSource);
  }

  async vulnDataVersion(): Promise<number> {
    const row = await this.queries.row(`SELECT value FROM settings WHERE key = 'vulndb_version'`);
    return row ? Number(row.value) : 0;
  }

  async listVulnRecords(after: string | undefined, limit: number): Promise<{ key: string; record: string }[]> {
    const [source, id] = after === undefined ? ['', ''] : after.split('\u0000');
    return (
      await this.queries.rows(
        `SELECT source, record_id, record FROM vuln_records WHERE (source, record_id) > ($1, $2) ORDER BY source, record_id LIMIT $3`,
        [source, id ?? '', limit],
      )
    ).map((r) => ({ key: `${String(r.source)}\u0000${String(r.record_id)}`, record: String(r.record) }));
  }

  // --- jobs ---

  async enqueueJob(job: NewJob, now: number): Promise<number> {
    return insertJob(this.queries, job, now);
  }

  async claimJob(owner: string, kinds: string[], now: number, leaseUntil: number): Promise<Job | undefined> {
    if (kinds.length === 0) return undefined;
    // SKIP LOCKED: nodes claiming at once each take another job, none waits for another's claim.
    const row = await this.queries.row(
      `UPDATE jobs SET status = 'running', lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3
      WHERE id = (SELECT id FROM jobs WHERE kind = ANY($4::text[])
          AND ((status = 'queued' AND run_at <= $3) OR (status = 'running' AND lease_until < $3))
        ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING *`,
      [owner, leaseUntil, now, kinds],
    );
    return row ? toJob(row) : undefined;
  }

  async heartbeatJob(id: number, owner: string, leaseUntil: number, now: number): Promise<boolean> {
    return (
      (await this.queries.run(
        `UPDATE jobs SET lease_until = $1, updated_at = $2 WHERE id = $3 AND status = 'running' AND lease_owner = $4`,
        [leaseUntil, now, id, owner],
      )) > 0
    );
  }

  async finishJob(
    id: number,
    owner: string,
    outcome: { result: string } | { error: string; retryAt: number | null },
    now: number,
  ): Promise<boolean> {
    if ('result' in outcome) {
      return (
        (await this.queries.run(
          `UPDATE jobs SET status = 'succeeded', result = $1, lease_owner = NULL, lease_until = NULL, updated_at = $2
        WHERE id = $3 AND status = 'running' AND lease_owner = $4`,
          [outcome.result, now, id, owner],
        )) > 0
      );
    }
    return (
      (await this.queries.run(
        `UPDATE jobs SET status = $1, run_at = COALESCE($2, run_at), last_error = $3, lease_owner = NULL, lease_until = NULL, updated_at = $4
      WHERE id = $5 AND status = 'running' AND lease_owner = $6`,
        [outcome.retryAt === null ? 'dead' : 'queued', outcome.retryAt, outcome.error, now, id, owner],
      )) > 0
    );
  }

  async getJob(id: number): Promise<Job | undefined> {
    const row = await this.queries.row('SELECT * FROM jobs WHERE id = $1', [id]);
    return row ? toJob(row) : undefined;
  }

  async pruneJobs(kind: string, before: number): Promise<number> {
    return this.queries.run(`DELETE FROM jobs WHERE kind = $1 AND status = 'succeeded' AND updated_at < $2`, [kind, before]);
  }

  async listJobs(filter: { status?: JobStatus; kind?: string }, before: number | undefined, limit: number): Promise<Job[]> {
    return (
      await this.queries.rows(
        `SELECT * FROM jobs WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR kind = $2) AND id < $3
      ORDER BY id DESC LIMIT $4`,
        [filter.status ?? null, filter.kind ?? null, before ?? Number.MAX_SAFE_INTEGER, limit],
      )
    ).map(toJob);
  }

  async setJobSchedule(kind: string, intervalMs: number, payload: string, firstRunAt: number): Promise<void> {
    if (intervalMs <= 0) {
      await this.queries.run('DELETE FROM job_schedules WHERE kind = $1', [kind]);
      return;
    }
    await this.queries.run(
      `INSERT INTO job_schedules (kind, interval_ms, payload, next_run_at) VALUES ($1, $2, $3, $4)
      ON CONFLICT (kind) DO UPDATE SET interval_ms = excluded.interval_ms, payload = excluded.payload,
        next_run_at = LEAST(job_schedules.next_run_at, excluded.next_run_at)`,
      [kind, intervalMs, payload, firstRunAt],
    );
  }

  async runDueSchedules(now: number, maxAttempts: number): Promise<number[]> {
    return this.transaction(async (q) => {
      // A schedule row is updated by one node at a time; the next one re-reads it after the first commits and
      // finds it no longer due: one job per firing.
      const due = await q.rows(`UPDATE job_schedules SET next_run_at = $1 + interval_ms WHERE next_run_at <= $1 RETURNING kind, payload`, [
        now,
      ]);
      const ids: number[] = [];
      for (const d of due.sort((a, b) => String(a.kind).localeCompare(String(b.kind)))) {
        ids.push(await insertJob(q, { kind: String(d.kind), payload: String(d.payload), maxAttempts, runAt: now }, now));
      }
      return ids;
    });
  }

  // --- replication ---

  async putReplicationDestination(d: ReplicationDestinationRow): Promise<void> {
    await this.queries.run(
      `INSERT INTO replication_destinations (account_id, region, registry_id, kind, endpoint, username, secret_ciphertext, created_at, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (account_id, region, registry_id) DO UPDATE SET kind = excluded.kind, endpoint = excluded.endpoint,
      username = excluded.username, secret_ciphertext = excluded.secret_ciphertext, updated_at = excluded.updated_at`,
      [d.accountId, d.region, d.registryId, d.kind, d.endpoint, d.username, d.secretCiphertext, d.createdAt, d.updatedAt],
    );
  }

  async getReplicationDestination(accountId: string, region: string, registryId: string): Promise<ReplicationDestinationRow | undefined> {
    const row = await this.queries.row(
      'SELECT * FROM replication_destinations WHERE account_id = $1 AND region = $2 AND registry_id = $3',
      [accountId, region, registryId],
    );
    return row ? toReplicationDestination(row) : undefined;
  }

  async listReplicationDestinations(accountId: string): Promise<ReplicationDestinationRow[]> {
    return (
      await this.queries.rows('SELECT * FROM replication_destinations WHERE account_id = $1 ORDER BY region, registry_id', [accountId])
    ).map(toReplicationDestination);
  }

  async deleteReplicationDestination(accountId: string, region: string, registryId: string): Promise<boolean> {
    return (
      (await this.queries.run('DELETE FROM replication_destinations WHERE account_id = $1 AND region = $2 AND registry_id = $3', [
        accountId,
        region,
        registryId,
      ])) > 0
    );
  }

  async startReplication(repositoryId: number, digest: string, replication: ReplicationOnWrite, now: number): Promise<void> {
    await this.transaction(async (q) => {
      if (await q.row('SELECT 1 FROM manifests WHERE repository_id = $1 AND digest = $2 FOR KEY SHARE', [repositoryId, digest]))
        await beginReplication(q, repositoryId, digest, replication, now);
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
    await this.transaction(async (q) => {
      if (await q.row('SELECT 1 FROM repositories WHERE id = $1 FOR KEY SHARE', [repositoryId]))
        await writeReplicationStatus(q, repositoryId, digest, d, status, reason, now);
    });
  }

  async listReplicationStatuses(repositoryId: number, digest: string): Promise<ReplicationStatusRow[]> {
    return (
      await this.queries.rows('SELECT * FROM replication_statuses WHERE repository_id = $1 AND digest = $2 ORDER BY region, registry_id', [
        repositoryId,
        digest,
      ])
    ).map(toReplicationStatus);
  }

  async startReplicationBackfill(
    b: ReplicationBackfillRow,
    maxInProgress: number,
    job: NewJob,
  ): Promise<'started' | 'in-progress' | 'limit'> {
    return this.transaction(async (q) => {
      // Backfills of one account start one at a time: the check and the insert cannot interleave with another's.
      await this.lock(q, `replication-backfill ${b.accountId}`);
      const active = await q.rows(
        `SELECT region FROM replication_backfills WHERE account_id = $1 AND status IN ('PREPARING', 'IN_PROGRESS', 'STOPPING')`,
        [b.accountId],
      );
      if (active.some((r) => r.region === b.region)) return 'in-progress';
      if (active.length >= maxInProgress) return 'limit';
      await q.run(
        `INSERT INTO replication_backfills (id, account_id, region, registry_id, status, failure_code, total, completed, failed, failure_codes, started_at, ended_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
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
        ],
      );
      await insertJob(q, job, b.startedAt);
      return 'started';
    });
  }

  async getReplicationBackfill(accountId: string, id: string): Promise<ReplicationBackfillRow | undefined> {
    const row = await this.queries.row('SELECT * FROM replication_backfills WHERE account_id = $1 AND id = $2', [accountId, id]);
    return row ? toReplicationBackfill(row) : undefined;
  }

  async listReplicationBackfills(accountId: string): Promise<ReplicationBackfillRow[]> {
    return (
      await this.queries.rows('SELECT * FROM replication_backfills WHERE account_id = $1 ORDER BY started_at DESC, id', [accountId])
    ).map(toReplicationBackfill);
  }

  async updateReplicationBackfill(
    id: string,
    update: Partial<Pick<ReplicationBackfillRow, 'status' | 'failureCode' | 'total' | 'completed' | 'failed' | 'failureCodes' | 'endedAt'>>,
  ): Promise<ReplicationBackfillRow | undefined> {
    return this.transaction(async (q) => {
      const row = await q.row('SELECT * FROM replication_backfills WHERE id = $1 FOR UPDATE', [id]);
      if (!row) return undefined;
      const next = {
        ...toReplicationBackfill(row),
        ...update,
        status: backfillStatusAfter(String(row.status) as ReplicationBackfillRow['status'], update),
      };
      await q.run(
        `UPDATE replication_backfills SET status = $1, failure_code = $2, total = $3, completed = $4, failed = $5, failure_codes = $6, ended_at = $7 WHERE id = $8`,
        [next.status, next.failureCode, next.total, next.completed, next.failed, JSON.stringify(next.failureCodes), next.endedAt, id],
      );
      return next;
    });
  }

  async stopReplicationBackfill(accountId: string, id: string): Promise<ReplicationBackfillRow | 'invalid' | undefined> {
    return this.transaction(async (q) => {
      const row = await q.row('SELECT * FROM replication_backfills WHERE account_id = $1 AND id = $2 FOR UPDATE', [accountId, id]);
      if (!row) return undefined;
      if (row.status !== 'PREPARING' && row.status !== 'IN_PROGRESS') return 'invalid';
      await q.run(`UPDATE replication_backfills SET status = 'STOPPING' WHERE id = $1`, [id]);
      return { ...toReplicationBackfill(row), status: 'STOPPING' as const };
    });
  }

  async putReplicationBackfillResult(id: string, r: ReplicationBackfillResultRow): Promise<void> {
    await this.queries.run(
      `INSERT INTO replication_backfill_results (backfill_id, repository_name, digest, tag, status, failure_code) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (backfill_id, repository_name, digest, tag) DO UPDATE SET status = excluded.status, failure_code = excluded.failure_code`,
      [id, r.repositoryName, r.digest, r.tag ?? '', r.status, r.failureCode],
    );
  }

  async listReplicationBackfillResults(id: string, status?: 'COMPLETE' | 'FAILED'): Promise<ReplicationBackfillResultRow[]> {
    return (
      await this.queries.rows(
        `SELECT * FROM replication_backfill_results WHERE backfill_id = $1 AND status LIKE $2 ORDER BY repository_name, digest, tag`,
        [id, status ?? '%'],
      )
    ).map(toReplicationBackfillResult);
  }
}

async function isReferencedByIndex(q: Queries, repositoryId: number, digest: string): Promise<boolean> {
  return (
    (await q.row(`SELECT 1 FROM manifest_references WHERE repository_id = $1 AND child_digest = $2 AND kind = 'manifest' LIMIT 1`, [
      repositoryId,
      digest,
    ])) !== undefined
  );
}

/** A manifest's tags, references and row, in the caller's transaction; true when it existed. */
async function deleteManifestRows(q: Queries, repositoryId: number, digest: string): Promise<boolean> {
  await q.run('DELETE FROM tags WHERE repository_id = $1 AND digest = $2', [repositoryId, digest]);
  await q.run('DELETE FROM manifest_references WHERE repository_id = $1 AND manifest_digest = $2', [repositoryId, digest]);
  return (await q.run('DELETE FROM manifests WHERE repository_id = $1 AND digest = $2', [repositoryId, digest])) > 0;
}

async function beginScan(
  q: Queries,
  repositoryId: number,
  digest: string,
  scanType: string,
  now: number,
  job: NewJob | undefined,
  manualAt: number | null,
): Promise<void> {
  await q.run(
    `INSERT INTO image_scans (repository_id, digest, scan_type, status, description, started_at, completed_at, vuln_source_updated_at, findings, severity_counts, inventory, manual_scan_at)
    VALUES ($1, $2, $3, 'IN_PROGRESS', NULL, $4, NULL, NULL, NULL, NULL, NULL, $5)
    ON CONFLICT (repository_id, digest) DO UPDATE SET scan_type = excluded.scan_type, status = 'IN_PROGRESS', description = NULL,
      started_at = excluded.started_at, completed_at = NULL, findings = NULL, severity_counts = NULL,
      manual_scan_at = coalesce(excluded.manual_scan_at, image_scans.manual_scan_at)`,
    [repositoryId, digest, scanType, now, manualAt],
  );
  if (job) await insertJob(q, job, now);
}

async function beginSigning(q: Queries, repositoryId: number, digest: string, sign: SignOnWrite, now: number): Promise<void> {
  for (const arn of sign.signingProfileArns) {
    await q.run(
      `INSERT INTO image_signing (repository_id, digest, signing_profile_arn, status, updated_at) VALUES ($1, $2, $3, 'IN_PROGRESS', $4)
      ON CONFLICT (repository_id, digest, signing_profile_arn) DO UPDATE SET status = 'IN_PROGRESS', failure_code = NULL, failure_reason = NULL, signature_digest = NULL, updated_at = excluded.updated_at`,
      [repositoryId, digest, arn, now],
    );
  }
  await insertJob(q, sign.job, now);
}

async function insertJob(q: Queries, job: NewJob, now: number): Promise<number> {
  return Number(
    (await q.row(
      `INSERT INTO jobs (kind, payload, status, max_attempts, run_at, created_at, updated_at)
    VALUES ($1, $2, 'queued', $3, $4, $5, $5) RETURNING id`,
      [job.kind, job.payload, job.maxAttempts, job.runAt, now],
    ))!.id,
  );
}

function toWebhook(r: Record<string, unknown>): WebhookRow {
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

function toJob(row: Row): Job {
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    id: Number(row.id),
    kind: String(row.kind),
    payload: String(row.payload),
    status: String(row.status) as JobStatus,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    runAt: Number(row.run_at),
    leaseOwner: text(row.lease_owner),
    leaseUntil: nullableNumber(row.lease_until),
    lastError: text(row.last_error),
    result: text(row.result),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function nullableNumber(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

function nullableString(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
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

function toRepository(row: Row): Repository {
  return {
    id: Number(row.id),
    accountId: String(row.account_id),
    name: String(row.name),
    createdAt: Number(row.created_at),
    imageTagMutability: String(row.image_tag_mutability) as Repository['imageTagMutability'],
    mutabilityExclusions: JSON.parse(String(row.mutability_exclusions)),
    scanOnPush: row.scan_on_push === true,
    encryptionType: String(row.encryption_type),
    kmsKey: nullableString(row.kms_key),
    policyText: nullableString(row.policy_text),
    lifecyclePolicyText: nullableString(row.lifecycle_policy_text),
    lifecycleEvaluatedAt: nullableNumber(row.lifecycle_evaluated_at),
  };
}

function toImage(row: Row): ImageRow {
  return {
    digest: String(row.digest),
    tags: row.tag_list as string[],
    mediaType: String(row.media_type),
    configMediaType: nullableString(row.config_media_type),
    imageSize: Number(row.image_size),
    pushedAt: Number(row.pushed_at),
    lastPulledAt: nullableNumber(row.last_pulled_at),
    ...storageOf(row),
  };
}

function toAccessKey(row: Row): AccessKeyRow {
  return {
    accessKeyId: String(row.access_key_id),
    accountId: String(row.account_id),
    userName: nullableString(row.user_name),
    secretCiphertext: String(row.secret_ciphertext),
    status: String(row.status) as AccessKeyRow['status'],
    createdAt: Number(row.created_at),
  };
}

function toManifest(row: Row): StoredManifest {
  return {
    repositoryId: Number(row.repository_id),
    digest: String(row.digest),
    mediaType: String(row.media_type),
    artifactType: nullableString(row.artifact_type),
    subjectDigest: nullableString(row.subject_digest),
    size: Number(row.size),
    content: row.content as Buffer,
    annotations: row.annotations === null ? null : JSON.parse(String(row.annotations)),
    pushedAt: Number(row.pushed_at),
    imageSize: Number(row.image_size),
    configMediaType: nullableString(row.config_media_type),
    lastPulledAt: nullableNumber(row.last_pulled_at),
    storageClass: storageOf(row).storageClass,
  };
}

function toUpload(row: Row): Upload {
  return {
    id: String(row.id),
    repositoryId: Number(row.repository_id),
    startedAt: Number(row.started_at),
    ...(row.principal_arn === null || row.principal_arn === undefined ? {} : { principalArn: String(row.principal_arn) }),
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

async function writeReplicationStatus(
  q: Queries,
  repositoryId: number,
  digest: string,
  d: { region: string; registryId: string },
  status: ReplicationState,
  reason: string | null,
  now: number,
): Promise<void> {
  await q.run(
    `INSERT INTO replication_statuses (repository_id, digest, region, registry_id, status, failure_reason, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (repository_id, digest, region, registry_id) DO UPDATE SET status = excluded.status, failure_reason = excluded.failure_reason, updated_at = excluded.updated_at`,
    [repositoryId, digest, d.region, d.registryId, status, reason, now],
  );
}

async function beginReplication(q: Queries, repositoryId: number, digest: string, r: ReplicationOnWrite, now: number): Promise<void> {
  for (const d of r.destinations) await writeReplicationStatus(q, repositoryId, digest, d, 'IN_PROGRESS', null, now);
  for (const job of r.jobs) await insertJob(q, job, now);
}
