import { useState } from 'react';
import { sessionStore } from '../../../auth/sessionStore';
import { formatDateTime } from '../../../shared/dates';
import { CheckboxField, Field, SelectField, TextAreaField } from '../../../shared/fields';
import { FormFooter, SubmissionForm } from '../../../shared/forms';
import { useForm } from '../../../shared/submission';
import { Page } from '../../../shared/Page';
import { useResource } from '../../../shared/useResource';
import { ClinicalProblem, useActiveRole, useOrganizationKey } from '../../organizations';
import {
  CONSENT_KIND_CHOICES,
  DEFAULT_KIND,
  decodeDocumentAnswer,
  decodeDocuments,
  kindLabel,
  type ConsentDocument,
  type ConsentKind,
} from './consentsApi';

/** Every version of the organization's consent documents; its administrators publish new ones. */
export function ConsentDocumentsPage() {
  const organizationKey = useOrganizationKey();
  const isAdmin = useActiveRole() === 'org_admin';
  const documents = useResource(organizationKey && `${organizationKey}:documents`, () =>
    sessionStore.api('GET', '/api/consent-documents', decodeDocuments),
  );

  return (
    <Page title="Consent documents">
      {isAdmin && <PublishForm onPublished={documents.reload} />}
      <section className="panel stack" aria-labelledby="documents-title">
        <h2 id="documents-title">Published versions</h2>
        <ClinicalProblem error={documents.error} />
        {documents.data === null ? (
          !documents.error && <p role="status">Loading documents…</p>
        ) : documents.data.length === 0 ? (
          <p>No consent documents are published yet.</p>
        ) : (
          <ul className="cards" aria-label="Consent documents">
            {documents.data.map((d) => (
              <DocumentCard key={d.id} document={d} />
            ))}
          </ul>
        )}
      </section>
    </Page>
  );
}

function DocumentCard({ document: d }: { document: ConsentDocument }) {
  return (
    <li className="card">
      <p className="card-title">
        {d.title}
        {d.current ? (
          <span className="badge">Current</span>
        ) : (
          <span className="badge badge-muted">Superseded</span>
        )}
      </p>
      <dl className="facts">
        <dt>Kind</dt>
        <dd>{kindLabel(d.kind)}</dd>
        <dt>Version</dt>
        <dd>{d.version}</dd>
        <dt>Required</dt>
        <dd>{d.required ? 'Yes' : 'No'}</dd>
        <dt>Published</dt>
        <dd>{formatDateTime(d.publishedAt)}</dd>
      </dl>
      <details>
        <summary>Read the text</summary>
        <p className="note-body">{d.body}</p>
      </details>
    </li>
  );
}

function PublishForm({ onPublished }: { onPublished: () => void }) {
  const form = useForm({ kind: DEFAULT_KIND, title: '', body: '', required: true });
  // Publishing cannot be undone: the form first shows the version as patients will read it.
  const [previewing, setPreviewing] = useState(false);

  const preview = () => {
    const { title, body } = form.values;
    const problems = {
      title: title.trim() === '' ? 'Enter the title.' : undefined,
      body: body.trim() === '' ? 'Enter the text of the document.' : undefined,
    };
    if (form.validate(problems)) setPreviewing(true);
  };

  const publish = () => {
    const { kind, title, body, required } = form.values;
    setPreviewing(false);
    void form.run(async () => {
      const document = await sessionStore.api(
        'POST',
        '/api/consent-documents',
        decodeDocumentAnswer,
        { kind, title: title.trim(), body, required },
      );
      form.clear('title', 'body');
      onPublished();
      return `Version ${document.version} of ${kindLabel(document.kind)} was published.`;
    });
  };

  return (
    <section className="panel stack" aria-labelledby="publish-title">
      <h2 id="publish-title">Publish a new version</h2>
      <p className="note">
        The new version replaces the current one of its kind for every patient of the organization.
        Published versions cannot be changed or removed. When it is required, patients must consent
        to it again.
      </p>
      {previewing ? (
        <PublishPreview
          kind={form.values.kind}
          title={form.values.title.trim()}
          body={form.values.body}
          required={form.values.required}
          onPublish={publish}
          onEdit={() => setPreviewing(false)}
        />
      ) : (
        <SubmissionForm submission={form} onSubmit={preview}>
          <SelectField label="Kind" choices={CONSENT_KIND_CHOICES} {...form.bind('kind')} />
          <Field
            label="Title"
            autoComplete="off"
            maxLength={200}
            required
            {...form.bind('title')}
          />
          <TextAreaField label="Text" rows={8} maxLength={20_000} {...form.bind('body')} />
          <CheckboxField
            label="Required: patients must consent to this version"
            {...form.bindCheckbox('required')}
          />
          <FormFooter submission={form}>Preview before publishing</FormFooter>
        </SubmissionForm>
      )}
    </section>
  );
}

/** The version as patients will read it, with the one button that publishes it for good. */
function PublishPreview({
  kind,
  title,
  body,
  required,
  onPublish,
  onEdit,
}: {
  kind: ConsentKind;
  title: string;
  body: string;
  required: boolean;
  onPublish: () => void;
  onEdit: () => void;
}) {
  return (
    <div className="stack" role="group" aria-labelledby="preview-title">
      <h3 id="preview-title">Preview: {title}</h3>
      <p>
        {kindLabel(kind)}
        {required
          ? ', required: every patient will be asked to consent to it.'
          : ', optional.'}{' '}
        Once published it cannot be changed or removed.
      </p>
      <p className="note-body">{body}</p>
      <div className="actions">
        <button type="button" className="button" onClick={onPublish}>
          Publish this version
        </button>
        <button type="button" className="button secondary" onClick={onEdit}>
          Back to editing
        </button>
      </div>
    </div>
  );
}
