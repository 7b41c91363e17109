import { addressLines } from '../../shared/address';
import { countryName } from '../../shared/countries';
import { formatPhone } from '../../shared/phone';
import { formatBirthDate } from './patientFormat';
import { sexLabel, type Address, type PatientFactsView } from './patientsApi';

/**
 * Demographics as a definition list; every value is rendered as text. Phone numbers read in the
 * national form of `phoneCountry` (the organization's country), others internationally.
 */
export function PatientFacts({
  patient,
  phoneCountry,
}: {
  patient: PatientFactsView;
  phoneCountry: string;
}) {
  return (
    <dl className="facts" data-testid="patient-facts">
      <dt>Family name</dt>
      <dd data-testid="patient-family-name">{patient.familyName}</dd>
      <dt>Given name</dt>
      <dd data-testid="patient-given-name">{patient.givenName}</dd>
      <dt>MRN</dt>
      <dd>{patient.mrn}</dd>
      <dt>Birth date</dt>
      <dd>{formatBirthDate(patient.birthDate)}</dd>
      <dt>Sex</dt>
      <dd>{sexLabel(patient.sex)}</dd>
      <dt>Address</dt>
      <dd>{patient.address ? <AddressLines address={patient.address} /> : 'none recorded'}</dd>
      <dt>Contact</dt>
      <dd>
        {patient.contactMethods.length === 0 ? (
          'none recorded'
        ) : (
          <ul className="plain-list">
            {patient.contactMethods.map((c, i) => (
              <li key={i}>
                {c.type === 'phone'
                  ? `Phone: ${formatPhone(c.value, phoneCountry)}`
                  : `Email: ${c.value}`}
                {c.verified ? ' (verified)' : ' (not verified)'}
              </li>
            ))}
          </ul>
        )}
      </dd>
    </dl>
  );
}

function AddressLines({ address }: { address: Address }) {
  // In the order the address's own country writes it, then the country by name.
  const lines = [...addressLines(address), countryName(address.country)];
  return (
    <span className="address">
      {lines.map((line, i) => (
        <span key={i} className="address-line">
          {line}
        </span>
      ))}
    </span>
  );
}
