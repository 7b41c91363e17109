// OAuth 2.1 for machine clients (A12, issue 12 phase 1). `oauth_clients` holds the clients an
// administrator registers: the secret only as the SHA-256 of a 256-bit random value, so a read of
// the table yields nothing a client could authenticate with. `oauth_payloads` is oidc-provider's
// storage (its Kysely adapter): one row per artifact, keyed by model and id, shared by every node.
// `oauth_revoked_access_tokens` lists the jti of access tokens revoked before they expired.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE oauth_clients (
      client_id text PRIMARY KEY CONSTRAINT oauth_clients_id_check CHECK (client_id ~ '^[A-Za-z0-9_-]{16,64}$'),
      name text NOT NULL CONSTRAINT oauth_clients_name_check CHECK (char_length(name) BETWEEN 1 AND 120),
      owner_organization_id uuid REFERENCES organizations (id),
      scopes text[] NOT NULL DEFAULT '{}',
      secret_sha256 text NOT NULL CONSTRAINT oauth_clients_secret_check CHECK (secret_sha256 ~ '^[0-9a-f]{64}$'),
      disabled_at timestamptz,
      created_by uuid NOT NULL REFERENCES users (id),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE oauth_payloads (
      model text NOT NULL,
      id text NOT NULL,
      payload jsonb NOT NULL,
      grant_id text,
      user_code text,
      uid text,
      expires_at timestamptz,
      consumed_at timestamptz,
      PRIMARY KEY (model, id)
    )`.execute(db);
  await sql`CREATE INDEX oauth_payloads_grant_idx ON oauth_payloads (grant_id)`.execute(db);
  await sql`CREATE INDEX oauth_payloads_user_code_idx ON oauth_payloads (user_code)`.execute(db);
  await sql`CREATE INDEX oauth_payloads_uid_idx ON oauth_payloads (uid)`.execute(db);
  await sql`CREATE INDEX oauth_payloads_expires_idx ON oauth_payloads (expires_at)`.execute(db);
  await sql`
    CREATE TABLE oauth_revoked_access_tokens (
      jti text PRIMARY KEY,
      client_id text NOT NULL REFERENCES oauth_clients (client_id),
      expires_at timestamptz NOT NULL
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE oauth_revoked_access_tokens`.execute(db);
  await sql`DROP TABLE oauth_payloads`.execute(db);
  await sql`DROP TABLE oauth_clients`.execute(db);
}
