import { formatDateTime } from '../../../shared/dates';
import type { SharedNote } from './notesApi';

/** Notes shared with the patient: the current version of each, as text. */
export function SharedNoteList({ notes }: { notes: SharedNote[] }) {
  if (notes.length === 0) return <p>No notes have been shared.</p>;
  return (
    <ul className="cards" aria-label="Shared notes">
      {notes.map((n) => (
        <li key={n.id} className="card" data-testid="shared-note">
          <p className="card-title">
            {n.author.displayName} · {formatDateTime(n.createdAt)}
            {n.updatedAt !== n.createdAt && ` (updated ${formatDateTime(n.updatedAt)})`}
          </p>
          <p className="note-body">{n.body}</p>
        </li>
      ))}
    </ul>
  );
}
