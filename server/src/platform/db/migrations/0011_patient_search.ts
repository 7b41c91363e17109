// Indexes for the patient list's search and sort orders (issue 14, the patient page).
//
// The MRN filter is a case-insensitive prefix (`upper(mrn) LIKE 'ABC%'`); text_pattern_ops lets
// that LIKE use the index whatever the database's collation. The list sorts by name (the
// existing patients_name_idx), by MRN or by last update, each with the id as the tiebreak the
// keyset cursor needs.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX patients_mrn_prefix_idx
      ON patients (organization_id, upper(mrn) text_pattern_ops)`.execute(db);
  await sql`
    CREATE INDEX patients_mrn_order_idx ON patients (organization_id, upper(mrn), id)`.execute(db);
  await sql`
    CREATE INDEX patients_updated_idx ON patients (organization_id, updated_at, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX patients_updated_idx`.execute(db);
  await sql`DROP INDEX patients_mrn_order_idx`.execute(db);
  await sql`DROP INDEX patients_mrn_prefix_idx`.execute(db);
}
