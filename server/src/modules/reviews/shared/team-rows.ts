// How the research side reads a study's team rows (A11, Z4). A row with the role 'invited' is an
// existing account invited to take part that has not answered yet (0018). To the researchers it
// is the participant it would be, shown exactly as an invited unknown email is: the name they
// typed and the status 'invited', never the account's own name or state. So the team list, the
// counts, the dashboard, the exports and the assignments tell nothing about whether the address
// had an account. Access never reads it so: no access rule names the role 'invited'.
import { sql } from 'kysely';
import type { StudyRole } from '../../../platform/db/schema.js';

/** Team rows the research reads count as participants: those taking part and those invited. */
export const PARTICIPANT_ROWS = ['participant', 'invited'] as const;

/** The member's name as researchers see it (aliases: m = study_members, u = users). */
export const shownName = sql<string>`case when m.role = 'invited' then m.shown_name else u.display_name end`;

/** The member's address as researchers see it: as typed while invited (aliases as above). */
export const shownEmail = sql<string>`case when m.role = 'invited' then m.shown_email else u.email end`;

/** The same address in identity's normalized form, which assignment sheets are matched by. */
export const shownEmailKey = sql<string>`case when m.role = 'invited' then lower(m.shown_email) else u.email_normalized end`;

/** The member's account state as researchers see it: 'invited' until an invitation is accepted. */
export const shownStatus = sql<
  'invited' | 'active' | 'disabled'
>`case when m.role = 'invited' then 'invited' else u.status end`;

/** The member's study role as researchers see it: an invitation reads as a participant. */
export const shownRole = sql<StudyRole>`case when m.role = 'invited' then 'participant' else m.role end`;
