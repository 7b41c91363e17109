import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { ignoreBody } from '../../shared/decoding';
import { CheckboxField } from '../../shared/fields';
import { FormFooter, SubmissionForm } from '../../shared/forms';
import { useSubmission } from '../../shared/submission';
import { accountRoleName } from '../../shared/roles';
import { ROLES, userPath, type AdminUser } from './adminApi';

/** Role change (step-up MFA; the user's sessions end so new scopes apply). */
export function RolesForm({ user, onSaved }: { user: AdminUser; onSaved: () => void }) {
  const [roles, setRoles] = useState<string[]>(user.roles);
  const submission = useSubmission();

  const toggle = (role: string, checked: boolean) =>
    setRoles((current) => (checked ? [...current, role] : current.filter((r) => r !== role)));

  const submit = () =>
    void submission.run(async () => {
      // The answer's `{ user }` is not read: the list reloads instead.
      await sessionStore.api('PUT', userPath(user.id, 'roles'), ignoreBody, { roles });
      onSaved();
      return "Roles saved; the user's sessions were signed out.";
    });

  return (
    <SubmissionForm submission={submission} onSubmit={submit}>
      <fieldset>
        <legend>Roles</legend>
        {ROLES.map((role) => (
          <CheckboxField
            key={role}
            label={accountRoleName(role)}
            checked={roles.includes(role)}
            onCheckedChange={(checked) => toggle(role, checked)}
          />
        ))}
      </fieldset>
      <FormFooter submission={submission}>Save roles</FormFooter>
    </SubmissionForm>
  );
}
