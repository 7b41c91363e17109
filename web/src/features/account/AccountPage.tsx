import { Page } from '../../app/Page';
import type { ActiveSession } from '../../auth/sessionStore';
import { DataExportSection } from '../portal/DataExportSection';
import { ChangePasswordSection } from './ChangePasswordSection';
import { MfaSection } from './MfaSection';
import { ProfileSection } from './ProfileSection';
import { SessionsSection } from './SessionsSection';

export function AccountPage({ session }: { session: ActiveSession }) {
  return (
    <Page title="Your account">
      <ProfileSection user={session.user} />
      <ChangePasswordSection user={session.user} />
      <MfaSection />
      <SessionsSection />
      <DataExportSection />
    </Page>
  );
}
