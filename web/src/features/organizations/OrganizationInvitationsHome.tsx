/**
 * Invitations to join an organization (A11), on every signed-in person's home page. An org
 * admin who adds someone with an account invites them; they join here, or decline. Shown only
 * while there is one to answer.
 */
import { sessionStore, type ActiveSession } from '../../auth/sessionStore';
import { formatDateTime } from '../../shared/dates';
import { ignoreBody } from '../../shared/decoding';
import { ActionOutcome } from '../../shared/forms';
import { HomePanel } from '../../shared/HomePanel';
import { InvitationCards, type InvitationCard } from '../../shared/InvitationCards';
import { organizationRoleName } from '../../shared/roles';
import { useAction } from '../../shared/submission';
import { useResource } from '../../shared/useResource';
import { organizationStore } from './organizationStore';
import {
  OWN_INVITATIONS_PATH,
  decodeJoined,
  decodeOwnInvitations,
  ownInvitationPath,
} from './organizationsApi';

export function OrganizationInvitationsHome({ session }: { session: ActiveSession }) {
  const invitations = useResource(`home:organization-invitations:${session.user.id}`, () =>
    sessionStore.api('GET', OWN_INVITATIONS_PATH, decodeOwnInvitations),
  );
  const action = useAction(invitations.reload);
  const list = invitations.data ?? [];
  // Nothing to answer: no panel (its absence says nothing is waiting), unless a note is left.
  if (!invitations.error && list.length === 0 && action.note === null && !action.error) {
    return null;
  }

  const accept = (invitation: InvitationCard) =>
    void action.act(async () => {
      const joined = await sessionStore.api(
        'POST',
        ownInvitationPath(invitation.id, true),
        decodeJoined,
        {},
      );
      // The header's organization switcher and the pages read the memberships again.
      await organizationStore.load(session.user.id);
      return `You joined ${joined.organizationName} as ${organizationRoleName(joined.role).toLowerCase()}.`;
    }, invitation.id);

  const decline = (invitation: InvitationCard) =>
    void action.act(async () => {
      await sessionStore.api('DELETE', ownInvitationPath(invitation.id), ignoreBody);
      return `You declined the invitation from ${invitation.from}.`;
    }, invitation.id);

  return (
    <HomePanel
      title="Invitations to join an organization"
      testId="organization-invitations"
      error={invitations.error}
    >
      <ActionOutcome action={action} />
      {list.length > 0 && (
        <InvitationCards
          label="Invitations"
          busy={action.busy}
          cards={list.map((invitation) => ({
            id: invitation.id,
            from: invitation.organizationName,
            text: `You are invited to join as ${organizationRoleName(invitation.role).toLowerCase()}. The invitation is open until ${formatDateTime(invitation.expiresAt)}.`,
            canAccept: invitation.canAccept,
            reason: invitation.reason,
          }))}
          onAccept={accept}
          onDecline={decline}
        />
      )}
    </HomePanel>
  );
}
