import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { hasCode } from '../../shared/api';
import { FormFooter, ProblemAlert, SubmissionForm } from '../../shared/forms';
import { roleLabel } from '../../shared/roles';
import { useForm } from '../../shared/submission';
import { Page } from '../../shared/Page';
import { navigate, takeHashToken } from '../../shared/router';
import { useResource } from '../../shared/useResource';
import { EnrolThenShowCodes } from './EnrolThenShowCodes';
import { NewAccountFields, newAccountProblems } from './NewAccountFields';
import { decodeAcceptAnswer, decodeInvitation, type Invitation } from './onboardingApi';

/** A11: accept an invitation (the link proves the email), choose a password, enrol MFA. */
export function InvitePage() {
  const [token] = useState(takeHashToken);
  const invitation = useResource(token, () =>
    sessionStore.credentialCall('/api/onboarding/invitations/inspect', decodeInvitation, {
      token,
    }),
  );
  const [enrolling, setEnrolling] = useState(false);

  let content;
  if (!token) {
    content = (
      <p className="error" role="alert">
        This page needs the whole invitation link from your email. Open it again from the email; if
        your email program split the link over two lines, copy the complete address.
      </p>
    );
  } else if (enrolling) {
    content = <EnrolThenShowCodes />;
  } else if (invitation.error) {
    content = hasCode(invitation.error, 'NOT_FOUND') ? (
      <p className="error" role="alert">
        This invitation link is unknown, already used or expired. Ask your administrator to send a
        new one.
      </p>
    ) : (
      <ProblemAlert error={invitation.error} />
    );
  } else if (invitation.data === null) {
    content = <p role="status">Checking your invitation…</p>;
  } else {
    content = (
      <AcceptForm
        token={token}
        invitation={invitation.data}
        onEnrolmentRequired={() => setEnrolling(true)}
      />
    );
  }
  return <Page title="Accept your invitation">{content}</Page>;
}

interface AcceptFormProps {
  token: string;
  invitation: Invitation;
  onEnrolmentRequired: () => void;
}

function AcceptForm({ token, invitation, onEnrolmentRequired }: AcceptFormProps) {
  const form = useForm({ displayName: invitation.displayName ?? '', password: '' });

  const submit = () => {
    const { displayName, password } = form.values;
    if (!form.validate(newAccountProblems(displayName, password))) return;
    void form.run(async () => {
      const answer = await sessionStore.credentialCall(
        '/api/onboarding/invitations/accept',
        decodeAcceptAnswer,
        { token, displayName: displayName.trim(), password },
      );
      if (answer.status === 'signed_in') {
        sessionStore.adopt(answer);
        navigate('/', { replace: true });
      } else {
        onEnrolmentRequired();
      }
    });
  };

  return (
    <SubmissionForm submission={form} onSubmit={submit}>
      <p>
        You were invited to Haven as{' '}
        <strong data-testid="invitation-role">
          {roleLabel({
            roles: [invitation.role],
            organizationRole: invitation.organizationRole,
          })}
        </strong>{' '}
        with the email <strong>{invitation.email}</strong>.
      </p>
      <NewAccountFields
        email={invitation.email}
        displayName={form.bind('displayName')}
        password={form.bind('password')}
        passwordLabel="Choose a password"
      />
      <FormFooter submission={form}>Accept invitation</FormFooter>
    </SubmissionForm>
  );
}
