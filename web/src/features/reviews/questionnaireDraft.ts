/** The questionnaire builder's editable state, and its conversion to the API's questions. */
import type { AttentionCheckView, QuestionType, QuestionView } from '@haven/contract';
import type { QuestionnaireVersion } from './reviewsApi';

export interface EditableOption {
  value: string;
  label: string;
}

/** Numbers are kept as typed (strings) until saving, so a half-typed "-" is not lost. */
export interface EditableQuestion {
  /** A key for React only; never sent. */
  uid: number;
  id: string;
  type: QuestionType;
  prompt: string;
  help: string;
  required: boolean;
  options: EditableOption[];
  scale: { min: string; max: string; step: string; minLabel: string; maxLabel: string };
}

export interface EditableAttention {
  enabled: boolean;
  every: string;
  prompt: string;
  options: EditableOption[];
  expected: string;
}

export interface Draft {
  title: string;
  questions: EditableQuestion[];
  attention: EditableAttention;
}

export const TYPE_LABELS: Record<QuestionType, string> = {
  text: 'Short text',
  paragraph: 'Paragraph',
  single: 'Single choice',
  multiple: 'Multiple choice',
  scale: 'Scale',
};

let nextUid = 1;

/**
 * The stored value a label suggests: its letters and digits in lower case, other runs as "_"
 * (accents dropped); empty when nothing of the label fits a stored value.
 */
export function valueForLabel(label: string): string {
  return label
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 64);
}

/**
 * An option whose label changed. Its stored value follows the label while it is still the one
 * the old label suggested, or a placeholder ("option3"): renaming the default "No" to "High risk"
 * stores "high_risk", not "no", in every answer and export. A value the researcher typed stays.
 */
export function relabelOption(option: EditableOption, label: string): EditableOption {
  const followsLabel =
    option.value === '' ||
    option.value === valueForLabel(option.label) ||
    /^option\d+$/.test(option.value);
  const suggested = valueForLabel(label);
  return followsLabel && suggested !== '' ? { value: suggested, label } : { ...option, label };
}

const DEFAULT_OPTIONS: EditableOption[] = [
  { value: 'yes', label: 'Yes' },
  { value: 'no', label: 'No' },
];

/** The first question of a new questionnaire, so the first draft can be saved at once. */
const FIRST_PROMPT = 'What is your assessment of this case?';

export function newQuestion(existing: EditableQuestion[]): EditableQuestion {
  let n = existing.length + 1;
  while (existing.some((q) => q.id === `q${n}`)) n += 1;
  return {
    uid: nextUid++,
    id: `q${n}`,
    type: 'single',
    prompt: existing.length === 0 ? FIRST_PROMPT : '',
    help: '',
    required: true,
    options: DEFAULT_OPTIONS.map((o) => ({ ...o })),
    scale: { min: '1', max: '5', step: '1', minLabel: '', maxLabel: '' },
  };
}

function editable(q: QuestionView): EditableQuestion {
  return {
    uid: nextUid++,
    id: q.id,
    type: q.type,
    prompt: q.prompt,
    help: q.help ?? '',
    required: q.required,
    options: q.options ? q.options.map((o) => ({ ...o })) : DEFAULT_OPTIONS.map((o) => ({ ...o })),
    scale: {
      min: String(q.scale?.min ?? 1),
      max: String(q.scale?.max ?? 5),
      step: String(q.scale?.step ?? 1),
      minLabel: q.scale?.minLabel ?? '',
      maxLabel: q.scale?.maxLabel ?? '',
    },
  };
}

export function draftOf(version: QuestionnaireVersion | null): Draft {
  const check = version?.attentionCheck ?? null;
  return {
    title: version?.title ?? 'Case review',
    questions: version ? version.questions.map(editable) : [newQuestion([])],
    attention: check
      ? {
          enabled: true,
          every: String(check.every),
          prompt: check.question.prompt,
          options: (check.question.options ?? []).map((o) => ({ ...o })),
          expected: check.expected,
        }
      : {
          enabled: false,
          every: '5',
          prompt: 'To show you are reading carefully, choose "Blue".',
          options: [
            { value: 'red', label: 'Red' },
            { value: 'blue', label: 'Blue' },
            { value: 'green', label: 'Green' },
          ],
          expected: 'blue',
        },
  };
}

function integer(text: string): number {
  return /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
}

export function questionOf(q: EditableQuestion): QuestionView {
  const base: QuestionView = {
    id: q.id.trim(),
    type: q.type,
    prompt: q.prompt.trim(),
    required: q.required,
  };
  if (q.help.trim()) base.help = q.help.trim();
  if (q.type === 'single' || q.type === 'multiple') {
    base.options = q.options.map((o) => ({ value: o.value.trim(), label: o.label.trim() }));
  }
  if (q.type === 'scale') {
    const step = integer(q.scale.step);
    base.scale = {
      min: integer(q.scale.min),
      max: integer(q.scale.max),
      ...(Number.isFinite(step) && step !== 1 ? { step } : {}),
      ...(q.scale.minLabel.trim() ? { minLabel: q.scale.minLabel.trim() } : {}),
      ...(q.scale.maxLabel.trim() ? { maxLabel: q.scale.maxLabel.trim() } : {}),
    };
  }
  return base;
}

