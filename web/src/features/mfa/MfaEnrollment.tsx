import { useEffect, useState, type FormEvent } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { CodeField, ProblemAlert, SubmitButton, useSubmission } from '../../shared/forms';
import {
  decodeEnrollment,
  decodeEnrollmentConfirmed,
  groupSecret,
  svgDataUrl,
  type Enrollment,
  type EnrollmentConfirmed,
} from './mfaApi';

interface MfaEnrollmentProps {
  /** `pending`: finishing a sign-in or onboarding (pending cookie); `signed-in`: from /account. */
  mode: 'pending' | 'signed-in';
  onConfirmed: (result: EnrollmentConfirmed) => void;
}

const ENDPOINTS = {
  pending: {
    start: (): Promise<Enrollment> =>
      sessionStore.credentialCall('/api/auth/mfa/enrollment', decodeEnrollment),
    confirm: (code: string): Promise<EnrollmentConfirmed> =>
      sessionStore.credentialCall('/api/auth/mfa/enrollment/confirm', decodeEnrollmentConfirmed, {
        code,
      }),
  },
  'signed-in': {
    start: (): Promise<Enrollment> =>
      sessionStore.api('POST', '/api/account/mfa/enrollment', decodeEnrollment, {}),
    confirm: (code: string): Promise<EnrollmentConfirmed> =>
      sessionStore.api('POST', '/api/account/mfa/enrollment/confirm', decodeEnrollmentConfirmed, {
        code,
      }),
  },
} as const;

/** TOTP enrolment (A9): QR code and typed secret, then one code to prove the app works. */
export function MfaEnrollment({ mode, onConfirmed }: MfaEnrollmentProps) {
  const endpoints = ENDPOINTS[mode];
  const [enrollment, setEnrollment] = useState<Enrollment | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [code, setCode] = useState('');
  const [codeError, setCodeError] = useState<string | undefined>();
  const submission = useSubmission();

  useEffect(() => {
    let active = true;
    endpoints
      .start()
      .then((e) => active && setEnrollment(e))
      .catch((err: unknown) => active && setLoadError(err));
    return () => {
      active = false;
    };
  }, [endpoints]);

  if (loadError) return <ProblemAlert error={loadError} />;
  if (!enrollment) return <p role="status">Preparing your authenticator setup…</p>;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!/^\d{6}$/.test(code)) {
      setCodeError('Enter the 6-digit code from your authenticator app.');
      submission.invalid();
      return;
    }
    setCodeError(undefined);
    void submission.run(async () => {
      const result = await endpoints.confirm(code);
      onConfirmed(result);
    });
  };

  return (
    <section className="panel" aria-labelledby="mfa-enrol-title">
      <h2 id="mfa-enrol-title">Set up two-factor authentication</h2>
      <ol className="steps">
        <li>Open an authenticator app (for example FreeOTP, Aegis or Google Authenticator).</li>
        <li>
          Scan this QR code:
          <img
            className="qr"
            src={svgDataUrl(enrollment.qrSvg)}
            alt="QR code with your Haven authenticator secret"
          />
        </li>
        <li>
          Or enter this setup key by hand:{' '}
          <code className="totp-secret">{groupSecret(enrollment.secret)}</code>
        </li>
      </ol>
      <form ref={submission.formRef} onSubmit={submit} noValidate>
        <CodeField
          value={code}
          onValueChange={setCode}
          error={codeError}
          label="Code from your authenticator app"
        />
        <ProblemAlert error={submission.error} />
        <SubmitButton busy={submission.busy}>Confirm</SubmitButton>
      </form>
    </section>
  );
}
