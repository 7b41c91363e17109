import { sessionStore } from '../../../auth/sessionStore';
import { ProblemAlert } from '../../../shared/forms';
import { Page } from '../../../shared/Page';
import { Link } from '../../../shared/router';
import { useResource } from '../../../shared/useResource';
import { decodeMyStudies, reviewPagePath, type MyStudy } from './participationApi';

/** The participant's studies, each with its progress and the way in. */
export function MyStudiesPage() {
  const studies = useResource('/api/reviews/studies', () =>
    sessionStore.api('GET', '/api/reviews/studies', decodeMyStudies),
  );
  return (
    <Page title="My studies">
      <ProblemAlert error={studies.error} />
      {studies.data === null ? (
        !studies.error && <p role="status">Loading your studies…</p>
      ) : studies.data.length === 0 ? (
        <p>You are not taking part in a study yet. When a research team adds you, it shows here.</p>
      ) : (
        <ul className="cards" aria-label="Studies">
          {studies.data.map((study) => (
            <StudyCard key={study.id} study={study} />
          ))}
        </ul>
      )}
    </Page>
  );
}

export function progressText(answered: number, total: number): string {
  if (total === 0) return 'No cases assigned yet';
  if (answered >= total) return `All ${total} cases reviewed`;
  return `${answered} of ${total} cases reviewed`;
}

function StudyCard({ study }: { study: MyStudy }) {
  const done = study.total > 0 && study.answered >= study.total;
  return (
    <li className="card stack">
      <h2 className="card-title">{study.title}</h2>
      {study.description && <p>{study.description}</p>}
      <div className="progress-row">
        <progress
          max={Math.max(study.total, 1)}
          value={study.answered}
          aria-label={`Progress in ${study.title}`}
        />
        <span>{progressText(study.answered, study.total)}</span>
      </div>
      {study.status === 'closed' ? (
        <p className="subtle">This study is closed.</p>
      ) : done ? (
        <p className="subtle">Thank you: you reviewed every case.</p>
      ) : study.total === 0 ? null : (
        <p>
          <Link className="button" to={reviewPagePath(study.id)}>
            {study.answered === 0 ? 'Start reviewing' : 'Continue reviewing'}
            <span className="visually-hidden"> {study.title}</span>
          </Link>
        </p>
      )}
    </li>
  );
}
