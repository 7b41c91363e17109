import { Field } from '../../shared/fields';
import type { BoundInput } from '../../shared/submission';
import { NewPasswordField, newPasswordProblem, userInputsFor } from '../password';

interface NewAccountFieldsProps {
  /** The account's email: a password built from it is weak. */
  email: string;
  displayName: BoundInput<string>;
  password: BoundInput<string>;
  passwordLabel: string;
}

/** The name and password every new account chooses (the first administrator, an invitee). */
export function NewAccountFields({
  email,
  displayName,
  password,
  passwordLabel,
}: NewAccountFieldsProps) {
  return (
    <>
      <Field label="Your name" autoComplete="name" required maxLength={100} {...displayName} />
      <NewPasswordField
        label={passwordLabel}
        {...password}
        userInputs={userInputsFor(email, displayName.value)}
      />
    </>
  );
}

/** The client checks of NewAccountFields. */
export function newAccountProblems(displayName: string, password: string) {
  return {
    displayName: displayName.trim() === '' ? 'Enter your name.' : undefined,
    password: newPasswordProblem(password),
  };
}
