import type { AccountExportSchema } from '@haven/contract';
import type { Static } from 'typebox';
import { formatDate, formatDateTime } from '../../shared/dates';
import { deviceName } from '../../shared/devices';
import { roleLabel } from '../../shared/roles';
import { PatientFacts } from '../patients';

export type AccountExport = Static<typeof AccountExportSchema>;

/** Words for the export's audit actions; the portal passes its own ("Viewed your record"). */
export type DescribeAccess = (action: string) => string;

// The file is opened from disk, away from Haven's stylesheet: it carries its own, screen and
// print. Inline CSS in a file the SPA renders to a string, never injected into the page.
const STYLE = `
body { font: 16px/1.5 system-ui, sans-serif; color: #1a1a1a; margin: 2rem auto; max-width: 48rem; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.25rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ccc; padding-bottom: 0.25rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; }
.plain-list { list-style: none; margin: 0; padding: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.35rem 0.5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
.note { white-space: pre-wrap; border-left: 3px solid #888; padding-left: 0.75rem; margin: 0.5rem 0 1.25rem; }
.meta { color: #555; font-size: 0.9rem; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  h2 { break-after: avoid; }
  tr, .note { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
`;

/** A whole HTML document of the export, ready to save: every value rendered as text by React. */
export function ReadableExport({
  data,
  describeAccess,
}: {
  data: AccountExport;
  describeAccess: DescribeAccess;
}) {
  const { account, sessions, patient } = data;
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        {/* Inert when opened: no scripts, no fetches, only the style below. */}
        <meta
          httpEquiv="Content-Security-Policy"
          content="default-src 'none'; style-src 'unsafe-inline'"
        />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`Your data from Haven, ${formatDate(data.exportedAt.slice(0, 10))}`}</title>
        <style>{STYLE}</style>
      </head>
      <body>
        <h1>Your data from Haven</h1>
        <p className="meta">Exported {formatDateTime(data.exportedAt)}.</p>

        <h2>Your account</h2>
        <dl>
          <dt>Name</dt>
          <dd>{account.displayName}</dd>
          <dt>Email</dt>
          <dd>{account.email}</dd>
          <dt>Role</dt>
          <dd>{roleLabel({ roles: account.roles, organizationRole: null })}</dd>
          <dt>Account created</dt>
          <dd>{formatDateTime(account.createdAt)}</dd>
          <dt>Two-step sign-in</dt>
          <dd>{account.mfaEnrolled ? 'On' : 'Off'}</dd>
        </dl>

        <h2>Where you are signed in</h2>
        {sessions.length === 0 ? (
          <p>No active sessions.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Signed in</th>
                <th scope="col">Last active</th>
              </tr>
            </thead>
            <tbody>
              {sessions.map((s) => (
                <tr key={s.id}>
                  <td>{deviceName(s.userAgent)}</td>
                  <td>{formatDateTime(s.createdAt)}</td>
                  <td>{formatDateTime(s.lastSeenAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}

        {patient && <PatientPart patient={patient} describeAccess={describeAccess} />}
      </body>
    </html>
  );
}

function PatientPart({
  patient,
  describeAccess,
}: {
  patient: NonNullable<AccountExport['patient']>;
  describeAccess: DescribeAccess;
}) {
  const { record, consents, notes, accessLog } = patient;
  return (
    <>
      <h2>Your record at {record.organization.name}</h2>
      {/* The same facts, in the same words, as the portal shows them. */}
      <PatientFacts patient={record.patient} phoneCountry={record.organization.country} />

      <h2>Your consents</h2>
      {consents.length === 0 ? (
        <p>No consents recorded.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Document</th>
              <th scope="col">Given</th>
              <th scope="col">Withdrawn</th>
            </tr>
          </thead>
          <tbody>
            {consents.map((c) => (
              <tr key={c.id}>
                <td>
                  {c.title} (version {c.version})
                </td>
                <td>{formatDateTime(c.givenAt)}</td>
                <td>{c.withdrawnAt ? formatDateTime(c.withdrawnAt) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Notes shared with you</h2>
      {notes.length === 0 ? (
        <p>No notes have been shared with you.</p>
      ) : (
        notes.map((n) => (
          <section key={n.id}>
            <p className="meta">
              {n.author.displayName}, {formatDateTime(n.updatedAt)}
            </p>
            <p className="note">{n.body}</p>
          </section>
        ))
      )}

      <h2>Who opened your record</h2>
      {accessLog.length === 0 ? (
        <p>Nobody has opened your record yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
            </tr>
          </thead>
          <tbody>
            {accessLog.map((entry, index) => (
              <tr key={`${entry.at}-${index}`}>
                <td>{formatDateTime(entry.at)}</td>
                <td>{entry.actor.kind === 'you' ? 'You' : entry.actor.displayName}</td>
                <td>
                  {describeAccess(entry.action)}
                  {entry.reason && ` (reason given: ${entry.reason})`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
