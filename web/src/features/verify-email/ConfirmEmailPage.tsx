import { sessionStore } from '../../auth/sessionStore';
import { Link } from '../../shared/router';
import { decodeUserAnswer } from '../account';
import { TokenLinkPage } from './TokenLinkPage';

const confirmNewEmail = async (token: string) => {
  const user = await sessionStore.api('POST', '/api/account/email/confirm', decodeUserAnswer, {
    token,
  });
  sessionStore.updateUser(user);
};

/** Email change: the link sent to the new address, opened while signed in (a signed-in route). */
export function ConfirmEmailPage() {
  return (
    <TokenLinkPage
      title="Confirm your new email"
      confirm={confirmNewEmail}
      done={
        <p>
          Your email address has been changed. <Link to="/account">Back to your account</Link>
        </p>
      }
    />
  );
}
