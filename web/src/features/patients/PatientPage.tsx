import { sessionStore, type ActiveSession } from '../../auth/sessionStore';
import { hasScope } from '../../auth/useAuth';
import { hasCode } from '../../shared/api';
import { Page } from '../../shared/Page';
import { Link, navigate, usePathname, useSearchParam } from '../../shared/router';
import { Skeleton } from '../../shared/Skeleton';
import { useResource } from '../../shared/useResource';
import { FilesSection } from '../files';
import { ClinicalProblem, useOrganizationKey } from '../organizations';
import { ConsentsSection } from './consents/ConsentsSection';
import { DemographicsSection } from './DemographicsSection';
import { NotesSection } from './notes/NotesSection';
import { PatientBanner } from './PatientBanner';
import { decodePatientAnswer, patientPath } from './patientsApi';
import { PatientSummary } from './PatientSummary';
import { PortalInvitationSection } from './PortalInvitationSection';
import { RecordTabs, focusTab, type RecordTab } from './RecordTabs';
import './patients.css';

export type PatientTab = 'summary' | 'demographics' | 'consents' | 'notes' | 'documents' | 'portal';

const TABS: ReadonlyArray<RecordTab<PatientTab>> = [
  { id: 'summary', label: 'Summary' },
  { id: 'demographics', label: 'Demographics' },
  { id: 'consents', label: 'Consents' },
  { id: 'notes', label: 'Notes' },
  { id: 'documents', label: 'Documents' },
  { id: 'portal', label: 'Portal invitation' },
];

/**
 * One patient: a banner (name, age, MRN, status) over tabs — summary, demographics, consents,
 * notes, documents (with files:read) and the portal invitation (with patients:write). The tab
 * is in the address (`?tab=notes`), so a reload or Back comes back to it.
 */
export function PatientPage({ patientId, session }: { patientId: string; session: ActiveSession }) {
  const organizationKey = useOrganizationKey();
  const patient = useResource(organizationKey && `${organizationKey}:${patientId}`, () =>
    sessionStore.api('GET', patientPath(patientId), decodePatientAnswer),
  );
  const pathname = usePathname();
  const requested = useSearchParam('tab');
  const canWrite = hasScope(session, 'patients:write');
  const canWriteNotes = hasScope(session, 'notes:write');
  const canReadFiles = hasScope(session, 'files:read');
  const tabs = TABS.filter(
    (t) => (t.id !== 'documents' || canReadFiles) && (t.id !== 'portal' || canWrite),
  );
  const tab = tabs.find((t) => t.id === requested)?.id ?? 'summary';
  const p = patient.data;

  if (!p) {
    const notFound = hasCode(patient.error, 'NOT_FOUND');
    return (
      <Page title={notFound ? 'Patient not found' : 'Patient'}>
        {notFound ? (
          <p>
            There is no such patient in the active organization.{' '}
            <Link to="/patients">Back to the patient list</Link>
          </p>
        ) : (
          <ClinicalProblem error={patient.error} />
        )}
        {!patient.error && <Skeleton label="Loading the patient…" lines={6} />}
      </Page>
    );
  }

  // Replace, not push: arrowing through tabs must not fill the history; Back leaves the page.
  const select = (next: PatientTab) =>
    navigate(next === 'summary' ? pathname : `${pathname}?tab=${next}`, { replace: true });
  const openTab = (next: PatientTab) => {
    select(next);
    // After the render that shows it, so the tab exists and is the tab stop.
    setTimeout(() => focusTab(next), 0);
  };
  const writable = canWrite && !p.archived;

  return (
    <div className="page stack patient-page">
      <p className="back-link">
        <Link to="/patients">All patients</Link>
      </p>
      <PatientBanner patient={p} />
      {p.archived && (
        <p className="banner" role="status">
          This patient is archived: the record is read-only until it is restored.
        </p>
      )}
      <RecordTabs label="Patient record" tabs={tabs} selected={tab} onSelect={select}>
        {tab === 'summary' && (
          <PatientSummary patient={p} showDocuments={canReadFiles} onOpenTab={openTab} />
        )}
        {tab === 'demographics' && (
          <DemographicsSection patient={p} canWrite={canWrite} onChanged={patient.reload} />
        )}
        {tab === 'consents' && <ConsentsSection patientId={p.id} canWrite={writable} />}
        {tab === 'notes' && (
          <NotesSection patientId={p.id} canWrite={canWriteNotes && !p.archived} />
        )}
        {tab === 'documents' && (
          <FilesSection
            session={session}
            patientId={p.id}
            canUpload={!p.archived}
            title="Documents"
          />
        )}
        {tab === 'portal' && (
          <PortalInvitationSection patient={p} canWrite={writable} onChanged={patient.reload} />
        )}
      </RecordTabs>
    </div>
  );
}
