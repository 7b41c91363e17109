// Identity tables: users, sessions, refresh tokens, one-time links, MFA, signing keys.
// Secrets are never stored in the clear: tokens and codes as SHA-256 or argon2 hashes,
// TOTP secrets and private keys encrypted under the master key.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE users (
      id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      email            text NOT NULL CHECK (length(email) <= 254),
      email_normalized text NOT NULL UNIQUE CHECK (email_normalized = lower(email_normalized)),
      display_name     text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
      roles            text[] NOT NULL DEFAULT '{}'
                       CHECK (roles <@ ARRAY['admin','clinician','researcher','participant','patient']::text[]),
      status           text NOT NULL CHECK (status IN ('invited', 'active', 'disabled')),
      password_hash    text,
      totp_secret_enc  text,
      totp_enrolled_at timestamptz,
      totp_last_step   bigint,
      created_at       timestamptz NOT NULL DEFAULT now(),
      updated_at       timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  // Consecutive login failures per normalized email, whether or not the account exists,
  // so the backoff itself does not reveal which emails are registered (A3).
  await sql`
    CREATE TABLE login_throttle (
      email_hash    text PRIMARY KEY CHECK (length(email_hash) = 64),
      failures      integer NOT NULL DEFAULT 0,
      backoff_until timestamptz,
      updated_at    timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE recovery_codes (
      id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      code_hash  text NOT NULL UNIQUE,
      used_at    timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX recovery_codes_user_idx ON recovery_codes (user_id)`.execute(db);

  await sql`
    CREATE TABLE sessions (
      id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      created_at          timestamptz NOT NULL DEFAULT now(),
      last_seen_at        timestamptz NOT NULL DEFAULT now(),
      idle_expires_at     timestamptz NOT NULL,
      absolute_expires_at timestamptz NOT NULL,
      revoked_at          timestamptz,
      revoked_reason      text CHECK (length(revoked_reason) <= 64),
      amr                 text[] NOT NULL DEFAULT '{}',
      mfa_at              timestamptz,
      csrf_secret_hash    text,
      user_agent          text CHECK (length(user_agent) <= 300),
      client_address      text CHECK (length(client_address) <= 64)
    )`.execute(db);
  await sql`CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL`.execute(
    db,
  );
  await sql`CREATE INDEX sessions_expiry_idx ON sessions (absolute_expires_at)`.execute(db);
  await sql`CREATE INDEX sessions_revoked_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL`.execute(
    db,
  );

  await sql`
    CREATE TABLE refresh_tokens (
      id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
      token_hash  text NOT NULL UNIQUE,
      created_at  timestamptz NOT NULL DEFAULT now(),
      expires_at  timestamptz NOT NULL,
      consumed_at timestamptz,
      replaced_by uuid
    )`.execute(db);
  await sql`CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id)`.execute(db);

  // Setup, invitation, reset and verification links, and the "password ok, MFA pending" state.
  await sql`
    CREATE TABLE one_time_tokens (
      id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      purpose    text NOT NULL CHECK (purpose IN ('setup', 'invitation', 'password_reset', 'email_verification', 'mfa_pending')),
      token_hash text NOT NULL UNIQUE,
      user_id    uuid REFERENCES users (id) ON DELETE CASCADE,
      data       jsonb NOT NULL DEFAULT '{}'::jsonb,
      attempts   integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      used_at    timestamptz
    )`.execute(db);
  await sql`CREATE INDEX one_time_tokens_expiry_idx ON one_time_tokens (expires_at)`.execute(db);

  await sql`
    CREATE TABLE signing_keys (
      kid             text PRIMARY KEY CHECK (length(kid) <= 64),
      alg             text NOT NULL CHECK (alg IN ('EdDSA', 'ES256')),
      public_jwk      jsonb NOT NULL,
      private_key_enc text NOT NULL,
      created_at      timestamptz NOT NULL DEFAULT now(),
      retired_at      timestamptz
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'signing_keys',
    'one_time_tokens',
    'refresh_tokens',
    'sessions',
    'recovery_codes',
    'login_throttle',
    'users',
  ]) {
    await sql.raw(`DROP TABLE ${table}`).execute(db);
  }
}
