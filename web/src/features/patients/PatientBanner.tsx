import { useEffect, useRef } from 'react';
import { formatDate } from '../../shared/dates';
import { ageLabel } from './patientFormat';
import { fullName, sexLabel, type Patient } from './patientsApi';

/**
 * The patient page's header: who this is at a glance (name, age, MRN, status), a region named
 * by the patient's name. It holds the page's one <h1>, so it also does what <Page> does: the
 * document title, and focus on the name on arrival.
 */
export function PatientBanner({ patient }: { patient: Patient }) {
  const name = fullName(patient);
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${name} · Haven`;
    headingRef.current?.focus();
  }, [name]);
  const age = ageLabel(patient.birthDate);
  return (
    <section
      className={`patient-banner${patient.archived ? ' archived' : ''}`}
      aria-labelledby="patient-name"
      data-testid="patient-banner"
    >
      <h1 id="patient-name" ref={headingRef} tabIndex={-1} className="page-title">
        {name}
      </h1>
      <dl className="banner-facts">
        <div>
          <dt>Age</dt>
          <dd data-testid="patient-age">{age ?? 'Unknown'}</dd>
        </div>
        <div>
          <dt>Born</dt>
          <dd className="nowrap">{formatDate(patient.birthDate)}</dd>
        </div>
        <div>
          <dt>Sex</dt>
          <dd>{sexLabel(patient.sex)}</dd>
        </div>
        <div>
          <dt>MRN</dt>
          <dd className="nowrap" data-testid="patient-mrn">
            {patient.mrn}
          </dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>
            <span className={patient.archived ? 'status-pill archived' : 'status-pill'}>
              {patient.archived ? 'Archived' : 'Active'}
            </span>
          </dd>
        </div>
      </dl>
    </section>
  );
}
