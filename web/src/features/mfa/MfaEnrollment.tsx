import { useEffect, useRef } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { CodeField, codeProblem } from '../../shared/fields';
import { FormFooter, ProblemAlert, SubmissionForm } from '../../shared/forms';
import { useForm } from '../../shared/submission';
import { useResource } from '../../shared/useResource';
import {
  decodeAccountEnrollmentConfirmed,
  decodeEnrollment,
  decodePendingEnrollmentConfirmed,
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
      sessionStore.credentialCall(
        '/api/auth/mfa/enrollment/confirm',
        decodePendingEnrollmentConfirmed,
        { code },
      ),
  },
  'signed-in': {
    start: (): Promise<Enrollment> =>
      sessionStore.api('POST', '/api/account/mfa/enrollment', decodeEnrollment, {}),
    confirm: (code: string): Promise<EnrollmentConfirmed> =>
      sessionStore.api(
        'POST',
        '/api/account/mfa/enrollment/confirm',
        decodeAccountEnrollmentConfirmed,
        { code },
      ),
  },
} as const;

/** TOTP enrolment (A9): QR code and typed secret, then one code to prove the app works. */
export function MfaEnrollment({ mode, onConfirmed }: MfaEnrollmentProps) {
  const endpoints = ENDPOINTS[mode];
  // Keyed by mode: each start creates a new secret, so it runs once, not on every render.
  const started = useResource(mode, endpoints.start);
  const form = useForm({ code: '' });
  const enrollment = started.data;
  // The step replaces the form or button that led here: without this, focus would fall to the
  // page's start and a screen reader would not hear that the setup is now on the page.
  const headingRef = useRef<HTMLHeadingElement>(null);
  const ready = enrollment !== null;
  useEffect(() => {
    if (ready) headingRef.current?.focus();
  }, [ready]);

  if (started.error) return <ProblemAlert error={started.error} />;
  if (!enrollment) return <p role="status">Preparing your authenticator setup…</p>;

  const submit = () => {
    const { code } = form.values;
    if (!form.validate({ code: codeProblem(code) })) return;
    void form.run(async () => {
      const result = await endpoints.confirm(code);
      onConfirmed(result);
    });
  };

  return (
    <section className="panel" aria-labelledby="mfa-enrol-title">
      <h2 id="mfa-enrol-title" ref={headingRef} tabIndex={-1}>
        Set up two-factor authentication
      </h2>
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
      <SubmissionForm submission={form} onSubmit={submit}>
        <CodeField label="Code from your authenticator app" {...form.bind('code')} />
        <FormFooter submission={form}>Confirm</FormFooter>
      </SubmissionForm>
    </section>
  );
}
