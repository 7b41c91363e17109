import { TableFrame } from './TableFrame';
import { sessionStore } from '../../auth/sessionStore';
import { ConfirmAction } from '../../shared/ConfirmAction';
import { formatDateTime } from '../../shared/dates';
import { Field } from '../../shared/fields';
import { ActionOutcome, FormFooter, ProblemAlert, SubmissionForm } from '../../shared/forms';
import { useAction, useForm } from '../../shared/submission';
import { useResource } from '../../shared/useResource';
import {
  ROLE_LABELS,
  STATUS_LABELS,
  count,
  decodeParticipantAnswer,
  decodeResearcherAnswer,
  decodeMembers,
  decodeStudy,
  ignoreBody,
  studyApi,
  type Study,
  type StudyMember,
} from './reviewsApi';
import { DetailsPanel } from './StudyDetailsPanel';
import { emailProblem } from '../../shared/patterns';

const MEMBER_STATUS: Record<StudyMember['status'], string> = {
  invited: 'Invited',
  active: 'Active',
  disabled: 'Disabled',
};

/** Title and description, status, counts, starting and closing the study, and its team. */
export function OverviewSection({
  study,
  onStudyChanged,
}: {
  study: Study;
  onStudyChanged: () => void;
}) {
  const membersPath = studyApi(study.id, '/members');
  const members = useResource(membersPath, () =>
    sessionStore.api('GET', membersPath, decodeMembers),
  );
  const changed = () => {
    members.reload();
    onStudyChanged();
  };
  return (
    <>
      <DetailsPanel study={study} onStudyChanged={onStudyChanged} />
      <StatusPanel study={study} onStudyChanged={onStudyChanged} />
      <section className="panel stack" aria-labelledby="team-title">
        <h2 id="team-title">Team</h2>
        <ProblemAlert error={members.error} />
        {members.data === null ? (
          !members.error && <p role="status">Loading the team…</p>
        ) : (
          <TeamTable study={study} members={members.data} onChanged={changed} />
        )}
        <div className="form-grid">
          <AddParticipantForm study={study} onAdded={changed} />
          {study.role === 'owner' && <AddResearcherForm study={study} onAdded={changed} />}
        </div>
      </section>
    </>
  );
}

function StatusPanel({ study, onStudyChanged }: { study: Study; onStudyChanged: () => void }) {
  const action = useAction(onStudyChanged);
  const setStatus = (status: 'active' | 'closed') =>
    void action.act(async () => {
      await sessionStore.api('POST', studyApi(study.id, '/status'), decodeStudy, { status });
      return status === 'active'
        ? 'The study is active: participants can review their cases.'
        : 'The study is closed: no more answers are taken.';
    });
  return (
    <section className="panel stack" aria-labelledby="status-title">
      <h2 id="status-title">Status</h2>
      <dl className="facts">
        <dt>Status</dt>
        <dd>{STATUS_LABELS[study.status]}</dd>
        <dt>Your role</dt>
        <dd>{ROLE_LABELS[study.role]}</dd>
        <dt>Cases</dt>
        <dd>{study.counts.cases.toLocaleString()}</dd>
        <dt>Participants</dt>
        <dd>{study.counts.participants.toLocaleString()}</dd>
        <dt>Assignments</dt>
        <dd>{study.counts.assignments.toLocaleString()}</dd>
        <dt>Answers</dt>
        <dd>{study.counts.answers.toLocaleString()}</dd>
        <dt>Questionnaire</dt>
        <dd>
          {study.questionnaire ? `Version ${study.questionnaire.version}` : 'None published yet'}
        </dd>
        <dt>Created</dt>
        <dd>{formatDateTime(study.createdAt)}</dd>
      </dl>
      <ActionOutcome action={action} />
      {study.role === 'owner' && study.status === 'draft' && (
        <>
          {(!study.questionnaire || study.counts.cases === 0) && (
            <p className="subtle">
              To start the study, import at least one case and publish a questionnaire.
            </p>
          )}
          <div className="actions">
            <ConfirmAction
              label="Activate study"
              className="button"
              consequence={`Start the study now? Participants can then review their ${count(study.counts.assignments, 'assigned case')}, and their answers are recorded.`}
              confirmLabel="Yes, activate"
              busy={action.busy}
              onConfirm={() => setStatus('active')}
            />
          </div>
        </>
      )}
      {study.role === 'owner' && study.status === 'active' && (
        <div className="actions">
          <ConfirmAction
            label="Close study"
            consequence="Close the study now? Participants can no longer answer, and the study cannot be reopened. Answers already given are kept."
            confirmLabel="Yes, close the study"
            busy={action.busy}
            onConfirm={() => setStatus('closed')}
          />
        </div>
      )}
    </section>
  );
}

