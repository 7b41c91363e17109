import { useState } from 'react';
import { sessionStore, type ActiveSession } from '../../auth/sessionStore';
import { hasScope } from '../../auth/useAuth';
import { Field, SelectField } from '../../shared/fields';
import { ProblemAlert, SearchForm } from '../../shared/forms';
import { Page } from '../../shared/Page';
import { PageNav, useCursorPages } from '../../shared/paging';
import { useResource } from '../../shared/useResource';
import { InviteForm } from './InviteForm';
import {
  USER_STATUSES,
  USER_STATUS_WORDS,
  decodeUserPage,
  userListPath,
  type UserFilters,
} from './adminApi';
import { UserCard } from './UserCard';

const STATUS_CHOICES = [
  { value: '', label: 'Any status' },
  ...USER_STATUSES.map((value) => ({ value, label: USER_STATUS_WORDS[value] })),
];

/** Users: search, paging (cursor stack for "previous"), invitations and per-user actions. */
export function AdminUsersPage({ session }: { session: ActiveSession }) {
  const canManage = hasScope(session, 'users:manage');
  const [filters, setFilters] = useState<UserFilters>({ query: '', status: '' });
  const pages = useCursorPages();
  const path = userListPath(filters, pages.cursor);
  const users = useResource(path, () => sessionStore.api('GET', path, decodeUserPage));

  const search = (next: UserFilters) => {
    pages.first();
    setFilters(next);
  };

  return (
    <Page title="Users">
      {canManage && <InviteForm onInvited={users.reload} />}
      <section className="panel stack" aria-labelledby="users-title">
        <h2 id="users-title">All users</h2>
        <UserSearch onSearch={search} />
        <ProblemAlert error={users.error} />
        {users.data === null ? (
          !users.error && <p role="status">Loading users…</p>
        ) : users.data.users.length === 0 ? (
          <p>No users match.</p>
        ) : (
          <ul className="cards" aria-label="Users">
            {users.data.users.map((user) => (
              <UserCard key={user.id} user={user} canManage={canManage} onChanged={users.reload} />
            ))}
          </ul>
        )}
        <PageNav label="Pages of users" pages={pages} nextCursor={users.data?.nextCursor} />
      </section>
    </Page>
  );
}

function UserSearch({ onSearch }: { onSearch: (filters: UserFilters) => void }) {
  const [query, setQuery] = useState('');
  const [status, setStatus] = useState('');
  return (
    <SearchForm label="Users" onSearch={() => onSearch({ query, status })}>
      <Field
        label="Search by name or email"
        type="search"
        value={query}
        onValueChange={setQuery}
        maxLength={254}
      />
      <SelectField
        label="Status"
        value={status}
        choices={STATUS_CHOICES}
        onValueChange={setStatus}
      />
    </SearchForm>
  );
}
