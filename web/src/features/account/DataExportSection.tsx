import { AccountExportSchema } from '@haven/contract';
import { sessionStore } from '../../auth/sessionStore';
import { localDay } from '../../shared/dates';
import { saveBlob } from '../../shared/download';
import { ActionButton, ActionOutcome } from '../../shared/forms';
import { answerOf } from '../../shared/schemaDecoding';
import { useAction } from '../../shared/submission';
import { ReadableExport, type AccountExport, type DescribeAccess } from './ReadableExport';

const fetchExport = () =>
  sessionStore.api('GET', '/api/account/export', answerOf(AccountExportSchema));

/**
 * "Download my data": GET /api/account/export, saved through a Blob and an object URL (no data:
 * URL, nothing inline, so the CSP has nothing to block), either as a page a person can read and
 * print (HTML, rendered by React so every value is text) or as JSON for another system.
 * `describeAccess` words the access log's actions (the portal passes its own).
 */
export function DataExportSection({
  describeAccess = (action) => action,
}: {
  describeAccess?: DescribeAccess;
}) {
  const action = useAction();

  const downloadReadable = () =>
    void action.act(async () => {
      const [data, server] = await Promise.all([fetchExport(), import('react-dom/server')]);
      const html = `<!doctype html>\n${server.renderToStaticMarkup(
        <ReadableExport data={data} describeAccess={describeAccess} />,
      )}`;
      saveBlob(new Blob([html], { type: 'text/html' }), `haven-export-${localDay()}.html`);
      return 'Your data was downloaded as a page you can open, read and print.';
    });

  const downloadJson = () =>
    void action.act(async () => {
      saveJson(await fetchExport(), `haven-export-${localDay()}.json`);
      return 'Your data was downloaded as a JSON file.';
    });

  return (
    <section className="panel stack" aria-labelledby="export-title">
      <h2 id="export-title">Download my data</h2>
      <p>
        A copy of your account, your sessions and, for patients, your record: as a page to read and
        print, or as a JSON file for another app.
      </p>
      <ActionOutcome action={action} />
      <div className="actions">
        <ActionButton busy={action.busy} onClick={downloadReadable}>
          Download as a page (HTML)
        </ActionButton>
        <ActionButton busy={action.busy} onClick={downloadJson} className="button secondary">
          Download as data (JSON)
        </ActionButton>
      </div>
    </section>
  );
}

function saveJson(data: AccountExport, fileName: string): void {
  saveBlob(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }), fileName);
}
