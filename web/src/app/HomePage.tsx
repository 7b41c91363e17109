/**
 * The home page (issue 14): one page per role, composed of the widgets each feature exports
 * (`XxxHome`). Clinicians see their recent patients, unfinished work and quick actions;
 * organization administrators also their members, invitations and consent documents;
 * administrators users, organizations, security events and system health; patients their
 * record; researchers and participants their studies and next case; visitors a welcome.
 * Anyone signed in sees the invitations waiting for their answer: to join an organization, to
 * see a record a clinic keeps, to take part in a study.
 */
import { useState } from 'react';
import type { ActiveSession } from '../auth/sessionStore';
import { hasScope, useAuth } from '../auth/useAuth';
import { UsersHome } from '../features/admin';
import { SecurityEventsHome } from '../features/audit';
import { OpenGrantsHome } from '../features/breakglass';
import { UnfinishedUploadsHome } from '../features/files';
import { HealthPage } from '../features/health';
import {
  OrganizationAdminHome,
  OrganizationInvitationsHome,
  OrganizationsHome,
  useActiveRole,
  useOrganizations,
} from '../features/organizations';
import { ConsentDocumentsHome, RecentPatientsHome } from '../features/patients';
import { PatientHome, PortalInvitationsHome } from '../features/portal';
import { ParticipantHome, ResearcherHome, StudyInvitationsHome } from '../features/reviews';
import { HomePanel } from '../shared/HomePanel';
import { Link } from '../shared/router';
import { Page } from '../shared/Page';
import { roleLabel } from '../shared/roles';

export function HomePage() {
  const auth = useAuth();
  if (auth.status === 'signed_in') return <SignedInHome session={auth.session} />;
  return (
    <Page title="Haven">
      {auth.status === 'signed_out' && <Welcome />}
      <HealthPage />
    </Page>
  );
}

function Welcome() {
  return (
    <section
      className="panel stack home-panel"
      aria-labelledby="welcome-title"
      data-testid="home-welcome"
    >
      <h2 id="welcome-title">Welcome to Haven</h2>
      <p>
        Haven keeps your clinic&apos;s patient records, consents and notes in one place, and lets
        patients see their own record and who opened it.
      </p>
      <p>
        <Link className="button" to="/sign-in">
          Sign in
        </Link>
      </p>
      <p>
        <Link to="/forgot-password">Forgot your password?</Link> If you were invited, follow the
        link in your invitation email.
      </p>
    </section>
  );
}

function SignedInHome({ session }: { session: ActiveSession }) {
  // The active organization's role names an org admin, whose account role is 'clinician'.
  const organizationRole = useActiveRole();
  const user = session.user;
  const can = (scope: string) => hasScope(session, scope);
  const isAdmin = user.roles.includes('admin');
  const isStaff = can('patients:read');
  const isOrgAdmin = isStaff && organizationRole === 'org_admin';
  const [linkedRecords, setLinkedRecords] = useState(0);
  const [joinedStudies, setJoinedStudies] = useState(0);
  return (
    <Page title="Haven">
      <section className="panel stack home-panel" aria-labelledby="summary-title">
        <h2 id="summary-title">
          Welcome, <span data-testid="home-display-name">{user.displayName}</span>
        </h2>
        <p>
          Signed in as {user.email} ·{' '}
          <span data-testid="home-role">{roleLabel({ roles: user.roles, organizationRole })}</span>
          {' · '}
          <Link to="/account">Manage your account</Link>
        </p>
      </section>
      <OrganizationInvitationsHome session={session} />
      <PortalInvitationsHome
        session={session}
        onLinked={() => setLinkedRecords((count) => count + 1)}
      />
      <StudyInvitationsHome
        session={session}
        onJoined={() => setJoinedStudies((count) => count + 1)}
      />
      {isStaff && (
        <>
          <QuickActions can={can} />
          <RecentPatientsHome />
          {can('files:write') && <UnfinishedUploadsHome />}
        </>
      )}
      {isOrgAdmin && (
        <>
          <OrganizationAdminHome />
          <ConsentDocumentsHome />
        </>
      )}
      {isAdmin && (
        <>
          {can('users:read') && <UsersHome />}
          {can('orgs:manage') && <OrganizationsHome />}
          {can('audit:read') && <SecurityEventsHome />}
          {can('breakglass:request') && <OpenGrantsHome />}
          <HealthPage />
        </>
      )}
      {/* Read again once an invitation linked a record. */}
      {can('portal:read') && <PatientHome key={linkedRecords} />}
      {can('studies:read') && <ResearcherHome />}
      {/* Read again once an invitation made the person a participant. */}
      {can('reviews:read') && <ParticipantHome key={joinedStudies} />}
    </Page>
  );
}

/** Shortcuts to what the person may do, and only that: each needs its scope. */
function QuickActions({ can }: { can: (scope: string) => boolean }) {
  const organizations = useOrganizations();
  const active = organizations.status === 'ready' ? organizations.active : null;
  const actions = [
    { scope: 'patients:write', to: '/patients', label: 'Register a patient' },
    { scope: 'patients:read', to: '/patients', label: 'Find a patient' },
    { scope: 'files:write', to: '/files', label: 'Upload a file' },
    {
      scope: 'patients:read',
      to: '/organization/consent-documents',
      label: 'Read the consent forms',
    },
  ].filter((a) => can(a.scope));
  return (
    <HomePanel
      title={active ? `Quick actions in ${active.name}` : 'Quick actions'}
      testId="quick-actions"
    >
      <ul className="home-actions" aria-label="Quick actions">
        {actions.map((a) => (
          <li key={a.label}>
            <Link className="button secondary" to={a.to}>
              {a.label}
            </Link>
          </li>
        ))}
      </ul>
    </HomePanel>
  );
}
