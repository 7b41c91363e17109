import type { ActiveSession } from '../../auth/sessionStore';
import { Page } from '../../shared/Page';
import { FilesSection } from './FilesSection';

/** "My files": what I uploaded, to my own files or to patients' records. */
export function FilesPage({ session }: { session: ActiveSession }) {
  return (
    <Page title="My files">
      <FilesSection session={session} title="Uploads" />
    </Page>
  );
}
