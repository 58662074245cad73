// SQLite schema migrations, applied in order once each (schema_migrations records them). Append, never edit.
export const SQLITE_MIGRATIONS: string[] = [
  `
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE repositories (
    id INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (account_id, name)
  );

  -- Verified blobs stored once per registry, whatever the number of repositories using them.
  CREATE TABLE blobs (
    digest TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );

  -- A blob is reachable from a repository when linked to it (pushed, mounted, or referenced there).
  CREATE TABLE repository_blobs (
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest TEXT NOT NULL REFERENCES blobs (digest),
    linked_at INTEGER NOT NULL,
    PRIMARY KEY (repository_id, digest)
  );
  CREATE INDEX repository_blobs_digest ON repository_blobs (digest);

  CREATE TABLE manifests (
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    media_type TEXT NOT NULL,
    artifact_type TEXT,
    subject_digest TEXT,
    size INTEGER NOT NULL,
    content BLOB NOT NULL,
    annotations TEXT,
    pushed_at INTEGER NOT NULL,
    PRIMARY KEY (repository_id, digest)
  );
  CREATE INDEX manifests_subject ON manifests (repository_id, subject_digest) WHERE subject_digest IS NOT NULL;

  -- What a manifest references: its blobs (config, layers) and, for an index, its child manifests.
  CREATE TABLE manifest_references (
    repository_id INTEGER NOT NULL,
    manifest_digest TEXT NOT NULL,
    child_digest TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('blob', 'manifest')),
    PRIMARY KEY (repository_id, manifest_digest, child_digest),
    FOREIGN KEY (repository_id, manifest_digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
  );
  CREATE INDEX manifest_references_child ON manifest_references (repository_id, child_digest);

  CREATE TABLE tags (
    repository_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    digest TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (repository_id, name),
    FOREIGN KEY (repository_id, digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
  );
  CREATE INDEX tags_digest ON tags (repository_id, digest);

  CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    started_at INTEGER NOT NULL
  );
  `,
  `
  -- Repository settings of the ECR API.
  ALTER TABLE repositories ADD COLUMN image_tag_mutability TEXT NOT NULL DEFAULT 'MUTABLE';
  ALTER TABLE repositories ADD COLUMN mutability_exclusions TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE repositories ADD COLUMN scan_on_push INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE repositories ADD COLUMN encryption_type TEXT NOT NULL DEFAULT 'AES256';
  ALTER TABLE repositories ADD COLUMN kms_key TEXT;

  -- Resource tags (TagResource), not image tags.
  CREATE TABLE repository_resource_tags (
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (repository_id, key)
  );

  -- What DescribeImages reports, fixed when the manifest is pushed; last pull recorded by pulls.
  ALTER TABLE manifests ADD COLUMN image_size INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE manifests ADD COLUMN config_media_type TEXT;
  ALTER TABLE manifests ADD COLUMN last_pulled_at INTEGER;
  CREATE INDEX manifests_pushed ON manifests (repository_id, pushed_at, digest);

  -- Identity: accounts, their users, and access keys (secrets encrypted at rest).
  CREATE TABLE accounts (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
  CREATE TABLE users (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
  );
  CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_name TEXT,
    secret_ciphertext TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'Active' CHECK (status IN ('Active', 'Inactive')),
    created_at INTEGER NOT NULL,
    FOREIGN KEY (account_id, user_name) REFERENCES users (account_id, name) ON DELETE CASCADE
  );
  `,
  `
  -- Policies: a repository's policy, an account's registry policy, and users' inline identity policies.
  ALTER TABLE repositories ADD COLUMN policy_text TEXT;
  CREATE TABLE registry_policies (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    policy_text TEXT NOT NULL
  );
  CREATE TABLE user_policies (
    account_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    policy_text TEXT NOT NULL,
    PRIMARY KEY (account_id, user_name, policy_name),
    FOREIGN KEY (account_id, user_name) REFERENCES users (account_id, name) ON DELETE CASCADE
  );
  `,
  `
  -- Garbage collection: when a blob was last pushed, mounted, linked or checked for. A blob that no manifest
  -- references is collected only once this is older than the grace period (the lease of a push in progress).
  ALTER TABLE blobs ADD COLUMN touched_at INTEGER NOT NULL DEFAULT 0;
  UPDATE blobs SET touched_at = created_at;
  CREATE INDEX blobs_touched ON blobs (touched_at);
  CREATE INDEX manifest_references_blob ON manifest_references (child_digest) WHERE kind = 'blob';
  `,
  `
  -- Lifecycle policies and their previews.
  ALTER TABLE repositories ADD COLUMN lifecycle_policy_text TEXT;
  ALTER TABLE repositories ADD COLUMN lifecycle_evaluated_at INTEGER;
  CREATE TABLE lifecycle_previews (
    repository_id INTEGER PRIMARY KEY REFERENCES repositories (id) ON DELETE CASCADE,
    policy_text TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('IN_PROGRESS', 'COMPLETE', 'FAILED')),
    started_at INTEGER NOT NULL,
    results TEXT
  );
  `,
  `
  -- Keyset pagination of ListImages by (digest, tag).
  CREATE INDEX tags_digest_name ON tags (repository_id, digest, name);
  DROP INDEX tags_digest;
  `,
  `
  -- Each lifecycle preview started gets the next generation: a result page can be served from results parsed once
  -- (by any node) as long as the generation has not moved.
  ALTER TABLE lifecycle_previews ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- Refresh tokens of the OAuth2 token flow (docker login's identity token, containerd's refresh grant), stored
  -- hashed and bound to the access key and principal they were issued to. The key may be the configured root key,
  -- which is not a row of access_keys: revocation with the key is done by the store's key methods.
  CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    access_key_id TEXT NOT NULL,
    principal_arn TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX refresh_tokens_key ON refresh_tokens (access_key_id);
  CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);
  `,
  `
  -- Background work as jobs: claimed with a lease (one writer on SQLite; FOR UPDATE SKIP LOCKED on PostgreSQL),
  -- retried with backoff, dead after its last attempt with the last error kept. Recurring work is a schedule that
  -- one node claims when it is due, enqueueing one job in the same transaction.
  CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    last_error TEXT,
    result TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX jobs_due ON jobs (status, run_at);
  CREATE TABLE job_schedules (
    kind TEXT PRIMARY KEY,
    interval_ms INTEGER NOT NULL,
    payload TEXT NOT NULL,
    next_run_at INTEGER NOT NULL
  );
  `,
  `
  -- Who started each upload (an IAM ARN): open uploads are limited per principal, counted here so that the limit
  -- holds across nodes. Uploads started before this migration belong to no one.
  ALTER TABLE uploads ADD COLUMN principal_arn TEXT;
  CREATE INDEX uploads_principal ON uploads (principal_arn) WHERE principal_arn IS NOT NULL;
  `,
  `
  -- Image scans (ECR's scan status and findings) with the inventory kept for rescans, deleted with their image.
  CREATE TABLE image_scans (
    repository_id INTEGER NOT NULL,
    digest TEXT NOT NULL,
    scan_type TEXT NOT NULL,
    status TEXT NOT NULL,
    description TEXT,
    started_at INTEGER NOT NULL,
    completed_at INTEGER,
    vuln_source_updated_at INTEGER,
    findings TEXT,
    severity_counts TEXT,
    inventory TEXT,
    manual_scan_at INTEGER,
    PRIMARY KEY (repository_id, digest),
    FOREIGN KEY (repository_id, digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
  );
  -- Vulnerability data (OSV records) by source; an import is staged, then swapped in in one transaction.
  CREATE TABLE vuln_records (
    source TEXT NOT NULL,
    record_id TEXT NOT NULL,
    modified TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (source, record_id)
  );
  CREATE TABLE vuln_staging (
    import_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    modified TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (import_id, record_id)
  );
  CREATE TABLE vuln_sources (
    name TEXT PRIMARY KEY,
    records INTEGER NOT NULL,
    imported_at INTEGER NOT NULL,
    sha256 TEXT,
    origin TEXT NOT NULL
  );
  `,
  `
  -- ECR layer parts are tracked with their upload (every part but the last must be 5 MiB or more), and audit
  -- records may be kept here (BERTH_AUDIT_LOG=database) rather than in a file.
  ALTER TABLE uploads ADD COLUMN last_part_size INTEGER;
  ALTER TABLE uploads ADD COLUMN small_part_before_last INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE audit_records (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    record TEXT NOT NULL
  );
  CREATE INDEX audit_records_at ON audit_records (at);
  `,
  `
  -- Console sessions (src/console/), stored hashed and bound to the access key and principal that signed in, as
  -- refresh tokens are: revoked with the key by the store's key methods.
  CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY,
    access_key_id TEXT NOT NULL,
    principal_arn TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX console_sessions_key ON console_sessions (access_key_id);
  CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
  `,
  `
  -- Repository creation templates (ECR's CreateRepositoryCreationTemplate), one per account and prefix; the
  -- settings as the JSON the ECR adapter writes.
  CREATE TABLE creation_templates (
    account_id TEXT NOT NULL,
    prefix TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, prefix)
  );
  `,
  `
  -- Pull time update exclusions (ECR's RegisterPullTimeUpdateExclusion): principals whose pulls do not update an
  -- image's last-pull time.
  CREATE TABLE pull_time_exclusions (
    account_id TEXT NOT NULL,
    principal_arn TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, principal_arn)
  );
  `,
  `
  -- The events outbox (src/core/events.ts): domain events written in the transaction of their change, numbered in
  -- commit order (SQLite has one writer).
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    detail_type TEXT NOT NULL,
    account_id TEXT NOT NULL,
    repository_name TEXT NOT NULL,
    detail TEXT NOT NULL
  );
  -- Webhooks (src/core/webhooks.ts): each follows the events from its cursor, with its own backoff.
  CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL,
    repositories TEXT NOT NULL,
    secret_ciphertext TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    cursor INTEGER NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
  );
  `,
  `
  -- Daily usage snapshots (the usage-snapshot job): the registry's storage over time, one row a day (UTC).
  CREATE TABLE usage_snapshots (
    day TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    stored_bytes INTEGER NOT NULL,
    referenced_bytes INTEGER NOT NULL,
    repositories INTEGER NOT NULL,
    images INTEGER NOT NULL
  );
  `,
  `
  -- Replication (src/replication/): where each destination (region, registry id) of an account is, with its
  -- credentials encrypted; each image's status per destination; backfills and their per-image results.
  CREATE TABLE replication_destinations (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    registry_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    username TEXT,
    secret_ciphertext TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, registry_id)
  );
  CREATE TABLE replication_statuses (
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    region TEXT NOT NULL,
    registry_id TEXT NOT NULL,
    status TEXT NOT NULL,
    failure_reason TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (repository_id, digest, region, registry_id)
  );
  CREATE TABLE replication_backfills (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    registry_id TEXT NOT NULL,
    status TEXT NOT NULL,
    failure_code TEXT,
    total INTEGER,
    completed INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    failure_codes TEXT NOT NULL DEFAULT '[]',
    started_at INTEGER NOT NULL,
    ended_at INTEGER
  );
  CREATE INDEX replication_backfills_account ON replication_backfills (account_id, started_at);
  CREATE TABLE replication_backfill_results (
    backfill_id TEXT NOT NULL REFERENCES replication_backfills (id) ON DELETE CASCADE,
    repository_name TEXT NOT NULL,
    digest TEXT NOT NULL,
    tag TEXT NOT NULL,
    status TEXT NOT NULL,
    failure_code TEXT,
    PRIMARY KEY (backfill_id, repository_name, digest, tag)
  );
  `,
  `
  -- Image storage classes (ECR's archive): an ARCHIVE image is listed and described but not pulled until restored.
  ALTER TABLE manifests ADD COLUMN storage_class TEXT NOT NULL DEFAULT 'STANDARD';
  ALTER TABLE manifests ADD COLUMN archived_at INTEGER;
  ALTER TABLE manifests ADD COLUMN activated_at INTEGER;
  -- Signing profiles (src/signing/profiles.ts): an ECDSA P-256 key encrypted with the registry's secret key, and its
  -- self-signed certificate. Never replaced: rotation is a new profile.
  CREATE TABLE signing_profiles (
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    key_ciphertext TEXT NOT NULL,
    certificate_pem TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
  );
  -- Images' signing statuses (ECR's DescribeImageSigningStatus), one per profile, deleted with their image.
  CREATE TABLE image_signing (
    repository_id INTEGER NOT NULL,
    digest TEXT NOT NULL,
    signing_profile_arn TEXT NOT NULL,
    status TEXT NOT NULL,
    failure_code TEXT,
    failure_reason TEXT,
    signature_digest TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (repository_id, digest, signing_profile_arn),
    FOREIGN KEY (repository_id, digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
  );
  `,
  `
  -- What manages a user, when something does: "apply" for the users \`berth apply\` created (which its --prune may
  -- delete once the file no longer names them).
  ALTER TABLE users ADD COLUMN managed_by TEXT;
  `,
  `
  -- Pull through cache (src/core/pull-through.ts): the rules (ECR's CreatePullThroughCacheRule), one per account and
  -- prefix, their settings as the JSON the ECR adapter writes; when each cached tag was last found current upstream;
  -- and the small secret store that holds upstream credentials, encrypted with the registry key.
  CREATE TABLE pull_through_rules (
    account_id TEXT NOT NULL,
    prefix TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, prefix)
  );
  CREATE TABLE upstream_tag_checks (
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    checked_at INTEGER NOT NULL,
    PRIMARY KEY (repository_id, tag)
  );
  CREATE TABLE secrets (
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    ciphertext TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
  );
  `,
  `
  -- What manages a webhook, when something does: "apply" for the webhooks \`berth apply\` created (which its --prune
  -- may delete once the file no longer names them).
  ALTER TABLE webhooks ADD COLUMN managed_by TEXT;
  `,
  `
  -- An image's parents (the indexes of its repository that reference it), in order: without it the query walked the
  -- repository's references in manifest order (issue 21: 0.1 s an image with 20,000 images, 28 s of a lifecycle run).
  CREATE INDEX manifest_references_parents ON manifest_references (repository_id, child_digest, manifest_digest) WHERE kind = 'manifest';
  `,
];
