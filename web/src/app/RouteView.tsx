import { useEffect } from 'react';
import { hasScope, useAuth } from '../auth/useAuth';
import { navigate, usePathname } from '../shared/router';
import { Page } from '../shared/Page';
import { matchRoute } from './routes';

/** Renders the page for the current path, sending signed-out visitors of private pages to sign in. */
export function RouteView() {
  const pathname = usePathname();
  const auth = useAuth();
  const match = matchRoute(pathname);
  const route = match?.route;
  const mustSignIn = route?.access === 'signed-in' && auth.status === 'signed_out';

  useEffect(() => {
    if (mustSignIn) navigate(`/sign-in?next=${encodeURIComponent(pathname)}`, { replace: true });
  }, [mustSignIn, pathname]);

  if (!match || !route) {
    return (
      <Page title="Page not found">
        <p>There is no page at this address.</p>
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
        <p>Your account does not have access to this page.</p>
      </Page>
    );
  }
  return route.render(auth.session, match.id);
}
