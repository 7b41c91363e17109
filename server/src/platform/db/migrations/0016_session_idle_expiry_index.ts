// The identity cleanup (A13) purges sessions by their idle expiry, which is never later than the
// absolute one, so the index it reads follows: the absolute-expiry index served only that purge.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX sessions_expiry_idx`.execute(db);
  await sql`CREATE INDEX sessions_idle_expiry_idx ON sessions (idle_expires_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX sessions_idle_expiry_idx`.execute(db);
  await sql`CREATE INDEX sessions_expiry_idx ON sessions (absolute_expires_at)`.execute(db);
}
