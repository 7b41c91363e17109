import { sessionStore } from '../../auth/sessionStore';
import { Field, SelectField, TextAreaField } from '../../shared/fields';
import { FormFooter, ProblemAlert, SubmissionForm } from '../../shared/forms';
import { Page } from '../../shared/Page';
import { Link, navigate } from '../../shared/router';
import { useForm } from '../../shared/submission';
import { useResource } from '../../shared/useResource';
import {
  STATUS_LABELS,
  count,
  decodeStudy,
  decodeStudyList,
  studyPagePath,
  type StudyList,
} from './reviewsApi';
import {
  STUDY_DESCRIPTION_LENGTH,
  STUDY_TITLE_LENGTH,
  studyDescriptionProblem,
  studyTitleProblem,
} from './studyChecks';

/** A researcher's studies, and a new one in an organization where they may run studies. */
export function StudiesPage() {
  const studies = useResource('/api/studies', () =>
    sessionStore.api('GET', '/api/studies', decodeStudyList),
  );
  return (
    <Page title="Studies">
      <section className="panel stack" aria-labelledby="studies-list-title">
        <h2 id="studies-list-title">Your studies</h2>
        <ProblemAlert error={studies.error} />
        {studies.data === null ? (
          !studies.error && <p role="status">Loading studies…</p>
        ) : studies.data.studies.length === 0 ? (
          <p>You are not on the team of any study yet.</p>
        ) : (
          <ul className="cards" aria-label="Studies">
            {studies.data.studies.map((study) => (
              <li key={study.id} className="card">
                <p className="card-title">
                  <Link to={studyPagePath(study.id)}>{study.title}</Link>
                  <span className={`badge status-${study.status}`}>
                    {STATUS_LABELS[study.status]}
                  </span>
                </p>
                <p className="subtle">
                  {study.organizationName} · {count(study.counts.cases, 'case')} ·{' '}
                  {count(study.counts.participants, 'participant')} ·{' '}
                  {count(study.counts.answers, 'answer')}
                </p>
              </li>
            ))}
          </ul>
        )}
      </section>
      {studies.data && <CreateStudyForm organizations={studies.data.organizations} />}
    </Page>
  );
}

function CreateStudyForm({ organizations }: { organizations: StudyList['organizations'] }) {
  const only = organizations.length === 1 ? (organizations[0]?.id ?? '') : '';
  const form = useForm({ organizationId: only, title: '', description: '' });
  if (organizations.length === 0) {
    return (
      <section className="panel" aria-labelledby="new-study-title">
        <h2 id="new-study-title">New study</h2>
        <p>
          To start a study you must be a researcher of an organization. Ask an organization
          administrator to add you with the researcher role.
        </p>
      </section>
    );
  }
  const choices = [
    ...(only ? [] : [{ value: '', label: 'Choose an organization…' }]),
    ...organizations.map((o) => ({ value: o.id, label: o.name })),
  ];
  const submit = () => {
    const title = form.values.title.trim();
    const description = form.values.description.trim();
    const problems = {
      organizationId: form.values.organizationId ? undefined : 'Choose the organization.',
      title: studyTitleProblem(title),
      description: studyDescriptionProblem(description),
    };
    if (!form.validate(problems)) return;
    void form.run(async () => {
      const study = await sessionStore.api('POST', '/api/studies', decodeStudy, {
        organizationId: form.values.organizationId,
        title,
        ...(description ? { description } : {}),
      });
      navigate(studyPagePath(study.id));
    });
  };
  return (
    <section className="panel stack" aria-labelledby="new-study-title">
      <h2 id="new-study-title">New study</h2>
      <SubmissionForm submission={form} onSubmit={submit}>
        <SelectField label="Organization" choices={choices} {...form.bind('organizationId')} />
        <Field
          label="Title"
          maxLength={STUDY_TITLE_LENGTH}
          autoComplete="off"
          {...form.bind('title')}
        />
        <TextAreaField
          label="Description"
          rows={3}
          maxLength={STUDY_DESCRIPTION_LENGTH}
          hint="What the study asks, for your team (participants see it too)."
          {...form.bind('description')}
        />
        <FormFooter submission={form}>Create study</FormFooter>
      </SubmissionForm>
    </section>
  );
}
