/**
 * The patient's home widgets from the portal (issue 14): their record in a line, consents still
 * to review, notes shared with them and who recently opened their record.
 */
import { sessionStore } from '../../auth/sessionStore';
import { hasCode } from '../../shared/api';
import { formatDate, formatDateTime } from '../../shared/dates';
import { HomePanel } from '../../shared/HomePanel';
import { useResource } from '../../shared/useResource';
import {
  accessLogPath,
  decodeAccessPage,
  decodePortalConsents,
  decodePortalNotes,
  decodePortalRecord,
  describeAction,
  groupByDayAndPerson,
} from './portalApi';

const SHOWN = 5;
const PORTAL = { to: '/portal', label: 'See your full record' };

export function PatientHome() {
  const record = useResource('home:portal-record', () =>
    sessionStore.api('GET', '/api/portal/record', decodePortalRecord),
  );
  if (hasCode(record.error, 'NOT_FOUND')) {
    return (
      <HomePanel title="Your record" testId="patient-record">
        <p>
          No patient record is linked to your account yet. Your care team can send you a portal
          invitation.
        </p>
      </HomePanel>
    );
  }
  const data = record.data;
  return (
    <>
      <HomePanel
        title="Your record"
        testId="patient-record"
        loading={data === null}
        loadingText="Loading your record…"
        error={record.error}
        more={PORTAL}
      >
        {data && (
          <p>
            {data.patient.givenName} {data.patient.familyName}, born{' '}
            {formatDate(data.patient.birthDate)}, is a patient of {data.organization.name} (MRN{' '}
            {data.patient.mrn}).
          </p>
        )}
      </HomePanel>
      {data && (
        <>
          <ConsentsToReview />
          <SharedNotesHome />
          <RecentAccessHome />
        </>
      )}
    </>
  );
}

function ConsentsToReview() {
  const consents = useResource('home:portal-consents', () =>
    sessionStore.api('GET', '/api/portal/consents', decodePortalConsents),
  );
  const data = consents.data;
  const open = (data?.documents ?? []).filter(
    (d) => !data?.consents.some((c) => c.documentId === d.id && c.withdrawnAt === null),
  );
  return (
    <HomePanel
      title="Consents to review"
      testId="patient-consents"
      loading={data === null}
      loadingText="Loading your consents…"
      error={consents.error}
      empty={data && open.length === 0 ? 'You have no consents to review.' : null}
      more={{ to: '/portal', label: 'Review your consents' }}
    >
      <ul className="plain-list" aria-label="Consents to review">
        {open.map((d) => (
          <li key={d.id}>
            {d.title}{' '}
            <span className="subtle">{d.required ? 'required by your care team' : 'optional'}</span>
          </li>
        ))}
      </ul>
    </HomePanel>
  );
}

function SharedNotesHome() {
  const notes = useResource('home:portal-notes', () =>
    sessionStore.api('GET', '/api/portal/notes', decodePortalNotes),
  );
  const list = [...(notes.data ?? [])].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  return (
    <HomePanel
      title="Notes from your care team"
      testId="patient-notes"
      loading={notes.data === null}
      loadingText="Loading notes…"
      error={notes.error}
      empty={notes.data && list.length === 0 ? 'Your care team has not shared a note yet.' : null}
      more={{ to: '/portal', label: 'Read all notes' }}
    >
      <ul className="plain-list" aria-label="Notes from your care team">
        {list.slice(0, SHOWN).map((n) => (
          <li key={n.id}>
            {n.author.displayName}, {formatDateTime(n.updatedAt)}:{' '}
            <span className="subtle">
              {n.body.length > 120 ? `${n.body.slice(0, 117)}…` : n.body}
            </span>
          </li>
        ))}
      </ul>
    </HomePanel>
  );
}

function RecentAccessHome() {
  const page = useResource('home:portal-access', () =>
    sessionStore.api('GET', accessLogPath(null), decodeAccessPage),
  );
  const others = (page.data?.entries ?? []).filter((e) => e.actor.kind !== 'you');
  // One line per person a day, as the full access list groups them.
  const lines = groupByDayAndPerson(others)
    .flatMap(({ day, people }) => people.map((person) => ({ day, person })))
    .slice(0, SHOWN);
  return (
    <HomePanel
      title="Recent access to your record"
      testId="patient-access"
      loading={page.data === null}
      loadingText="Loading who opened your record…"
      error={page.error}
      empty={page.data && others.length === 0 ? 'Nobody else has opened your record yet.' : null}
      more={{ to: '/portal', label: 'Everyone who opened your record' }}
    >
      <ul className="plain-list" aria-label="Recent access to your record">
        {lines.map(({ day, person }) => (
          <li key={`${day}-${person.key}`}>
            {person.displayName}{' '}
            <span className="subtle">
              {formatDate(day)}:{' '}
              {person.actions.map((a) => describeAction(a.action).toLowerCase()).join(', ')}
            </span>
            {person.kind === 'break_glass' && (
              <span className="badge badge-muted">Emergency access</span>
            )}
          </li>
        ))}
      </ul>
    </HomePanel>
  );
}
