import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { formatDateTime } from '../../shared/dates';
import { ignoreBody } from '../../shared/decoding';
import { ActionOutcome } from '../../shared/forms';
import { roleLabel } from '../../shared/roles';
import { useAction } from '../../shared/submission';
import { USER_STATUS_WORDS, decodeInvitationResent, userPath, type AdminUser } from './adminApi';
import { RolesForm } from './RolesForm';
import { UserSessions } from './UserSessions';

interface UserCardProps {
  user: AdminUser;
  canManage: boolean;
  onChanged: () => void;
}

/** One user: facts, and (for users:manage) resend, enable/disable, roles and sessions. */
export function UserCard({ user, canManage, onChanged }: UserCardProps) {
  const [open, setOpen] = useState(false);
  const action = useAction(onChanged);
  const { busy } = action;
  const accountDisabled = user.status === 'disabled';
  const panelId = `user-${user.id}-manage`;

  const resend = () =>
    void action.act(async () => {
      const expiresAt = await sessionStore.api(
        'POST',
        userPath(user.id, 'invitation'),
        decodeInvitationResent,
        {},
      );
      return `A new invitation was sent; it works until ${formatDateTime(expiresAt)}.`;
    });

  const setEnabled = (enable: boolean) =>
    void action.act(async () => {
      await sessionStore.api(
        'POST',
        userPath(user.id, enable ? 'enable' : 'disable'),
        ignoreBody,
        {},
      );
      return enable
        ? 'The account is enabled.'
        : 'The account is disabled and its sessions have ended.';
    });

  return (
    <li className="card">
      <p className="card-title">{user.displayName || user.email}</p>
      <dl className="facts">
        <dt>Email</dt>
        <dd>{user.email}</dd>
        <dt>Role</dt>
        <dd data-testid="user-role">
          {roleLabel({ roles: user.roles, organizationRole: user.organizationRoles })}
        </dd>
        <dt>Status</dt>
        <dd>{USER_STATUS_WORDS[user.status]}</dd>
        <dt>MFA</dt>
        <dd>{user.mfaEnrolled ? 'Enrolled' : 'Not enrolled'}</dd>
        <dt>Created</dt>
        <dd>{formatDateTime(user.createdAt)}</dd>
      </dl>
      {canManage && (
        <button
          type="button"
          className="button secondary"
          aria-label={`${open ? 'Hide the settings of' : 'Manage'} ${user.email}`}
          aria-expanded={open}
          aria-controls={panelId}
          onClick={() => setOpen((o) => !o)}
        >
          {open ? 'Hide' : 'Manage'}
        </button>
      )}
      {canManage && open && (
        <div id={panelId} className="stack manage">
          <div className="actions">
            {user.status === 'invited' && (
              <button type="button" className="button secondary" disabled={busy} onClick={resend}>
                Resend invitation
              </button>
            )}
            <button
              type="button"
              className={accountDisabled ? 'button secondary' : 'button danger'}
              disabled={busy}
              onClick={() => setEnabled(accountDisabled)}
            >
              {accountDisabled ? 'Enable account' : 'Disable account'}
            </button>
          </div>
          <ActionOutcome action={action} />
          <RolesForm user={user} onSaved={onChanged} />
          <UserSessions userId={user.id} />
        </div>
      )}
    </li>
  );
}
