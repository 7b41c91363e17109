import { hasScope, useAuth } from '../auth/useAuth';
import { HealthPage } from '../features/health';
import { useActiveRole } from '../features/organizations';
import { ParticipantHome, ResearcherHome } from '../features/reviews';
import { Link } from '../shared/router';
import { Page } from '../shared/Page';
import { roleLabel } from '../shared/roles';

export function HomePage() {
  const auth = useAuth();
  // The active organization's role names an org admin, whose account role is 'clinician'.
  const organizationRole = useActiveRole();
  return (
    <Page title="Haven">
      {auth.status === 'signed_in' ? (
        <section className="panel" aria-labelledby="summary-title">
          <h2 id="summary-title">Signed in</h2>
          <p>
            Welcome, <span data-testid="home-display-name">{auth.session.user.displayName}</span> (
            {auth.session.user.email}).
          </p>
          <p>
            Role:{' '}
            <span data-testid="home-role">
              {roleLabel({ roles: auth.session.user.roles, organizationRole })}
            </span>
          </p>
          <p>
            <Link to="/account">Manage your account</Link>
          </p>
        </section>
      ) : auth.status === 'signed_out' ? (
        <p>
          <Link to="/sign-in">Sign in</Link> to use Haven.
        </p>
      ) : null}
      {auth.status === 'signed_in' && hasScope(auth.session, 'studies:read') && <ResearcherHome />}
      {auth.status === 'signed_in' && hasScope(auth.session, 'reviews:read') && <ParticipantHome />}
      <HealthPage />
    </Page>
  );
}
