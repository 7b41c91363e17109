import { hasCode } from '../../shared/api';
import { ProblemAlert } from '../../shared/forms';

/**
 * A failed load of a clinical page: the problem detail and request id, plus what to do when
 * no organization is active (the switcher sits in the page header).
 */
export function ClinicalProblem({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  return (
    <>
      <ProblemAlert error={error} />
      {hasCode(error, 'NO_ACTIVE_ORGANIZATION') && (
        <p className="note">Choose an organization with the switcher at the top of the page.</p>
      )}
    </>
  );
}
