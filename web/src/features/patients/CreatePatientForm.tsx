import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { navigate } from '../../shared/router';
import { emptyDraft } from './patientDraft';
import { PatientForm } from './PatientForm';
import { decodePatientAnswer, patientPagePath } from './patientsApi';

/** Registers a patient in the active organization, then opens the patient's page. */
export function CreatePatientForm({ onCancel }: { onCancel: () => void }) {
  const [initial] = useState(emptyDraft);
  return (
    <PatientForm
      initial={initial}
      submitLabel="Register patient"
      onCancel={onCancel}
      onSubmit={async (input) => {
        const patient = await sessionStore.api('POST', '/api/patients', decodePatientAnswer, input);
        navigate(patientPagePath(patient.id));
      }}
    />
  );
}