function TeamTable({
  study,
  members,
  onChanged,
}: {
  study: Study;
  members: StudyMember[];
  onChanged: () => void;
}) {
  const removal = useAction(onChanged);
  if (members.length === 0) return <p>No one is on the team yet.</p>;
  const canRemove = (m: StudyMember) =>
    m.role === 'participant' || (m.role === 'researcher' && study.role === 'owner');
  return (
    <>
      <ActionOutcome action={removal} />
      <TableFrame label="Team table">
        <table className="table">
          <caption className="visually-hidden">Team members</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Added</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {members.map((m) => (
              <tr key={m.userId}>
                <th scope="row">{m.displayName}</th>
                <td>{m.email}</td>
                <td>{ROLE_LABELS[m.role]}</td>
                <td>{MEMBER_STATUS[m.status]}</td>
                <td>{formatDateTime(m.addedAt)}</td>
                <td>
                  {canRemove(m) && (
                    <ConfirmAction
                      label="Remove"
                      ariaLabel={`Remove ${m.displayName} from the study`}
                      consequence={
                        m.status === 'invited'
                          ? `Remove ${m.displayName} from the study? Their invitation ends: they can no longer take part.`
                          : `Remove ${m.displayName} from the study? They lose access at once; answers they gave are kept.`
                      }
                      confirmLabel="Yes, remove"
                      busy={removal.busyKey === m.userId}
                      onConfirm={() =>
                        void removal.act(async () => {
                          await sessionStore.api(
                            'DELETE',
                            studyApi(study.id, `/members/${encodeURIComponent(m.userId)}`),
                            ignoreBody,
                          );
                          return `${m.displayName} was removed from the study.`;
                        }, m.userId)
                      }
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableFrame>
    </>
  );
}

function AddParticipantForm({ study, onAdded }: { study: Study; onAdded: () => void }) {
  const form = useForm({ email: '', displayName: '' });
  const submit = () => {
    const email = form.values.email.trim();
    const displayName = form.values.displayName.trim();
    if (!form.validate({ email: emailProblem(email, 'Enter the participant’s email address.') })) {
      return;
    }
    void form.run(async () => {
      const answer = await sessionStore.api(
        'POST',
        studyApi(study.id, '/participants'),
        decodeParticipantAnswer,
        { email, ...(displayName ? { displayName } : {}) },
      );
      form.clear('email', 'displayName');
      onAdded();
      // Always an invitation (A11): whether the address had an account is not told.
      return `An invitation was sent to ${answer.member.email}. They take part once they accept it.`;
    });
  };
  return (
    <SubmissionForm submission={form} onSubmit={submit}>
      <h3>Add a participant</h3>
      <Field
        label="Participant email"
        type="email"
        autoComplete="off"
        maxLength={254}
        {...form.bind('email')}
      />
      <Field
        label="Participant name"
        autoComplete="off"
        maxLength={200}
        hint="Optional: how the team list names them until they accept the invitation."
        {...form.bind('displayName')}
      />
      <FormFooter submission={form}>Add participant</FormFooter>
    </SubmissionForm>
  );
}

function AddResearcherForm({ study, onAdded }: { study: Study; onAdded: () => void }) {
  const form = useForm({ email: '' });
  const submit = () => {
    const email = form.values.email.trim();
    if (!form.validate({ email: emailProblem(email, 'Enter the researcher’s email address.') })) {
      return;
    }
    void form.run(async () => {
      const answer = await sessionStore.api(
        'POST',
        studyApi(study.id, '/researchers'),
        decodeResearcherAnswer,
        { email },
      );
      form.clear('email');
      onAdded();
      return `${answer.member.displayName} joined the team as a researcher.`;
    });
  };
  return (
    <SubmissionForm submission={form} onSubmit={submit}>
      <h3>Add a researcher</h3>
      <Field
        label="Researcher email"
        type="email"
        autoComplete="off"
        maxLength={254}
        hint={`A researcher of ${study.organizationName}.`}
        {...form.bind('email')}
      />
      <FormFooter submission={form}>Add researcher</FormFooter>
    </SubmissionForm>
  );
}
