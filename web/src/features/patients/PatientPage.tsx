import { sessionStore, type ActiveSession } from '../../auth/sessionStore';
import { hasScope } from '../../auth/useAuth';
import { hasCode } from '../../shared/api';
import { Page } from '../../shared/Page';
import { Link } from '../../shared/router';
import { useResource } from '../../shared/useResource';
import { FilesSection } from '../files';
import { ClinicalProblem, useOrganizationKey } from '../organizations';
import { ConsentsSection } from './consents/ConsentsSection';
import { DemographicsSection } from './DemographicsSection';
import { NotesSection } from './notes/NotesSection';
import { decodePatientAnswer, fullName, patientPath } from './patientsApi';
import { PortalInvitationSection } from './PortalInvitationSection';

/** One patient: demographics, consents, notes, documents and the portal invitation. */
export function PatientPage({ patientId, session }: { patientId: string; session: ActiveSession }) {
  const organizationKey = useOrganizationKey();
  const patient = useResource(organizationKey && `${organizationKey}:${patientId}`, () =>
    sessionStore.api('GET', patientPath(patientId), decodePatientAnswer),
  );
  const canWrite = hasScope(session, 'patients:write');
  const canWriteNotes = hasScope(session, 'notes:write');
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
        {!patient.error && <p role="status">Loading the patient…</p>}
      </Page>
    );
  }

  const writable = canWrite && !p.archived;
  return (
    <Page title={fullName(p)}>
      <p>
        <Link to="/patients">All patients</Link>
      </p>
      {p.archived && (
        <p className="banner" role="status">
          This patient is archived: the record is read-only until it is restored.
        </p>
      )}
      <DemographicsSection patient={p} canWrite={canWrite} onChanged={patient.reload} />
      <ConsentsSection patientId={p.id} canWrite={writable} />
      <NotesSection patientId={p.id} canWrite={canWriteNotes && !p.archived} />
      {hasScope(session, 'files:read') && (
        <FilesSection
          session={session}
          patientId={p.id}
          canUpload={!p.archived}
          title="Documents"
        />
      )}
      {canWrite && (
        <PortalInvitationSection patient={p} canWrite={writable} onChanged={patient.reload} />
      )}
    </Page>
  );
}
