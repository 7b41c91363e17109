/**
 * Control A2: the password policy. Length in code points after NFKC, the offline list of
 * common passwords, no password made only of the user's own details, a strength estimate
 * with those details as context, and (when configured) the HaveIBeenPwned range API.
 */
import { HavenError } from '../../../platform/errors.js';
import { checkBreachedPassword, type BreachCheckConfig } from './breach.js';
import { normalizePassword } from './hashing.js';
import {
  estimateStrength,
  isBuiltFromUserInputs,
  isCommonPassword,
  type PasswordContext,
  type StrengthFeedback,
} from './strength.js';

export type { BreachCheckConfig } from './breach.js';
export type { PasswordContext, StrengthFeedback } from './strength.js';

export interface PasswordPolicy {
  /** Code points after NFKC. */
  minLength: number;
  maxLength: number;
  minScore: 0 | 1 | 2 | 3 | 4;
  /** HaveIBeenPwned range API; absent (embedded mode) means only the offline list applies. */
  breachCheck?: BreachCheckConfig;
}

export const DEFAULT_PASSWORD_POLICY: Readonly<PasswordPolicy> = Object.freeze({
  minLength: 12,
  maxLength: 128,
  minScore: 3,
});

export type PasswordProblem =
  'too_short' | 'too_long' | 'common' | 'personal' | 'breached' | 'weak';

export type PasswordPolicyResult =
  | { ok: true; breachCheck: 'passed' | 'skipped' | 'unavailable' }
  | { ok: false; problem: PasswordProblem; message: string; suggestions: string[] };

const PICK_ANOTHER = 'Choose a different password; a few unrelated words work well.';
/** Names the rule, never the password or the details it was built from. */
const PERSONAL =
  'Do not build your password from your name, your email address or "Haven": ' +
  'added digits, years, symbols or capitals do not make it hard to guess.';
const PICK_UNRELATED = 'Choose a few words that have nothing to do with you.';

function refuse(problem: PasswordProblem, message: string, suggestions: string[] = []) {
  return { ok: false, problem, message, suggestions } as const;
}

/**
 * Decides whether `password` may be set (registration, change, reset). Cheap local checks
 * run first, so the network is only consulted for passwords that pass everything else.
 * Messages are for end users and never repeat the password.
 */
export async function checkPasswordPolicy(
  password: string,
  context: PasswordContext,
  policy: PasswordPolicy,
): Promise<PasswordPolicyResult> {
  // Bound the work before normalizing: NFKC composes at most a handful of code units into
  // one, so anything this long cannot fit maxLength afterwards.
  if (password.length > policy.maxLength * 8) {
    return refuse('too_long', `Use at most ${policy.maxLength} characters.`);
  }
  const normalized = normalizePassword(password);
  // Code points, not UTF-16 units: an emoji is one character to the user.
  const length = [...normalized].length;
  if (length < policy.minLength) {
    return refuse('too_short', `Use at least ${policy.minLength} characters.`, [
      'Longer passwords are stronger. A short sentence or several unrelated words work well.',
    ]);
  }
  // Refused, never truncated: truncation would silently make the password weaker than the
  // user believes.
  if (length > policy.maxLength) {
    return refuse('too_long', `Use at most ${policy.maxLength} characters.`);
  }
  if (isCommonPassword(normalized)) {
    return refuse('common', 'This is one of the most commonly used passwords.', [PICK_ANOTHER]);
  }
  if (isBuiltFromUserInputs(normalized, context)) {
    return refuse('personal', PERSONAL, [PICK_UNRELATED]);
  }
  const strength = estimateStrength(normalized, context);
  if (strength.score < policy.minScore) {
    const suggestions = strength.suggestions.length > 0 ? strength.suggestions : [PICK_ANOTHER];
    return refuse('weak', strength.warning ?? 'This password is too easy to guess.', suggestions);
  }
  if (!policy.breachCheck) return { ok: true, breachCheck: 'skipped' };
  const outcome = await checkBreachedPassword(normalized, policy.breachCheck);
  if (outcome === 'breached') {
    return refuse(
      'breached',
      'This password has appeared in a data breach, so attackers will try it.',
      [PICK_ANOTHER],
    );
  }
  return { ok: true, breachCheck: outcome };
}

/**
 * Score and advice for a strength meter, on the same terms as `checkPasswordPolicy`
 * (NFKC, the user's own details as context, the same bounded estimate).
 */
export function strengthFeedback(password: string, context: PasswordContext): StrengthFeedback {
  // The estimate only reads a short prefix; don't normalize megabytes to get there.
  const normalized = normalizePassword(password.slice(0, 1024));
  const estimate = estimateStrength(normalized, context);
  if (!isBuiltFromUserInputs(normalized, context)) return estimate;
  // The policy refuses it whatever zxcvbn thinks, so the meter must not show it as strong.
  return {
    score: estimate.score > 1 ? 1 : estimate.score,
    warning: PERSONAL,
    suggestions: [PICK_UNRELATED],
  };
}

/**
 * 400 PASSWORD_REJECTED unless the policy accepts the password, judged with the owner's own
 * details. The error names the form's `field`; a replacement's message carries the suggestions.
 */
async function refuseRejected(
  policy: PasswordPolicy,
  password: string,
  owner: PasswordContext,
  field: 'password' | 'newPassword',
): Promise<void> {
  const verdict = await checkPasswordPolicy(password, owner, policy);
  if (verdict.ok) return;
  const message =
    field === 'newPassword' ? [verdict.message, ...verdict.suggestions].join(' ') : verdict.message;
  throw new HavenError('PASSWORD_REJECTED', message, {
    errors: [{ field, message: verdict.message }],
  });
}

type PasswordCheck = (
  policy: PasswordPolicy,
  password: string,
  owner: PasswordContext,
) => Promise<void>;

/** Refuses a password for a new account (setup, invitation, sign-up); names `password`. */
export const assertPasswordAllowed: PasswordCheck = (policy, password, owner) =>
  refuseRejected(policy, password, owner, 'password');

/** Refuses a replacement password (change, reset); names `newPassword`, with suggestions. */
export const assertNewPasswordAllowed: PasswordCheck = (policy, password, owner) =>
  refuseRejected(policy, password, owner, 'newPassword');
