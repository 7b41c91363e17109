import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { ProblemAlert, SuccessNote } from '../../shared/forms';
import { expectJsonObject } from '../../shared/decoding';

/**
 * "Download my data": GET /api/account/export, saved as a JSON file through a Blob and an
 * object URL (no data: URL, nothing inline, so the CSP has nothing to block).
 */
export function DataExportSection() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);

  const download = async () => {
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      const data = await sessionStore.api('GET', '/api/account/export', (body) =>
        expectJsonObject(body, 'export'),
      );
      saveJson(data, `haven-export-${new Date().toISOString().slice(0, 10)}.json`);
      setDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel stack" aria-labelledby="export-title">
      <h2 id="export-title">Download my data</h2>
      <p>A copy of your account, your sessions and, for patients, your record as a JSON file.</p>
      <ProblemAlert error={error} />
      {done && <SuccessNote>Your data was downloaded.</SuccessNote>}
      <button
        type="button"
        className="button"
        disabled={busy}
        aria-busy={busy}
        onClick={() => void download()}
      >
        Download my data
      </button>
    </section>
  );
}

function saveJson(data: unknown, fileName: string): void {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the click; the URL is no longer needed once it is handed over.
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
