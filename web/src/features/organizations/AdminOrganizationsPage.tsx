import { useState, type FormEvent } from 'react';
import { Page } from '../../app/Page';
import { sessionStore } from '../../auth/sessionStore';
import { fieldErrorsOf } from '../../shared/api';
import { Field, ProblemAlert, SubmitButton, SuccessNote, useSubmission } from '../../shared/forms';
import { serverFieldError } from '../../shared/fields';
import { useResource } from '../../shared/useResource';
import { formatDateTime } from '../account/accountApi';
import { MemberInviteForm } from './MemberInviteForm';
import {
  decodeOrganizationAnswer,
  decodeOrganizationPage,
  organizationListPath,
  type Organization,
} from './organizationsApi';

/** Administrators: create organizations, find them, and add members to any of them. */
export function AdminOrganizationsPage() {
  const [q, setQ] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const path = organizationListPath(q, cursors.at(-1) ?? null);
  const page = useResource(path, () => sessionStore.api('GET', path, decodeOrganizationPage));

  return (
    <Page title="Organizations">
      <CreateOrganizationForm onCreated={page.reload} />
      <section className="panel stack" aria-labelledby="orgs-title">
        <h2 id="orgs-title">All organizations</h2>
        <OrganizationSearch
          onSearch={(text) => {
            setCursors([]);
            setQ(text);
          }}
        />
        <ProblemAlert error={page.error} />
        {page.data === null ? (
          !page.error && <p role="status">Loading organizations…</p>
        ) : page.data.organizations.length === 0 ? (
          <p>
            {q ? 'No organizations match.' : 'No organizations yet. Create the first one above.'}
          </p>
        ) : (
          <ul className="cards" aria-label="Organizations">
            {page.data.organizations.map((o) => (
              <OrganizationCard key={o.id} organization={o} onChanged={page.reload} />
            ))}
          </ul>
        )}
        <nav className="actions" aria-label="Pages of organizations">
          <button
            type="button"
            className="button secondary"
            disabled={cursors.length === 0}
            onClick={() => setCursors((c) => c.slice(0, -1))}
          >
            Previous page
          </button>
          <button
            type="button"
            className="button secondary"
            disabled={!page.data?.nextCursor}
            onClick={() => {
              const next = page.data?.nextCursor;
              if (next) setCursors((c) => [...c, next]);
            }}
          >
            Next page
          </button>
        </nav>
      </section>
    </Page>
  );
}

function CreateOrganizationForm({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [nameError, setNameError] = useState<string | undefined>();
  const [note, setNote] = useState<string | null>(null);
  const submission = useSubmission();
  const serverErrors = fieldErrorsOf(submission.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setNote(null);
    const trimmed = name.trim();
    if (trimmed === '' || trimmed.length > 120) {
      setNameError('Enter a name of 1 to 120 characters.');
      return submission.invalid();
    }
    setNameError(undefined);
    void submission.run(async () => {
      const created = await sessionStore.api(
        'POST',
        '/api/admin/organizations',
        decodeOrganizationAnswer,
        { name: trimmed },
      );
      setName('');
      setNote(`${created.name} was created.`);
      onCreated();
    });
  };

  return (
    <section className="panel stack" aria-labelledby="org-create-title">
      <h2 id="org-create-title">Create an organization</h2>
      <form ref={submission.formRef} onSubmit={submit} noValidate className="stack">
        <Field
          label="Organization name"
          autoComplete="off"
          maxLength={120}
          required
          value={name}
          onValueChange={setName}
          error={nameError ?? serverFieldError(serverErrors, 'name')}
        />
        <ProblemAlert error={submission.error} />
        {note && <SuccessNote>{note}</SuccessNote>}
        <SubmitButton busy={submission.busy}>Create organization</SubmitButton>
      </form>
    </section>
  );
}

function OrganizationSearch({ onSearch }: { onSearch: (text: string) => void }) {
  const [text, setText] = useState('');
  return (
    <form
      className="search"
      role="search"
      aria-label="Organizations"
      onSubmit={(event) => {
        event.preventDefault();
        onSearch(text.trim());
      }}
    >
      <Field
        label="Search by name"
        type="search"
        maxLength={120}
        value={text}
        onValueChange={setText}
      />
      <button type="submit" className="button">
        Search
      </button>
    </form>
  );
}

function OrganizationCard({
  organization,
  onChanged,
}: {
  organization: Organization;
  onChanged: () => void;
}) {
  const [open, setOpen] = useState(false);
  const panelId = `org-${organization.id}-members`;
  return (
    <li className="card">
      <p className="card-title">{organization.name}</p>
      <dl className="facts">
        <dt>Members</dt>
        <dd>{organization.memberCount}</dd>
        <dt>Created</dt>
        <dd>{formatDateTime(organization.createdAt)}</dd>
      </dl>
      <button
        type="button"
        className="button secondary"
        aria-expanded={open}
        aria-controls={panelId}
        aria-label={`${open ? 'Close' : 'Add a member to'} ${organization.name}`}
        onClick={() => setOpen((o) => !o)}
      >
        {open ? 'Close' : 'Add a member'}
      </button>
      {open && (
        <div id={panelId} className="manage">
          <MemberInviteForm
            path={`/api/admin/organizations/${encodeURIComponent(organization.id)}/members`}
            submitLabel="Add member"
            onAdded={onChanged}
          />
        </div>
      )}
    </li>
  );
}
