import { TableFrame } from './TableFrame';
import { useState } from 'react';
import type { DisplayConfigView, FeatureDisplayView } from '@haven/contract';
import { sessionStore } from '../../auth/sessionStore';
import { fieldErrorsOf } from '../../shared/api';
import { formatDateTime } from '../../shared/dates';
import { CheckboxField, Field, TextAreaField } from '../../shared/fields';
import { ProblemAlert, SubmitButton, SuccessNote } from '../../shared/forms';
import { useResource } from '../../shared/useResource';
import { count, decodeExperiment, decodeExperiments, studyApi, type Study } from './reviewsApi';

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

interface FeatureRow {
  path: string;
  hidden: boolean;
  collapsed: boolean;
  highlighted: boolean;
  top: string;
}
interface ArmDraft {
  uid: number;
  name: string;
  showAiScore: boolean;
  features: FeatureRow[];
}

let nextArm = 1;
const emptyArm = (name: string, showAiScore: boolean): ArmDraft => ({
  uid: nextArm++,
  name,
  showAiScore,
  features: [],
});

const PATH = /^[A-Za-z0-9][A-Za-z0-9_.-]*(\/[A-Za-z0-9][A-Za-z0-9_.-]*){0,5}$/;

function displayOf(arm: ArmDraft): DisplayConfigView {
  return {
    showAiScore: arm.showAiScore,
    features: arm.features.map((f) => ({
      path: f.path.trim(),
      ...(f.hidden ? { hidden: true } : {}),
      ...(f.collapsed ? { collapsed: true } : {}),
      ...(f.highlighted ? { highlighted: true } : {}),
      ...(f.top.trim() ? { top: Number(f.top.trim()) } : {}),
    })),
  };
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
  const setRow = (arm: ArmDraft, index: number, change: Partial<FeatureRow>) =>
    setArm(arm.uid, {
      features: arm.features.map((f, i) => (i === index ? { ...f, ...change } : f)),
    });

  const submit = async () => {
    const found: Record<string, string> = {};
    if (!name.trim()) found['name'] = 'Name the experiment.';
    arms.forEach((arm, a) => {
      if (!arm.name.trim()) found[`arms.${a}.name`] = 'Name the arm.';
      arm.features.forEach((f, i) => {
        if (!PATH.test(f.path.trim())) {
          found[`arms.${a}.display.features.${i}.path`] =
            'Enter a feature path such as vitals/heart_rate.';
        }
        if (f.top.trim() && !/^\d{1,4}$/.test(f.top.trim())) {
          found[`arms.${a}.display.features.${i}.top`] = 'Enter a pin order from 1 to 1000.';
        }
      });
    });
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
          maxLength={200}
          value={name}
          onValueChange={setName}
          error={problemAt('name')}
        />
        <TextAreaField
          label="Experiment description"
          rows={2}
          maxLength={2000}
          value={description}
          onValueChange={setDescription}
        />
        {arms.map((arm, a) => (
          <fieldset key={arm.uid} className="stack arm-editor">
            <legend>Arm {a + 1}</legend>
            <Field
              label={`Arm ${a + 1} name`}
              maxLength={200}
              value={arm.name}
              onValueChange={(armName) => setArm(arm.uid, { name: armName })}
              error={problemAt(`arms.${a}.name`)}
            />
            <CheckboxField
              label={`Show the AI risk score in arm ${a + 1}`}
              checked={arm.showAiScore}
              onCheckedChange={(showAiScore) => setArm(arm.uid, { showAiScore })}
            />
            {arm.features.length > 0 && (
              <TableFrame label={`Feature settings of arm ${a + 1}`}>
                <table className="table feature-table">
                  <caption>Feature settings of arm {a + 1}</caption>
                  <thead>
                    <tr>
                      <th scope="col">Feature path</th>
                      <th scope="col">Hidden</th>
                      <th scope="col">Collapsed</th>
                      <th scope="col">Highlighted</th>
                      <th scope="col">Pin order</th>
                      <th scope="col">
                        <span className="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {arm.features.map((f, i) => {
                      const rowName = `arm ${a + 1}, row ${i + 1}`;
                      const pathError = problemAt(`arms.${a}.display.features.${i}.path`);
                      const topError = problemAt(`arms.${a}.display.features.${i}.top`);
                      return (
                        <tr key={i}>
                          <td>
                            <input
                              type="text"
                              aria-label={`Feature path, ${rowName}`}
                              maxLength={390}
                              value={f.path}
                              aria-invalid={pathError ? true : undefined}
                              onChange={(e) => setRow(arm, i, { path: e.target.value })}
                            />
                          </td>
                          {(['hidden', 'collapsed', 'highlighted'] as const).map((flag) => (
                            <td key={flag}>
                              <input
                                type="checkbox"
                                aria-label={`${flag[0]?.toUpperCase()}${flag.slice(1)}, ${rowName}`}
                                checked={f[flag]}
                                onChange={(e) => setRow(arm, i, { [flag]: e.target.checked })}
                              />
                            </td>
                          ))}
                          <td>
                            <input
                              type="text"
                              inputMode="numeric"
                              className="narrow-input"
                              aria-label={`Pin order, ${rowName}`}
                              maxLength={4}
                              value={f.top}
                              aria-invalid={topError ? true : undefined}
                              onChange={(e) => setRow(arm, i, { top: e.target.value })}
                            />
                          </td>
                          <td>
                            <button
                              type="button"
                              className="button secondary"
                              aria-label={`Remove ${rowName}`}
                              onClick={() =>
                                setArm(arm.uid, {
                                  features: arm.features.filter((_, j) => j !== i),
                                })
                              }
                            >
                              Remove
                            </button>
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </TableFrame>
            )}
            <div className="actions">
              <button
                type="button"
                className="button secondary"
                onClick={() =>
                  setArm(arm.uid, {
                    features: [
                      ...arm.features,
                      { path: '', hidden: false, collapsed: false, highlighted: false, top: '' },
                    ],
                  })
                }
              >
                Add a feature setting to arm {a + 1}
              </button>
              {arms.length > 2 && (
                <button
                  type="button"
                  className="button danger"
                  onClick={() => setArms((all) => all.filter((x) => x.uid !== arm.uid))}
                >
                  Remove arm {a + 1}
                </button>
              )}
            </div>
          </fieldset>
        ))}
        {arms.length < 10 && (
          <button
            type="button"
            className="button secondary"
            onClick={() => setArms((all) => [...all, emptyArm(`Arm ${all.length + 1}`, false)])}
          >
            Add an arm
          </button>
        )}
        {Object.keys(allProblems).length > 0 && (
          <div className="error" role="alert">
            <p>Correct these before creating the experiment:</p>
            <ul>
              {Object.entries(allProblems).map(([field, message]) => (
                <li key={field}>
                  {describeExperimentPath(field)}: {message}
                </li>
              ))}
            </ul>
          </div>
        )}
        {Object.keys(allProblems).length === 0 && <ProblemAlert error={error} />}
        {note && <SuccessNote>{note}</SuccessNote>}
        <SubmitButton busy={busy}>Create experiment</SubmitButton>
      </form>
    </section>
  );
}

const EXPERIMENT_MEMBERS: Record<string, string> = {
  name: 'name',
  description: 'description',
  path: 'feature path',
  top: 'pin order',
};

/** `arms.1.display.features.0.path` → "Arm 2, feature row 1, feature path"; `name` → "Experiment, name". */
function describeExperimentPath(field: string): string {
  const parts = field
    .replace(/^body[./]/, '')
    .split(/[./]/)
    .filter(Boolean);
  const words: string[] = [];
  for (let i = 0; i < parts.length; i += 1) {
    const part = parts[i] ?? '';
    const next = parts[i + 1];
    if (part === 'arms' && next && /^\d+$/.test(next)) {
      words.push(`Arm ${Number(next) + 1}`);
      i += 1;
    } else if (part === 'features' && next && /^\d+$/.test(next)) {
      words.push(`feature row ${Number(next) + 1}`);
      i += 1;
    } else if (part === 'display') {
      continue;
    } else {
      words.push(EXPERIMENT_MEMBERS[part] ?? part);
    }
  }
  if (parts[0] !== 'arms') words.unshift('Experiment');
  return words.join(', ');
}
