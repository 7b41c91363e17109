import { TableFrame } from './TableFrame';
import { useEffect, useRef, useState } from 'react';
import type { DisplayConfigView, FeatureDisplayView } from '@haven/contract';
import {
  ArmEditor,
  DESCRIPTION_LENGTH,
  MAX_ARMS,
  NAME_LENGTH,
  ProblemList,
  armProblems,
  displayOf,
  emptyArm,
  type ArmDraft,
} from './ArmEditor';
import { sessionStore } from '../../auth/sessionStore';
import { fieldErrorsOf } from '../../shared/api';
import { formatDateTime } from '../../shared/dates';
import { Field, TextAreaField } from '../../shared/fields';
import { ProblemAlert, SubmitButton, SuccessNote } from '../../shared/forms';
import { useResource } from '../../shared/useResource';
import {
  count,
  decodeArm,
  decodeExperiment,
  decodeExperiments,
  studyApi,
  type Experiment,
  type Study,
} from './reviewsApi';

/** How one feature row reads in a sentence: "vitals/heart_rate: highlighted, pinned 1st". */
export function describeFeature(f: FeatureDisplayView): string {
  const parts = [
    f.hidden ? 'hidden' : null,
    f.collapsed ? 'collapsed' : null,
    f.highlighted ? 'highlighted' : null,
    f.top !== undefined ? `pinned #${f.top}` : null,
  ].filter(Boolean);
  return `${f.path}: ${parts.join(', ') || 'shown plainly'}`;
}

export function describeDisplay(display: DisplayConfigView): string {
  const ai = display.showAiScore ? 'AI score shown' : 'AI score hidden';
  return display.features.length === 0 ? `${ai}; every feature shown plainly` : ai;
}

