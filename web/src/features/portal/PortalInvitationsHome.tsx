/**
 * Invitations to see a record a clinic keeps (A11), on every signed-in person's home page. A
 * clinician who invites an address with an account invites that account; its owner accepts
 * here (the record then shows on this page) or declines.
 */
import { sessionStore, type ActiveSession } from '../../auth/sessionStore';
import { formatDateTime } from '../../shared/dates';
import { ignoreBody } from '../../shared/decoding';
import { InvitationsPanel } from '../../shared/InvitationCards';
import {
  PORTAL_INVITATIONS_PATH,
  decodePortalInvitations,
  decodePortalLinked,
  portalInvitationPath,
} from './portalApi';

interface Props {
  session: ActiveSession;
  /** A record was linked: the page shows it. */
  onLinked: () => void;
}

export function PortalInvitationsHome({ session, onLinked }: Props) {
  return (
    <InvitationsPanel
      title="Invitations to see your record"
      testId="portal-invitations"
      label="Record invitations"
      resourceKey={`home:portal-invitations:${session.user.id}`}
      load={() => sessionStore.api('GET', PORTAL_INVITATIONS_PATH, decodePortalInvitations)}
      toCard={(invitation) => ({
        id: invitation.id,
        from: invitation.organizationName,
        text: `${invitation.organizationName} invites you to see the record it keeps about you. The invitation is open until ${formatDateTime(invitation.expiresAt)}.`,
        canAccept: invitation.canAccept,
        reason: invitation.reason,
      })}
      accept={async (card) => {
        const linked = await sessionStore.api(
          'POST',
          portalInvitationPath(card.id, true),
          decodePortalLinked,
          {},
        );
        onLinked();
        return `Your record at ${linked.organizationName} is now linked to your account.`;
      }}
      decline={async (card) => {
        await sessionStore.api('DELETE', portalInvitationPath(card.id), ignoreBody);
      }}
    />
  );
}
