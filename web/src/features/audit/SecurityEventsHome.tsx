/**
 * The administrator's home widget from the audit log (issue 14): recent sign-in lockouts,
 * refresh-token reuse and break-glass activity, by person, newest first. The server chooses the
 * events (GET /api/admin/audit-events/security): one request, one audit event per visit.
 */
import { sessionStore } from '../../auth/sessionStore';
import { formatDateTime } from '../../shared/dates';
import { HomePanel } from '../../shared/HomePanel';
import { useResource } from '../../shared/useResource';
import { decodeSecurityEvents, securityEventsPath, type AuditEntry } from './auditApi';

const SHOWN = 8;

const LOCKED_OUT_OF_CODES = 'was locked out after repeated wrong sign-in codes';

const WORDS: Readonly<Record<string, string>> = {
  'auth.login': 'was locked out after repeated failed sign-ins',
  'auth.mfa': LOCKED_OUT_OF_CODES,
  'auth.step_up': LOCKED_OUT_OF_CODES,
  'auth.refresh_reuse': 'had a session ended: a used sign-in token was presented again',
  'breakglass.granted': 'opened a patient record with emergency access',
  'breakglass.revoked': 'ended emergency access',
  'breakglass.denied': 'was refused emergency access',
  'breakglass.refused': 'was refused emergency access',
};

function describe(entry: AuditEntry): string {
  // A lockout before sign-in has no actor; the code steps name the account as the target.
  const who =
    entry.actorDisplayName ??
    (entry.actorType === 'user' ? 'A user' : (entry.targetName ?? 'Someone'));
  const what = WORDS[entry.action] ?? entry.action;
  const whom =
    entry.action.startsWith('breakglass.') && entry.targetName ? ` (${entry.targetName})` : '';
  return `${who} ${what}${whom}`;
}

export function SecurityEventsHome() {
  const events = useResource(
    'home:security-events',
    async () =>
      (await sessionStore.api('GET', securityEventsPath(SHOWN), decodeSecurityEvents)).events,
  );
  const list = events.data ?? [];
  return (
    <HomePanel
      title="Recent security events"
      testId="security-events"
      loading={events.data === null}
      loadingText="Loading security events…"
      error={events.error}
      empty={
        events.data && list.length === 0
          ? 'No lockouts, reused sign-in tokens or emergency access recently.'
          : null
      }
      more={{ to: '/admin/audit', label: 'Search all events' }}
    >
      <ul className="plain-list" aria-label="Recent security events">
        {list.map((e) => (
          <li key={e.id}>
            {describe(e)} <span className="subtle">{formatDateTime(e.occurredAt)}</span>
          </li>
        ))}
      </ul>
    </HomePanel>
  );
}
