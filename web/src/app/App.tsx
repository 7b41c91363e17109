import { useEffect } from 'react';
import { IdleWarning } from '../auth/IdleWarning';
import { SessionPoller } from '../auth/SessionPoller';
import { StepUpDialog } from '../auth/StepUpDialog';
import { sessionStore, type ActiveSession } from '../auth/sessionStore';
import { hasScope, useAuth } from '../auth/useAuth';
import { OrganizationSwitcher, OrganizationSync, useActiveRole } from '../features/organizations';
import { useFileDropGuard } from '../shared/fileDrops';
import { Link, navigate, usePathname } from '../shared/router';
import { Toasts } from '../shared/Toast';
import { matchRoute } from './routes';
import { RouteView } from './RouteView';

/** Application frame: landmarks shared by every page; the router renders pages inside <main>. */
export function App() {
  const auth = useAuth();
  const pathname = usePathname();
  useFileDropGuard();

  useEffect(() => {
    void sessionStore.boot();
  }, []);

  // A session that ends (sign-out elsewhere, revoked, idle) sends a private page to sign-in.
  const signedOutReason = auth.status === 'signed_out' ? auth.reason : null;
  useEffect(() => {
    const path = location.pathname;
    if (signedOutReason && (path === '/' || matchRoute(path)?.route.access === 'signed-in')) {
      navigate('/sign-in', { replace: true });
    }
  }, [signedOutReason]);

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      <header className="app-header">
        <div className="container header-row">
          <Link to="/" className="app-title">
            Haven
          </Link>
          <MainNav pathname={pathname} />
        </div>
        {auth.status === 'signed_in' && hasScope(auth.session, 'orgs:read') && (
          <div className="container">
            <OrganizationSwitcher />
          </div>
        )}
      </header>
      <main id="main" className="app-main container" tabIndex={-1}>
        <RouteView />
      </main>
      <footer className="app-footer">
        <div className="container">Haven · secure clinical-data platform</div>
      </footer>
      {/* One toast region for the whole app: a success said on one page survives the move to the next. */}
      <Toasts />
      <SessionPoller />
      <IdleWarning />
      <StepUpDialog />
      <OrganizationSync />
    </div>
  );
}

/**
 * Pages that are themselves a way in — signing in, first-admin setup, accepting an invitation,
 * each of which may end in MFA enrolment: a "Sign in" link there would only lead away from a
 * half-finished step.
 */
const SIGN_IN_FLOWS: ReadonlySet<string> = new Set(['/sign-in', '/setup', '/invite']);

function MainNav({ pathname }: { pathname: string }) {
  const auth = useAuth();
  const activeRole = useActiveRole();
  const current = (path: string) =>
    pathname === path ? 'page' : pathname.startsWith(`${path}/`) ? 'location' : undefined;
  return (
    <nav aria-label="Main" className="main-nav">
      <ul>
        {auth.status === 'signed_in' ? (
          <>
            {hasScope(auth.session, 'users:read') && (
              <li>
                <Link to="/admin/users" aria-current={current('/admin/users')}>
                  Users
                </Link>
              </li>
            )}
            {navEntries(auth.session, activeRole).map(([path, label]) => (
              <li key={path}>
                <Link to={path} aria-current={current(path)}>
                  {label}
                </Link>
              </li>
            ))}
            <li>
              <Link to="/account" aria-current={current('/account')}>
                Account
              </Link>
            </li>
            <li>
              <button
                type="button"
                className="link-button"
                onClick={() => void sessionStore.signOut()}
              >
                Sign out
              </button>
            </li>
          </>
        ) : auth.status === 'signed_out' && !SIGN_IN_FLOWS.has(pathname) ? (
          <li>
            <Link to="/sign-in" aria-current={current('/sign-in')}>
              Sign in
            </Link>
          </li>
        ) : null}
      </ul>
    </nav>
  );
}

/** The clinical pages a session can use, each shown only with the scope (and role) it needs. */
function navEntries(session: ActiveSession, activeRole: string | null): Array<[string, string]> {
  const entries: Array<[string, string, boolean]> = [
    ['/patients', 'Patients', hasScope(session, 'patients:read')],
    ['/organization/members', 'Members', hasScope(session, 'orgs:members')],
    [
      '/organization/consent-documents',
      'Consent documents',
      hasScope(session, 'orgs:members') && activeRole === 'org_admin',
    ],
    [
      '/organization/connected-systems',
      'Connected systems',
      hasScope(session, 'orgs:members') && activeRole === 'org_admin',
    ],
    ['/portal', 'My record', hasScope(session, 'portal:read')],
    ['/admin/organizations', 'Organizations', hasScope(session, 'orgs:manage')],
    ['/break-glass', 'Break-glass', hasScope(session, 'breakglass:request')],
    ['/admin/audit', 'Audit log', hasScope(session, 'audit:read')],
    ['/admin/oauth-clients', 'Connected systems', hasScope(session, 'oauth:manage')],
    ['/studies', 'Studies', hasScope(session, 'studies:read')],
    ['/reviews', 'My studies', hasScope(session, 'reviews:read')],
    ['/files', 'My files', hasScope(session, 'files:read')],
    ['/files/buckets', 'Storage', hasScope(session, 'files:write')],
  ];
  return entries.filter(([, , allowed]) => allowed).map(([path, label]) => [path, label]);
}
