import type { ActiveSession } from '../../auth/sessionStore';
import { Page } from '../../shared/Page';
import { ConnectedAppsSection } from '../connect';
import { ChangePasswordSection } from './ChangePasswordSection';
import { DataExportSection } from './DataExportSection';
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
      <ConnectedAppsSection />
      <DataExportSection />
    </Page>
  );
}
