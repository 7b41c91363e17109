import { sessionStore } from '../../auth/sessionStore';
import { ignoreBody } from '../../shared/decoding';
import { Link } from '../../shared/router';
import { TokenLinkPage } from './TokenLinkPage';

const verifySignUp = async (token: string) => {
  await sessionStore.credentialCall('/api/onboarding/signup/verify', ignoreBody, { token });
};

/** Self sign-up: the emailed link proves the address. */
export function VerifyEmailPage() {
  return (
    <TokenLinkPage
      title="Verify your email"
      confirm={verifySignUp}
      done={
        <p>
          Your email address is verified. <Link to="/sign-in">Sign in</Link>
        </p>
      }
    />
  );
}
