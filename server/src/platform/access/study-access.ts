// Who may touch a research study or one review assignment (Z4). Access comes from the study
// team (study_members) only, checked by queries that carry the caller in their WHERE clause, so
// a study or assignment of someone else looks exactly like a missing one (404):
// - owner and researchers read, manage and export the study; only the owner administers its
//   team; a researcher must still be a member of the study's organization (FOR SHARE, so a
//   removal waits for the caller's transaction and is never outrun);
// - participants take part, and reach only their own assignments;
// - an account invited to take part (role 'invited', until it accepts) reaches nothing;
// - each action also needs its scope (Z2), so a participant account never manages a study even
//   if it were listed as a researcher, and a removed member (removed_at) reaches nothing.
import type {
  AccessResolver,
  ActionOf,
  AssignmentAccess,
  ResolverInput,
  StudyAccess,
} from './permissions.js';
import type { StudyRole } from '../db/schema.js';

type StudyAction = ActionOf<'study'>;

interface StudyRule {
  readonly roles: readonly StudyRole[];
  readonly scope: string;
  /**
   * Hold the membership row FOR SHARE until the caller's transaction ends, so a removal waits
   * for it. A row lock is a write (a transaction id, a WAL record, a flush at commit), so it is
   * left out where outrunning a removal by milliseconds changes nothing: `participate` (the
   * next case, whose only write is the first opening stamp; answers check their assignment's
   * access, which locks).
   */
  readonly lockMembership: boolean;
}

/** Which team roles allow each study action, and the scope the action needs. */
const STUDY_RULES: Readonly<Record<StudyAction, StudyRule>> = Object.freeze({
  read: { roles: ['owner', 'researcher'], scope: 'studies:read', lockMembership: true },
  manage: { roles: ['owner', 'researcher'], scope: 'studies:manage', lockMembership: true },
  administer: { roles: ['owner'], scope: 'studies:manage', lockMembership: true },
  export: { roles: ['owner', 'researcher'], scope: 'exports:read', lockMembership: true },
  participate: { roles: ['participant'], scope: 'reviews:read', lockMembership: false },
});

/** The scope each assignment action needs; only the assignment's participant is ever allowed. */
const ASSIGNMENT_SCOPE: Readonly<Record<ActionOf<'assignment'>, string>> = Object.freeze({
  read: 'reviews:read',
  answer: 'reviews:answer',
});

function holds(
  input: ResolverInput<'study'> | ResolverInput<'assignment'>,
  scope: string,
): boolean {
  return input.request.principal?.scopes.has(scope) === true;
}

export const resolveStudyAccess: AccessResolver<'study'> = async (input) => {
  const rule = STUDY_RULES[input.action];
  if (!holds(input, rule.scope)) return undefined;
  const row = await input.db
    .selectFrom('study_members as m')
    .innerJoin('studies as s', 's.id', 'm.study_id')
    .select(['s.organization_id', 's.status', 'm.role'])
    .where('m.study_id', '=', input.target.studyId)
    .where('m.user_id', '=', input.userId)
    .where('m.removed_at', 'is', null)
    .where('m.role', 'in', rule.roles)
    .$if(rule.lockMembership, (qb) => qb.forShare('m'))
    .executeTakeFirst();
  if (!row) return undefined;
  if (row.role !== 'participant') {
    const stillMember = await input.db
      .selectFrom('organization_members')
      .select('user_id')
      .where('organization_id', '=', row.organization_id)
      .where('user_id', '=', input.userId)
      .forShare()
      .executeTakeFirst();
    if (!stillMember) return undefined;
  }
  const access: StudyAccess = {
    userId: input.userId,
    studyId: input.target.studyId,
    organizationId: row.organization_id,
    // A study role: the rules name no other (an invitation's 'invited' is in none of them).
    role: row.role as StudyRole,
    status: row.status,
  };
  return access;
};

export const resolveAssignmentAccess: AccessResolver<'assignment'> = async (input) => {
  if (!holds(input, ASSIGNMENT_SCOPE[input.action])) return undefined;
  const row = await input.db
    .selectFrom('review_assignments as a')
    .innerJoin('study_members as m', (join) =>
      join.onRef('m.study_id', '=', 'a.study_id').onRef('m.user_id', '=', 'a.participant_id'),
    )
    .innerJoin('studies as s', 's.id', 'a.study_id')
    .select(['a.study_id', 'a.case_id', 's.status'])
    .where('a.id', '=', input.target.assignmentId)
    .where('a.participant_id', '=', input.userId)
    .where('m.role', '=', 'participant')
    .where('m.removed_at', 'is', null)
    .forShare('m')
    .executeTakeFirst();
  if (!row) return undefined;
  const access: AssignmentAccess = {
    userId: input.userId,
    assignmentId: input.target.assignmentId,
    studyId: row.study_id,
    caseId: row.case_id,
    status: row.status,
  };
  return access;
};
