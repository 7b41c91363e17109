import { FileList } from '@haven/contract';
import { sessionStore } from '../../auth/sessionStore';
import { formatDateTime } from '../../shared/dates';
import { ProblemAlert } from '../../shared/forms';
import { formatPhone } from '../../shared/phone';
import { memberOf } from '../../shared/schemaDecoding';
import { Skeleton } from '../../shared/Skeleton';
import { useResource } from '../../shared/useResource';
import { useOrganizationCountry } from '../organizations';
import { decodePatientConsents } from './consents/consentsApi';
import { ConsentGateStatus } from './consents/ConsentViews';
import { decodeNotes } from './notes/notesApi';
import { patientPath, type Patient } from './patientsApi';
import type { PatientTab } from './PatientPage';

/** How many of the newest notes the summary shows. */
const LATEST_NOTES = 3;
/** A note's first characters in the summary; the Notes tab has the rest. */
const EXCERPT_LENGTH = 240;

const decodeFiles = memberOf(FileList, 'files');
/** The files route answers at most this many (server: FILE_LIST_LIMIT). */
const FILE_LIST_LIMIT = 200;

interface Props {
  patient: Patient;
  showDocuments: boolean;
  onOpenTab: (tab: PatientTab) => void;
}

/** The record at a glance: key facts, the newest notes, the consent gate, the documents count. */
export function PatientSummary({ patient, showDocuments, onOpenTab }: Props) {
  const country = useOrganizationCountry();
  const notes = useResource(`summary-notes:${patient.id}`, () =>
    sessionStore.api('GET', patientPath(patient.id, '/notes'), decodeNotes),
  );
  const consents = useResource(`summary-consents:${patient.id}`, () =>
    sessionStore.api('GET', patientPath(patient.id, '/consents'), decodePatientConsents),
  );
  const files = useResource(showDocuments ? `summary-files:${patient.id}` : null, () =>
    sessionStore.api('GET', `/api/files?patientId=${encodeURIComponent(patient.id)}`, decodeFiles),
  );
  const open = (tab: PatientTab, text: string) => (
    <a
      href={`?tab=${tab}`}
      onClick={(event) => {
        event.preventDefault();
        onOpenTab(tab);
      }}
    >
      {text}
    </a>
  );
  const phone = patient.contactMethods.find((c) => c.type === 'phone');
  const email = patient.contactMethods.find((c) => c.type === 'email');

  return (
    <div className="summary-grid">
      <section className="panel stack" aria-labelledby="summary-facts-title">
        <h2 id="summary-facts-title">Key facts</h2>
        <dl className="facts">
          <dt>Phone</dt>
          <dd>{phone ? formatPhone(phone.value, country) : 'None recorded'}</dd>
          <dt>Email</dt>
          <dd>{email?.value ?? 'None recorded'}</dd>
          <dt>Portal</dt>
          <dd>{patient.portalLinked ? 'Invited or linked' : 'Not invited'}</dd>
          <dt>Updated</dt>
          <dd>{formatDateTime(patient.updatedAt)}</dd>
        </dl>
        <p>{open('demographics', 'All demographics')}</p>
      </section>

      <section className="panel stack" aria-labelledby="summary-notes-title">
        <h2 id="summary-notes-title">Latest notes</h2>
        <ProblemAlert error={notes.error} />
        {notes.data === null ? (
          !notes.error && <Skeleton label="Loading the latest notes…" />
        ) : notes.data.length === 0 ? (
          <p>No notes yet.</p>
        ) : (
          <ul className="summary-notes" aria-label="Latest notes">
            {notes.data.slice(0, LATEST_NOTES).map((note) => (
              <li key={note.id}>
                <p className="card-title">
                  {note.current.author.displayName} · {formatDateTime(note.current.createdAt)}
                </p>
                <p className="note-body">{excerpt(note.current.body)}</p>
              </li>
            ))}
          </ul>
        )}
        <p>
          {open(
            'notes',
            notes.data && notes.data.length > 0
              ? `All notes (${notes.data.length})`
              : 'Go to notes',
          )}
        </p>
      </section>

      <section className="panel stack" aria-labelledby="summary-consents-title">
        <h2 id="summary-consents-title">Consent status</h2>
        <ProblemAlert error={consents.error} />
        {consents.data === null ? (
          !consents.error && <Skeleton label="Loading the consent status…" lines={2} />
        ) : (
          <ConsentGateStatus gate={consents.data.gate} />
        )}
        <p>{open('consents', 'All consents')}</p>
      </section>

      {showDocuments && (
        <section className="panel stack" aria-labelledby="summary-documents-title">
          <h2 id="summary-documents-title">Documents</h2>
          <ProblemAlert error={files.error} />
          {files.data === null ? (
            !files.error && <Skeleton label="Loading the document count…" lines={1} />
          ) : (
            <p data-testid="document-count">
              {files.data.length === 0
                ? 'No documents yet.'
                : files.data.length >= FILE_LIST_LIMIT
                  ? `${FILE_LIST_LIMIT} or more documents`
                  : files.data.length === 1
                    ? '1 document'
                    : `${files.data.length} documents`}
            </p>
          )}
          <p>{open('documents', 'All documents')}</p>
        </section>
      )}
    </div>
  );
}

function excerpt(body: string): string {
  const flat = body.replace(/\s+/gu, ' ').trim();
  return flat.length <= EXCERPT_LENGTH ? flat : `${flat.slice(0, EXCERPT_LENGTH).trimEnd()}…`;
}
