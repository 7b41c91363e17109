import { PatientFacts } from './PatientFacts';
import type { PatientRecordView } from './patientsApi';

/** The record as the patient sees it (portal, and the read-only break-glass view). */
export function RecordView({ record, titleId }: { record: PatientRecordView; titleId: string }) {
  return (
    <section className="panel stack" aria-labelledby={titleId}>
      <h2 id={titleId}>Record</h2>
      <p>
        Held by <strong>{record.organization.name}</strong>
      </p>
      <PatientFacts patient={record.patient} phoneCountry={record.organization.country} />
    </section>
  );
}
