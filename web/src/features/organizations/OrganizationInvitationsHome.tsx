/**
 * Invitations to join an organization (A11), on every signed-in person's home page. An org
 * admin who adds someone with an account invites them; they join here, or decline.
 */
import { sessionStore, type ActiveSession } from '../../auth/sessionStore';
import { formatDateTime } from '../../shared/dates';
import { ignoreBody } from '../../shared/decoding';
import { InvitationsPanel } from '../../shared/InvitationCards';
import { organizationRoleName } from '../../shared/roles';
import { organizationStore } from './organizationStore';
import {
  OWN_INVITATIONS_PATH,
  decodeJoined,
  decodeOwnInvitations,
  ownInvitationPath,
} from './organizationsApi';

export function OrganizationInvitationsHome({ session }: { session: ActiveSession }) {
  return (
    <InvitationsPanel
      title="Invitations to join an organization"
      testId="organization-invitations"
      label="Invitations"
      resourceKey={`home:organization-invitations:${session.user.id}`}
      load={() => sessionStore.api('GET', OWN_INVITATIONS_PATH, decodeOwnInvitations)}
      toCard={(invitation) => ({
        id: invitation.id,
        from: invitation.organizationName,
        text: `You are invited to join as ${organizationRoleName(invitation.role).toLowerCase()}. The invitation is open until ${formatDateTime(invitation.expiresAt)}.`,
        canAccept: invitation.canAccept,
        reason: invitation.reason,
      })}
      accept={async (card) => {
        const joined = await sessionStore.api(
          'POST',
          ownInvitationPath(card.id, true),
          decodeJoined,
          {},
        );
        // The header's organization switcher and the pages read the memberships again.
        await organizationStore.load(session.user.id);
        return `You joined ${joined.organizationName} as ${organizationRoleName(joined.role).toLowerCase()}.`;
      }}
      decline={async (card) => {
        await sessionStore.api('DELETE', ownInvitationPath(card.id), ignoreBody);
      }}
    />
  );
}
