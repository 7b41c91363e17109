// L3 at several nodes (issue 9): audit writers no longer serialize on one chain lock. An event
// is inserted "unsealed" (no hash); a sealer later links the events of finished transactions
// into the hash chain, in an order no later insert can precede (platform/audit/audit.ts
// explains the design and why it is safe). The chain itself moves to audit_seals, so
// audit_events stays strictly immutable: its UPDATE/DELETE/TRUNCATE triggers are unchanged.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // seq comes from a sequence instead of "tail + 1" under a lock. Sequences are not
  // transactional, so a rolled-back event leaves a hole in seq; the chain's own gapless
  // numbering is audit_seals.chain_position.
  await sql`CREATE SEQUENCE audit_events_seq AS bigint OWNED BY audit_events.seq`.execute(db);
  await sql`
    SELECT setval('audit_events_seq', coalesce(max(seq), 0) + 1, false) FROM audit_events`.execute(
    db,
  );

  // xid: the writing transaction (pg_current_xact_id), the sealer's ordering key.
  // inserted_at: the database's clock at insert, used only to report events left unsealed
  // too long (not hashed: it is bookkeeping about the sealer, not part of the event).
  // Both stay NULL on events written before this migration ("legacy" rows).
  // hash/prev_hash: the in-row chain of legacy rows (copied into audit_seals below). New rows
  // leave them NULL; the columns stay so that a node still on the previous release can keep
  // inserting during a rolling upgrade (the insert trigger clears what it writes).
  await sql`
    ALTER TABLE audit_events
      ADD COLUMN xid xid8,
      ADD COLUMN inserted_at timestamptz,
      ALTER COLUMN prev_hash DROP NOT NULL,
      ALTER COLUMN hash DROP NOT NULL`.execute(db);

  // Every insert is stamped by the database, whatever the writer sent: it cannot choose its
  // seq, its place in the sealing order, or seal itself.
  await sql`
    CREATE FUNCTION audit_events_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.seq := nextval('audit_events_seq');
      NEW.xid := pg_current_xact_id();
      NEW.inserted_at := statement_timestamp();
      NEW.prev_hash := NULL;
      NEW.hash := NULL;
      RETURN NEW;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER audit_events_stamp BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_stamp()`.execute(db);
  // The sealer's cursor: unsealed events in sealing order.
  await sql`
    CREATE INDEX audit_events_xid_idx ON audit_events (xid, seq) WHERE xid IS NOT NULL`.execute(db);

  // One row per sealed event: chain_position is gapless from 1, and hash covers the event's
  // content, its xid, its position and prev_hash (the previous position's hash). Sealing is an
  // INSERT of this narrow row, not an UPDATE of the event: the event row and its indexes are
  // written once, and "sealed exactly once" is the primary key plus UNIQUE (seq).
  // xid repeats the event's xid so the sealer can resume after the last seal without reading
  // the event; sealed_at is bookkeeping (not hashed).
  await sql`
    CREATE TABLE audit_seals (
      chain_position bigint PRIMARY KEY CHECK (chain_position > 0),
      seq            bigint NOT NULL UNIQUE,
      xid            xid8,
      prev_hash      text NOT NULL CHECK (length(prev_hash) = 64),
      hash           text NOT NULL CHECK (length(hash) = 64),
      sealed_at      timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  // Legacy rows keep their hashes (their hashed form has no position or xid, and their
  // position is their seq); copied as they are, so earlier tampering still shows.
  await sql`
    INSERT INTO audit_seals (chain_position, seq, xid, prev_hash, hash, sealed_at)
    SELECT seq, seq, NULL, prev_hash, hash, occurred_at FROM audit_events ORDER BY seq`.execute(db);
  await sql`
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER audit_seals_no_update_delete BEFORE UPDATE OR DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`.execute(db);
  await sql`
    CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Events written since `up` have no in-row hash; the previous release cannot verify them.
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM audit_events WHERE hash IS NULL`.execute(db);
  if ((rows[0]?.n ?? 0) > 0) {
    throw new Error(
      'audit_events holds events sealed by 0005_audit_sealing; the previous chain format cannot represent them',
    );
  }
  await sql`DROP TABLE audit_seals`.execute(db);
  await sql`DROP FUNCTION audit_log_append_only`.execute(db);
  await sql`DROP INDEX audit_events_xid_idx`.execute(db);
  await sql`DROP TRIGGER audit_events_stamp ON audit_events`.execute(db);
  await sql`DROP FUNCTION audit_events_stamp`.execute(db);
  await sql`
    ALTER TABLE audit_events
      DROP COLUMN xid,
      DROP COLUMN inserted_at,
      ALTER COLUMN prev_hash SET NOT NULL,
      ALTER COLUMN hash SET NOT NULL`.execute(db);
  await sql`DROP SEQUENCE audit_events_seq`.execute(db);
}
