// Platform tables: the hash-chained audit log (L3) and the job queue.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE audit_events (
      seq            bigint PRIMARY KEY CHECK (seq > 0),
      id             uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
      occurred_at    timestamptz NOT NULL,
      actor_type     text NOT NULL CHECK (length(actor_type) <= 32),
      actor_id       text CHECK (length(actor_id) <= 128),
      action         text NOT NULL CHECK (length(action) <= 100),
      target_type    text CHECK (length(target_type) <= 64),
      target_id      text CHECK (length(target_id) <= 128),
      outcome        text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
      request_id     text CHECK (length(request_id) <= 128),
      client_address text CHECK (length(client_address) <= 64),
      details        jsonb NOT NULL DEFAULT '{}'::jsonb,
      prev_hash      text NOT NULL CHECK (length(prev_hash) = 64),
      hash           text NOT NULL CHECK (length(hash) = 64)
    )`.execute(db);
  await sql`CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, occurred_at)`.execute(
    db,
  );
  await sql`CREATE INDEX audit_events_target_idx ON audit_events (target_type, target_id, occurred_at)`.execute(
    db,
  );
  await sql`CREATE INDEX audit_events_action_idx ON audit_events (action, occurred_at)`.execute(db);
  // Append-only: the database itself refuses to change or remove history.
  await sql`
    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`.execute(db);
  await sql`
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`.execute(db);

  await sql`
    CREATE TABLE jobs (
      id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      queue        text NOT NULL CHECK (length(queue) <= 100),
      payload      jsonb NOT NULL DEFAULT '{}'::jsonb,
      status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
      attempts     integer NOT NULL DEFAULT 0,
      max_attempts integer NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
      run_at       timestamptz NOT NULL DEFAULT now(),
      locked_by    text,
      locked_until timestamptz,
      last_error   text,
      singleton_key text,
      created_at   timestamptz NOT NULL DEFAULT now(),
      finished_at  timestamptz
    )`.execute(db);
  await sql`CREATE INDEX jobs_ready_idx ON jobs (run_at) WHERE status IN ('pending', 'running')`.execute(
    db,
  );
  // At most one live job per singleton key (e.g. a periodic cleanup), across all nodes.
  await sql`
    CREATE UNIQUE INDEX jobs_singleton_idx ON jobs (queue, singleton_key)
    WHERE singleton_key IS NOT NULL AND status IN ('pending', 'running')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE jobs`.execute(db);
  await sql`DROP TABLE audit_events`.execute(db);
  await sql`DROP FUNCTION audit_events_append_only`.execute(db);
}
