// The SQLite metadata store (embedded default), on Node's built-in node:sqlite. WAL journal with
// synchronous=FULL: a committed transaction survives power loss. Calls are synchronous underneath and
// each method is one transaction, so a method is atomic with respect to every other request.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type {
  MetaStore, NewManifest, Page, Referrer, Repository, StoredBlob, StoredManifest, Upload,
} from './store.ts';
import { SQLITE_MIGRATIONS } from './sqlite-schema.ts';

type Row = Record<string, unknown>;

export class SqliteMetaStore implements MetaStore {
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();

  constructor(path: string) {
    this.db = new DatabaseSync(path);
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
    this.migrate();
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const done = new Set(this.db.prepare('SELECT version FROM schema_migrations').all().map((r) => Number(r.version)));
    SQLITE_MIGRATIONS.forEach((sql, i) => {
      const version = i + 1;
      if (done.has(version)) return;
      this.transaction(() => {
        this.db.exec(sql);
        this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, Date.now());
      });
    });
  }

  private sql(text: string): StatementSync {
    let s = this.statements.get(text);
    if (!s) {
      s = this.db.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }

  private transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async getSetting(key: string): Promise<string | undefined> {
    const row = this.sql('SELECT value FROM settings WHERE key = ?').get(key);
    return row ? String(row.value) : undefined;
  }

  async setSetting(key: string, value: string): Promise<void> {
    this.sql('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  async getRepository(accountId: string, name: string): Promise<Repository | undefined> {
    const row = this.sql('SELECT id, account_id, name, created_at FROM repositories WHERE account_id = ? AND name = ?').get(accountId, name);
    return row ? toRepository(row) : undefined;
  }

  async ensureRepository(accountId: string, name: string, now: number): Promise<Repository> {
    this.sql('INSERT INTO repositories (account_id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (account_id, name) DO NOTHING').run(accountId, name, now);
    return (await this.getRepository(accountId, name))!;
  }

  async listRepositoryNames(accountId: string, page: Page): Promise<string[]> {
    return this.sql('SELECT name FROM repositories WHERE account_id = ? AND name > ? ORDER BY name LIMIT ?')
      .all(accountId, page.last ?? '', page.limit).map((r) => String(r.name));
  }

  async recordBlob(blob: StoredBlob, now: number): Promise<void> {
    this.sql('INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?) ON CONFLICT (digest) DO NOTHING').run(blob.digest, blob.size, now);
  }

  async getBlob(digest: string): Promise<StoredBlob | undefined> {
    const row = this.sql('SELECT digest, size FROM blobs WHERE digest = ?').get(digest);
    return row ? { digest: String(row.digest), size: Number(row.size) } : undefined;
  }

  async linkBlob(repositoryId: number, digest: string, now: number): Promise<void> {
    this.sql('INSERT INTO repository_blobs (repository_id, digest, linked_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(repositoryId, digest, now);
  }

  async getRepositoryBlob(repositoryId: number, digest: string): Promise<StoredBlob | undefined> {
    const row = this.sql(`SELECT b.digest, b.size FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest
      WHERE rb.repository_id = ? AND rb.digest = ?`).get(repositoryId, digest);
    return row ? { digest: String(row.digest), size: Number(row.size) } : undefined;
  }

  async unlinkBlob(repositoryId: number, digest: string): Promise<boolean> {
    return Number(this.sql('DELETE FROM repository_blobs WHERE repository_id = ? AND digest = ?').run(repositoryId, digest).changes) > 0;
  }

  async isBlobInAccount(accountId: string, digest: string): Promise<boolean> {
    return this.sql(`SELECT 1 FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id
      WHERE r.account_id = ? AND rb.digest = ? LIMIT 1`).get(accountId, digest) !== undefined;
  }

  async missingBlobs(repositoryId: number, digests: string[]): Promise<string[]> {
    const s = this.sql('SELECT 1 FROM repository_blobs WHERE repository_id = ? AND digest = ?');
    return digests.filter((d) => s.get(repositoryId, d) === undefined);
  }

  async missingManifests(repositoryId: number, digests: string[]): Promise<string[]> {
    const s = this.sql('SELECT 1 FROM manifests WHERE repository_id = ? AND digest = ?');
    return digests.filter((d) => s.get(repositoryId, d) === undefined);
  }

  async putManifest(m: NewManifest, tag: string | undefined, now: number): Promise<void> {
    this.transaction(() => {
      const inserted = this.sql(`INSERT INTO manifests (repository_id, digest, media_type, artifact_type, subject_digest, size, content, annotations, pushed_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repository_id, digest) DO NOTHING`).run(
        m.repositoryId, m.digest, m.mediaType, m.artifactType, m.subjectDigest, m.size, m.content,
        m.annotations ? JSON.stringify(m.annotations) : null, m.pushedAt);
      if (Number(inserted.changes) > 0) {
        const ref = this.sql('INSERT INTO manifest_references (repository_id, manifest_digest, child_digest, kind) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING');
        for (const b of m.blobs) ref.run(m.repositoryId, m.digest, b, 'blob');
        for (const c of m.manifests) ref.run(m.repositoryId, m.digest, c, 'manifest');
      }
      if (tag !== undefined) {
        this.sql(`INSERT INTO tags (repository_id, name, digest, updated_at) VALUES (?, ?, ?, ?)
          ON CONFLICT (repository_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at`).run(m.repositoryId, tag, m.digest, now);
      }
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
    return this.sql(`SELECT manifest_digest FROM manifest_references WHERE repository_id = ? AND child_digest = ? AND kind = 'manifest' ORDER BY manifest_digest`)
      .all(repositoryId, digest).map((r) => String(r.manifest_digest));
  }

  async deleteManifest(repositoryId: number, digest: string): Promise<boolean> {
    return this.transaction(() => {
      this.sql('DELETE FROM tags WHERE repository_id = ? AND digest = ?').run(repositoryId, digest);
      this.sql('DELETE FROM manifest_references WHERE repository_id = ? AND manifest_digest = ?').run(repositoryId, digest);
      return Number(this.sql('DELETE FROM manifests WHERE repository_id = ? AND digest = ?').run(repositoryId, digest).changes) > 0;
    });
  }

  async deleteTag(repositoryId: number, tag: string): Promise<boolean> {
    return Number(this.sql('DELETE FROM tags WHERE repository_id = ? AND name = ?').run(repositoryId, tag).changes) > 0;
  }

  async listTags(repositoryId: number, page: Page): Promise<string[]> {
    return this.sql('SELECT name FROM tags WHERE repository_id = ? AND name > ? ORDER BY name LIMIT ?')
      .all(repositoryId, page.last ?? '', page.limit).map((r) => String(r.name));
  }

  async listReferrers(repositoryId: number, subjectDigest: string, artifactType?: string): Promise<Referrer[]> {
    const rows = artifactType === undefined
      ? this.sql(`SELECT digest, media_type, artifact_type, size, annotations FROM manifests WHERE repository_id = ? AND subject_digest = ? ORDER BY digest`).all(repositoryId, subjectDigest)
      : this.sql(`SELECT digest, media_type, artifact_type, size, annotations FROM manifests WHERE repository_id = ? AND subject_digest = ? AND artifact_type = ? ORDER BY digest`).all(repositoryId, subjectDigest, artifactType);
    return rows.map((r) => ({
      digest: String(r.digest),
      mediaType: String(r.media_type),
      artifactType: r.artifact_type === null ? null : String(r.artifact_type),
      size: Number(r.size),
      annotations: r.annotations === null ? null : JSON.parse(String(r.annotations)),
    }));
  }

  async createUpload(u: Upload): Promise<void> {
    this.sql('INSERT INTO uploads (id, repository_id, started_at) VALUES (?, ?, ?)').run(u.id, u.repositoryId, u.startedAt);
  }

  async getUpload(id: string): Promise<Upload | undefined> {
    const row = this.sql('SELECT id, repository_id, started_at FROM uploads WHERE id = ?').get(id);
    return row ? { id: String(row.id), repositoryId: Number(row.repository_id), startedAt: Number(row.started_at) } : undefined;
  }

  async deleteUpload(id: string): Promise<void> {
    this.sql('DELETE FROM uploads WHERE id = ?').run(id);
  }
}

function toRepository(row: Row): Repository {
  return { id: Number(row.id), accountId: String(row.account_id), name: String(row.name), createdAt: Number(row.created_at) };
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
  };
}
