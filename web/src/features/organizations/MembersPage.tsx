import { useState } from 'react';
import { sessionStore, type ActiveSession } from '../../auth/sessionStore';
import { ConfirmAction } from '../../shared/ConfirmAction';
import { formatDateTime } from '../../shared/dates';
import { ignoreBody } from '../../shared/decoding';
import { SelectField } from '../../shared/fields';
import { ActionOutcome, ProblemAlert } from '../../shared/forms';
import { organizationRoleName } from '../../shared/roles';
import { showToast } from '../../shared/Toast';
import { useAction } from '../../shared/submission';
import { Page } from '../../shared/Page';
import { useResource } from '../../shared/useResource';
import { ClinicalProblem } from './ClinicalProblem';
import { MemberInviteForm } from './MemberInviteForm';
import { useOrganizations } from './organizationStore';
import {
  ORGANIZATION_ROLE_CHOICES,
  decodeMemberAnswer,
  decodeMembers,
  membersPath,
  memberStatusLabel,
  type Member,
  type OrganizationRole,
} from './organizationsApi';

/** Members of the active organization; its administrators invite, change roles and remove. */
export function MembersPage({ session }: { session: ActiveSession }) {
  const organizations = useOrganizations();
  const active = organizations.status === 'ready' ? organizations.active : null;
  const members = useResource(active && `${active.id}:members`, () =>
    sessionStore.api('GET', membersPath(active?.id ?? ''), decodeMembers),
  );
  const isAdmin = active?.role === 'org_admin';

  if (organizations.status !== 'ready' || !active) {
    return (
      <Page title="Members">
        {organizations.status === 'error' ? (
          <ProblemAlert error={organizations.error} />
        ) : organizations.status === 'ready' ? (
          <p>
            {organizations.organizations.length === 0
              ? 'You are not a member of any organization.'
              : 'Choose an organization with the switcher at the top of the page.'}
          </p>
        ) : (
          <p role="status">Loading…</p>
        )}
      </Page>
    );
  }

  return (
    <Page title={`Members of ${active.name}`}>
      {isAdmin && (
        <section className="panel stack" aria-labelledby="member-invite-title">
          <h2 id="member-invite-title">Invite a member</h2>
          <MemberInviteForm
            path={membersPath(active.id)}
            submitLabel="Invite member"
            onAdded={members.reload}
          />
        </section>
      )}
      <section className="panel stack" aria-labelledby="members-title">
        <h2 id="members-title">Members</h2>
        <ClinicalProblem error={members.error} />
        {members.data === null ? (
          !members.error && <p role="status">Loading members…</p>
        ) : members.data.length === 0 ? (
          <p>This organization has no members.</p>
        ) : (
          <ul className="cards" aria-label="Members">
            {members.data.map((m) => (
              <MemberCard
                key={m.userId}
                organizationId={active.id}
                member={m}
                canManage={isAdmin}
                isSelf={m.userId === session.user.id}
                onChanged={members.reload}
              />
            ))}
          </ul>
        )}
      </section>
    </Page>
  );
}

interface MemberCardProps {
  organizationId: string;
  member: Member;
  canManage: boolean;
  isSelf: boolean;
  onChanged: () => void;
}

function MemberCard({ organizationId, member, canManage, isSelf, onChanged }: MemberCardProps) {
  const [role, setRole] = useState<OrganizationRole>(member.role);
  const action = useAction(onChanged);
  const name = member.displayName || member.email;

  const saveRole = () =>
    void action.act(async () => {
      await sessionStore.api(
        'PUT',
        membersPath(organizationId, member.userId),
        decodeMemberAnswer,
        { role },
      );
      return `${name} is now ${organizationRoleName(role).toLowerCase()}.`;
    });

  const remove = () =>
    void action.act(async () => {
      await sessionStore.api('DELETE', membersPath(organizationId, member.userId), ignoreBody);
      // Said in the page's toast region: this card, and any note in it, is about to go.
      showToast(`${name} was removed from the organization.`);
    });

  return (
    <li className="card">
      <p className="card-title">
        {name}
        {isSelf && <span className="badge">You</span>}
      </p>
      <dl className="facts">
        <dt>Email</dt>
        <dd>{member.email}</dd>
        <dt>Role</dt>
        <dd>{organizationRoleName(member.role)}</dd>
        <dt>Account</dt>
        <dd>{memberStatusLabel(member.status)}</dd>
        <dt>Added</dt>
        <dd>{formatDateTime(member.addedAt)}</dd>
      </dl>
      <ActionOutcome action={action} />
      {canManage && (
        <div className="stack manage">
          <div className="inline-form">
            <SelectField
              label={`Role of ${name}`}
              value={role}
              choices={ORGANIZATION_ROLE_CHOICES}
              onValueChange={setRole}
            />
            <button
              type="button"
              className="button secondary"
              disabled={action.busy || role === member.role}
              onClick={saveRole}
            >
              Change role
            </button>
          </div>
          <ConfirmAction
            label="Remove"
            ariaLabel={`Remove ${name} from the organization`}
            consequence={`Remove ${name} from the organization?`}
            confirmLabel={`Yes, remove ${name}`}
            busy={action.busy}
            onConfirm={remove}
          />
        </div>
      )}
    </li>
  );
}
