import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { navigate } from '../../shared/router';
import { MfaEnrollment, RecoveryCodes } from '../mfa';

/** The end of every onboarding: enrol TOTP, show the recovery codes once, go home signed in. */
export function EnrolThenShowCodes() {
  const [codes, setCodes] = useState<string[] | null>(null);
  if (!codes) {
    return (
      <MfaEnrollment
        mode="pending"
        onConfirmed={({ recoveryCodes, signedIn }) => {
          if (signedIn) sessionStore.adopt(signedIn);
          setCodes(recoveryCodes);
        }}
      />
    );
  }
  return (
    <RecoveryCodes
      codes={codes}
      onDone={() => navigate('/', { replace: true })}
      doneLabel="Continue to Haven"
    />
  );
}
