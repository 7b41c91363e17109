import { useId } from 'react';
import { formatBytes } from '../../shared/bytes';
import { sessionStore } from '../../auth/sessionStore';
import { ApiError } from '../../shared/api';
import { formatDateTime } from '../../shared/dates';
import { ActionOutcome } from '../../shared/forms';
import { useAction } from '../../shared/submission';
import { ignoreBody } from '../../shared/decoding';
import { describeUploadProblem, multipartPath, openUploadPath, type OpenUpload } from './filesApi';
import { forgetMultipartSession } from './s3Uploader';
import type { CsrfSource } from './uppyClient';

/**
 * Uploads the server holds unfinished (a reload, a closed tab): adding the same file again
 * continues it from the last stored part; discarding it frees the space it reserved.
 */
export function UnfinishedUploads({
  uploads,
  csrf,
  onChanged,
}: {
  uploads: readonly OpenUpload[];
  csrf: CsrfSource;
  onChanged: () => void;
}) {
  const action = useAction(onChanged);
  const titleId = useId();
  if (uploads.length === 0) return <ActionOutcome action={action} />;
  const discard = (upload: OpenUpload) =>
    action.act(async () => {
      if (upload.protocol === 's3') {
        await sessionStore
          .api('DELETE', multipartPath(upload.id), ignoreBody)
          .catch((error: unknown) => {
            if (!(error instanceof ApiError && error.status === 404)) throw error;
          });
        forgetMultipartSession(upload.id);
        return `The unfinished upload of "${upload.name}" was discarded.`;
      }
      const response = await fetch(openUploadPath(upload.id), {
        method: 'DELETE',
        credentials: 'same-origin',
        headers: { 'Tus-Resumable': '1.0.0', 'X-CSRF-Token': await csrf.token() },
      });
      if (!response.ok && response.status !== 404) {
        const detail = describeUploadProblem(response.status, await response.text());
        throw new ApiError({ status: response.status, code: 'upload_problem', title: detail });
      }
      return `The unfinished upload of "${upload.name}" was discarded.`;
    }, upload.id);
  return (
    <section className="stack" aria-labelledby={titleId}>
      <h3 id={titleId}>Unfinished uploads</h3>
      <p>Add the same file again to continue where it stopped.</p>
      <ActionOutcome action={action} />
      <ul className="cards" aria-label="Unfinished uploads">
        {uploads.map((upload) => (
          <li key={upload.id} className="card" data-testid="unfinished-upload">
            <p className="card-title">{upload.name}</p>
            <p>
              {formatBytes(upload.receivedBytes)} of {formatBytes(upload.size)} received; kept until{' '}
              {formatDateTime(upload.expiresAt)}.
            </p>
            <div className="actions">
              <button
                type="button"
                className="button secondary"
                aria-label={`Discard the unfinished upload of ${upload.name}`}
                disabled={action.busy}
                onClick={() => void discard(upload)}
              >
                Discard
              </button>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
