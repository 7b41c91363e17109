import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { Page } from '../../app/Page';
import { sessionStore, type ActiveSession } from '../../auth/sessionStore';
import { hasScope } from '../../auth/useAuth';
import { Field, ProblemAlert } from '../../shared/forms';
import { InviteForm } from './InviteForm';
import {
  USER_STATUSES,
  decodeUserPage,
  userListPath,
  type UserPage,
  type UserQuery,
} from './adminApi';
import { UserCard } from './UserCard';

/** Users: search, paging (cursor stack for "previous"), invitations and per-user actions. */
export function AdminUsersPage({ session }: { session: ActiveSession }) {
  const canManage = hasScope(session, 'users:manage');
  const [query, setQuery] = useState<UserQuery>({ query: '', status: '', cursor: null });
  const [previousCursors, setPreviousCursors] = useState<Array<string | null>>([]);
  const [page, setPage] = useState<UserPage | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reloads, setReloads] = useState(0);

  const reload = useCallback(() => setReloads((n) => n + 1), []);

  useEffect(() => {
    let active = true;
    setError(null);
    sessionStore
      .api('GET', userListPath(query), decodeUserPage)
      .then((p) => active && setPage(p))
      .catch((err: unknown) => active && setError(err));
    return () => {
      active = false;
    };
  }, [query, reloads]);

  const search = (text: string, status: string) => {
    setPreviousCursors([]);
    setQuery({ query: text, status, cursor: null });
  };
  const next = () => {
    if (!page?.nextCursor) return;
    setPreviousCursors((c) => [...c, query.cursor]);
    setQuery((q) => ({ ...q, cursor: page.nextCursor }));
  };
  const previous = () => {
    const cursor = previousCursors.at(-1) ?? null;
    setPreviousCursors((c) => c.slice(0, -1));
    setQuery((q) => ({ ...q, cursor }));
  };

  return (
    <Page title="Users">
      {canManage && <InviteForm onInvited={reload} />}
      <section className="panel stack" aria-labelledby="users-title">
        <h2 id="users-title">All users</h2>
        <SearchForm onSearch={search} />
        <ProblemAlert error={error} />
        {page === null ? (
          !error && <p role="status">Loading users…</p>
        ) : page.users.length === 0 ? (
          <p>No users match.</p>
        ) : (
          <ul className="cards" aria-label="Users">
            {page.users.map((user) => (
              <UserCard key={user.id} user={user} canManage={canManage} onChanged={reload} />
            ))}
          </ul>
        )}
        <nav className="actions" aria-label="Pages of users">
          <button
            type="button"
            className="button secondary"
            disabled={previousCursors.length === 0}
            onClick={previous}
          >
            Previous page
          </button>
          <button
            type="button"
            className="button secondary"
            disabled={!page?.nextCursor}
            onClick={next}
          >
            Next page
          </button>
        </nav>
      </section>
    </Page>
  );
}

function SearchForm({ onSearch }: { onSearch: (text: string, status: string) => void }) {
  const statusId = useId();
  const [text, setText] = useState('');
  const [status, setStatus] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSearch(text, status);
  };
  return (
    <form onSubmit={submit} className="search" role="search">
      <Field
        label="Search by name or email"
        type="search"
        value={text}
        onValueChange={setText}
        maxLength={254}
      />
      <div className="field">
        <label htmlFor={statusId}>Status</label>
        <select id={statusId} value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">any</option>
          {USER_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <button type="submit" className="button">
        Search
      </button>
    </form>
  );
}
