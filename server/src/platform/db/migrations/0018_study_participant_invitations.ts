// A researcher's invitation of an existing account to take part in a study (A11, Z4). Adding a
// participant by email used to join an existing participant account at once, under its own name,
// and to answer 409 for any other kind of account: a researcher could learn whether an address
// had a Haven account and of what kind. Now every existing account is invited and joins only when
// its owner accepts. The invitation is a team row with the role 'invited', not a state of
// 'participant': no access rule names that role (platform/access/study-access.ts), so a row that
// is only an invitation grants nothing even to a check that forgets to ask. The research reads
// (team list, counts, dashboard, exports, assignments) treat it as the participant it would be,
// so the team reads exactly as after inviting an unknown email: the address and name the
// researcher typed, 'invited'.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE study_members DROP CONSTRAINT study_members_role_check`.execute(db);
  await sql`
    ALTER TABLE study_members
      ADD CONSTRAINT study_members_role_check
        CHECK (role IN ('owner', 'researcher', 'participant', 'invited')),
      -- The name the researcher typed (or the address's local part), shown until accepted.
      ADD COLUMN shown_name text,
      -- The address as the researcher typed it (trimmed), shown until accepted: as an unknown
      -- email's account stores it, whatever case or later address the account has.
      ADD COLUMN shown_email text,
      -- Until when the invitation can be accepted, on the database's clock.
      ADD COLUMN answer_by timestamptz,
      -- Whether, when invited, only the address's owner could hold the account's password: an
      -- active account, or one Haven invited that has no password yet. A pending self sign-up
      -- holds a password chosen by whoever typed the address in: never acceptable.
      ADD COLUMN account_held_by_owner boolean,
      ADD CONSTRAINT study_members_invitation_fields CHECK (
        (role = 'invited' AND shown_name IS NOT NULL AND shown_email IS NOT NULL
          AND answer_by IS NOT NULL AND account_held_by_owner IS NOT NULL)
        OR (role <> 'invited' AND shown_name IS NULL AND shown_email IS NULL
          AND answer_by IS NULL AND account_held_by_owner IS NULL)
      )`.execute(db);
  // The invitee's own open invitations, read on their home page.
  await sql`
    CREATE INDEX study_members_invited_user_idx ON study_members (user_id)
      WHERE role = 'invited'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX study_members_invited_user_idx`.execute(db);
  // Nothing of a study is deleted (a trigger refuses it): an open invitation becomes a removed
  // participant row, which grants nothing either.
  await sql`
    UPDATE study_members
      SET role = 'participant', removed_at = coalesce(removed_at, now()), shown_name = NULL,
        shown_email = NULL, answer_by = NULL, account_held_by_owner = NULL
      WHERE role = 'invited'`.execute(db);
  await sql`
    ALTER TABLE study_members
      DROP CONSTRAINT study_members_invitation_fields,
      DROP COLUMN account_held_by_owner,
      DROP COLUMN answer_by,
      DROP COLUMN shown_email,
      DROP COLUMN shown_name,
      DROP CONSTRAINT study_members_role_check,
      ADD CONSTRAINT study_members_role_check
        CHECK (role IN ('owner', 'researcher', 'participant'))`.execute(db);
}
