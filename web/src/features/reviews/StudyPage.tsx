import { sessionStore } from '../../auth/sessionStore';
import { ProblemAlert } from '../../shared/forms';
import { Page } from '../../shared/Page';
import { Link, useSearchParam } from '../../shared/router';
import { useResource } from '../../shared/useResource';
import { AssignmentsSection } from './AssignmentsSection';
import { CasesSection } from './CasesSection';
import { DashboardSection } from './DashboardSection';
import { ExperimentsSection } from './ExperimentsSection';
import { ExportsSection } from './ExportsSection';
import { OverviewSection } from './OverviewSection';
import { QuestionnaireSection } from './QuestionnaireSection';
import {
  STATUS_LABELS,
  STUDY_TABS,
  decodeStudy,
  isStudyTab,
  studyApi,
  studyPagePath,
  type Study,
  type StudyTab,
} from './reviewsApi';

/** One study: its sections as links (each its own address, so a reload stays where it was). */
export function StudyPage({ studyId }: { studyId: string }) {
  const requested = useSearchParam('tab');
  const tab: StudyTab = isStudyTab(requested) ? requested : 'overview';
  const path = studyApi(studyId);
  const study = useResource(path, () => sessionStore.api('GET', path, decodeStudy));
  const label = STUDY_TABS.find((t) => t.tab === tab)?.label ?? '';

  if (study.data === null) {
    return (
      <Page title="Study">
        <ProblemAlert error={study.error} />
        {!study.error && <p role="status">Loading the study…</p>}
        <p>
          <Link to="/studies">All studies</Link>
        </p>
      </Page>
    );
  }
  const s = study.data;
  return (
    <Page title={s.title}>
      <div className="study-header">
        <p className="subtle">
          {s.organizationName} ·{' '}
          <span className={`badge status-${s.status}`}>{STATUS_LABELS[s.status]}</span>
        </p>
        <p>
          <Link to="/studies">All studies</Link>
        </p>
      </div>
      <nav aria-label="Study sections" className="study-tabs">
        <ul>
          {STUDY_TABS.map((t) => (
            <li key={t.tab}>
              <Link
                to={studyPagePath(s.id, t.tab)}
                aria-current={t.tab === tab ? 'page' : undefined}
              >
                {t.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div className="visually-hidden" role="status">
        {label} section
      </div>
      <TabContent tab={tab} study={s} onStudyChanged={study.reload} />
    </Page>
  );
}

function TabContent({
  tab,
  study,
  onStudyChanged,
}: {
  tab: StudyTab;
  study: Study;
  onStudyChanged: () => void;
}) {
  switch (tab) {
    case 'overview':
      return <OverviewSection study={study} onStudyChanged={onStudyChanged} />;
    case 'cases':
      return <CasesSection study={study} onStudyChanged={onStudyChanged} />;
    case 'questionnaire':
      return <QuestionnaireSection study={study} onStudyChanged={onStudyChanged} />;
    case 'experiments':
      return <ExperimentsSection study={study} />;
    case 'assignments':
      return <AssignmentsSection study={study} onStudyChanged={onStudyChanged} />;
    case 'dashboard':
      return <DashboardSection study={study} />;
    case 'exports':
      return <ExportsSection study={study} />;
  }
}
