import { TableFrame } from './TableFrame';
import { useId, useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { formatDateTime } from '../../shared/dates';
import { Field, SelectField } from '../../shared/fields';
import {
  FormFooter,
  ProblemAlert,
  SearchForm,
  SubmissionForm,
  SuccessNote,
} from '../../shared/forms';
import { PageNav, useCursorPages } from '../../shared/paging';
import { useForm } from '../../shared/submission';
import { useResource } from '../../shared/useResource';
import {
  count,
  decodeAssignmentImport,
  decodeAssignmentPage,
  decodeExperiments,
  decodeMembers,
  decodeRandomization,
  decodeRandomizations,
  studyApi,
  type Study,
  type StudyMember,
} from './reviewsApi';
import { UploadReport } from './UploadReport';
import { postCsv, readTextFile } from './uploads';

const PAGE_SIZE = 50;

/** Who reviews which case: a CSV sheet, the randomizer, and the list. */
export function AssignmentsSection({
  study,
  onStudyChanged,
}: {
  study: Study;
  onStudyChanged: () => void;
}) {
  const pages = useCursorPages();
  /** The participant whose assignments are listed; null lists everyone's. */
  const [participantId, setParticipantId] = useState<string | null>(null);
  const membersPath = studyApi(study.id, '/members');
  const members = useResource(membersPath, () =>
    sessionStore.api('GET', membersPath, decodeMembers),
  );
  const participants = (members.data ?? []).filter((m) => m.role === 'participant');
  const shown = participants.find((m) => m.userId === participantId) ?? null;
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (participantId) query.set('participantId', participantId);
  if (pages.cursor) query.set('after', pages.cursor);
  const listPath = studyApi(study.id, `/assignments?${query.toString()}`);
  const assignments = useResource(listPath, () =>
    sessionStore.api('GET', listPath, decodeAssignmentPage),
  );
  const changed = () => {
    pages.first();
    assignments.reload();
    onStudyChanged();
  };
  return (
    <>
      {study.status !== 'closed' && (
        <>
          <AssignmentUpload studyId={study.id} onCreated={changed} />
          <Randomizer studyId={study.id} onCreated={changed} />
        </>
      )}
      <section className="panel stack" aria-labelledby="assignments-title">
        <h2 id="assignments-title">Assignments ({study.counts.assignments.toLocaleString()})</h2>
        <ProblemAlert error={members.error} />
        <ParticipantFilter
          participants={participants}
          chosen={participantId}
          onChoose={(id) => {
            pages.first();
            setParticipantId(id);
          }}
        />
        <ProblemAlert error={assignments.error} />
        {assignments.data === null ? (
          !assignments.error && <p role="status">Loading assignments…</p>
        ) : assignments.data.assignments.length === 0 ? (
          <p>
            {shown
              ? `No cases are assigned to ${shown.displayName} yet.`
              : 'No cases are assigned yet.'}
          </p>
        ) : (
          <>
            <p role="status">
              {shown
                ? `Showing the cases of ${shown.displayName} (${shown.email}).`
                : 'Showing the cases of every participant.'}
            </p>
            <TableFrame label="Assignments table">
              <table className="table">
                <caption className="visually-hidden">
                  {shown
                    ? `Assignments of ${shown.displayName}, by position`
                    : 'Assignments, by participant and position'}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Participant</th>
                    <th scope="col">Position</th>
                    <th scope="col">Case id</th>
                    <th scope="col">Arm</th>
                    <th scope="col">Answered</th>
                    <th scope="col">Made by</th>
                    <th scope="col">Assigned</th>
                  </tr>
                </thead>
                <tbody>
                  {assignments.data.assignments.map((a) => (
                    <tr key={a.id}>
                      <th scope="row">{a.participantName}</th>
                      <td>{a.position}</td>
                      <td>{a.caseExternalId}</td>
                      <td>{a.armName ?? 'None'}</td>
                      <td>{a.answered ? 'Yes' : 'No'}</td>
                      <td>{SOURCE_LABELS[a.source] ?? a.source}</td>
                      <td>{formatDateTime(a.createdAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableFrame>
            <PageNav
              label="Pages of assignments"
              pages={pages}
              nextCursor={assignments.data.next}
            />
          </>
        )}
      </section>
    </>
  );
}

/**
 * Narrows the list to one participant, chosen by name and email among the study's
 * participants (the API filters by their user id, which no one should have to type).
 */
function ParticipantFilter({
  participants,
  chosen,
  onChoose,
}: {
  participants: StudyMember[];
  chosen: string | null;
  onChoose: (participantId: string | null) => void;
}) {
  const [picked, setPicked] = useState(chosen ?? '');
  const choices = [
    { value: '', label: 'Every participant' },
    ...participants.map((m) => ({
      value: m.userId,
      label: `${m.displayName} (${m.email})${m.status === 'active' ? '' : `, ${m.status}`}`,
    })),
  ];
  return (
    <SearchForm label="Assignments by participant" onSearch={() => onChoose(picked || null)}>
      <SelectField
        label="Participant"
        choices={choices}
        value={picked}
        onValueChange={setPicked}
        hint="Show the cases of one participant, in the order they review them."
      />
    </SearchForm>
  );
}

const SOURCE_LABELS: Record<string, string> = {
  api: 'API',
  csv: 'CSV upload',
  randomizer: 'Randomizer',
};

function AssignmentUpload({ studyId, onCreated }: { studyId: string; onCreated: () => void }) {
  const inputId = useId();
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const send = async () => {
    setError(null);
    setNote(null);
    if (!file) {
      setError(new Error('Choose a CSV file first.'));
      return;
    }
    setBusy(true);
    try {
      const text = await readTextFile(file);
      const answer = await postCsv(
        studyApi(studyId, '/assignments/import'),
        text,
        decodeAssignmentImport,
      );
      setNote(
        `${count(answer.created, 'assignment was', 'assignments were')} created for ${count(answer.participants, 'participant')} and ${count(answer.cases, 'case')}.`,
      );
      onCreated();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="panel stack" aria-labelledby="assignment-upload-title">
      <h2 id="assignment-upload-title">Upload assignments</h2>
      <p className="format-help">
        A CSV file in AugMed’s columns{' '}
        <code>participant_email,case_id,path,collapse,highlight,top</code>, optionally with{' '}
        <code>show_ai_score</code>, <code>hidden</code> and <code>arm</code>. One row per
        participant, case and feature path; a row with an empty path assigns the case with no
        feature settings. The whole file is saved or nothing is.
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
          <label htmlFor={inputId}>Assignment sheet (CSV)</label>
          <input
            id={inputId}
            type="file"
            accept=".csv,text/csv"
            onChange={(event) => {
              setFile(event.target.files?.[0] ?? null);
              setError(null);
              setNote(null);
            }}
          />
        </div>
        <UploadReport error={error} upload={null} />
        {note && <SuccessNote>{note}</SuccessNote>}
        <button type="submit" className="button" disabled={busy} aria-busy={busy}>
          Upload assignments
        </button>
      </form>
    </section>
  );
}

function Randomizer({ studyId, onCreated }: { studyId: string; onCreated: () => void }) {
  const experimentsPath = studyApi(studyId, '/experiments');
  const experiments = useResource(experimentsPath, () =>
    sessionStore.api('GET', experimentsPath, decodeExperiments),
  );
  const runsPath = studyApi(studyId, '/randomizations');
  const runs = useResource(runsPath, () => sessionStore.api('GET', runsPath, decodeRandomizations));
  const form = useForm({ experimentId: '', casesPerParticipant: '10', seed: '' });
  const list = experiments.data ?? [];
  const nameOf = (id: string) => list.find((e) => e.id === id)?.name ?? 'an experiment';
  const choices = [
    { value: '', label: 'Choose an experiment…' },
    ...list.map((e) => ({ value: e.id, label: `${e.name} (${count(e.arms.length, 'arm')})` })),
  ];
  const submit = () => {
    const perParticipant = form.values.casesPerParticipant.trim();
    const seed = form.values.seed.trim();
    const problems = {
      experimentId: form.values.experimentId
        ? undefined
        : 'Choose the experiment whose arms to use.',
      casesPerParticipant:
        /^\d{1,5}$/.test(perParticipant) && Number(perParticipant) >= 1
          ? undefined
          : 'Enter how many cases each participant reviews (1 or more).',
      seed: seed.length > 100 ? 'Keep the seed under 100 characters.' : undefined,
    };
    if (!form.validate(problems)) return;
    void form.run(async () => {
      const run = await sessionStore.api('POST', runsPath, decodeRandomization, {
        experimentId: form.values.experimentId,
        casesPerParticipant: Number(perParticipant),
        ...(seed ? { seed } : {}),
      });
      runs.reload();
      onCreated();
      return `${count(run.assignmentCount, 'assignment was', 'assignments were')} made. Seed: ${run.seed} (the same seed with the same participants and cases gives the same assignments).`;
    });
  };
  return (
    <section className="panel stack" aria-labelledby="randomizer-title">
      <h2 id="randomizer-title">Randomize</h2>
      <p>
        Gives every participant of the study the same number of cases, each case reviewed about
        equally often, with the experiment’s arms in balanced blocks.
      </p>
      <ProblemAlert error={experiments.error} />
      {experiments.data !== null && list.length === 0 ? (
        <p>Create an experiment first: the randomizer assigns its arms.</p>
      ) : (
        <SubmissionForm submission={form} onSubmit={submit}>
          <div className="form-grid">
            <SelectField label="Experiment" choices={choices} {...form.bind('experimentId')} />
            <Field
              label="Cases per participant"
              inputMode="numeric"
              maxLength={5}
              {...form.bind('casesPerParticipant')}
            />
            <Field
              label="Seed"
              maxLength={100}
              autoComplete="off"
              hint="Optional: leave empty for a random one. It is recorded either way."
              {...form.bind('seed')}
            />
          </div>
          <FormFooter submission={form}>Randomize assignments</FormFooter>
        </SubmissionForm>
      )}
      {runs.data && runs.data.length > 0 && (
        <>
          <h3>Earlier runs</h3>
          <ul className="plain-list" aria-label="Earlier randomizations">
            {runs.data.map((r) => (
              <li key={r.id}>
                {formatDateTime(r.createdAt)}: {nameOf(r.experimentId)},{' '}
                {count(r.casesPerParticipant, 'case')} per participant,{' '}
                {count(r.assignmentCount, 'assignment')}, seed{' '}
                <span className="mono">{r.seed}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
