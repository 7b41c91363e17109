// Row types of every table, as Kysely sees them. Kept beside the migrations that create them.
import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A timestamp the database fills in by default. */
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface AuditEventsTable {
  seq: ColumnType<string, string | number | bigint, never>;
  id: Generated<string>;
  occurred_at: Timestamp;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: 'success' | 'failure' | 'denied';
  request_id: string | null;
  client_address: string | null;
  details: JSONColumnType<Record<string, unknown>>;
  prev_hash: string;
  hash: string;
}

export interface JobsTable {
  id: Generated<string>;
  queue: string;
  payload: JSONColumnType<Record<string, unknown>>;
  status: Generated<'pending' | 'running' | 'done' | 'failed'>;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  run_at: DefaultedTimestamp;
  locked_by: string | null;
  locked_until: Timestamp | null;
  last_error: string | null;
  singleton_key: string | null;
  created_at: DefaultedTimestamp;
  finished_at: Timestamp | null;
}

export interface DatabaseSchema {
  audit_events: AuditEventsTable;
  jobs: JobsTable;
}
