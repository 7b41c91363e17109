import { CheckboxField, Field, SelectField, TextAreaField } from '../../shared/fields';
import { relabelOption, type Draft, type EditableOption } from './questionnaireDraft';

export function OptionsEditor({
  legend,
  options,
  at,
  problemAt,
  onChange,
}: {
  legend: string;
  options: EditableOption[];
  at: string;
  problemAt: (path: string) => string | undefined;
  onChange: (options: EditableOption[]) => void;
}) {
  const set = (index: number, change: Partial<EditableOption>) =>
    onChange(options.map((o, i) => (i === index ? { ...o, ...change } : o)));
  return (
    <fieldset className="options-editor">
      <legend>{legend}</legend>
      {options.map((option, index) => (
        <div key={index} className="option-row">
          <Field
            label={`Option ${index + 1} label`}
            maxLength={200}
            value={option.label}
            onValueChange={(label) =>
              onChange(options.map((o, i) => (i === index ? relabelOption(o, label) : o)))
            }
            error={problemAt(`${at}.${index}.label`)}
          />
          <Field
            label={`Option ${index + 1} stored value`}
            maxLength={64}
            value={option.value}
            onValueChange={(value) => set(index, { value })}
            error={problemAt(`${at}.${index}.value`)}
          />
          <button
            type="button"
            className="button secondary"
            aria-label={`Remove option ${index + 1}`}
            disabled={options.length <= 2}
            onClick={() => onChange(options.filter((_, i) => i !== index))}
          >
            Remove
          </button>
        </div>
      ))}
      {problemAt(at) && (
        <p className="field-error" role="alert">
          {problemAt(at)}
        </p>
      )}
      <button
        type="button"
        className="button secondary"
        disabled={options.length >= 20}
        onClick={() => onChange([...options, { value: `option${options.length + 1}`, label: '' }])}
      >
        Add an option
      </button>
    </fieldset>
  );
}

export function AttentionEditor({
  draft,
  update,
  problemAt,
}: {
  draft: Draft;
  update: (change: (d: Draft) => Draft) => void;
  problemAt: (path: string) => string | undefined;
}) {
  const a = draft.attention;
  const set = (change: Partial<Draft['attention']>) =>
    update((d) => ({ ...d, attention: { ...d.attention, ...change } }));
  return (
    <fieldset className="stack">
      <legend>Attention check</legend>
      <CheckboxField
        label="Ask an attention check"
        checked={a.enabled}
        onCheckedChange={(enabled) => set({ enabled })}
      />
      {a.enabled && (
        <>
          <Field
            label="Ask it with every Nth case"
            inputMode="numeric"
            maxLength={3}
            value={a.every}
            hint="For example 5: with the 5th, 10th, 15th case of each participant."
            onValueChange={(every) => set({ every })}
            error={problemAt('attentionCheck.every')}
          />
          <TextAreaField
            label="Attention question"
            rows={2}
            maxLength={500}
            value={a.prompt}
            onValueChange={(prompt) => set({ prompt })}
            error={problemAt('attentionCheck.question.prompt')}
          />
          <OptionsEditor
            legend="Options of the attention question"
            options={a.options}
            at="attentionCheck.question.options"
            problemAt={problemAt}
            onChange={(options) => {
              // The expected answer follows its option's stored value when an option is edited
              // (not when one is added or removed, which moves the others).
              const at = a.options.findIndex((o) => o.value === a.expected);
              const kept = options.length === a.options.length ? options[at] : undefined;
              set({ options, expected: kept ? kept.value : a.expected });
            }}
          />
          <SelectField
            label="Expected answer"
            value={a.expected}
            choices={[
              ...(a.options.some((o) => o.value === a.expected)
                ? []
                : [{ value: a.expected, label: 'Choose…' }]),
              ...a.options.map((o) => ({ value: o.value, label: o.label || o.value })),
            ]}
            onValueChange={(expected) => set({ expected })}
            error={problemAt('attentionCheck.expected')}
          />
        </>
      )}
    </fieldset>
  );
}
