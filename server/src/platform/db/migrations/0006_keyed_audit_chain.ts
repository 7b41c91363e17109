// L3 (issue 16): the audit chain is keyed. Seals written from now on are HMAC-SHA256 under a
// key derived from the master key (platform/audit/chain-key.ts), which the database never
// holds, so rewriting an event and recomputing its seal needs more than table access.
// key_id names the key a seal was made with; NULL marks the plain SHA-256 seals written
// before this migration, which the verifier accepts only before the first keyed seal.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // No default and no backfill: existing seals stay exactly as they were hashed.
  await sql`
    ALTER TABLE audit_seals
      ADD COLUMN key_id text CHECK (key_id ~ '^[0-9a-f]{12}$')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Without key_id a keyed seal would be checked as plain SHA-256 and reported as tampered.
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM audit_seals WHERE key_id IS NOT NULL`.execute(db);
  if ((rows[0]?.n ?? 0) > 0) {
    throw new Error(
      'audit_seals holds seals keyed by 0006_keyed_audit_chain; the previous release cannot verify them',
    );
  }
  await sql`ALTER TABLE audit_seals DROP COLUMN key_id`.execute(db);
}
