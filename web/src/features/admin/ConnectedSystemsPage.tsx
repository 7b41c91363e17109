/** The pages of connected systems (A12): every client for platform administrators, an
 * organization's own for its administrators (the active organization). */
import { ProblemAlert } from '../../shared/forms';
import { Page } from '../../shared/Page';
import { useOrganizations } from '../organizations';
import { ConnectedSystems } from './ConnectedSystems';

const INTRODUCTION =
  'Other systems reach Haven through OAuth, never with a shared password: a machine integration signs in with its own secret, an app for patients only with the permission each patient gives. Every change here asks for your authenticator code.';

export function AdminConnectedSystemsPage() {
  return (
    <Page title="Connected systems">
      <p>{INTRODUCTION}</p>
      <ConnectedSystems scope={{ type: 'platform' }} />
    </Page>
  );
}

export function OrganizationConnectedSystemsPage() {
  const organizations = useOrganizations();
  const active = organizations.status === 'ready' ? organizations.active : null;
  if (!active || active.role !== 'org_admin') {
    return (
      <Page title="Connected systems">
        {organizations.status === 'error' ? (
          <ProblemAlert error={organizations.error} />
        ) : organizations.status === 'ready' ? (
          <p>
            {active
              ? `Only an administrator of ${active.name} manages its connected systems.`
              : 'Choose an organization with the switcher at the top of the page.'}
          </p>
        ) : (
          <p role="status">Loading…</p>
        )}
      </Page>
    );
  }
  return (
    <Page title={`Connected systems of ${active.name}`}>
      <p>{INTRODUCTION}</p>
      <ConnectedSystems
        key={active.id}
        scope={{ type: 'organization', organizationId: active.id }}
      />
    </Page>
  );
}
