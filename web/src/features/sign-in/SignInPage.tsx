import { useEffect, useState, type FormEvent } from 'react';
import { decodeSignInAnswer, decodeSignedIn, type SignedIn } from '../../auth/authTypes';
import { sessionStore, type SignedOutReason } from '../../auth/sessionStore';
import { useAuth } from '../../auth/useAuth';
import { hasCode } from '../../shared/api';
import { CodeField, Field, ProblemAlert, SubmitButton, useSubmission } from '../../shared/forms';
import { Link, navigate, safeLocalPath, useSearchParam } from '../../shared/router';
import { MfaEnrollment } from '../mfa/MfaEnrollment';
import { RecoveryCodes } from '../mfa/RecoveryCodes';
import { Page } from '../../app/Page';

type Step =
  | { kind: 'password' }
  | { kind: 'code' }
  | { kind: 'recovery-code' }
  | { kind: 'enrol' }
  | { kind: 'recovery-codes'; codes: string[]; signedIn: SignedIn | null };

const SIGNED_OUT_NOTES: Record<SignedOutReason, string> = {
  signed_out: 'You have signed out.',
  idle: 'You were signed out after a period of inactivity.',
  expired: 'Your session has ended. Please sign in again.',
  signed_out_elsewhere: 'You signed out in another tab.',
};

export function SignInPage() {
  const auth = useAuth();
  const next = safeLocalPath(useSearchParam('next'));
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [passwordError, setPasswordError] = useState<unknown>(null);
  const finish = (signedIn: SignedIn) => {
    sessionStore.adopt(signedIn);
    navigate(next, { replace: true });
  };
  // Already signed in (e.g. in another tab): nothing to do here. Not during enrolment, whose
  // recovery codes must be seen first.
  const alreadySignedIn = auth.status === 'signed_in' && step.kind !== 'recovery-codes';
  useEffect(() => {
    if (alreadySignedIn) navigate(next, { replace: true });
  }, [alreadySignedIn, next]);
  const note = auth.status === 'signed_out' && auth.reason ? SIGNED_OUT_NOTES[auth.reason] : null;

  return (
    <Page title="Sign in">
      {note && step.kind === 'password' && <p className="note">{note}</p>}
      {step.kind === 'password' && (
        <PasswordStep
          carriedError={passwordError}
          onSignedIn={finish}
          onNext={(kind) => {
            setPasswordError(null);
            setStep({ kind });
          }}
        />
      )}
      {(step.kind === 'code' || step.kind === 'recovery-code') && (
        <SecondFactorStep
          useRecoveryCode={step.kind === 'recovery-code'}
          onSwitch={() => setStep({ kind: step.kind === 'code' ? 'recovery-code' : 'code' })}
          onSignedIn={finish}
          onExpired={(err) => {
            setPasswordError(err);
            setStep({ kind: 'password' });
          }}
        />
      )}
      {step.kind === 'enrol' && (
        <MfaEnrollment
          mode="pending"
          onConfirmed={({ recoveryCodes, signedIn }) =>
            setStep({ kind: 'recovery-codes', codes: recoveryCodes, signedIn })
          }
        />
      )}
      {step.kind === 'recovery-codes' && (
        <RecoveryCodes
          codes={step.codes}
          onDone={() => (step.signedIn ? finish(step.signedIn) : navigate('/'))}
        />
      )}
    </Page>
  );
}

interface PasswordStepProps {
  carriedError: unknown;
  onSignedIn: (signedIn: SignedIn) => void;
  onNext: (kind: 'code' | 'enrol') => void;
}

function PasswordStep({ carriedError, onSignedIn, onNext }: PasswordStepProps) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<{ email?: string; password?: string }>({});
  const submission = useSubmission();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: typeof errors = {};
    if (!email.includes('@')) found.email = 'Enter your email address.';
    if (password === '') found.password = 'Enter your password.';
    setErrors(found);
    if (found.email || found.password) return submission.invalid();
    void submission.run(async () => {
      const answer = await sessionStore.credentialCall('/api/auth/session', decodeSignInAnswer, {
        email: email.trim(),
        password,
      });
      if (answer.status === 'signed_in') onSignedIn(answer.signedIn);
      else onNext(answer.status === 'mfa_required' ? 'code' : 'enrol');
    });
  };

  return (
    <form ref={submission.formRef} onSubmit={submit} noValidate className="stack">
      <Field
        label="Email"
        type="email"
        autoComplete="username"
        required
        value={email}
        onValueChange={setEmail}
        error={errors.email}
      />
      <Field
        label="Password"
        type="password"
        autoComplete="current-password"
        required
        value={password}
        onValueChange={setPassword}
        error={errors.password}
      />
      <ProblemAlert error={submission.error ?? carriedError} />
      <SubmitButton busy={submission.busy}>Sign in</SubmitButton>
      <p>
        <Link to="/forgot-password">Forgot your password?</Link>
      </p>
    </form>
  );
}

interface SecondFactorStepProps {
  useRecoveryCode: boolean;
  onSwitch: () => void;
  onSignedIn: (signedIn: SignedIn) => void;
  onExpired: (err: unknown) => void;
}

function SecondFactorStep({
  useRecoveryCode,
  onSwitch,
  onSignedIn,
  onExpired,
}: SecondFactorStepProps) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | undefined>();
  const submission = useSubmission();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = value.replace(/\s+/g, '');
    const valid = useRecoveryCode ? trimmed.length >= 10 : /^\d{6}$/.test(trimmed);
    if (!valid) {
      setError(
        useRecoveryCode
          ? 'Enter one of your recovery codes.'
          : 'Enter the 6-digit code from your authenticator app.',
      );
      return submission.invalid();
    }
    setError(undefined);
    void submission.run(async () => {
      try {
        const body = useRecoveryCode ? { recoveryCode: trimmed } : { code: trimmed };
        onSignedIn(await sessionStore.credentialCall('/api/auth/mfa', decodeSignedIn, body));
      } catch (err) {
        if (hasCode(err, 'MFA_PENDING_EXPIRED')) onExpired(err);
        else throw err;
      }
    });
  };

  return (
    <form ref={submission.formRef} onSubmit={submit} noValidate className="stack">
      <h2>{useRecoveryCode ? 'Use a recovery code' : 'Two-factor authentication'}</h2>
      {useRecoveryCode ? (
        <Field
          label="Recovery code"
          autoComplete="off"
          required
          value={value}
          onValueChange={setValue}
          error={error}
        />
      ) : (
        <CodeField value={value} onValueChange={setValue} error={error} />
      )}
      <ProblemAlert error={submission.error} />
      <SubmitButton busy={submission.busy}>Verify</SubmitButton>
      <button
        type="button"
        className="link-button"
        onClick={() => {
          setValue('');
          setError(undefined);
          submission.reset();
          onSwitch();
        }}
      >
        {useRecoveryCode ? 'Use your authenticator app instead' : 'Use a recovery code instead'}
      </button>
    </form>
  );
}
