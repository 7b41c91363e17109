import { TableFrame } from './TableFrame';
import { DashboardAnswer } from '@haven/contract';
import type { Static } from 'typebox';
import { sessionStore } from '../../auth/sessionStore';
import { ProblemAlert } from '../../shared/forms';
import { answerOf } from '../../shared/schemaDecoding';
import { useResource } from '../../shared/useResource';
import { studyApi, type Study } from './reviewsApi';
import {
  METHOD_NAMES,
  agreementWords,
  barClass,
  formatDuration,
  formatRate,
} from './dashboardFormat';

type Dashboard = Static<typeof DashboardAnswer>;
const decodeDashboard = answerOf(DashboardAnswer);

/** Progress, attention, durations and inter-rater agreement of the study. */
export function DashboardSection({ study }: { study: Study }) {
  const path = studyApi(study.id, '/dashboard');
  const dashboard = useResource(path, () => sessionStore.api('GET', path, decodeDashboard));
  const d = dashboard.data;
  return (
    <>
      <ProblemAlert error={dashboard.error} />
      {d === null ? (
        !dashboard.error && <p role="status">Loading the dashboard…</p>
      ) : (
        <>
          <ProgressPanel
            id="progress-participants"
            title="Progress per participant"
            column="Participant"
            rows={d.participants.map((p) => ({
              key: p.participantId,
              name: p.removed ? `${p.displayName} (removed)` : p.displayName,
              total: p.assigned,
              answered: p.answered,
              extra:
                p.attentionPassed + p.attentionFailed === 0
                  ? 'None yet'
                  : `${p.attentionPassed} passed, ${p.attentionFailed} failed`,
            }))}
            extraColumn="Attention checks"
          />
          <ProgressPanel
            id="progress-arms"
            title="Progress per arm"
            column="Arm"
            rows={d.arms.map((a) => ({
              key: a.armId ?? 'none',
              name: a.armName ?? 'No arm',
              total: a.assigned,
              answered: a.answered,
              extra: a.durations.medianMs === null ? '—' : formatDuration(a.durations.medianMs),
            }))}
            extraColumn="Median time per case"
          />
          <AttentionPanel attention={d.attention} />
          <DurationPanel durations={d.durations} />
          <AgreementPanel agreement={d.agreement} />
        </>
      )}
    </>
  );
}

function ProgressPanel({
  id,
  title,
  column,
  rows,
  extraColumn,
}: {
  id: string;
  title: string;
  column: string;
  rows: Array<{ key: string; name: string; total: number; answered: number; extra: string }>;
  extraColumn: string;
}) {
  return (
    <section className="panel stack" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {rows.length === 0 ? (
        <p>Nothing assigned yet.</p>
      ) : (
        <TableFrame label={`${title} table`}>
          <table className="table dashboard-table">
            <caption className="visually-hidden">{title}</caption>
            <thead>
              <tr>
                <th scope="col">{column}</th>
                <th scope="col">Answered</th>
                <th scope="col">Assigned</th>
                <th scope="col">Progress</th>
                <th scope="col">{extraColumn}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => {
                const share = row.total === 0 ? 0 : row.answered / row.total;
                return (
                  <tr key={row.key}>
                    <th scope="row">{row.name}</th>
                    <td>{row.answered.toLocaleString()}</td>
                    <td>{row.total.toLocaleString()}</td>
                    <td>
                      <span className="bar" aria-hidden="true">
                        <span className={barClass(share)} />
                      </span>{' '}
                      {Math.round(share * 100)}%
                    </td>
                    <td>{row.extra}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableFrame>
      )}
    </section>
  );
}

function AttentionPanel({ attention }: { attention: Dashboard['attention'] }) {
  return (
    <section className="panel stack" aria-labelledby="attention-title">
      <h2 id="attention-title">Attention checks</h2>
      {attention.passed + attention.failed === 0 ? (
        <p>No attention check has been answered yet.</p>
      ) : (
        <p>
          <strong>{formatRate(attention.passRate)}</strong> passed:{' '}
          {attention.passed.toLocaleString()} of{' '}
          {(attention.passed + attention.failed).toLocaleString()} checks were answered as expected.
        </p>
      )}
    </section>
  );
}

const DURATION_ROWS = [
  ['reading', 'Reading the case (opened → form started)'],
  ['answering', 'Answering (form started → submitted)'],
  ['total', 'Whole review (opened → submitted)'],
] as const;

function DurationPanel({ durations }: { durations: Dashboard['durations'] }) {
  return (
    <section className="panel stack" aria-labelledby="durations-title">
      <h2 id="durations-title">Time per case</h2>
      <p className="subtle">
        Median and interquartile range (the middle half of reviews), from the server’s clock.
        Implausible timings are kept and flagged in the answers export.
      </p>
      <TableFrame label="Durations table">
        <table className="table">
          <caption className="visually-hidden">Durations</caption>
          <thead>
            <tr>
              <th scope="col">Stage</th>
              <th scope="col">Reviews</th>
              <th scope="col">Median</th>
              <th scope="col">Middle half</th>
            </tr>
          </thead>
          <tbody>
            {DURATION_ROWS.map(([key, label]) => {
              const stats = durations[key];
              return (
                <tr key={key}>
                  <th scope="row">{label}</th>
                  <td>{stats.count.toLocaleString()}</td>
                  <td>{formatDuration(stats.medianMs)}</td>
                  <td>
                    {stats.q1Ms === null || stats.q3Ms === null
                      ? '—'
                      : `${formatDuration(stats.q1Ms)} to ${formatDuration(stats.q3Ms)}`}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </TableFrame>
    </section>
  );
}

function AgreementPanel({ agreement }: { agreement: Dashboard['agreement'] }) {
  return (
    <section className="panel stack" aria-labelledby="agreement-title">
      <h2 id="agreement-title">Agreement between reviewers</h2>
      <p className="subtle">
        For choice questions on cases reviewed by several participants, per arm and for all arms
        together. 1 is perfect agreement, 0 is what chance alone would give.
      </p>
      {agreement.length === 0 ? (
        <p>No case has been reviewed by two or more participants yet.</p>
      ) : (
        <TableFrame label="Agreement table">
          <table className="table">
            <caption className="visually-hidden">Inter-rater agreement</caption>
            <thead>
              <tr>
                <th scope="col">Question</th>
                <th scope="col">Arm</th>
                <th scope="col">Method</th>
                <th scope="col">Kappa</th>
                <th scope="col">Reading</th>
                <th scope="col">Krippendorff’s alpha</th>
                <th scope="col">Cases</th>
              </tr>
            </thead>
            <tbody>
              {agreement.map((row) => (
                <tr key={`${row.questionId}-${row.armId ?? 'all'}`}>
                  <th scope="row">{row.prompt}</th>
                  <td>{row.armId === null ? 'All arms' : (row.armName ?? 'Unnamed arm')}</td>
                  <td>{row.method ? METHOD_NAMES[row.method] : '—'}</td>
                  <td>{row.kappa === null ? '—' : row.kappa.toFixed(2)}</td>
                  <td>
                    {row.kappa === null && row.reason ? row.reason : agreementWords(row.kappa)}
                  </td>
                  <td>{row.alpha === null ? '—' : row.alpha.toFixed(2)}</td>
                  <td>
                    {row.cases.toLocaleString()}
                    {row.ratersPerCase !== null && ` (${row.ratersPerCase} raters each)`}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableFrame>
      )}
    </section>
  );
}
