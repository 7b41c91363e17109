import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { useAuth } from '../../auth/useAuth';
import { ConfirmAction } from '../../shared/ConfirmAction';
import { formatDateTime } from '../../shared/dates';
import { SelectField } from '../../shared/fields';
import { ActionOutcome, ProblemAlert } from '../../shared/forms';
import { useAction } from '../../shared/submission';
import { Page } from '../../shared/Page';
import { Link, useSearchParam } from '../../shared/router';
import { useResource } from '../../shared/useResource';
import { BreakGlassRequestForm } from './BreakGlassRequestForm';
import {
  decodeGrantAnswer,
  decodeGrants,
  grantListPath,
  grantPagePath,
  grantPatientName,
  type Grant,
  type GrantFilter,
} from './breakGlassApi';

const ENDED_NOTES: Record<string, string> = {
  expired: 'Your break-glass access expired; the record was closed.',
  left: 'You left the break-glass record.',
};

const FILTER_CHOICES = [
  { value: 'active', label: 'Active grants' },
  { value: 'ended', label: 'Ended grants' },
  { value: 'all', label: 'All grants' },
] as const;

/** Request emergency access to one record (step-up MFA), and every admin's grants with revoke. */
export function BreakGlassPage() {
  const auth = useAuth();
  const userId = auth.status === 'signed_in' ? auth.session.user.id : null;
  const ended = useSearchParam('ended');
  const [filter, setFilter] = useState<GrantFilter>('active');
  const path = grantListPath(filter);
  const grants = useResource(path, () => sessionStore.api('GET', path, decodeGrants));

  return (
    <Page title="Break-glass access">
      {ended && ENDED_NOTES[ended] && (
        <p className="banner" role="status">
          {ENDED_NOTES[ended]}
        </p>
      )}
      <BreakGlassRequestForm />
      <section className="panel stack" aria-labelledby="grants-title">
        <h2 id="grants-title">Grants</h2>
        <SelectField
          label="Show"
          value={filter}
          choices={FILTER_CHOICES}
          onValueChange={setFilter}
        />
        <ProblemAlert error={grants.error} />
        {grants.data === null ? (
          !grants.error && <p role="status">Loading grants…</p>
        ) : grants.data.length === 0 ? (
          <p>{filter === 'active' ? 'No active grants.' : 'No grants.'}</p>
        ) : (
          <ul className="cards" aria-label="Grants">
            {grants.data.map((g) => (
              <GrantCard
                key={g.id}
                grant={g}
                own={g.adminId === userId}
                onChanged={grants.reload}
              />
            ))}
          </ul>
        )}
      </section>
    </Page>
  );
}

function GrantCard({
  grant,
  own,
  onChanged,
}: {
  grant: Grant;
  own: boolean;
  onChanged: () => void;
}) {
  const revocation = useAction(onChanged);

  const revoke = () =>
    void revocation.act(async () => {
      await sessionStore.api(
        'POST',
        `/api/admin/break-glass/grants/${encodeURIComponent(grant.id)}/revoke`,
        decodeGrantAnswer,
        {},
      );
      return 'The grant was revoked.';
    });

  const state = grant.active ? 'Active' : grant.revokedAt ? 'Revoked' : 'Expired';
  return (
    <li className={grant.active ? 'card card-alert' : 'card'}>
      <p className="card-title">
        {grant.adminDisplayName}
        {own && <span className="badge">You</span>}
        <span className={grant.active ? 'badge badge-alert' : 'badge badge-muted'}>{state}</span>
      </p>
      <dl className="facts">
        <dt>Patient</dt>
        <dd>{grantPatientName(grant)}</dd>
        <dt>MRN</dt>
        <dd>{grant.patientMrn}</dd>
        <dt>Organization</dt>
        <dd>{grant.organizationName}</dd>
        <dt>Reason</dt>
        <dd>{grant.reason}</dd>
        <dt>Granted</dt>
        <dd>{formatDateTime(grant.createdAt)}</dd>
        <dt>{grant.active ? 'Expires' : 'Ended'}</dt>
        <dd>{formatDateTime(grant.revokedAt ?? grant.expiresAt)}</dd>
      </dl>
      <ActionOutcome action={revocation} />
      {grant.active && (
        <div className="actions">
          {own && (
            <Link className="button secondary" to={grantPagePath(grant.id)}>
              Open the record
            </Link>
          )}
          <ConfirmAction
            label="Revoke"
            ariaLabel={`Revoke the grant of ${grant.adminDisplayName} on ${grantPatientName(grant)} from ${formatDateTime(grant.createdAt)}`}
            consequence={`Revoke this grant now? ${own ? 'You lose' : `${grant.adminDisplayName} loses`} access to the record at once; a new request (with a fresh authenticator code) is needed to open it again.`}
            confirmLabel="Yes, revoke"
            busy={revocation.busy}
            onConfirm={revoke}
          />
        </div>
      )}
    </li>
  );
}
