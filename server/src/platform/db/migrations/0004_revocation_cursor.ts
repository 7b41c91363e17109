// A7: the cursor that lets every node read session revocations without trusting any node's
// clock (issue 9). A revoked session carries the id of the transaction that revoked it; each
// node's poller reads the rows whose transaction was not yet visible in its previous
// snapshot (modules/identity/sessions/revocation.ts explains why this and not a sequence).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE sessions ADD COLUMN revocation_xid xid8`.execute(db);
  // Sessions revoked before this migration: stamped with the migration's own transaction,
  // so a poller treats them as revoked when the migration commits.
  await sql`
    UPDATE sessions SET revocation_xid = pg_current_xact_id()
    WHERE revoked_at IS NOT NULL`.execute(db);
  await sql`
    CREATE INDEX sessions_revocation_xid_idx ON sessions (revocation_xid)
    WHERE revocation_xid IS NOT NULL`.execute(db);
  // The revoking UPDATE in sessions.ts sets the column itself; this covers every other writer
  // (a node still on the previous release during a rolling upgrade, an operator's UPDATE in
  // an incident), so no revocation can be written that the pollers would not see.
  await sql`
    CREATE FUNCTION sessions_stamp_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.revocation_xid := pg_current_xact_id();
      RETURN NEW;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER sessions_stamp_revocation BEFORE INSERT OR UPDATE OF revoked_at ON sessions
    FOR EACH ROW WHEN (NEW.revoked_at IS NOT NULL AND NEW.revocation_xid IS NULL)
    EXECUTE FUNCTION sessions_stamp_revocation()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER sessions_stamp_revocation ON sessions`.execute(db);
  await sql`DROP FUNCTION sessions_stamp_revocation`.execute(db);
  await sql`DROP INDEX sessions_revocation_xid_idx`.execute(db);
  await sql`ALTER TABLE sessions DROP COLUMN revocation_xid`.execute(db);
}
