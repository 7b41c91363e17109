/**
 * Invitations to see a record a clinic keeps (A11), on every signed-in person's home page. A
 * clinician who invites an address with an account invites that account; its owner accepts
 * here (the record then shows on this page) or declines. Shown only while there is one.
 */
import { sessionStore, type ActiveSession } from '../../auth/sessionStore';
import { formatDateTime } from '../../shared/dates';
import { ignoreBody } from '../../shared/decoding';
import { ActionOutcome } from '../../shared/forms';
import { HomePanel } from '../../shared/HomePanel';
import { InvitationCards, type InvitationCard } from '../../shared/InvitationCards';
import { useAction } from '../../shared/submission';
import { useResource } from '../../shared/useResource';
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
  const invitations = useResource(`home:portal-invitations:${session.user.id}`, () =>
    sessionStore.api('GET', PORTAL_INVITATIONS_PATH, decodePortalInvitations),
  );
  const action = useAction(invitations.reload);
  const list = invitations.data ?? [];
  if (!invitations.error && list.length === 0 && action.note === null && !action.error) {
    return null;
  }

  const accept = (invitation: InvitationCard) =>
    void action.act(async () => {
      const linked = await sessionStore.api(
        'POST',
        portalInvitationPath(invitation.id, true),
        decodePortalLinked,
        {},
      );
      onLinked();
      return `Your record at ${linked.organizationName} is now linked to your account.`;
    }, invitation.id);

  const decline = (invitation: InvitationCard) =>
    void action.act(async () => {
      await sessionStore.api('DELETE', portalInvitationPath(invitation.id), ignoreBody);
      return `You declined the invitation from ${invitation.from}.`;
    }, invitation.id);

  return (
    <HomePanel
      title="Invitations to see your record"
      testId="portal-invitations"
      error={invitations.error}
    >
      <ActionOutcome action={action} />
      {list.length > 0 && (
        <InvitationCards
          label="Record invitations"
          busy={action.busy}
          cards={list.map((invitation) => ({
            id: invitation.id,
            from: invitation.organizationName,
            text: `${invitation.organizationName} invites you to see the record it keeps about you. The invitation is open until ${formatDateTime(invitation.expiresAt)}.`,
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
