import { TableFrame } from './TableFrame';
import { useId, useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { formatDateTime } from '../../shared/dates';
import { ProblemAlert, SuccessNote } from '../../shared/forms';
import { PageNav, useCursorPages } from '../../shared/paging';
import { useResource } from '../../shared/useResource';
import { CaseTreeView } from './CaseTreeView';
import {
  count,
  decodeCase,
  decodeCaseImport,
  decodeCasePage,
  percent,
  studyApi,
  type Study,
} from './reviewsApi';
import { UploadReport } from './UploadReport';
import { postCsv, readTextFile } from './uploads';

const PAGE_SIZE = 25;

/** Importing case files (JSON or CSV, all or nothing) and the study's cases. */
export function CasesSection({
  study,
  onStudyChanged,
}: {
  study: Study;
  onStudyChanged: () => void;
}) {
  const pages = useCursorPages();
  const [shown, setShown] = useState<string | null>(null);
  const listPath = studyApi(
    study.id,
    `/cases?limit=${PAGE_SIZE}${pages.cursor ? `&after=${encodeURIComponent(pages.cursor)}` : ''}`,
  );
  const cases = useResource(listPath, () => sessionStore.api('GET', listPath, decodeCasePage));
  return (
    <>
      {study.status !== 'closed' && (
        <CaseImport
          study={study}
          onImported={() => {
            pages.first();
            cases.reload();
            onStudyChanged();
          }}
        />
      )}
      <section className="panel stack" aria-labelledby="cases-title">
        <h2 id="cases-title">Cases ({study.counts.cases.toLocaleString()})</h2>
        <ProblemAlert error={cases.error} />
        {cases.data === null ? (
          !cases.error && <p role="status">Loading cases…</p>
        ) : cases.data.cases.length === 0 ? (
          <p>No cases yet. Import a file above.</p>
        ) : (
          <>
            <TableFrame label="Cases table">
              <table className="table">
                <caption className="visually-hidden">Cases of the study</caption>
                <thead>
                  <tr>
                    <th scope="col">Case id</th>
                    <th scope="col">Nodes</th>
                    <th scope="col">AI score</th>
                    <th scope="col">Assignments</th>
                    <th scope="col">Imported</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {cases.data.cases.map((c) => (
                    <tr key={c.id}>
                      <th scope="row">{c.externalId}</th>
                      <td>{c.nodeCount.toLocaleString()}</td>
                      <td>{c.aiScore === null ? 'None' : percent(c.aiScore)}</td>
                      <td>{c.assignments.toLocaleString()}</td>
                      <td>{formatDateTime(c.createdAt)}</td>
                      <td>
                        <button
                          type="button"
                          className="button secondary"
                          aria-expanded={shown === c.id}
                          aria-label={`${shown === c.id ? 'Hide' : 'View'} case ${c.externalId}`}
                          onClick={() => setShown(shown === c.id ? null : c.id)}
                        >
                          {shown === c.id ? 'Hide' : 'View'}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableFrame>
            <PageNav label="Pages of cases" pages={pages} nextCursor={cases.data.next} />
          </>
        )}
      </section>
      {shown && <CaseDetailPanel studyId={study.id} caseId={shown} />}
    </>
  );
}

function CaseDetailPanel({ studyId, caseId }: { studyId: string; caseId: string }) {
  const path = studyApi(studyId, `/cases/${encodeURIComponent(caseId)}`);
  const theCase = useResource(path, () => sessionStore.api('GET', path, decodeCase));
  const c = theCase.data;
  return (
    <section className="panel stack" aria-labelledby="case-detail-title">
      <h2 id="case-detail-title">{c ? `Case ${c.externalId}` : 'Case'}</h2>
      <ProblemAlert error={theCase.error} />
      {c === null ? (
        !theCase.error && <p role="status">Loading the case…</p>
      ) : (
        <>
          <p className="subtle">
            {count(c.nodeCount, 'node')} ·{' '}
            {c.aiScore === null
              ? 'no AI score'
              : `AI risk score ${percent(c.aiScore)}${c.aiExplanation ? `: ${c.aiExplanation}` : ''}`}
          </p>
          <CaseTreeView nodes={c.tree} />
        </>
      )}
    </section>
  );
}

/** A JSON file is `{ cases: [...] }` or the array of cases itself. */
function casesBody(parsed: unknown): unknown {
  return Array.isArray(parsed) ? { cases: parsed } : parsed;
}

function CaseImport({ study, onImported }: { study: Study; onImported: () => void }) {
  const inputId = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [upload, setUpload] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const [file, setFile] = useState<File | null>(null);

  const send = async () => {
    if (!file) {
      setError(new Error('Choose a JSON or CSV file first.'));
      return;
    }
    setBusy(true);
    setError(null);
    setNote(null);
    try {
      const text = await readTextFile(file);
      const isCsv = /\.csv$/i.test(file.name) || file.type === 'text/csv';
      let answer;
      if (isCsv) {
        setUpload(null);
        answer = await postCsv(studyApi(study.id, '/cases/import'), text, decodeCaseImport);
      } else {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new Error('The file is not valid JSON. Save it as JSON or CSV and try again.');
        }
        const body = casesBody(parsed);
        setUpload(body);
        answer = await sessionStore.api(
          'POST',
          studyApi(study.id, '/cases'),
          decodeCaseImport,
          body,
        );
      }
      setNote(`${count(answer.imported, 'case was', 'cases were')} imported.`);
      onImported();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel stack" aria-labelledby="case-import-title">
      <h2 id="case-import-title">Import cases</h2>
      <p className="format-help">
        A JSON file holds{' '}
        <code>{'{ "cases": [{ "externalId", "tree", "aiScore", "aiExplanation" }] }'}</code>. A CSV
        file has the columns <code>case_id,path,label,value,unit,ai_score,ai_explanation</code>, one
        row per value. The whole file is imported or nothing is. Values that look like names,
        emails, phone numbers, record numbers, birth dates or addresses are refused: cases must be
        de-identified.
      </p>
      <form
        className="stack"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void send();
        }}
      >
        <div className="field">
          <label htmlFor={inputId}>Case file (JSON or CSV)</label>
          <input
            id={inputId}
            type="file"
            accept=".json,.csv,application/json,text/csv"
            onChange={(event) => {
              setFile(event.target.files?.[0] ?? null);
              setError(null);
              setNote(null);
            }}
          />
        </div>
        <UploadReport error={error} upload={upload} />
        {note && <SuccessNote>{note}</SuccessNote>}
        <button type="submit" className="button" disabled={busy} aria-busy={busy}>
          Import cases
        </button>
      </form>
    </section>
  );
}
