import { studyApi, type Study } from './reviewsApi';

const KINDS = [
  {
    kind: 'answers',
    label: 'Answers',
    about: 'one row per submitted answer, with timing and flags',
  },
  { kind: 'assignments', label: 'Assignments', about: 'who reviewed which case, in which arm' },
  { kind: 'analytics', label: 'Analytics', about: 'timing events and attention checks' },
  { kind: 'participants', label: 'Participants', about: 'the team’s participants and progress' },
] as const;

/** Downloads of the study's data; each one is recorded in the audit log. */
export function ExportsSection({ study }: { study: Study }) {
  return (
    <section className="panel stack" aria-labelledby="exports-title">
      <h2 id="exports-title">Exports</h2>
      <p>
        Every download is recorded in the audit log with your name, the study, the kind and the
        number of rows (never the content). CSV opens in a spreadsheet; NDJSON has one JSON object
        per line, for analysis scripts.
      </p>
      <ul className="cards export-list" aria-label="Exports">
        {KINDS.map(({ kind, label, about }) => (
          <li key={kind} className="card">
            <h3 className="card-title">{label}</h3>
            <p className="subtle">{about}</p>
            <div className="actions">
              {(['csv', 'ndjson'] as const).map((format) => (
                <a
                  key={format}
                  className="button secondary"
                  href={studyApi(study.id, `/exports/${kind}?format=${format}`)}
                  download
                >
                  {label} as {format === 'csv' ? 'CSV' : 'NDJSON'}
                </a>
              ))}
            </div>
          </li>
        ))}
      </ul>
      <h3>Study archive</h3>
      <p>
        One ZIP file for publication: the four exports as CSV, every questionnaire version and the
        case set as JSON.
      </p>
      <p>
        <a className="button" href={studyApi(study.id, '/exports/archive')} download>
          Download the study archive
        </a>
      </p>
    </section>
  );
}
