import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { formatDateTime } from '../account/accountApi';
import { ConfirmAction } from '../../shared/ConfirmAction';
import { ProblemAlert, SuccessNote } from '../../shared/forms';
import { changedFields, draftOf, inputOf } from './patientDraft';
import { PatientForm } from './PatientForm';
import { PatientFacts } from './PatientFacts';
import { decodePatientAnswer, patientPath, type Patient } from './patientsApi';

interface Props {
  patient: Patient;
  canWrite: boolean;
  onChanged: () => void;
}

/** Demographics and contact methods: view, edit (only the changed fields are sent), archive/restore. */
export function DemographicsSection({ patient, canWrite, onChanged }: Props) {
  const [editing, setEditing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);

  const setArchived = async (archive: boolean) => {
    setBusy(true);
    setError(null);
    setNote(null);
    try {
      await sessionStore.api(
        'POST',
        patientPath(patient.id, archive ? '/archive' : '/restore'),
        decodePatientAnswer,
        {},
      );
      setNote(archive ? 'The patient was archived.' : 'The patient was restored.');
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel stack" aria-labelledby="demographics-title">
      <h2 id="demographics-title">Demographics</h2>
      {editing ? (
        <PatientForm
          initial={draftOf(patient)}
          submitLabel="Save changes"
          onCancel={() => setEditing(false)}
          onSubmit={async (input) => {
            const changes = changedFields(inputOf(draftOf(patient)), input);
            if (Object.keys(changes).length > 0) {
              await sessionStore.api(
                'PATCH',
                patientPath(patient.id),
                decodePatientAnswer,
                changes,
              );
              setNote('The changes were saved.');
              onChanged();
            } else {
              setNote('Nothing changed.');
            }
            setEditing(false);
          }}
        />
      ) : (
        <>
          <PatientFacts patient={patient} />
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
          {note && <SuccessNote>{note}</SuccessNote>}
          <ProblemAlert error={error} />
          {canWrite && (
            <div className="actions">
              {!patient.archived && (
                <button
                  type="button"
                  className="button"
                  onClick={() => {
                    setNote(null);
                    setEditing(true);
                  }}
                >
                  Edit demographics
                </button>
              )}
              {patient.archived ? (
                <button
                  type="button"
                  className="button secondary"
                  disabled={busy}
                  onClick={() => void setArchived(false)}
                >
                  Restore patient
                </button>
              ) : (
                <ConfirmAction
                  label="Archive patient"
                  consequence={`Archive ${patient.familyName}, ${patient.givenName}? The record becomes read-only: no edits, notes or consents until it is restored. Nothing is deleted.`}
                  confirmLabel="Yes, archive"
                  busy={busy}
                  onConfirm={() => void setArchived(true)}
                />
              )}
            </div>
          )}
        </>
      )}
    </section>
  );
}
