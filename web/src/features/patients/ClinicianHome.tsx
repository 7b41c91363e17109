/**
 * The clinician's home widgets from the patients feature (issue 14): the patients they opened
 * most recently in the active organization, and the organization's consent documents.
 */
import { RecentPatients } from '@haven/contract';
import { sessionStore } from '../../auth/sessionStore';
import { formatDateTime } from '../../shared/dates';
import { HomePanel } from '../../shared/HomePanel';
import { Link } from '../../shared/router';
import { answerOf } from '../../shared/schemaDecoding';
import { useResource } from '../../shared/useResource';
import { useOrganizationKey, useOrganizations } from '../organizations';
import { decodeDocuments, kindLabel } from './consents/consentsApi';
import { fullName, patientPagePath } from './patientsApi';

const decodeRecentPatients = answerOf(RecentPatients);

/** The caller's own most recently opened patients, newest first, by name and MRN. */
export function RecentPatientsHome() {
  const organizations = useOrganizations();
  const ready = organizations.status === 'ready';
  // Without an active organization there is nothing to ask: say why instead of failing.
  const unchosen = ready && organizations.active === null;
  const organizationKey = useOrganizationKey();
  const recent = useResource(
    organizationKey && !unchosen ? `${organizationKey}:recent-patients` : null,
    () => sessionStore.api('GET', '/api/patients/recent', decodeRecentPatients),
  );
  const patients = recent.data?.patients ?? [];
  const empty = unchosen
    ? organizations.organizations.length === 0
      ? 'You are not a member of an organization yet.'
      : 'Choose the organization to work in (at the top of the page) to see your recent patients.'
    : recent.data && patients.length === 0
      ? 'No patients viewed yet. Find a patient to open their record.'
      : null;
  return (
    <HomePanel
      title="Recent patients"
      testId="recent-patients"
      loading={!unchosen && recent.data === null}
      loadingText="Loading your recent patients…"
      error={recent.error}
      empty={empty}
      more={{ to: '/patients', label: 'Find a patient' }}
    >
      <ul className="plain-list" aria-label="Recent patients">
        {patients.map((p) => (
          <li key={p.id}>
            <Link to={patientPagePath(p.id)}>{fullName(p)}</Link>{' '}
            <span className="subtle">
              MRN {p.mrn} · opened {formatDateTime(p.viewedAt)}
            </span>
            {p.archived && <span className="badge badge-muted">Archived</span>}
          </li>
        ))}
      </ul>
    </HomePanel>
  );
}

/** The active organization's current consent documents, required ones first. */
export function ConsentDocumentsHome() {
  const organizationKey = useOrganizationKey();
  const documents = useResource(organizationKey && `${organizationKey}:home-documents`, () =>
    sessionStore.api('GET', '/api/consent-documents', decodeDocuments),
  );
  const current = (documents.data ?? [])
    .filter((d) => d.current)
    .sort((a, b) => Number(b.required) - Number(a.required) || a.title.localeCompare(b.title));
  const required = current.filter((d) => d.required).length;
  return (
    <HomePanel
      title="Consent documents"
      testId="consent-documents"
      loading={documents.data === null}
      loadingText="Loading consent documents…"
      error={documents.error}
      empty={
        documents.data && current.length === 0 ? 'No consent documents are published yet.' : null
      }
      more={{ to: '/organization/consent-documents', label: 'Publish or read the documents' }}
    >
      <p>
        {current.length === 1 ? '1 document is' : `${current.length} documents are`} in use;{' '}
        {required === 0 ? 'none is' : required === 1 ? '1 is' : `${required} are`} required before
        care.
      </p>
      <ul className="plain-list" aria-label="Consent documents in use">
        {current.map((d) => (
          <li key={d.id}>
            {d.title}{' '}
            <span className="subtle">
              {kindLabel(d.kind)}, version {d.version}
              {d.required ? ', required' : ', optional'}
            </span>
          </li>
        ))}
      </ul>
    </HomePanel>
  );
}
