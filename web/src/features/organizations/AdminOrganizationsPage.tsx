import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { countryChoices, countryName } from '../../shared/countries';
import { formatDateTime } from '../../shared/dates';
import { Field, SelectField } from '../../shared/fields';
import { FormFooter, ProblemAlert, SearchForm, SubmissionForm } from '../../shared/forms';
import { useForm } from '../../shared/submission';
import { Page } from '../../shared/Page';
import { showToast } from '../../shared/Toast';
import { PageNav, useCursorPages } from '../../shared/paging';
import { useResource } from '../../shared/useResource';
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
  const pages = useCursorPages();
  const path = organizationListPath(q, pages.cursor);
  const page = useResource(path, () => sessionStore.api('GET', path, decodeOrganizationPage));

  return (
    <Page title="Organizations">
      <CreateOrganizationForm onCreated={page.reload} />
      <section className="panel stack" aria-labelledby="orgs-title">
        <h2 id="orgs-title">All organizations</h2>
        <OrganizationSearch
          onSearch={(text) => {
            pages.first();
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
        <PageNav label="Pages of organizations" pages={pages} nextCursor={page.data?.nextCursor} />
      </section>
    </Page>
  );
}

function CreateOrganizationForm({ onCreated }: { onCreated: () => void }) {
  const form = useForm({ name: '', country: 'US' });

  const submit = () => {
    const name = form.values.name.trim();
    const invalid = name === '' || name.length > 120;
    if (!form.validate({ name: invalid ? 'Enter a name of 1 to 120 characters.' : undefined })) {
      return;
    }
    void form.run(async () => {
      const created = await sessionStore.api(
        'POST',
        '/api/admin/organizations',
        decodeOrganizationAnswer,
        { name, country: form.values.country },
      );
      form.clear('name');
      onCreated();
      return `${created.name} was created.`;
    });
  };

  return (
    <section className="panel stack" aria-labelledby="org-create-title">
      <h2 id="org-create-title">Create an organization</h2>
      <SubmissionForm submission={form} onSubmit={submit}>
        <Field
          label="Organization name"
          autoComplete="off"
          maxLength={120}
          required
          {...form.bind('name')}
        />
        <SelectField
          label="Country"
          hint="Phone numbers are entered and shown in this country's national form."
          choices={countryChoices()}
          {...form.bind('country')}
        />
        <FormFooter submission={form}>Create organization</FormFooter>
      </SubmissionForm>
    </section>
  );
}

function OrganizationSearch({ onSearch }: { onSearch: (text: string) => void }) {
  const [text, setText] = useState('');
  return (
    <SearchForm label="Organizations" onSearch={() => onSearch(text.trim())}>
      <Field
        label="Search by name"
        type="search"
        maxLength={120}
        value={text}
        onValueChange={setText}
      />
    </SearchForm>
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
  const [changingCountry, setChangingCountry] = useState(false);
  const panelId = `org-${organization.id}-members`;
  return (
    <li className="card">
      <p className="card-title">{organization.name}</p>
      <dl className="facts">
        <dt>Members</dt>
        <dd>{organization.memberCount}</dd>
        <dt>Created</dt>
        <dd>{formatDateTime(organization.createdAt)}</dd>
        <dt>Country</dt>
        <dd>{countryName(organization.country)}</dd>
      </dl>
      {changingCountry ? (
        <CountryForm
          organization={organization}
          onDone={(changed) => {
            setChangingCountry(false);
            if (changed) onChanged();
          }}
        />
      ) : (
        <button
          type="button"
          className="button secondary"
          aria-label={`Change the country of ${organization.name}`}
          onClick={() => setChangingCountry(true)}
        >
          Change the country
        </button>
      )}
      <button
        type="button"
        className="button secondary"
        aria-expanded={open}
        aria-controls={panelId}
        aria-label={`${open ? 'Hide the member form of' : 'Add a member to'} ${organization.name}`}
        onClick={() => setOpen((o) => !o)}
      >
        {open ? 'Hide the form' : 'Add a member'}
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

/** The organization's country, which sets the national form of the phone numbers its staff type. */
function CountryForm({
  organization,
  onDone,
}: {
  organization: Organization;
  onDone: (changed: boolean) => void;
}) {
  const form = useForm({ country: organization.country });
  const submit = () => {
    void form.run(async () => {
      await sessionStore.api(
        'PATCH',
        `/api/admin/organizations/${encodeURIComponent(organization.id)}`,
        decodeOrganizationAnswer,
        { country: form.values.country },
      );
      showToast(`${organization.name} now works in ${countryName(form.values.country)}.`);
      onDone(true);
    });
  };
  return (
    <SubmissionForm submission={form} onSubmit={submit}>
      <SelectField
        label={`Country of ${organization.name}`}
        choices={countryChoices(organization.country)}
        {...form.bind('country')}
      />
      <FormFooter submission={form} onCancel={() => onDone(false)}>
        Save the country
      </FormFooter>
    </SubmissionForm>
  );
}
