import { useEffect } from 'react';
import { IdleWarning } from '../auth/IdleWarning';
import { SessionPoller } from '../auth/SessionPoller';
import { StepUpDialog } from '../auth/StepUpDialog';
import { sessionStore } from '../auth/sessionStore';
import { hasScope, useAuth } from '../auth/useAuth';
import { Link, navigate, usePathname } from '../shared/router';
import { ROUTES } from './routes';
import { RouteView } from './RouteView';

/** Application frame: landmarks shared by every page; the router renders pages inside <main>. */
export function App() {
  const auth = useAuth();
  const pathname = usePathname();

  useEffect(() => {
    void sessionStore.boot();
  }, []);

  // A session that ends (sign-out elsewhere, revoked, idle) sends a private page to sign-in.
  const signedOutReason = auth.status === 'signed_out' ? auth.reason : null;
  useEffect(() => {
    const path = location.pathname;
    if (signedOutReason && (path === '/' || ROUTES[path]?.access === 'signed-in')) {
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
      </header>
      <main id="main" className="app-main container" tabIndex={-1}>
        <RouteView />
      </main>
      <footer className="app-footer">
        <div className="container">Haven · secure clinical-data platform</div>
      </footer>
      <SessionPoller />
      <IdleWarning />
      <StepUpDialog />
    </div>
  );
}

function MainNav({ pathname }: { pathname: string }) {
  const auth = useAuth();
  const current = (path: string) => (pathname === path ? 'page' : undefined);
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
        ) : auth.status === 'signed_out' ? (
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
