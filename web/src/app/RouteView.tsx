import { useEffect } from 'react';
import { hasScope, useAuth } from '../auth/useAuth';
import { Link, navigate, usePathname } from '../shared/router';
import { Page } from '../shared/Page';
import { matchRoute } from './routes';

/** Renders the page for the current path, sending signed-out visitors of private pages to sign in. */
export function RouteView() {
  const pathname = usePathname();
  const auth = useAuth();
  const match = matchRoute(pathname);
  const route = match?.route;
  const mustSignIn = route?.access === 'signed-in' && auth.status === 'signed_out';
  // Back to this page after signing in only when the session ended without the person choosing
  // to leave (idle, expired). After a deliberate sign-out the next person at this computer must
  // not land on the page the last one had open (a patient's record, opened in their name).
  const returnHere =
    auth.status === 'signed_out' &&
    auth.reason !== 'signed_out' &&
    auth.reason !== 'signed_out_elsewhere';

  useEffect(() => {
    if (!mustSignIn) return;
    // The query too: `?tab=notes` brings the person back to the tab whose unsaved note waits.
    const next = returnHere ? `?next=${encodeURIComponent(pathname + location.search)}` : '';
    navigate(`/sign-in${next}`, { replace: true });
  }, [mustSignIn, returnHere, pathname]);

  if (!match || !route) {
    return (
      <Page title="Page not found">
        <p>
          There is no page at this address. If you followed a link, it may be incomplete.{' '}
          <Link to="/">Go to the home page</Link>
        </p>
      </Page>
    );
  }
  if (route.access === 'anyone') return route.render();
  if (auth.status !== 'signed_in') return <p role="status">Loading…</p>;
  if (route.scope && !hasScope(auth.session, route.scope)) {
    // Right after sign-in the scopes are still on their way from /api/auth/me.
    if (auth.session.scopes === null) return <p role="status">Loading…</p>;
    return (
      <Page title="Not allowed">
        <p>
          Your account does not have access to this page. If you need it, ask your administrator.{' '}
          <Link to="/">Go to the home page</Link>
        </p>
      </Page>
    );
  }
  return route.render(auth.session, match.id);
}
