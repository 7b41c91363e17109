// Invitations of accounts that already exist (A11, Z4): an org admin's to join an organization,
// and a clinician's to link a patient record to a portal account. The person joins, or sees the
// record, only by accepting once signed in; until then nothing is theirs, and whoever invited
// learns nothing about the account: not whether it exists, nor its name or role. Separate
// tables, not states of organization_members or patients.portal_user_id: every access check
// reads those as "is a member" and "is the patient", and an invitation must grant nothing.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE organization_invitations (
      id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      email           text NOT NULL,
      display_name    text NOT NULL,
      role            text NOT NULL CHECK (role IN ('org_admin', 'clinician', 'researcher')),
      invited_by      uuid REFERENCES users (id) ON DELETE SET NULL,
      created_at      timestamptz NOT NULL DEFAULT now(),
      expires_at      timestamptz NOT NULL,
      UNIQUE (organization_id, user_id)
    )`.execute(db);
  await sql`CREATE INDEX organization_invitations_user_idx ON organization_invitations (user_id)`.execute(
    db,
  );

  // One open invitation per record: a second invitation of the record is a 409, whoever it names.
  await sql`
    CREATE TABLE portal_invitations (
      id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      patient_id      uuid NOT NULL UNIQUE REFERENCES patients (id) ON DELETE CASCADE,
      user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      invited_by      uuid REFERENCES users (id) ON DELETE SET NULL,
      -- A pending account (a self sign-up awaiting its email check) holds a password chosen by
      -- whoever typed the address in: an invitation it got then can never be accepted.
      account_was_active boolean NOT NULL,
      created_at      timestamptz NOT NULL DEFAULT now(),
      expires_at      timestamptz NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX portal_invitations_user_idx ON portal_invitations (user_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE portal_invitations`.execute(db);
  await sql`DROP TABLE organization_invitations`.execute(db);
}
