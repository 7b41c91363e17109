import { ProblemAlert } from '../../shared/forms';
import { describeUploadError, uploadErrors } from './uploads';

/**
 * A refused upload: every bad line or path as its own sentence. `upload` is what was sent (the
 * parsed JSON), so paths can be named by their labels. The problem's own detail repeats the
 * first error with its raw path, so it is shown only when there is no list.
 */
export function UploadReport({ error, upload }: { error: unknown; upload: unknown }) {
  if (error === null || error === undefined) return null;
  // A problem found in the browser before sending (unreadable file, bad JSON) has no status.
  if (error instanceof Error && !('status' in error)) {
    return (
      <div className="error" role="alert">
        <p>{error.message}</p>
      </div>
    );
  }
  const errors = uploadErrors(error);
  if (errors.length === 0) return <ProblemAlert error={error} />;
  return (
    <div className="error upload-report" role="alert" tabIndex={-1}>
      <h3>
        {errors.length === 1
          ? 'Nothing was saved: one problem was found'
          : `Nothing was saved: ${errors.length} problems were found`}
      </h3>
      <p>Correct the file and upload it again.</p>
      <ul aria-label="Problems in the file">
        {errors.map((e, index) => (
          <li key={`${e.field}-${index}`}>{describeUploadError(e, upload)}</li>
        ))}
      </ul>
    </div>
  );
}
