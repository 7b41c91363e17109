import { useId, useState, type FormEvent } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { ProblemAlert, SubmitButton, SuccessNote, useSubmission } from '../../shared/forms';
import { ROLES, decodeAnyAnswer, userPath, type AdminUser } from './adminApi';

/** Role change (step-up MFA; the user's sessions end so new scopes apply). */
export function RolesForm({ user, onSaved }: { user: AdminUser; onSaved: () => void }) {
  const groupId = useId();
  const [roles, setRoles] = useState<string[]>(user.roles);
  const [saved, setSaved] = useState(false);
  const submission = useSubmission();

  const toggle = (role: string, checked: boolean) =>
    setRoles((current) => (checked ? [...current, role] : current.filter((r) => r !== role)));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    void submission.run(async () => {
      await sessionStore.api('PUT', userPath(user.id, 'roles'), decodeAnyAnswer, { roles });
      setSaved(true);
      onSaved();
    });
  };

  return (
    <form ref={submission.formRef} onSubmit={submit} noValidate className="stack">
      <fieldset>
        <legend id={groupId}>Roles</legend>
        {ROLES.map((role) => {
          const id = `${groupId}-${role}`;
          return (
            <div key={role} className="checkbox">
              <input
                id={id}
                type="checkbox"
                checked={roles.includes(role)}
                onChange={(e) => toggle(role, e.target.checked)}
              />
              <label htmlFor={id}>{role}</label>
            </div>
          );
        })}
      </fieldset>
      <ProblemAlert error={submission.error} />
      {saved && <SuccessNote>Roles saved; the user's sessions were signed out.</SuccessNote>}
      <SubmitButton busy={submission.busy}>Save roles</SubmitButton>
    </form>
  );
}
