/** The administrator's home widget from user administration (issue 14): people and invitations. */
import { sessionStore } from '../../auth/sessionStore';
import { HomePanel } from '../../shared/HomePanel';
import { roleLabel } from '../../shared/roles';
import { useResource } from '../../shared/useResource';
import { USER_STATUS_WORDS, decodeUserPage, userListPath } from './adminApi';

const SHOWN = 5;

/** A few users by name and role, and how many invitations wait to be accepted. */
export function UsersHome() {
  const users = useResource('home:users', () =>
    sessionStore.api('GET', userListPath({ query: '', status: '' }, null), decodeUserPage),
  );
  const invited = useResource('home:invited-users', () =>
    sessionStore.api('GET', userListPath({ query: '', status: 'invited' }, null), decodeUserPage),
  );
  const list = users.data?.users ?? [];
  const waiting = invited.data?.users.length ?? 0;
  const more = invited.data?.nextCursor ? 'more than ' : '';
  return (
    <HomePanel
      title="Users"
      testId="users"
      loading={users.data === null}
      loadingText="Loading users…"
      error={users.error ?? invited.error}
      empty={users.data && list.length === 0 ? 'No users yet.' : null}
      more={{ to: '/admin/users', label: 'Invite and manage people' }}
    >
      {invited.data && (
        <p>
          {waiting === 0
            ? 'No invitations are waiting to be accepted.'
            : `${more}${waiting === 1 ? '1 invitation is' : `${waiting} invitations are`} waiting to be accepted.`}
        </p>
      )}
      <ul className="plain-list" aria-label="Users">
        {list.slice(0, SHOWN).map((u) => (
          <li key={u.id}>
            {u.displayName}{' '}
            <span className="subtle">
              {roleLabel({ roles: u.roles, organizationRole: u.organizationRoles })} ·{' '}
              {USER_STATUS_WORDS[u.status].toLowerCase()}
            </span>
          </li>
        ))}
      </ul>
    </HomePanel>
  );
}
