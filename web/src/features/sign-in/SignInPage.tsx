import { useEffect, useState } from 'react';
import { decodeSignInAnswer, decodeSignedIn, type SignedIn } from '../../auth/authTypes';
import { sessionStore, type SignedOutReason } from '../../auth/sessionStore';
import { useAuth } from '../../auth/useAuth';
import { hasCode } from '../../shared/api';
import { CodeField, Field, codeProblem } from '../../shared/fields';
import { FormFooter, ProblemAlert, SubmissionForm, SubmitButton } from '../../shared/forms';
import { useForm } from '../../shared/submission';
import { Page } from '../../shared/Page';
import { Link, navigate, safeLocalPath, useSearchParam } from '../../shared/router';
import { MfaEnrollment, RecoveryCodes } from '../mfa';
import { emailProblem } from '../../shared/patterns';

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
  const form = useForm({ email: '', password: '' });

  const submit = () => {
    const { email, password } = form.values;
    const problems = {
      email: emailProblem(email, 'Enter your email address.'),
      password: password === '' ? 'Enter your password.' : undefined,
    };
    if (!form.validate(problems)) return;
    void form.run(async () => {
      const answer = await sessionStore.credentialCall('/api/auth/session', decodeSignInAnswer, {
        email: email.trim(),
        password,
      });
      if (answer.status === 'signed_in') onSignedIn(answer);
      else onNext(answer.status === 'mfa_required' ? 'code' : 'enrol');
    });
  };

  return (
    <SubmissionForm submission={form} onSubmit={submit}>
      <Field label="Email" type="email" autoComplete="username" required {...form.bind('email')} />
      <Field
        label="Password"
        type="password"
        autoComplete="current-password"
        required
        {...form.bind('password')}
      />
      <ProblemAlert error={form.error ?? carriedError} />
      <SubmitButton busy={form.busy}>Sign in</SubmitButton>
      <p>
        <Link to="/forgot-password">Forgot your password?</Link>
      </p>
    </SubmissionForm>
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
  const form = useForm({ code: '' });
  // The step replaces the password form (whose button had focus): the code input takes it, so
  // a keyboard or screen-reader user is where the code goes, not at the page's start.
  const { formRef } = form;
  useEffect(() => {
    formRef.current?.querySelector('input')?.focus();
  }, [formRef, useRecoveryCode]);

  const submit = () => {
    const trimmed = form.values.code.replace(/\s+/g, '');
    const problem = !useRecoveryCode
      ? codeProblem(trimmed)
      : trimmed.length < 10
        ? 'Enter one of your recovery codes.'
        : undefined;
    if (!form.validate({ code: problem })) return;
    void form.run(async () => {
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
    <SubmissionForm submission={form} onSubmit={submit}>
      <h2>{useRecoveryCode ? 'Use a recovery code' : 'Two-factor authentication'}</h2>
      {useRecoveryCode ? (
        <Field label="Recovery code" autoComplete="off" required {...form.bind('code')} />
      ) : (
        <CodeField {...form.bind('code')} />
      )}
      <FormFooter submission={form}>Verify</FormFooter>
      <button
        type="button"
        className="link-button"
        onClick={() => {
          form.clear('code');
          form.reset();
          onSwitch();
        }}
      >
        {useRecoveryCode ? 'Use your authenticator app instead' : 'Use a recovery code instead'}
      </button>
    </SubmissionForm>
  );
}
