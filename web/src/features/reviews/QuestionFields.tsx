/**
 * The questions of a questionnaire as a participant answers them. The builder's preview shows
 * the very same components, so what the researcher sees is what the participant gets.
 */
import { useId, useState } from 'react';
import type { QuestionView } from '@haven/contract';

export type AnswerValue = string | string[] | number;
export type Answers = Record<string, AnswerValue>;

/** The values a scale offers, min to max by its step. */
export function scaleSteps(scale: NonNullable<QuestionView['scale']>): number[] {
  const step = scale.step ?? 1;
  const values: number[] = [];
  for (let v = scale.min; v <= scale.max && values.length <= 2000; v += step) values.push(v);
  return values;
}

/** Scales with more points than this are a slider instead of a row of choices. */
const MAX_RADIO_POINTS = 11;

function RequiredMark({ required }: { required: boolean }) {
  return required ? <span className="required-mark"> (required)</span> : null;
}

export function QuestionField({
  question,
  value,
  onChange,
  error,
}: {
  question: QuestionView;
  value: AnswerValue | undefined;
  onChange: (value: AnswerValue | undefined) => void;
  error?: string | undefined;
}) {
  const id = useId();
  const helpId = `${id}-help`;
  const errorId = `${id}-error`;
  const describedBy =
    [question.help ? helpId : null, error ? errorId : null].filter(Boolean).join(' ') || undefined;
  const help = question.help ? (
    <p id={helpId} className="hint">
      {question.help}
    </p>
  ) : null;
  const problem = error ? (
    <p id={errorId} className="field-error" role="alert">
      {error}
    </p>
  ) : null;
  const invalid = error ? true : undefined;

  if (question.type === 'text' || question.type === 'paragraph') {
    const text = typeof value === 'string' ? value : '';
    return (
      <div className="field question">
        <label htmlFor={id}>
          {question.prompt}
          <RequiredMark required={question.required} />
        </label>
        {question.type === 'text' ? (
          <input
            id={id}
            type="text"
            value={text}
            maxLength={10_000}
            aria-invalid={invalid}
            aria-describedby={describedBy}
            aria-required={question.required}
            onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}
          />
        ) : (
          <textarea
            id={id}
            rows={4}
            value={text}
            maxLength={10_000}
            aria-invalid={invalid}
            aria-describedby={describedBy}
            aria-required={question.required}
            onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}
          />
        )}
        {help}
        {problem}
      </div>
    );
  }

  if (question.type === 'single' || question.type === 'multiple') {
    const chosen = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
    const multiple = question.type === 'multiple';
    return (
      <fieldset
        className="question"
        aria-describedby={describedBy}
        aria-invalid={invalid}
        aria-required={question.required && !multiple ? true : undefined}
        role={multiple ? undefined : 'radiogroup'}
      >
        <legend>
          {question.prompt}
          <RequiredMark required={question.required} />
        </legend>
        {help}
        {(question.options ?? []).map((option) => (
          <div key={option.value} className="checkbox">
            <input
              id={`${id}-${option.value}`}
              type={multiple ? 'checkbox' : 'radio'}
              name={id}
              value={option.value}
              checked={chosen.includes(option.value)}
              onChange={(e) => {
                if (!multiple) return onChange(option.value);
                const next = e.target.checked
                  ? [...chosen, option.value]
                  : chosen.filter((v) => v !== option.value);
                onChange(next.length > 0 ? next : undefined);
              }}
            />
            <label htmlFor={`${id}-${option.value}`}>{option.label}</label>
          </div>
        ))}
        {problem}
      </fieldset>
    );
  }

  const scale = question.scale ?? { min: 1, max: 5 };
  const steps = scaleSteps(scale);
  const number = typeof value === 'number' ? value : undefined;
  if (steps.length > MAX_RADIO_POINTS) {
    return (
      <div className="field question">
        <label htmlFor={id}>
          {question.prompt}
          <RequiredMark required={question.required} />
        </label>
        <div className="scale-range">
          <span aria-hidden="true">{scale.minLabel || scale.min}</span>
          <input
            id={id}
            type="range"
            min={scale.min}
            max={scale.max}
            step={scale.step ?? 1}
            value={number ?? scale.min}
            aria-valuetext={number === undefined ? 'Not answered' : String(number)}
            aria-invalid={invalid}
            aria-describedby={describedBy}
            onChange={(e) => onChange(Number(e.target.value))}
          />
          <span aria-hidden="true">{scale.maxLabel || scale.max}</span>
        </div>
        <p className="subtle">
          {number === undefined ? 'Not answered yet' : `Your answer: ${number}`}
        </p>
        {help}
        {problem}
      </div>
    );
  }
  return (
    <fieldset
      className="question"
      role="radiogroup"
      aria-describedby={describedBy}
      aria-invalid={invalid}
      aria-required={question.required || undefined}
    >
      <legend>
        {question.prompt}
        <RequiredMark required={question.required} />
      </legend>
      {help}
      <div className="scale-points">
        {steps.map((point, index) => {
          const end =
            index === 0 && scale.minLabel
              ? ` (${scale.minLabel})`
              : index === steps.length - 1 && scale.maxLabel
                ? ` (${scale.maxLabel})`
                : '';
          return (
            <div key={point} className="scale-point">
              <input
                id={`${id}-${point}`}
                type="radio"
                name={id}
                checked={number === point}
                onChange={() => onChange(point)}
              />
              <label htmlFor={`${id}-${point}`}>
                {point}
                {end}
              </label>
            </div>
          );
        })}
      </div>
      {problem}
    </fieldset>
  );
}

/** The participant's client check: required questions answered. The server checks the rest. */
export function missingAnswers(
  questions: QuestionView[],
  answers: Answers,
): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const q of questions) {
    const v = answers[q.id];
    const empty =
      v === undefined ||
      (typeof v === 'string' && v.trim() === '') ||
      (Array.isArray(v) && v.length === 0);
    if (q.required && empty) {
      problems[q.id] =
        q.type === 'multiple'
          ? 'Choose at least one answer.'
          : q.type === 'text' || q.type === 'paragraph'
            ? 'Write an answer to this question.'
            : 'Choose an answer to this question.';
    }
  }
  return problems;
}

/** Every question of a version, answerable but never sent: the builder's live preview. */
export function QuestionnairePreview({
  questions,
  attention,
}: {
  questions: QuestionView[];
  attention: QuestionView | null;
}) {
  const [answers, setAnswers] = useState<Answers>({});
  const all = attention ? [...questions, attention] : questions;
  return (
    <div className="questionnaire-preview stack" aria-label="Preview">
      {all.map((q, index) => (
        <QuestionField
          key={`${index}-${q.id}`}
          question={q}
          value={answers[q.id]}
          onChange={(value) =>
            setAnswers((current) => {
              const next = { ...current };
              if (value === undefined) delete next[q.id];
              else next[q.id] = value;
              return next;
            })
          }
        />
      ))}
    </div>
  );
}
