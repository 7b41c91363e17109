// OAuth 2.1 for third-party apps (A12, issue 12 phase 2). A client is now a `machine` (client
// credentials, as before) or an `app` (authorization code with PKCE, refresh tokens) with its
// exact redirect URIs. A public app (a native app on a loopback redirect) has no secret at all;
// every other client keeps only the SHA-256 of one. `account_id` names the person a grant (and
// each token of it) belongs to, so a person's connected apps are listed by an index, not by
// reading JSON.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE oauth_clients
      ADD COLUMN kind text NOT NULL DEFAULT 'machine'
        CONSTRAINT oauth_clients_kind_check CHECK (kind IN ('machine', 'app')),
      ADD COLUMN redirect_uris text[] NOT NULL DEFAULT '{}',
      ADD COLUMN public_client boolean NOT NULL DEFAULT false,
      ALTER COLUMN secret_sha256 DROP NOT NULL`.execute(db);
  // A machine always authenticates, an app redirects somewhere, and only a public app lacks a
  // secret: the rules the service checks, held by the table too.
  await sql`
    ALTER TABLE oauth_clients
      ADD CONSTRAINT oauth_clients_shape_check CHECK (
        (kind = 'machine' AND NOT public_client AND secret_sha256 IS NOT NULL
          AND cardinality(redirect_uris) = 0)
        OR (kind = 'app' AND cardinality(redirect_uris) BETWEEN 1 AND 5
          AND (public_client = (secret_sha256 IS NULL))))`.execute(db);
  await sql`ALTER TABLE oauth_payloads ADD COLUMN account_id text`.execute(db);
  await sql`
    CREATE INDEX oauth_payloads_account_idx ON oauth_payloads (account_id)
      WHERE account_id IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX oauth_payloads_account_idx`.execute(db);
  await sql`ALTER TABLE oauth_payloads DROP COLUMN account_id`.execute(db);
  await sql`ALTER TABLE oauth_clients DROP CONSTRAINT oauth_clients_shape_check`.execute(db);
  await sql`
    ALTER TABLE oauth_clients
      DROP COLUMN kind,
      DROP COLUMN redirect_uris,
      DROP COLUMN public_client,
      ALTER COLUMN secret_sha256 SET NOT NULL`.execute(db);
}
