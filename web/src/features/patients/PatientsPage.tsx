import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { formatDate } from '../../shared/dates';
import { Page } from '../../shared/Page';
import { PageNav, useCursorPages } from '../../shared/paging';
import { Link } from '../../shared/router';
import { useResource } from '../../shared/useResource';
import { ClinicalProblem, useOrganizationKey } from '../organizations';
import { CreatePatientForm } from './CreatePatientForm';
import { PatientSearchForm } from './PatientSearchForm';
import {
  PATIENT_PAGE_SIZE,
  decodePatientPage,
  fullName,
  patientPagePath,
  sexLabel,
  type PatientSearch,
} from './patientsApi';

/**
 * Patients of the active organization: search (a POST, so names and birth dates never reach
 * a URL), cursor paging, and a form to register a new patient.
 */
export function PatientsPage() {
  const organizationKey = useOrganizationKey();
  const [filters, setFilters] = useState<PatientSearch>({});
  const pages = useCursorPages();
  const { cursor } = pages;
  const search: PatientSearch = {
    ...filters,
    limit: PATIENT_PAGE_SIZE,
    ...(cursor ? { cursor } : {}),
  };
  const key = organizationKey && `${organizationKey}:${JSON.stringify(search)}`;
  const { data: page, error } = useResource(key, () =>
    sessionStore.api('POST', '/api/patients/search', decodePatientPage, search),
  );
  const [showCreate, setShowCreate] = useState(false);

  const runSearch = (next: PatientSearch) => {
    pages.first();
    setFilters(next);
  };

  return (
    <Page title="Patients">
      <section className="panel stack" aria-labelledby="patient-search-title">
        <h2 id="patient-search-title">Find a patient</h2>
        <PatientSearchForm onSearch={runSearch} />
        <ClinicalProblem error={error} />
        {page === null ? (
          !error && <p role="status">Loading patients…</p>
        ) : page.patients.length === 0 ? (
          <p>
            {pages.depth > 0
              ? 'No more patients.'
              : Object.keys(filters).length > 0
                ? 'No patients match this search.'
                : 'No patients yet. Register the first one below.'}
          </p>
        ) : (
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Search results">
            <table className="table stacked">
              <caption className="visually-hidden">Patients</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">MRN</th>
                  <th scope="col">Birth date</th>
                  <th scope="col">Sex</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {page.patients.map((p) => (
                  <tr key={p.id}>
                    <th scope="row">
                      <Link to={patientPagePath(p.id)}>{fullName(p)}</Link>
                    </th>
                    <td data-label="MRN" className="nowrap">
                      {p.mrn}
                    </td>
                    <td data-label="Birth date" className="nowrap">
                      {formatDate(p.birthDate)}
                    </td>
                    <td data-label="Sex">{sexLabel(p.sex)}</td>
                    <td data-label="Status">{p.archived ? 'Archived' : 'Active'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <PageNav label="Pages of patients" pages={pages} nextCursor={page?.nextCursor} />
      </section>
      <section className="panel stack" aria-labelledby="patient-create-title">
        <h2 id="patient-create-title">Register a patient</h2>
        <button
          type="button"
          className="button start"
          aria-expanded={showCreate}
          aria-controls="patient-create-form"
          onClick={() => setShowCreate((open) => !open)}
        >
          {showCreate ? 'Close the form' : 'New patient'}
        </button>
        {showCreate && (
          <div id="patient-create-form">
            <CreatePatientForm onCancel={() => setShowCreate(false)} />
          </div>
        )}
      </section>
    </Page>
  );
}
