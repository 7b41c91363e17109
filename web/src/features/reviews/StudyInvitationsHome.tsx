/**
 * Invitations to take part in a study (A11), on every signed-in person's home page. A
 * researcher who adds an address with an account invites that account; its owner accepts here
 * (the study then shows on this page) or declines.
 */
import { sessionStore, type ActiveSession } from '../../auth/sessionStore';
import { formatDateTime } from '../../shared/dates';
import { ignoreBody } from '../../shared/decoding';
import { InvitationsPanel } from '../../shared/InvitationCards';
import {
  STUDY_INVITATIONS_PATH,
  decodeStudyInvitationAccepted,
  decodeStudyInvitations,
  studyInvitationPath,
} from './reviewsApi';

interface Props {
  session: ActiveSession;
  /** The person now takes part in a study: the page shows it. */
  onJoined: () => void;
}

export function StudyInvitationsHome({ session, onJoined }: Props) {
  return (
    <InvitationsPanel
      title="Invitations to take part in a study"
      testId="study-invitations"
      label="Study invitations"
      resourceKey={`home:study-invitations:${session.user.id}`}
      load={() => sessionStore.api('GET', STUDY_INVITATIONS_PATH, decodeStudyInvitations)}
      toCard={(invitation) => ({
        id: invitation.studyId,
        from: `${invitation.studyTitle} (${invitation.organizationName})`,
        text: `${invitation.invitedBy ?? 'The research team'} at ${invitation.organizationName} invites you to take part in the study “${invitation.studyTitle}”. The invitation is open until ${formatDateTime(invitation.expiresAt)}.`,
        canAccept: invitation.canAccept,
        reason: invitation.reason,
      })}
      accept={async (card) => {
        const joined = await sessionStore.api(
          'POST',
          studyInvitationPath(card.id, true),
          decodeStudyInvitationAccepted,
          {},
        );
        onJoined();
        return `You now take part in “${joined.studyTitle}”.`;
      }}
      decline={async (card) => {
        await sessionStore.api('DELETE', studyInvitationPath(card.id), ignoreBody);
      }}
    />
  );
}
