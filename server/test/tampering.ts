// What an attacker with table-owner rights can do to the audit trail, for the tests that prove
// verification catches it: switch the append-only triggers off, edit, switch them back on.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../src/platform/db/schema.js';

type Db = Kysely<DatabaseSchema>;

/** The audit tables whose triggers refuse updates and deletes. */
export type AuditTable = 'audit_events' | 'audit_seals';

/**
 * Runs `edit` with the user triggers of `tables` disabled (default: the events table), and
 * enables them again whatever `edit` does.
 */
export async function tamperWithAudit(
  db: Db,
  edit: (db: Db) => Promise<void>,
  tables: readonly AuditTable[] = ['audit_events'],
): Promise<void> {
  for (const table of tables) {
    await sql`ALTER TABLE ${sql.table(table)} DISABLE TRIGGER USER`.execute(db);
  }
  try {
    await edit(db);
  } finally {
    for (const table of tables) {
      await sql`ALTER TABLE ${sql.table(table)} ENABLE TRIGGER USER`.execute(db);
    }
  }
}
