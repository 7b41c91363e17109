import { useState } from 'react';
import { formatDateTime, instantFromLocalInput } from '../../shared/dates';
import { Field } from '../../shared/fields';
import { SubmissionForm } from '../../shared/forms';
import { useForm } from '../../shared/submission';
import { studyApi, type Study } from './reviewsApi';

const KINDS = [
  {
    kind: 'answers',
    label: 'Answers',
    about: 'one row per submitted answer, with timing and flags',
    since: 'answers submitted',
  },
  {
    kind: 'assignments',
    label: 'Assignments',
    about: 'who reviewed which case, in which arm',
    since: 'assignments made',
  },
  {
    kind: 'analytics',
    label: 'Analytics',
    about: 'timing events and attention checks',
    since: 'timing and attention records last changed',
  },
  {
    kind: 'participants',
    label: 'Participants',
    about: 'the team’s participants and progress',
    since: 'participants who joined or left',
  },
] as const;

/** The server reads `since` as an RFC 3339 instant and refuses times before 1970. */
const EARLIEST_SINCE = Date.UTC(1970, 0, 1);

/** The download address of one export: `since` is the UTC instant, when one is chosen. */
function exportHref(studyId: string, kind: string, format: string, since: string | null): string {
  const query = new URLSearchParams({ format });
  if (since) query.set('since', since);
  return studyApi(studyId, `/exports/${kind}?${query.toString()}`);
}

/** Downloads of the study's data; each one is recorded in the audit log. */
export function ExportsSection({ study }: { study: Study }) {
  const [since, setSince] = useState<string | null>(null);
  return (
    <section className="panel stack" aria-labelledby="exports-title">
      <h2 id="exports-title">Exports</h2>
      <p>
        Every download is recorded in the audit log with your name, the study, the kind and the
        number of rows (never the content). CSV opens in a spreadsheet; NDJSON has one JSON object
        per line, for analysis scripts.
      </p>
      <SinceFilter since={since} onChange={setSince} />
      <ul className="cards export-list" aria-label="Exports">
        {KINDS.map(({ kind, label, about, since: kept }) => (
          <li key={kind} className="card">
            <h3 className="card-title">{label}</h3>
            <p className="subtle">
              {about}
              {since ? ` — only ${kept} at or after ${formatDateTime(since)}` : ''}
            </p>
            <div className="actions">
              {(['csv', 'ndjson'] as const).map((format) => (
                <a
                  key={format}
                  className="button secondary"
                  href={exportHref(study.id, kind, format, since)}
                  download
                >
                  {label} as {format === 'csv' ? 'CSV' : 'NDJSON'}
                  {since ? ' (changes only)' : ''}
                </a>
              ))}
            </div>
          </li>
        ))}
      </ul>
      <h3>Study archive</h3>
      <p>
        One ZIP file for publication: the four exports as CSV, every questionnaire version and the
        case set as JSON. The archive always holds everything; the time above does not apply to it.
      </p>
      <p>
        <a className="button" href={studyApi(study.id, '/exports/archive')} download>
          Download the study archive
        </a>
      </p>
    </section>
  );
}

/**
 * "Changed since": for a team that downloads as answers come in, each download after the first
 * can hold only what is new. The time is entered in the browser's time zone and sent as a UTC
 * instant; it applies to the downloads only once chosen, so a half-typed time never changes
 * what a link fetches.
 */
function SinceFilter({
  since,
  onChange,
}: {
  since: string | null;
  onChange: (since: string | null) => void;
}) {
  const form = useForm({ since: '' });
  const apply = () => {
    const value = form.values.since;
    const instant = instantFromLocalInput(value);
    const problem = !value
      ? 'Choose a date and time, or download everything with the links below.'
      : instant === null
        ? 'Enter a date and a time, for example 1 March 2026, 09:00.'
        : Date.parse(instant) < EARLIEST_SINCE
          ? 'Choose a time after 1 January 1970.'
          : undefined;
    if (!form.validate({ since: problem }) || instant === null) return;
    onChange(instant);
  };
  return (
    <SubmissionForm submission={form} onSubmit={apply}>
      <h3>Only what changed since a time</h3>
      <p>
        Leave this out to download everything. With a time, each export keeps only the rows that
        changed at or after it: answers by when they were submitted, assignments by when they were
        made, analytics by their last change, participants by when they joined or left the study.
        Use the time of your previous download to fetch only what is new (a row changed in the same
        minute may come again: rows carry their ids, so duplicates are easy to drop).
      </p>
      <Field
        label="Changed since"
        type="datetime-local"
        hint="In your time zone; sent to the server in UTC."
        {...form.bind('since')}
      />
      <div className="actions">
        <button type="submit" className="button secondary">
          Apply to the downloads
        </button>
        {since && (
          <button
            type="button"
            className="button secondary"
            onClick={() => {
              form.clear('since');
              form.reset();
              onChange(null);
            }}
          >
            Download everything again
          </button>
        )}
      </div>
      <p role="status">
        {since
          ? `The downloads below hold only rows changed at or after ${formatDateTime(since)}.`
          : 'The downloads below hold every row.'}
      </p>
    </SubmissionForm>
  );
}
