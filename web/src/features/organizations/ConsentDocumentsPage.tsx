import { useState, type FormEvent } from 'react';
import { Page } from '../../app/Page';
import { sessionStore } from '../../auth/sessionStore';
import { fieldErrorsOf } from '../../shared/api';
import { Field, ProblemAlert, SubmitButton, SuccessNote, useSubmission } from '../../shared/forms';
import { CheckboxField, SelectField, TextAreaField, serverFieldError } from '../../shared/fields';
import { useResource } from '../../shared/useResource';
import { formatDateTime } from '../account/accountApi';
import {
  CONSENT_KIND_CHOICES,
  decodeDocumentAnswer,
  decodeDocuments,
  kindLabel,
  type ConsentDocument,
  type ConsentKind,
} from '../patients/consentsApi';
import { ClinicalProblem } from './ClinicalProblem';
import { useActiveRole, useOrganizationKey } from './organizationStore';

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

export function DocumentCard({ document: d }: { document: ConsentDocument }) {
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
  const [kind, setKind] = useState<ConsentKind>('hipaa_notice');
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [required, setRequired] = useState(true);
  const [errors, setErrors] = useState<{ title?: string; body?: string }>({});
  const [note, setNote] = useState<string | null>(null);
  const submission = useSubmission();
  const serverErrors = fieldErrorsOf(submission.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setNote(null);
    const problems = {
      ...(title.trim() === '' ? { title: 'Enter the title.' } : {}),
      ...(body.trim() === '' ? { body: 'Enter the text of the document.' } : {}),
    };
    setErrors(problems);
    if (problems.title || problems.body) return submission.invalid();
    void submission.run(async () => {
      const document = await sessionStore.api(
        'POST',
        '/api/consent-documents',
        decodeDocumentAnswer,
        { kind, title: title.trim(), body, required },
      );
      setTitle('');
      setBody('');
      setNote(`Version ${document.version} of ${kindLabel(document.kind)} was published.`);
      onPublished();
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
      <form ref={submission.formRef} onSubmit={submit} noValidate className="stack">
        <SelectField
          label="Kind"
          value={kind}
          choices={CONSENT_KIND_CHOICES}
          onValueChange={setKind}
        />
        <Field
          label="Title"
          autoComplete="off"
          maxLength={200}
          required
          value={title}
          onValueChange={setTitle}
          error={errors.title ?? serverFieldError(serverErrors, 'title')}
        />
        <TextAreaField
          label="Text"
          rows={8}
          maxLength={20_000}
          value={body}
          onValueChange={setBody}
          error={errors.body ?? serverFieldError(serverErrors, 'body')}
        />
        <CheckboxField
          label="Required: patients must consent to this version"
          checked={required}
          onCheckedChange={setRequired}
        />
        <ProblemAlert error={submission.error} />
        {note && <SuccessNote>{note}</SuccessNote>}
        <SubmitButton busy={submission.busy}>Publish</SubmitButton>
      </form>
    </section>
  );
}
