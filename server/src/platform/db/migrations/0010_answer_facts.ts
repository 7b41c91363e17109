// Each answer carries the case and the arm of its assignment (issue 10, the answers export).
//
// The answers export walks review_answers by seq; reading the case and arm through
// review_assignments cost one random index lookup per exported row, which measured as most of
// the export's time at a million answers (about 40 µs per row of the 2,000-row chunk's 50 ms,
// against under 2 µs per row for the answers alone). Assignments are never updated, so copying
// the two facts onto the answer when it is written changes nothing an export shows.
//
// The database copies them, not the application: a BEFORE INSERT trigger takes them from the
// assignment the answer names, whatever the insert says, so the copy cannot disagree with the
// assignment (the assignment's own foreign keys keep them valid). Answers written before this
// migration get them here, with the table's triggers stood down for that statement only.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE review_answers ADD COLUMN case_id uuid, ADD COLUMN arm_id uuid`.execute(db);
  // USER: the table's own triggers (no-update, no-delete), whatever they are named; the foreign
  // keys' internal triggers stay on. Only this statement runs while they are off.
  await sql`ALTER TABLE review_answers DISABLE TRIGGER USER`.execute(db);
  await sql`
    UPDATE review_answers r SET case_id = a.case_id, arm_id = a.arm_id
    FROM review_assignments a WHERE a.id = r.assignment_id`.execute(db);
  await sql`ALTER TABLE review_answers ENABLE TRIGGER USER`.execute(db);
  await sql`ALTER TABLE review_answers ALTER COLUMN case_id SET NOT NULL`.execute(db);
  await sql`
    CREATE FUNCTION review_answer_assignment_facts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      SELECT a.case_id, a.arm_id INTO NEW.case_id, NEW.arm_id
        FROM review_assignments a WHERE a.id = NEW.assignment_id;
      RETURN NEW;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER review_answers_assignment_facts BEFORE INSERT ON review_answers
      FOR EACH ROW EXECUTE FUNCTION review_answer_assignment_facts()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER review_answers_assignment_facts ON review_answers`.execute(db);
  await sql`DROP FUNCTION review_answer_assignment_facts`.execute(db);
  await sql`ALTER TABLE review_answers DROP COLUMN case_id, DROP COLUMN arm_id`.execute(db);
}
