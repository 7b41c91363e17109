import { useEffect, useState, type ReactNode } from 'react';
import { hasCode } from '../../shared/api';
import { ProblemAlert, SuccessNote } from '../../shared/forms';
import { Page } from '../../shared/Page';
import { takeHashToken } from '../../shared/router';

type Outcome = { kind: 'working' } | { kind: 'done' } | { kind: 'failed'; error: unknown };

/** Runs a one-time link's confirmation once and reports the outcome. */
function useTokenConfirmation(
  token: string | null,
  confirm: (token: string) => Promise<void>,
): Outcome {
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'working' });
  useEffect(() => {
    if (!token) return;
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

interface TokenLinkPageProps {
  title: string;
  /** What the emailed link confirms; a stable function (it runs again when it changes). */
  confirm: (token: string) => Promise<void>;
  /** Shown once the confirmation succeeded. */
  done: ReactNode;
}

/** The page an emailed one-time link (`#token=…`) opens: it confirms, then says how it went. */
export function TokenLinkPage({ title, confirm, done }: TokenLinkPageProps) {
  const [token] = useState(takeHashToken);
  const outcome = useTokenConfirmation(token, confirm);
  return (
    <Page title={title}>
      <OutcomeView token={token} outcome={outcome} done={done} />
    </Page>
  );
}

function OutcomeView({
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
        This page needs the whole link from your email. Open it again from the email; if your email
        program split the link over two lines, copy the complete address.
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
