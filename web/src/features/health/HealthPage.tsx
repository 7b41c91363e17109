import { useEffect, useId, useState } from 'react';
import { ApiError, describeError, isAbortError } from '../../shared/api';
import { formatTime } from '../../shared/dates';
import {
  decodeChecks,
  fetchLiveness,
  fetchReadiness,
  type Liveness,
  type Readiness,
} from './healthApi';

type Probe<T> =
  { state: 'loading' } | { state: 'done'; value: T } | { state: 'failed'; error: unknown };

type Tone = 'pending' | 'good' | 'neutral' | 'bad';

interface CheckItem {
  key: string;
  label: string;
  value: string;
  tone: Tone;
}

const LOADING = { state: 'loading' } as const;

/** What each check is, for an administrator rather than for a monitoring system. */
const CHECK_NAMES: Record<string, string> = {
  liveness: 'Server',
  readiness: 'Ready for requests',
  database: 'Database',
  redis: 'Rate-limit store (Redis)',
  scanner: 'Malware scanner',
};
const STATE_WORDS: Record<string, string> = {
  ok: 'working',
  ready: 'yes',
  not_configured: 'not set up',
  failed: 'failing',
};
const nameOf = (name: string): string => CHECK_NAMES[name] ?? name.replace(/_/g, ' ');
const wordsFor = (state: string): string => STATE_WORDS[state] ?? state.replace(/_/g, ' ');

function toneOf(value: string): Tone {
  if (value === 'ok' || value === 'ready') return 'good';
  if (value === 'not_configured') return 'neutral';
  return 'bad';
}

/** Resolves to the probe result, or null if the request was aborted (superseded/unmounted). */
async function settle<T>(request: Promise<T>): Promise<Probe<T> | null> {
  try {
    return { state: 'done', value: await request };
  } catch (error) {
    return isAbortError(error) ? null : { state: 'failed', error };
  }
}

function toItems(liveness: Probe<Liveness>, readiness: Probe<Readiness>): CheckItem[] {
  const items: CheckItem[] = [];

  if (liveness.state === 'loading') {
    items.push({ key: 'liveness', label: nameOf('liveness'), value: 'checking…', tone: 'pending' });
  } else if (liveness.state === 'done') {
    const { status } = liveness.value;
    items.push({
      key: 'liveness',
      label: nameOf('liveness'),
      value: wordsFor(status),
      tone: toneOf(status),
    });
  } else {
    items.push({ key: 'liveness', label: nameOf('liveness'), value: 'no answer', tone: 'bad' });
  }

  let checks: Array<[string, string]> = [];
  if (readiness.state === 'loading') {
    items.push({
      key: 'readiness',
      label: nameOf('readiness'),
      value: 'checking…',
      tone: 'pending',
    });
  } else if (readiness.state === 'done') {
    const { status } = readiness.value;
    items.push({
      key: 'readiness',
      label: nameOf('readiness'),
      value: wordsFor(status),
      tone: toneOf(status),
    });
    checks = readiness.value.checks;
  } else {
    const { error } = readiness;
    const notReady = error instanceof ApiError && error.status === 503;
    items.push({
      key: 'readiness',
      label: nameOf('readiness'),
      value: notReady ? 'no' : 'no answer',
      tone: 'bad',
    });
    // A 503 problem document may carry the per-check states as an extension member.
    if (error instanceof ApiError) checks = decodeChecks(error.extensions['checks']);
  }

  for (const [name, state] of checks) {
    items.push({
      key: `check:${name}`,
      label: nameOf(name),
      value: wordsFor(state),
      tone: toneOf(state),
    });
  }
  return items;
}

export function HealthPage() {
  const titleId = useId();
  const [run, setRun] = useState(0);
  const [liveness, setLiveness] = useState<Probe<Liveness>>(LOADING);
  const [readiness, setReadiness] = useState<Probe<Readiness>>(LOADING);
  const [checkedAt, setCheckedAt] = useState<Date | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    const live = settle(fetchLiveness({ signal })).then((r) => r && setLiveness(r));
    const ready = settle(fetchReadiness({ signal })).then((r) => r && setReadiness(r));
    void Promise.all([live, ready]).then(() => {
      if (!signal.aborted) setCheckedAt(new Date());
    });
    return () => controller.abort();
  }, [run]);

  const refresh = () => {
    setLiveness(LOADING);
    setReadiness(LOADING);
    setRun((n) => n + 1);
  };

  const busy = liveness.state === 'loading' || readiness.state === 'loading';
  const items = toItems(liveness, readiness);
  const errors: string[] = [];
  if (liveness.state === 'failed') {
    errors.push(`Liveness check failed: ${describeError(liveness.error)}`);
  }
  if (readiness.state === 'failed') {
    errors.push(`Readiness check failed: ${describeError(readiness.error)}`);
  }

  return (
    <section className="panel" aria-labelledby={titleId}>
      <div className="panel-header">
        <h2 id={titleId}>System health</h2>
        <button type="button" className="button" onClick={refresh}>
          Refresh
        </button>
      </div>

      <div role="status" aria-live="polite" aria-busy={busy}>
        <ul className="checks">
          {items.map((item) => (
            <li key={item.key} className="check" data-tone={item.tone}>
              {`${item.label}: ${item.value}`}
            </li>
          ))}
        </ul>
      </div>

      {errors.length > 0 && (
        <div role="alert" className="error">
          {errors.map((message) => (
            <p key={message}>{message}</p>
          ))}
        </div>
      )}

      <p className="meta">
        {checkedAt ? (
          <>
            Last checked at <time dateTime={checkedAt.toISOString()}>{formatTime(checkedAt)}</time>
          </>
        ) : (
          'Checking…'
        )}
      </p>
    </section>
  );
}
