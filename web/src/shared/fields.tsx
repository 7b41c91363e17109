/** Accessible form controls: every one labelled, its hint and error tied to it and announced. */
import {
  useId,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from 'react';

interface Labelled {
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
}

/** What a control needs to be tied to its hint and error. */
function describedControl(id: string, hint: ReactNode, error: string | undefined) {
  const describedBy = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean);
  return {
    id,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy.join(' ') || undefined,
  };
}

function FieldFrame({
  id,
  label,
  hint,
  error,
  children,
}: Labelled & { id: string; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && (
        <div id={`${id}-hint`} className="hint">
          {hint}
        </div>
      )}
      {error && (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

type InputProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'onChange' | 'value'>;

interface FieldProps extends InputProps, Labelled {
  value: string;
  onValueChange: (value: string) => void;
}

export function Field({ label, value, onValueChange, error, hint, ...input }: FieldProps) {
  const id = useId();
  return (
    <FieldFrame id={id} label={label} hint={hint} error={error}>
      <input
        {...describedControl(id, hint, error)}
        value={value}
        onChange={(event) => onValueChange(event.target.value)}
        {...input}
      />
    </FieldFrame>
  );
}

/** A 6-digit authenticator code input. */
export function CodeField(props: Omit<FieldProps, 'label'> & { label?: string }) {
  return (
    <Field
      label="Authentication code"
      inputMode="numeric"
      autoComplete="one-time-code"
      pattern="[0-9]{6}"
      maxLength={6}
      required
      {...props}
    />
  );
}

type TextAreaProps = Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'id' | 'onChange' | 'value'>;

export function TextAreaField({
  label,
  value,
  onValueChange,
  error,
  hint,
  ...textarea
}: TextAreaProps & Labelled & { value: string; onValueChange: (value: string) => void }) {
  const id = useId();
  return (
    <FieldFrame id={id} label={label} hint={hint} error={error}>
      <textarea
        {...describedControl(id, hint, error)}
        value={value}
        onChange={(event) => onValueChange(event.target.value)}
        rows={5}
        {...textarea}
      />
    </FieldFrame>
  );
}

type SelectProps = Omit<SelectHTMLAttributes<HTMLSelectElement>, 'id' | 'onChange' | 'value'>;

export interface Choice<T extends string> {
  value: T;
  label: string;
}

export function SelectField<T extends string>({
  label,
  value,
  choices,
  onValueChange,
  error,
  hint,
  ...select
}: SelectProps &
  Labelled & {
    value: T;
    choices: ReadonlyArray<Choice<T>>;
    onValueChange: (value: T) => void;
  }) {
  const id = useId();
  return (
    <FieldFrame id={id} label={label} hint={hint} error={error}>
      <select
        {...describedControl(id, hint, error)}
        value={value}
        onChange={(event) => {
          const chosen = choices.find((c) => c.value === event.target.value);
          if (chosen) onValueChange(chosen.value);
        }}
        {...select}
      >
        {choices.map((choice) => (
          <option key={choice.value} value={choice.value}>
            {choice.label}
          </option>
        ))}
      </select>
    </FieldFrame>
  );
}

export function CheckboxField({
  label,
  checked,
  onCheckedChange,
  disabled,
}: {
  label: string;
  checked: boolean;
  onCheckedChange: (checked: boolean) => void;
  disabled?: boolean;
}) {
  const id = useId();
  return (
    <div className="checkbox">
      <input
        id={id}
        type="checkbox"
        checked={checked}
        disabled={disabled}
        onChange={(event) => onCheckedChange(event.target.checked)}
      />
      <label htmlFor={id}>{label}</label>
    </div>
  );
}

/** The client check of a CodeField's value. */
export function codeProblem(code: string): string | undefined {
  return /^\d{6}$/.test(code) ? undefined : 'Enter the 6-digit code from your authenticator app.';
}
