/**
 * The server's checks of a study's title and description (POST and PATCH /api/studies), made
 * in the browser first so a problem is shown beside its field before anything is sent.
 */

/** The limits of a study's title and description (server: reviews/studies/schemas.ts), in code points. */
export const STUDY_TITLE_LENGTH = 200;
export const STUDY_DESCRIPTION_LENGTH = 4000;
/**
 * What the server refuses in a title (platform/text.ts): controls, lone surrogates,
 * noncharacters, bidirectional overrides and characters no font draws (the
 * joiners and variation selectors kept), which could make one study pass for another.
 */
const FORBIDDEN_IN_LINE =
  /[\p{Cc}\p{Cs}\u202A-\u202E\u2066-\u2069\uFFFE\uFFFF]|(?!\u200C|\u200D|[\u180B-\u180D]|\u180F|[\uFE00-\uFE0F]|[\u{E0100}-\u{E01EF}])\p{Default_Ignorable_Code_Point}/u;
/** A description may also hold tabs and line breaks. */
const FORBIDDEN_IN_PROSE =
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\p{Cs}\u202A-\u202E\u2066-\u2069\uFFFE\uFFFF]/u;
const INVISIBLE = 'Remove the invisible or control characters (they are often pasted by accident).';

/** Length as the server counts it: in code points, so an emoji is one character. */
const codePoints = (text: string): number => Array.from(text).length;

/** The problem of a title as it will be sent (trimmed), if any. */
export function studyTitleProblem(title: string): string | undefined {
  if (title.length === 0) return 'Give the study a title.';
  if (FORBIDDEN_IN_LINE.test(title)) return INVISIBLE;
  if (codePoints(title) > STUDY_TITLE_LENGTH) {
    return `Keep the title to ${STUDY_TITLE_LENGTH} characters or fewer.`;
  }
  return undefined;
}

/** The problem of a description as it will be sent (trimmed), if any; empty is fine. */
export function studyDescriptionProblem(description: string): string | undefined {
  if (FORBIDDEN_IN_PROSE.test(description)) return INVISIBLE;
  if (codePoints(description) > STUDY_DESCRIPTION_LENGTH) {
    return `Keep the description to ${STUDY_DESCRIPTION_LENGTH.toLocaleString()} characters or fewer.`;
  }
  return undefined;
}
