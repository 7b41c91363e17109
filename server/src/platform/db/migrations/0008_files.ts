// Medical file uploads (SPEC domain 6, issue 11): upload sessions and their parts (one model for
// tus through the server and S3 multipart straight to storage), and the files they produce.
//
// A file is never downloadable until its scan says `clean` (F5); a quarantined file keeps its row
// and its object (evidence) but can no longer be fetched. Deleting a file is a status: the row
// stays so the audit log's ids keep pointing at something.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE upload_sessions (
      id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      owner_id           uuid NOT NULL REFERENCES users (id),
      patient_id         uuid REFERENCES patients (id),
      organization_id    uuid REFERENCES organizations (id),
      bucket             text NOT NULL DEFAULT 'default' CHECK (length(bucket) BETWEEN 1 AND 100),
      protocol           text NOT NULL CHECK (protocol IN ('tus', 's3')),
      object_key         text NOT NULL UNIQUE CHECK (length(object_key) BETWEEN 1 AND 1024),
      storage_upload_id  text NOT NULL CHECK (length(storage_upload_id) BETWEEN 1 AND 1024),
      file_name          text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
      file_type          text NOT NULL CHECK (length(file_type) BETWEEN 1 AND 20),
      content_type       text NOT NULL CHECK (length(content_type) BETWEEN 1 AND 100),
      declared_size      bigint NOT NULL CHECK (declared_size > 0),
      declared_sha256    text CHECK (declared_sha256 ~ '^[0-9a-f]{64}$'),
      received_bytes     bigint NOT NULL DEFAULT 0 CHECK (received_bytes >= 0),
      status             text NOT NULL DEFAULT 'open'
                         CHECK (status IN ('open', 'completed', 'aborted', 'expired', 'failed')),
      failure_reason     text CHECK (length(failure_reason) <= 200),
      -- One writer at a time (a tus PATCH in flight); taken and released with conditional updates
      -- so it works across nodes without holding a transaction open while bytes arrive.
      writer_token       uuid,
      writer_since       timestamptz,
      cleanup_attempts   integer NOT NULL DEFAULT 0,
      cleanup_error      text CHECK (length(cleanup_error) <= 500),
      created_at         timestamptz NOT NULL DEFAULT now(),
      expires_at         timestamptz NOT NULL,
      closed_at          timestamptz,
      CHECK ((patient_id IS NULL) = (organization_id IS NULL)),
      CHECK (received_bytes <= declared_size),
      CHECK ((status = 'open') = (closed_at IS NULL))
    )`.execute(db);
  await sql`CREATE INDEX upload_sessions_owner_idx ON upload_sessions (owner_id, status)`.execute(
    db,
  );
  await sql`
    CREATE INDEX upload_sessions_expiry_idx ON upload_sessions (expires_at)
      WHERE status = 'open'`.execute(db);

  // The server's own record of the parts storage acknowledged: completion always uses this list,
  // never one a client sends (F2).
  await sql`
    CREATE TABLE upload_parts (
      session_id   uuid NOT NULL REFERENCES upload_sessions (id) ON DELETE CASCADE,
      part_number  integer NOT NULL CHECK (part_number BETWEEN 1 AND 10000),
      etag         text NOT NULL CHECK (length(etag) BETWEEN 1 AND 200),
      size         bigint NOT NULL CHECK (size > 0),
      created_at   timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (session_id, part_number)
    )`.execute(db);

  await sql`
    CREATE TABLE files (
      id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      session_id       uuid NOT NULL UNIQUE REFERENCES upload_sessions (id),
      owner_id         uuid NOT NULL REFERENCES users (id),
      patient_id       uuid REFERENCES patients (id),
      organization_id  uuid REFERENCES organizations (id),
      bucket           text NOT NULL CHECK (length(bucket) BETWEEN 1 AND 100),
      object_key       text NOT NULL UNIQUE CHECK (length(object_key) BETWEEN 1 AND 1024),
      name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
      file_type        text NOT NULL CHECK (length(file_type) BETWEEN 1 AND 20),
      content_type     text NOT NULL CHECK (length(content_type) BETWEEN 1 AND 100),
      size             bigint NOT NULL CHECK (size > 0),
      sha256           text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      status           text NOT NULL DEFAULT 'scanning'
                       CHECK (status IN ('scanning', 'clean', 'quarantined', 'deleted')),
      status_reason    text CHECK (length(status_reason) <= 200),
      scan_attempts    integer NOT NULL DEFAULT 0,
      scanned_at       timestamptz,
      created_at       timestamptz NOT NULL DEFAULT now(),
      deleted_at       timestamptz,
      CHECK ((patient_id IS NULL) = (organization_id IS NULL)),
      CHECK ((status = 'deleted') = (deleted_at IS NOT NULL))
    )`.execute(db);
  await sql`CREATE INDEX files_owner_idx ON files (owner_id, created_at DESC)`.execute(db);
  await sql`
    CREATE INDEX files_patient_idx ON files (patient_id, created_at DESC)
      WHERE patient_id IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE files`.execute(db);
  await sql`DROP TABLE upload_parts`.execute(db);
  await sql`DROP TABLE upload_sessions`.execute(db);
}
