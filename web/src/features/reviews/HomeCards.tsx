import { sessionStore } from '../../auth/sessionStore';
import { ProblemAlert } from '../../shared/forms';
import { Link } from '../../shared/router';
import { useResource } from '../../shared/useResource';
import { decodeMyStudies, reviewPagePath } from './participant/participationApi';
import { progressText } from './participant/MyStudiesPage';
import { STATUS_LABELS, count, decodeStudyList, studyPagePath } from './reviewsApi';

const SHOWN = 5;

/** The researcher's home card: their studies, most recently changed first. */
export function ResearcherHome() {
  const studies = useResource('home:studies', () =>
    sessionStore.api('GET', '/api/studies', decodeStudyList),
  );
  const list = studies.data?.studies ?? [];
  return (
    <section className="panel stack" aria-labelledby="home-studies-title">
      <h2 id="home-studies-title">Your studies</h2>
      <ProblemAlert error={studies.error} />
      {studies.data === null ? (
        !studies.error && <p role="status">Loading your studies…</p>
      ) : list.length === 0 ? (
        <p>You have no studies yet.</p>
      ) : (
        <ul className="plain-list" aria-label="Your studies">
          {list.slice(0, SHOWN).map((s) => (
            <li key={s.id}>
              <Link to={studyPagePath(s.id)}>{s.title}</Link>{' '}
              <span className={`badge status-${s.status}`}>{STATUS_LABELS[s.status]}</span>{' '}
              <span className="subtle">
                {count(s.counts.answers, 'answer')} of{' '}
                {count(s.counts.assignments, 'assigned case')}
              </span>
            </li>
          ))}
        </ul>
      )}
      <p>
        <Link to="/studies">{list.length > SHOWN ? `All ${list.length} studies` : 'Studies'}</Link>
      </p>
    </section>
  );
}

/** The participant's home card: where their next case is. */
export function ParticipantHome() {
  const studies = useResource('home:reviews', () =>
    sessionStore.api('GET', '/api/reviews/studies', decodeMyStudies),
  );
  const list = studies.data ?? [];
  const next = list.find((s) => s.status === 'active' && s.answered < s.total) ?? null;
  return (
    <section className="panel stack" aria-labelledby="home-next-title">
      <h2 id="home-next-title">Next case</h2>
      <ProblemAlert error={studies.error} />
      {studies.data === null ? (
        !studies.error && <p role="status">Loading your studies…</p>
      ) : next ? (
        <>
          <p>
            {next.title}: {progressText(next.answered, next.total)}.
          </p>
          <p>
            <Link className="button" to={reviewPagePath(next.id)}>
              {next.answered === 0 ? 'Start reviewing' : 'Continue reviewing'}
            </Link>
          </p>
        </>
      ) : (
        <p>
          {list.length === 0
            ? 'You are not taking part in a study yet.'
            : 'You have no cases waiting. Thank you!'}
        </p>
      )}
      <p>
        <Link to="/reviews">My studies</Link>
      </p>
    </section>
  );
}
