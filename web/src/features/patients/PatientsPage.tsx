import { useEffect, useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { formatDate, formatDateTime } from '../../shared/dates';
import { hasKeptDraft } from '../../shared/drafts';
import { Page } from '../../shared/Page';
import { PageNav, useCursorPages } from '../../shared/paging';
import { SkeletonTable } from '../../shared/Skeleton';
import { Link } from '../../shared/router';
import { useResource } from '../../shared/useResource';
import { ClinicalProblem, useOrganizationKey } from '../organizations';
import { CreatePatientForm, newPatientDraftKey } from './CreatePatientForm';
import { PatientSearchForm } from './PatientSearchForm';
import {
  PATIENT_PAGE_SIZE,
  decodePatientPage,
  fullName,
  patientPagePath,
  sexLabel,
  type PatientSearch,
  type PatientSort,
  type SortDirection,
} from './patientsApi';
import { SortableHeader } from './SortableHeader';
import './patients.css';

/**
 * Patients of the active organization: search (a POST, so names and birth dates never reach
 * a URL), cursor paging, and a form to register a new patient.
 */
export function PatientsPage() {
  const organizationKey = useOrganizationKey();
  const [filters, setFilters] = useState<PatientSearch>({});
  const [order, setOrder] = useState<{ sort: PatientSort; direction: SortDirection }>({
    sort: 'name',
    direction: 'asc',
  });
  const pages = useCursorPages();
  const { cursor } = pages;
  const search: PatientSearch = {
    ...filters,
    ...order,
    limit: PATIENT_PAGE_SIZE,
    ...(cursor ? { cursor } : {}),
  };
  const key = organizationKey && `${organizationKey}:${JSON.stringify(search)}`;
  const { data: page, error } = useResource(key, () =>
    sessionStore.api('POST', '/api/patients/search', decodePatientPage, search),
  );
  const [showCreate, setShowCreate] = useState(false);
  // A registration left unsaved (another page, an ended session) opens again with its details.
  useEffect(() => {
    if (organizationKey && hasKeptDraft(newPatientDraftKey(organizationKey))) setShowCreate(true);
  }, [organizationKey]);

  const runSearch = (next: PatientSearch) => {
    pages.first();
    setFilters(next);
  };
  /** A header pressed again reverses its order; a new one starts ascending (updated: newest). */
  const sortBy = (sort: PatientSort) => {
    pages.first();
    setOrder((current) =>
      current.sort === sort
        ? { sort, direction: current.direction === 'asc' ? 'desc' : 'asc' }
        : { sort, direction: sort === 'updated' ? 'desc' : 'asc' },
    );
  };
  const header = (sort: PatientSort, label: string) => (
    <SortableHeader
      label={label}
      direction={order.sort === sort ? order.direction : null}
      onSort={() => sortBy(sort)}
    />
  );
  const first = pages.depth * PATIENT_PAGE_SIZE + 1;

  return (
    <Page title="Patients">
      <section className="panel stack" aria-labelledby="patient-search-title">
        <h2 id="patient-search-title">Find a patient</h2>
        <PatientSearchForm onSearch={runSearch} />
        <ClinicalProblem error={error} />
        <p className="result-count" role="status" data-testid="patient-count">
          {page === null
            ? ''
            : page.total === 0
              ? ''
              : `${page.total === 1 ? '1 patient' : `${page.total} patients`}${
                  page.total > page.patients.length
                    ? `, showing ${first}–${first + page.patients.length - 1}`
                    : ''
                }`}
        </p>
        {page === null ? (
          !error && <SkeletonTable label="Loading patients…" columns={6} />
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
                  {header('name', 'Name')}
                  {header('mrn', 'MRN')}
                  <th scope="col">Birth date</th>
                  <th scope="col">Sex</th>
                  <th scope="col">Status</th>
                  {header('updated', 'Updated')}
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
                    <td data-label="Updated" className="nowrap">
                      {formatDateTime(p.updatedAt)}
                    </td>
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