/** Experiments: arms are display templates the randomizer assigns in balanced blocks. */
export function ExperimentsSection({ study }: { study: Study }) {
  const path = studyApi(study.id, '/experiments');
  const experiments = useResource(path, () => sessionStore.api('GET', path, decodeExperiments));
  // One "add an arm" form at a time, so its labels are unique on the page.
  const [addingTo, setAddingTo] = useState<string | null>(null);
  return (
    <>
      <section className="panel stack" aria-labelledby="experiments-title">
        <h2 id="experiments-title">Experiments</h2>
        <ProblemAlert error={experiments.error} />
        {experiments.data === null ? (
          !experiments.error && <p role="status">Loading experiments…</p>
        ) : experiments.data.length === 0 ? (
          <p>No experiments yet. An experiment compares two or more ways of showing the cases.</p>
        ) : (
          <ul className="cards" aria-label="Experiments">
            {experiments.data.map((e) => (
              <li key={e.id} className="card stack">
                <h3 className="card-title">{e.name}</h3>
                {e.description && <p>{e.description}</p>}
                <p className="subtle">Created {formatDateTime(e.createdAt)}</p>
                <TableFrame label={`Arms of ${e.name}`}>
                  <table className="table">
                    <caption className="visually-hidden">Arms of {e.name}</caption>
                    <thead>
                      <tr>
                        <th scope="col">Arm</th>
                        <th scope="col">Display</th>
                        <th scope="col">Feature settings</th>
                        <th scope="col">Assignments</th>
                      </tr>
                    </thead>
                    <tbody>
                      {e.arms.map((arm) => (
                        <tr key={arm.id}>
                          <th scope="row">{arm.name}</th>
                          <td>{describeDisplay(arm.display)}</td>
                          <td>
                            {arm.display.features.length === 0 ? (
                              'None'
                            ) : (
                              <ul className="plain-list">
                                {arm.display.features.map((f) => (
                                  <li key={f.path}>{describeFeature(f)}</li>
                                ))}
                              </ul>
                            )}
                          </td>
                          <td>{arm.assignments.toLocaleString()}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </TableFrame>
                {study.status !== 'closed' &&
                  (e.arms.length < MAX_ARMS ? (
                    <AddArm
                      studyId={study.id}
                      experiment={e}
                      open={addingTo === e.id}
                      onOpenChange={(open) => setAddingTo(open ? e.id : null)}
                      onAdded={experiments.reload}
                    />
                  ) : (
                    <p className="subtle">
                      This experiment has the most arms allowed ({MAX_ARMS}).
                    </p>
                  ))}
              </li>
            ))}
          </ul>
        )}
      </section>
      {study.status !== 'closed' && (
        <CreateExperimentForm studyId={study.id} onCreated={experiments.reload} />
      )}
    </>
  );
}

function CreateExperimentForm({ studyId, onCreated }: { studyId: string; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [arms, setArms] = useState<ArmDraft[]>(() => [
    emptyArm('Without AI score', false),
    emptyArm('With AI score', true),
  ]);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const server = fieldErrorsOf(error);
  const problemAt = (p: string) => problems[p] ?? server[p] ?? server[`body.${p}`];

  const setArm = (uid: number, change: Partial<ArmDraft>) =>
    setArms((all) => all.map((a) => (a.uid === uid ? { ...a, ...change } : a)));

  const submit = async () => {
    const found: Record<string, string> = {};
    if (!name.trim()) found['name'] = 'Name the experiment.';
    else if (Array.from(name.trim()).length > NAME_LENGTH) {
      found['name'] = `Keep the name to ${NAME_LENGTH} characters or fewer.`;
    }
    arms.forEach((arm, a) => armProblems(arm, `arms.${a}.`, found));
    setProblems(found);
    setError(null);
    setNote(null);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      const experiment = await sessionStore.api(
        'POST',
        studyApi(studyId, '/experiments'),
        decodeExperiment,
        {
          name: name.trim(),
          ...(description.trim() ? { description: description.trim() } : {}),
          arms: arms.map((arm) => ({ name: arm.name.trim(), display: displayOf(arm) })),
        },
      );
      setNote(
        `The experiment “${experiment.name}” was created with ${count(experiment.arms.length, 'arm')}.`,
      );
      setName('');
      setDescription('');
      setArms([emptyArm('Without AI score', false), emptyArm('With AI score', true)]);
      onCreated();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const allProblems = { ...server, ...problems };
  return (
    <section className="panel stack" aria-labelledby="new-experiment-title">
      <h2 id="new-experiment-title">New experiment</h2>
      <form
        className="stack"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <Field
          label="Experiment name"
          maxLength={NAME_LENGTH}
          value={name}
          onValueChange={setName}
          error={problemAt('name')}
        />
        <TextAreaField
          label="Experiment description"
          rows={2}
          maxLength={DESCRIPTION_LENGTH}
          value={description}
          onValueChange={setDescription}
        />
        {arms.map((arm, a) => (
          <ArmEditor
            key={arm.uid}
            arm={arm}
            who={`arm ${a + 1}`}
            theArm={`arm ${a + 1}`}
            at={`arms.${a}.`}
            problemAt={problemAt}
            onChange={(change) => setArm(arm.uid, change)}
            onRemove={
              arms.length > 2
                ? () => setArms((all) => all.filter((x) => x.uid !== arm.uid))
                : undefined
            }
          />
        ))}
        {arms.length < MAX_ARMS && (
          <button
            type="button"
            className="button secondary"
            onClick={() => setArms((all) => [...all, emptyArm(`Arm ${all.length + 1}`, false)])}
          >
            Add an arm
          </button>
        )}
        <ProblemList
          problems={allProblems}
          intro="Correct these before creating the experiment:"
          subject="Experiment"
        />
        {Object.keys(allProblems).length === 0 && <ProblemAlert error={error} />}
        {note && <SuccessNote>{note}</SuccessNote>}
        <SubmitButton busy={busy}>Create experiment</SubmitButton>
      </form>
    </section>
  );
}

/**
 * "Add an arm" on an experiment's card: a button that opens the arm editor, which POSTs the
 * new arm (experiments/:id/arms). Arms already used keep their assignments; the randomizer uses
 * every arm of the experiment from its next run on.
 */
function AddArm({
  studyId,
  experiment,
  open,
  onOpenChange,
  onAdded,
}: {
  studyId: string;
  experiment: Experiment;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onAdded: () => void;
}) {
  const [arm, setArm] = useState<ArmDraft>(() =>
    emptyArm(`Arm ${experiment.arms.length + 1}`, false),
  );
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const frame = useRef<HTMLFormElement>(null);
  const opener = useRef<HTMLButtonElement>(null);
  const wasOpen = useRef(open);
  // Opening moves focus into the editor; closing puts it back on the button.
  useEffect(() => {
    if (open && !wasOpen.current) frame.current?.querySelector('input')?.focus();
    if (!open && wasOpen.current) opener.current?.focus();
    wasOpen.current = open;
  }, [open]);
  const server = fieldErrorsOf(error);
  const problemAt = (p: string) => problems[p] ?? server[p] ?? server[`body.${p}`];

  const submit = async () => {
    const found: Record<string, string> = {};
    armProblems(arm, '', found);
    const name = arm.name.trim().toLowerCase();
    if (!found['name'] && experiment.arms.some((a) => a.name.toLowerCase() === name)) {
      found['name'] = `${experiment.name} already has an arm with that name.`;
    }
    setProblems(found);
    setError(null);
    setNote(null);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      const added = await sessionStore.api(
        'POST',
        studyApi(studyId, `/experiments/${encodeURIComponent(experiment.id)}/arms`),
        decodeArm,
        { name: arm.name.trim(), display: displayOf(arm) },
      );
      setNote(`The arm “${added.name}” was added to ${experiment.name}.`);
      setArm(emptyArm(`Arm ${experiment.arms.length + 2}`, false));
      onOpenChange(false);
      onAdded();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const allProblems = { ...server, ...problems };
  if (!open) {
    return (
      <>
        {note && <SuccessNote>{note}</SuccessNote>}
        <div className="actions">
          <button
            ref={opener}
            type="button"
            className="button secondary"
            onClick={() => {
              setNote(null);
              onOpenChange(true);
            }}
          >
            Add an arm to {experiment.name}
          </button>
        </div>
      </>
    );
  }
  return (
    <form
      ref={frame}
      className="stack"
      aria-label={`New arm of ${experiment.name}`}
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <ArmEditor
        arm={arm}
        who="new arm"
        theArm="the new arm"
        at=""
        problemAt={problemAt}
        onChange={(change) => setArm((current) => ({ ...current, ...change }))}
      />
      <p className="subtle">
        Assignments already made keep their arm; the randomizer uses the new arm from its next run
        on.
      </p>
      <ProblemList
        problems={allProblems}
        intro="Correct these before adding the arm:"
        subject="New arm"
      />
      {Object.keys(allProblems).length === 0 && <ProblemAlert error={error} />}
      <div className="actions">
        <SubmitButton busy={busy}>Add the arm</SubmitButton>
        <button
          type="button"
          className="button secondary"
          onClick={() => {
            setProblems({});
            setError(null);
            onOpenChange(false);
          }}
        >
          Cancel
        </button>
      </div>
    </form>
  );
}
