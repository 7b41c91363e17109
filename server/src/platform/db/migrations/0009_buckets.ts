// Storage buckets owned by a person or an organization (F1, Z6; issue 11 item 2). The system
// default bucket comes from configuration and has no row: `bucket_id IS NULL` on a session or a
// file means the default.
//
// Credentials are stored only sealed with the key ring (AES-256-GCM, platform/crypto.ts): the
// sealed text names the key id that sealed it, and `credentials_key_id` repeats it so a rotation
// can find what is still sealed under an old key (S2). A bucket is never deleted, only marked:
// sessions and files keep pointing at it, and the service refuses to mark one that still holds
// files or open uploads.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE buckets (
      id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      owner_user_id          uuid REFERENCES users (id),
      owner_organization_id  uuid REFERENCES organizations (id),
      endpoint               text NOT NULL
                             CHECK (length(endpoint) BETWEEN 8 AND 300 AND endpoint ~ '^https?://'),
      region                 text NOT NULL CHECK (length(region) BETWEEN 1 AND 40),
      bucket_name            text NOT NULL CHECK (length(bucket_name) BETWEEN 3 AND 63),
      path_style             boolean NOT NULL DEFAULT false,
      access_key_hint        text NOT NULL CHECK (length(access_key_hint) BETWEEN 0 AND 4),
      credentials_sealed     text NOT NULL CHECK (length(credentials_sealed) BETWEEN 1 AND 4000),
      credentials_key_id     text NOT NULL CHECK (length(credentials_key_id) BETWEEN 1 AND 64),
      sse_mode               text NOT NULL CHECK (sse_mode IN ('none', 'AES256', 'aws:kms')),
      kms_key_id             text CHECK (length(kms_key_id) BETWEEN 1 AND 2048),
      size_limit_bytes       bigint CHECK (size_limit_bytes > 0),
      notes                  text NOT NULL DEFAULT '' CHECK (length(notes) <= 2000),
      created_by             uuid NOT NULL REFERENCES users (id),
      updated_by             uuid NOT NULL REFERENCES users (id),
      created_at             timestamptz NOT NULL DEFAULT now(),
      updated_at             timestamptz NOT NULL DEFAULT now(),
      deleted_at             timestamptz,
      deleted_by             uuid REFERENCES users (id),
      -- Exactly one owner: a person or an organization.
      CHECK ((owner_user_id IS NULL) <> (owner_organization_id IS NULL)),
      -- F4: SSE-KMS names its key; no other mode carries one.
      CHECK ((sse_mode = 'aws:kms') = (kms_key_id IS NOT NULL)),
      CHECK ((deleted_at IS NULL) = (deleted_by IS NULL))
    )`.execute(db);
  await sql`
    CREATE INDEX buckets_owner_user_idx ON buckets (owner_user_id)
      WHERE owner_user_id IS NOT NULL AND deleted_at IS NULL`.execute(db);
  await sql`
    CREATE INDEX buckets_owner_organization_idx ON buckets (owner_organization_id)
      WHERE owner_organization_id IS NOT NULL AND deleted_at IS NULL`.execute(db);
  // Nothing a session or a file refers to may vanish: deletion is a mark, never a DELETE.
  await sql`
    CREATE FUNCTION buckets_are_kept() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'buckets are marked deleted, never removed: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER buckets_no_delete BEFORE DELETE OR TRUNCATE ON buckets
    FOR EACH STATEMENT EXECUTE FUNCTION buckets_are_kept()`.execute(db);

  await sql`ALTER TABLE upload_sessions ADD COLUMN bucket_id uuid REFERENCES buckets (id)`.execute(
    db,
  );
  await sql`ALTER TABLE files ADD COLUMN bucket_id uuid REFERENCES buckets (id)`.execute(db);
  await sql`
    CREATE INDEX upload_sessions_bucket_idx ON upload_sessions (bucket_id)
      WHERE bucket_id IS NOT NULL AND status = 'open'`.execute(db);
  await sql`
    CREATE INDEX files_bucket_idx ON files (bucket_id)
      WHERE bucket_id IS NOT NULL AND status <> 'deleted'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE files DROP COLUMN bucket_id`.execute(db);
  await sql`ALTER TABLE upload_sessions DROP COLUMN bucket_id`.execute(db);
  await sql`DROP TRIGGER buckets_no_delete ON buckets`.execute(db);
  await sql`DROP TABLE buckets`.execute(db);
  await sql`DROP FUNCTION buckets_are_kept`.execute(db);
}