export function attentionOf(a: EditableAttention): AttentionCheckView | undefined {
  if (!a.enabled) return undefined;
  return {
    every: integer(a.every),
    expected: a.expected,
    question: {
      id: 'attention_check',
      type: 'single',
      prompt: a.prompt.trim(),
      required: true,
      options: a.options.map((o) => ({ value: o.value.trim(), label: o.label.trim() })),
    },
  };
}

/** The body of PUT/POST questionnaires. */
export function bodyOf(draft: Draft) {
  const attentionCheck = attentionOf(draft.attention);
  return {
    title: draft.title.trim(),
    questions: draft.questions.map(questionOf),
    ...(attentionCheck ? { attentionCheck } : {}),
  };
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * The builder's own checks, as the server makes them, keyed like the server's field paths
 * (`questions.2.options.0.value`) so both show in the same place.
 */
export function draftProblems(draft: Draft): Record<string, string> {
  const problems: Record<string, string> = {};
  if (!draft.title.trim()) problems['title'] = 'Give the questionnaire a title.';
  if (draft.questions.length === 0) problems['questions'] = 'Add at least one question.';
  const ids = new Set<string>();
  draft.questions.forEach((q, i) => {
    const at = `questions.${i}`;
    const id = q.id.trim();
    if (!KEY.test(id) || id.length > 64) {
      problems[`${at}.id`] =
        'Use letters, digits, "_", "-" or "." for the answer key, starting with a letter or digit.';
    } else if (ids.has(id)) {
      problems[`${at}.id`] = `Another question already uses the key "${id}".`;
    }
    ids.add(id);
    if (!q.prompt.trim()) problems[`${at}.prompt`] = 'Write the question.';
    if (q.type === 'single' || q.type === 'multiple') {
      optionProblems(q.options, `${at}.options`, problems);
    }
    if (q.type === 'scale') {
      const min = integer(q.scale.min);
      const max = integer(q.scale.max);
      const step = integer(q.scale.step);
      if (!Number.isFinite(min)) problems[`${at}.scale.min`] = 'Enter a whole number.';
      if (!Number.isFinite(max)) problems[`${at}.scale.max`] = 'Enter a whole number.';
      else if (Number.isFinite(min) && max <= min) {
        problems[`${at}.scale.max`] = 'The highest value must be above the lowest.';
      }
      if (!Number.isFinite(step) || step < 1) {
        problems[`${at}.scale.step`] = 'Enter a step of 1 or more.';
      }
    }
  });
  const a = draft.attention;
  if (a.enabled) {
    const every = integer(a.every);
    if (!Number.isFinite(every) || every < 2 || every > 100) {
      problems['attentionCheck.every'] = 'Ask it every 2 to 100 cases.';
    }
    if (!a.prompt.trim()) {
      problems['attentionCheck.question.prompt'] = 'Write the attention question.';
    }
    optionProblems(a.options, 'attentionCheck.question.options', problems);
    if (!a.options.some((o) => o.value.trim() === a.expected)) {
      problems['attentionCheck.expected'] = 'Choose the answer an attentive participant gives.';
    }
  }
  return problems;
}

function optionProblems(options: EditableOption[], at: string, problems: Record<string, string>) {
  if (options.length < 2 || options.length > 20) problems[at] = 'Give 2 to 20 options.';
  const values = new Set<string>();
  options.forEach((o, j) => {
    const value = o.value.trim();
    if (!KEY.test(value)) {
      problems[`${at}.${j}.value`] = 'Use letters, digits, "_", "-" or "." for the stored value.';
    } else if (values.has(value)) problems[`${at}.${j}.value`] = `Two options store "${value}".`;
    values.add(value);
    if (!o.label.trim()) {
      problems[`${at}.${j}.label`] = 'Write the option as the participant reads it.';
    }
  });
}

/** A builder field path in words: `questions.2.options.0.value` → "Question 3, option 1 (stored value)". */
export function describeDraftPath(field: string): string {
  const parts = field
    .replace(/^body[./]/, '')
    .split(/[./]/)
    .filter(Boolean);
  const words: string[] = [];
  const names: Record<string, string> = {
    title: 'Title',
    id: 'answer key',
    prompt: 'question',
    help: 'help text',
    value: 'stored value',
    label: 'label',
    min: 'lowest value',
    max: 'highest value',
    step: 'step',
    minLabel: 'label of the lowest value',
    maxLabel: 'label of the highest value',
    every: 'how often',
    expected: 'expected answer',
  };
  for (let i = 0; i < parts.length; i += 1) {
    const part = parts[i] ?? '';
    const next = parts[i + 1];
    if (part === 'questions' && next && /^\d+$/.test(next)) {
      words.push(`Question ${Number(next) + 1}`);
      i += 1;
    } else if (part === 'options' && next && /^\d+$/.test(next)) {
      words.push(`option ${Number(next) + 1}`);
      i += 1;
    } else if (part === 'attentionCheck') {
      words.push('Attention check');
    } else if (part === 'question' || part === 'scale') {
      continue;
    } else {
      words.push(names[part] ?? part);
    }
  }
  return words.join(', ') || 'The questionnaire';
}
