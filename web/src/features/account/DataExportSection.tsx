import { saveBlob } from '../../shared/download';
import { AccountExportSchema } from '@haven/contract';
import { sessionStore } from '../../auth/sessionStore';
import { localDay } from '../../shared/dates';
import { answerOf } from '../../shared/schemaDecoding';
import { ActionButton, ActionOutcome } from '../../shared/forms';
import { useAction } from '../../shared/submission';

/**
 * "Download my data": GET /api/account/export, saved as a JSON file through a Blob and an
 * object URL (no data: URL, nothing inline, so the CSP has nothing to block).
 */
export function DataExportSection() {
  const action = useAction();

  const download = () =>
    void action.act(async () => {
      const data = await sessionStore.api(
        'GET',
        '/api/account/export',
        answerOf(AccountExportSchema),
      );
      saveJson(data, `haven-export-${localDay()}.json`);
      return 'Your data was downloaded.';
    });

  return (
    <section className="panel stack" aria-labelledby="export-title">
      <h2 id="export-title">Download my data</h2>
      <p>A copy of your account, your sessions and, for patients, your record as a JSON file.</p>
      <ActionOutcome action={action} />
      <ActionButton busy={action.busy} onClick={download}>
        Download my data
      </ActionButton>
    </section>
  );
}

function saveJson(data: unknown, fileName: string): void {
  saveBlob(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }), fileName);
}
