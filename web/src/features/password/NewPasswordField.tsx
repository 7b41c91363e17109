import { useId } from 'react';
import { Field } from '../../shared/fields';
import { usePasswordStrength } from './usePasswordStrength';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;
const LABELS = ['Very weak', 'Weak', 'Fair', 'Strong', 'Very strong'] as const;

interface NewPasswordFieldProps {
  label?: string;
  value: string;
  onValueChange: (value: string) => void;
  error?: string | undefined;
  /** The user's own details (name, email): passwords built from them are weak. */
  userInputs: string[];
}

/** Client-side check before sending; the server's policy (A2) is authoritative. */
export function newPasswordProblem(password: string): string | undefined {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `Use at least ${PASSWORD_MIN_LENGTH} characters.`;
  if (length > PASSWORD_MAX_LENGTH) return `Use at most ${PASSWORD_MAX_LENGTH} characters.`;
  return undefined;
}

/** A new-password input with live strength feedback (zxcvbn-ts). */
export function NewPasswordField({
  label = 'New password',
  value,
  onValueChange,
  error,
  userInputs,
}: NewPasswordFieldProps) {
  const strength = usePasswordStrength(value, userInputs);
  const meterId = useId();
  const hint = (
    <>
      <p>
        At least {PASSWORD_MIN_LENGTH} characters. A few unrelated words make a strong password.
      </p>
      <div aria-live="polite" className="strength">
        {strength && (
          <>
            <label htmlFor={meterId}>Strength: {LABELS[strength.score]}</label>{' '}
            <meter id={meterId} min={0} max={4} low={2} high={3} optimum={4} value={strength.score}>
              {LABELS[strength.score]}
            </meter>
            {strength.warning && <p>{strength.warning}</p>}
            {strength.suggestions.length > 0 && (
              <ul>
                {strength.suggestions.map((s) => (
                  <li key={s}>{s}</li>
                ))}
              </ul>
            )}
          </>
        )}
      </div>
    </>
  );
  return (
    <Field
      label={label}
      type="password"
      autoComplete="new-password"
      required
      value={value}
      onValueChange={onValueChange}
      error={error}
      hint={hint}
    />
  );
}
