import { useState } from 'react';
import { Page } from '../../app/Page';
import { sessionStore } from '../../auth/sessionStore';
import { Link, takeHashToken } from '../../shared/router';
import { decodeUserAnswer } from '../account/accountApi';
import { OutcomeView, useTokenConfirmation } from './VerifyEmailPage';

const confirmNewEmail = async (token: string) => {
  const user = await sessionStore.api('POST', '/api/account/email/confirm', decodeUserAnswer, {
    token,
  });
  sessionStore.updateUser(user);
};

/** Email change: the link sent to the new address, opened while signed in (a signed-in route). */
export function ConfirmEmailPage() {
  const [token] = useState(takeHashToken);
  const outcome = useTokenConfirmation(token, confirmNewEmail);
  return (
    <Page title="Confirm your new email">
      <OutcomeView
        token={token}
        outcome={outcome}
        done={
          <p>
            Your email address has been changed. <Link to="/account">Back to your account</Link>
          </p>
        }
      />
    </Page>
  );
}
