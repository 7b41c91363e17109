// What the questionnaire schema cannot say (V1): question ids are unique, choice questions and
// only they carry options, scale questions and only they carry a scale whose steps land on its
// maximum, and the attention check is a single-choice question whose expected answer is one of
// its options. Every problem is reported with its path (`questions.2.options`), all at once.
import { cleanProse, cleanText, FieldErrors } from '../../../platform/text.js';
import type { QuestionView } from '../shared/schemas.js';
import type { QuestionnaireInput } from './schemas.js';

const CHOICE_TYPES: ReadonlySet<QuestionView['type']> = new Set(['single', 'multiple']);

function checkQuestion(errors: FieldErrors, at: string, question: QuestionView): void {
  cleanProse(errors, `${at}.prompt`, question.prompt, 500);
  if (question.help !== undefined && question.help.trim() !== '') {
    cleanProse(errors, `${at}.help`, question.help, 1000);
  }
  const isChoice = CHOICE_TYPES.has(question.type);
  if (isChoice && question.options === undefined) {
    errors.add(`${at}.options`, `a ${question.type}-choice question needs 2 to 20 options`);
  }
  if (!isChoice && question.options !== undefined) {
    errors.add(`${at}.options`, `only single- and multiple-choice questions have options`);
  }
  if (question.options) {
    const seen = new Map<string, number>();
    question.options.forEach((option, index) => {
      const first = seen.get(option.value);
      if (first !== undefined) {
        errors.add(`${at}.options.${index}.value`, `repeats the value of options.${first}`);
      } else {
        seen.set(option.value, index);
      }
      cleanText(errors, `${at}.options.${index}.label`, option.label, {
        required: true,
        maxLength: 200,
      });
    });
  }
  if (question.type === 'scale' && question.scale === undefined) {
    errors.add(`${at}.scale`, 'a scale question needs a scale (min, max and optionally step)');
  }
  if (question.type !== 'scale' && question.scale !== undefined) {
    errors.add(`${at}.scale`, 'only scale questions have a scale');
  }
  if (question.scale) {
    const { min, max, step = 1 } = question.scale;
    if (min >= max) {
      errors.add(`${at}.scale.max`, 'must be greater than min');
    } else if ((max - min) % step !== 0) {
      errors.add(`${at}.scale.step`, `must divide max − min (${max - min}) evenly`);
    }
  }
}

/** Every semantic problem of a questionnaire body; throws 400 VALIDATION_FAILED when any. */
export function checkQuestionnaire(body: QuestionnaireInput): void {
  const errors = new FieldErrors();
  cleanText(errors, 'title', body.title, { required: true, maxLength: 200 });
  const ids = new Map<string, number>();
  body.questions.forEach((question, index) => {
    const first = ids.get(question.id);
    if (first !== undefined) {
      errors.add(`questions.${index}.id`, `repeats the id of questions.${first}`);
    } else {
      ids.set(question.id, index);
    }
    checkQuestion(errors, `questions.${index}`, question);
  });
  const check = body.attentionCheck;
  if (check) {
    const question = check.question;
    checkQuestion(errors, 'attentionCheck.question', question);
    if (question.type !== 'single') {
      errors.add('attentionCheck.question.type', 'an attention check is a single-choice question');
    }
    if (ids.has(question.id)) {
      errors.add(
        'attentionCheck.question.id',
        `must differ from the questions' ids (it repeats questions.${ids.get(question.id)})`,
      );
    }
    if (!question.options?.some((option) => option.value === check.expected)) {
      errors.add('attentionCheck.expected', 'must be the value of one of its options');
    }
  }
  errors.throwIfAny();
}
