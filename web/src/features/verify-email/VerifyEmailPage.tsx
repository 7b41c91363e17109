import { useEffect, useState, type ReactNode } from 'react';
import { Page } from '../../app/Page';
import { sessionStore } from '../../auth/sessionStore';
import { hasCode, ignoreBody } from '../../shared/api';
import { ProblemAlert, SuccessNote } from '../../shared/forms';
import { Link, takeHashToken } from '../../shared/router';

type Outcome = { kind: 'working' } | { kind: 'done' } | { kind: 'failed'; error: unknown };

/** Runs a one-time link's confirmation once and reports the outcome. */
export function useTokenConfirmation(
  token: string | null,
  confirm: ((token: string) => Promise<void>) | null,
): Outcome {
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'working' });
  useEffect(() => {
    if (!token || !confirm) return;
    let active = true;
    confirm(token)
      .then(() => active && setOutcome({ kind: 'done' }))
      .catch((error: unknown) => active && setOutcome({ kind: 'failed', error }));
    return () => {
      active = false;
    };
  }, [token, confirm]);
  return outcome;
}

export function OutcomeView({
  token,
  outcome,
  done,
}: {
  token: string | null;
  outcome: Outcome;
  done: ReactNode;
}) {
  if (!token) {
    return (
      <p className="error" role="alert">
        Open this page from the link in your email.
      </p>
    );
  }
  if (outcome.kind === 'working') return <p role="status">Checking your link…</p>;
  if (outcome.kind === 'done') return <SuccessNote>{done}</SuccessNote>;
  if (hasCode(outcome.error, 'NOT_FOUND')) {
    return (
      <p className="error" role="alert">
        This link is unknown, already used or expired.
      </p>
    );
  }
  return <ProblemAlert error={outcome.error} />;
}

const verifySignUp = (token: string) =>
  sessionStore
    .credentialCall('/api/onboarding/signup/verify', ignoreBody, { token })
    .then(() => undefined);

/** Self sign-up: the emailed link proves the address. */
export function VerifyEmailPage() {
  const [token] = useState(takeHashToken);
  const outcome = useTokenConfirmation(token, verifySignUp);
  return (
    <Page title="Verify your email">
      <OutcomeView
        token={token}
        outcome={outcome}
        done={
          <p>
            Your email address is verified. <Link to="/sign-in">Sign in</Link>
          </p>
        }
      />
    </Page>
  );
}
