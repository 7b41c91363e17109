/**
 * The arm editor the experiment pages share: an arm's name, AI-score switch and feature
 * settings as a draft, its client checks keyed like the server's fields, and the problems of a
 * form named in words.
 */
import { TableFrame } from './TableFrame';
import type { DisplayConfigView } from '@haven/contract';
import { CheckboxField, Field } from '../../shared/fields';

/** The server's bounds (reviews/experiments/schemas.ts): names of at most 120 characters. */
export const NAME_LENGTH = 120;
export const DESCRIPTION_LENGTH = 2000;
export const MAX_ARMS = 10;

interface FeatureRow {
  path: string;
  hidden: boolean;
  collapsed: boolean;
  highlighted: boolean;
  top: string;
}
export interface ArmDraft {
  uid: number;
  name: string;
  showAiScore: boolean;
  features: FeatureRow[];
}

let nextArm = 1;
export const emptyArm = (name: string, showAiScore: boolean): ArmDraft => ({
  uid: nextArm++,
  name,
  showAiScore,
  features: [],
});

const PATH = /^[A-Za-z0-9][A-Za-z0-9_.-]*(\/[A-Za-z0-9][A-Za-z0-9_.-]*){0,5}$/;

export function displayOf(arm: ArmDraft): DisplayConfigView {
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

/** The client checks of one arm, keyed like the server's fields (`at` is `arms.1.` or ``). */
export function armProblems(arm: ArmDraft, at: string, found: Record<string, string>): void {
  const name = arm.name.trim();
  if (!name) found[`${at}name`] = 'Name the arm.';
  else if (Array.from(name).length > NAME_LENGTH) {
    found[`${at}name`] = `Keep the name to ${NAME_LENGTH} characters or fewer.`;
  }
  arm.features.forEach((f, i) => {
    if (!PATH.test(f.path.trim())) {
      found[`${at}display.features.${i}.path`] = 'Enter a feature path such as vitals/heart_rate.';
    }
    if (f.top.trim() && !/^\d{1,4}$/.test(f.top.trim())) {
      found[`${at}display.features.${i}.top`] = 'Enter a pin order from 1 to 1000.';
    }
  });
}

/**
 * One arm's name, AI-score switch and feature settings. `who` names the arm in labels
 * ("arm 2", "new arm") and `theArm` in sentences ("arm 2", "the new arm"), so every control
 * on the page has its own name.
 */
export function ArmEditor({
  arm,
  who,
  theArm,
  at,
  problemAt,
  onChange,
  onRemove,
}: {
  arm: ArmDraft;
  who: string;
  theArm: string;
  at: string;
  problemAt: (field: string) => string | undefined;
  onChange: (change: Partial<ArmDraft>) => void;
  onRemove?: (() => void) | undefined;
}) {
  const Who = `${who.charAt(0).toUpperCase()}${who.slice(1)}`;
  const setRow = (index: number, change: Partial<FeatureRow>) =>
    onChange({ features: arm.features.map((f, i) => (i === index ? { ...f, ...change } : f)) });
  return (
    <fieldset className="stack arm-editor">
      <legend>{Who}</legend>
      <Field
        label={`${Who} name`}
        maxLength={NAME_LENGTH}
        value={arm.name}
        onValueChange={(name) => onChange({ name })}
        error={problemAt(`${at}name`)}
      />
      <CheckboxField
        label={`Show the AI risk score in ${theArm}`}
        checked={arm.showAiScore}
        onCheckedChange={(showAiScore) => onChange({ showAiScore })}
      />
      {arm.features.length > 0 && (
        <TableFrame label={`Feature settings of ${theArm}`}>
          <table className="table feature-table">
            <caption>Feature settings of {theArm}</caption>
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
                const rowName = `${who}, row ${i + 1}`;
                const pathError = problemAt(`${at}display.features.${i}.path`);
                const topError = problemAt(`${at}display.features.${i}.top`);
                return (
                  <tr key={i}>
                    <td>
                      <input
                        type="text"
                        aria-label={`Feature path, ${rowName}`}
                        maxLength={390}
                        value={f.path}
                        aria-invalid={pathError ? true : undefined}
                        onChange={(e) => setRow(i, { path: e.target.value })}
                      />
                    </td>
                    {(['hidden', 'collapsed', 'highlighted'] as const).map((flag) => (
                      <td key={flag}>
                        <input
                          type="checkbox"
                          aria-label={`${flag[0]?.toUpperCase()}${flag.slice(1)}, ${rowName}`}
                          checked={f[flag]}
                          onChange={(e) => setRow(i, { [flag]: e.target.checked })}
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
                        onChange={(e) => setRow(i, { top: e.target.value })}
                      />
                    </td>
                    <td>
                      <button
                        type="button"
                        className="button secondary"
                        aria-label={`Remove ${rowName}`}
                        onClick={() =>
                          onChange({ features: arm.features.filter((_, j) => j !== i) })
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
            onChange({
              features: [
                ...arm.features,
                { path: '', hidden: false, collapsed: false, highlighted: false, top: '' },
              ],
            })
          }
        >
          Add a feature setting to {theArm}
        </button>
        {onRemove && (
          <button type="button" className="button danger" onClick={onRemove}>
            Remove {theArm}
          </button>
        )}
      </div>
    </fieldset>
  );
}

/** Every problem of a form in one alert, each named in words ("Arm 2, feature row 1, …"). */
export function ProblemList({
  problems,
  intro,
  subject,
}: {
  problems: Record<string, string>;
  intro: string;
  subject: string;
}) {
  if (Object.keys(problems).length === 0) return null;
  return (
    <div className="error" role="alert" tabIndex={-1}>
      <p>{intro}</p>
      <ul>
        {Object.entries(problems).map(([field, message]) => (
          <li key={field}>
            {describeExperimentPath(field, subject)}: {message}
          </li>
        ))}
      </ul>
    </div>
  );
}

const EXPERIMENT_MEMBERS: Record<string, string> = {
  name: 'name',
  description: 'description',
  path: 'feature path',
  top: 'pin order',
};

/**
 * `arms.1.display.features.0.path` → "Arm 2, feature row 1, feature path"; `name` →
 * "<subject>, name" (the experiment, or the new arm of an experiment).
 */
function describeExperimentPath(field: string, subject: string): string {
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
  if (parts[0] !== 'arms') words.unshift(subject);
  return words.join(', ');
}
