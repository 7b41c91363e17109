import { useEffect, useId, useState, type FormEvent } from 'react';
import { hasScope, useAuth } from '../../auth/useAuth';
import { problemSummary } from '../../shared/api';
import { navigate, usePathname } from '../../shared/router';
import { organizationStore, useOrganizations } from './organizationStore';
import { roleLabel } from '../../shared/roles';

/** Keeps the membership list in step with the session: loaded for members, dropped at sign-out. */
export function OrganizationSync() {
  const auth = useAuth();
  const userId =
    auth.status === 'signed_in' && hasScope(auth.session, 'orgs:read')
      ? auth.session.user.id
      : null;
  useEffect(() => {
    if (userId) organizationStore.ensureLoaded(userId);
    else organizationStore.reset();
  }, [userId]);
  return null;
}

/** Header control: the active organization, and a switch between the member's organizations. */
export function OrganizationSwitcher() {
  const auth = useAuth();
  const state = useOrganizations();
  const accountRoles = auth.status === 'signed_in' ? auth.session.user.roles : [];
  const pathname = usePathname();
  const selectId = useId();
  const [choice, setChoice] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const activeId = state.status === 'ready' ? (state.active?.id ?? '') : '';

  useEffect(() => setChoice(activeId), [activeId]);

  if (state.status === 'idle' || state.status === 'loading') return null;
  if (state.status === 'error') {
    return (
      <div className="org-switcher" role="alert">
        <span>Organizations could not be loaded: {problemSummary(state.error).message}</span>{' '}
        <button
          type="button"
          className="link-button"
          onClick={() => void organizationStore.load(state.userId)}
        >
          Retry
        </button>
      </div>
    );
  }
  if (state.organizations.length === 0) {
    return (
      <p className="org-switcher" data-testid="active-organization">
        You are not a member of any organization yet.
      </p>
    );
  }

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!choice || choice === activeId) return;
    setBusy(true);
    setError(null);
    organizationStore
      .switchTo(choice)
      .then(() => {
        // A patient belongs to one organization: leave its page rather than show a 404.
        if (pathname.startsWith('/patients/')) navigate('/patients');
      })
      .catch((err: unknown) => setError(err))
      .finally(() => setBusy(false));
  };

  return (
    <form className="org-switcher" onSubmit={submit} aria-label="Active organization">
      <p className="org-current" role="status" data-testid="active-organization">
        {state.active ? (
          <>
            Working in <strong>{state.active.name}</strong> (
            <span data-testid="header-role">
              {roleLabel({ roles: accountRoles, organizationRole: state.active.role })}
            </span>
            )
          </>
        ) : (
          'Choose the organization to work in.'
        )}
      </p>
      {state.organizations.length > 1 && (
        <div className="org-choice">
          <label htmlFor={selectId}>Organization</label>
          <select id={selectId} value={choice} onChange={(e) => setChoice(e.target.value)}>
            {!state.active && <option value="">Choose…</option>}
            {state.organizations.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </select>
          <button
            type="submit"
            className="button secondary"
            disabled={busy || !choice || choice === activeId}
            aria-busy={busy}
          >
            Switch
          </button>
        </div>
      )}
      {error !== null && (
        <p className="field-error" role="alert">
          {problemSummary(error).message}
        </p>
      )}
    </form>
  );
}
