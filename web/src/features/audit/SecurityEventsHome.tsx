/**
 * The administrator's home widget from the audit log (issue 14): recent sign-in lockouts,
 * refresh-token reuse and break-glass activity, by person, newest first.
 */
import { sessionStore } from '../../auth/sessionStore';
import { formatDateTime } from '../../shared/dates';
import { HomePanel } from '../../shared/HomePanel';
import { useResource } from '../../shared/useResource';
import { auditSearchPath, decodeAuditPage, type AuditEntry, type AuditFilters } from './auditApi';

const SHOWN = 8;

/** The searches the panel merges (each a family, a prefix or an exact action). */
const SEARCHES: readonly AuditFilters[] = [
  { action: 'auth.login', outcome: 'failure' },
  { action: 'auth.refresh_reuse' },
  { action: 'breakglass' },
];

const WORDS: Readonly<Record<string, string>> = {
  'auth.login': 'was locked out after repeated failed sign-ins',
  'auth.refresh_reuse': 'had a session ended: a used sign-in token was presented again',
  'breakglass.granted': 'opened a patient record with emergency access',
  'breakglass.revoked': 'ended emergency access',
  'breakglass.denied': 'was refused emergency access',
  'breakglass.refused': 'was refused emergency access',
};

/** The events worth an administrator's look: lockouts (not every typo), reuse, break-glass. */
function isSecurityEvent(entry: AuditEntry): boolean {
  if (entry.action === 'auth.login') {
    return (entry.details as Record<string, unknown>).reason === 'backoff';
  }
  return entry.action in WORDS;
}

function describe(entry: AuditEntry): string {
  const who = entry.actorDisplayName ?? (entry.actorType === 'user' ? 'A user' : 'Someone');
  const what = WORDS[entry.action] ?? entry.action;
  const whom =
    entry.action.startsWith('breakglass.') && entry.targetName ? ` (${entry.targetName})` : '';
  return `${who} ${what}${whom}`;
}

export function SecurityEventsHome() {
  const events = useResource('home:security-events', async () => {
    const pages = await Promise.all(
      SEARCHES.map((filters) =>
        sessionStore.api('GET', auditSearchPath(filters, null), decodeAuditPage),
      ),
    );
    return pages
      .flatMap((page) => page.events)
      .filter(isSecurityEvent)
      .sort((a, b) => Number(BigInt(b.seq) - BigInt(a.seq)))
      .slice(0, SHOWN);
  });
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
