import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { navigate } from '../../shared/router';
import { showToast } from '../../shared/Toast';
import { useOrganizationCountry, useOrganizationKey } from '../organizations';
import { emptyDraft } from './patientDraft';
import { PatientForm } from './PatientForm';
import { decodePatientAnswer, patientPagePath } from './patientsApi';

/** The unsaved registration form of an organization, in the tab's draft memory. */
export const newPatientDraftKey = (organizationKey: string): string =>
  `patient-new:${organizationKey}`;

/** Registers a patient in the active organization, then opens the patient's page. */
export function CreatePatientForm({ onCancel }: { onCancel: () => void }) {
  const country = useOrganizationCountry();
  const organizationKey = useOrganizationKey();
  const [initial] = useState(() => emptyDraft(country));
  return (
    <PatientForm
      initial={initial}
      keep={organizationKey && newPatientDraftKey(organizationKey)}
      country={country}
      submitLabel="Register patient"
      onCancel={onCancel}
      onSubmit={async (input) => {
        const patient = await sessionStore.api('POST', '/api/patients', decodePatientAnswer, input);
        // The patient page's toast region shows it on arrival.
        showToast('The patient was registered.');
        navigate(patientPagePath(patient.id));
      }}
    />
  );
}
