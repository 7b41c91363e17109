// The checks a JSON schema cannot make on a note (V1): NFC prose without control or bidi
// characters, and a one-line correction reason. Each failure names the field.
import { HavenError } from '../../../platform/errors.js';
import { FieldErrors, cleanProse, cleanText } from '../../../platform/text.js';
import type { CorrectionInput, NewNoteInput } from './schemas.js';

function cleanNoteText(errors: FieldErrors, body: string): string | undefined {
  return cleanProse(errors, 'body.body', body, 20_000);
}

/** The new note with its text cleaned; 400 VALIDATION_FAILED when it is not acceptable. */
export function cleanNewNote(input: NewNoteInput): NewNoteInput {
  const errors = new FieldErrors();
  const body = cleanNoteText(errors, input.body);
  errors.throwIfAny();
  if (body === undefined) throw new HavenError('VALIDATION_FAILED');
  return { body, shareable: input.shareable };
}

/** The correction with its text and reason cleaned; 400 VALIDATION_FAILED naming each. */
export function cleanCorrection(input: CorrectionInput): CorrectionInput {
  const errors = new FieldErrors();
  const body = cleanNoteText(errors, input.body);
  const reason = cleanText(errors, 'body.reason', input.reason, { required: true, maxLength: 500 });
  errors.throwIfAny();
  if (body === undefined || reason === undefined) throw new HavenError('VALIDATION_FAILED');
  return { body, shareable: input.shareable, reason };
}
