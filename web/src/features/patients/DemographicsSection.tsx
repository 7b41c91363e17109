import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { ConfirmAction } from '../../shared/ConfirmAction';
import { formatDateTime } from '../../shared/dates';
import { hasKeptDraft } from '../../shared/drafts';
import { ProblemAlert } from '../../shared/forms';
import { useAction } from '../../shared/submission';
import { showToast } from '../../shared/Toast';
import { useOrganizationCountry } from '../organizations';
import { changedFields, draftOf, inputOf } from './patientDraft';
import { PatientFacts } from './PatientFacts';
import { PatientForm } from './PatientForm';
import {
  decodePatientAnswer,
  fullName,
  patientPath,
  type Patient,
  type PatientInput,
} from './patientsApi';

interface Props {
  patient: Patient;
  canWrite: boolean;
  onChanged: () => void;
}

/** Demographics and contact methods: view, edit (only the changed fields are sent), archive/restore. */
export function DemographicsSection({ patient, canWrite, onChanged }: Props) {
  // Changes left unsaved (another tab, an ended session) open the form again with them.
  const draftKey = `patient-edit:${patient.id}:${patient.updatedAt}`;
  const [editing, setEditing] = useState(() => hasKeptDraft(draftKey));
  const country = useOrganizationCountry();
  const archiving = useAction(onChanged);

  const setArchived = (archive: boolean) => {
    void archiving.act(async () => {
      await sessionStore.api(
        'POST',
        patientPath(patient.id, archive ? '/archive' : '/restore'),
        decodePatientAnswer,
        {},
      );
      showToast(archive ? 'The patient was archived.' : 'The patient was restored.');
    });
  };

  const save = async (input: PatientInput) => {
    const changes = changedFields(inputOf(draftOf(patient, country), country), input);
    if (Object.keys(changes).length > 0) {
      await sessionStore.api('PATCH', patientPath(patient.id), decodePatientAnswer, changes);
      showToast('The changes were saved.');
      onChanged();
    } else {
      showToast('Nothing changed.');
    }
    setEditing(false);
  };

  return (
    <section className="panel stack" aria-labelledby="demographics-title">
      <h2 id="demographics-title">Demographics</h2>
      {editing ? (
        <PatientForm
          initial={draftOf(patient, country)}
          keep={draftKey}
          country={country}
          submitLabel="Save changes"
          onCancel={() => setEditing(false)}
          onSubmit={save}
        />
      ) : (
        <>
          <PatientFacts patient={patient} phoneCountry={country} />
          <dl className="facts">
            <dt>Registered</dt>
            <dd>{formatDateTime(patient.createdAt)}</dd>
            <dt>Updated</dt>
            <dd>{formatDateTime(patient.updatedAt)}</dd>
            {patient.archivedAt && (
              <>
                <dt>Archived</dt>
                <dd>{formatDateTime(patient.archivedAt)}</dd>
              </>
            )}
          </dl>
          <ProblemAlert error={archiving.error} />
          {canWrite && (
            <div className="actions">
              {!patient.archived && (
                <button type="button" className="button" onClick={() => setEditing(true)}>
                  Edit demographics
                </button>
              )}
              {patient.archived ? (
                <button
                  type="button"
                  className="button secondary"
                  disabled={archiving.busy}
                  onClick={() => setArchived(false)}
                >
                  Restore patient
                </button>
              ) : (
                <ConfirmAction
                  label="Archive patient"
                  consequence={`Archive ${fullName(patient)}? The record becomes read-only: no edits, notes or consents until it is restored. Nothing is deleted.`}
                  confirmLabel="Yes, archive"
                  busy={archiving.busy}
                  onConfirm={() => setArchived(true)}
                />
              )}
            </div>
          )}
        </>
      )}
    </section>
  );
}
