// The audit CSV export's format (V3): RFC 4180 fields, CRLF records, and every text cell a
// spreadsheet would take for a formula neutralized. Audit rows carry text others chose (a
// display name, a client id, a filter value in details), so the file must not run it.
import { neutralizeCell, quoteField } from '../../platform/csv-cells.js';
import type { AuditEntryView } from './schemas.js';

export const AUDIT_CSV_COLUMNS = [
  'seq',
  'occurred_at',
  'actor_type',
  'actor_id',
  'actor_display_name',
  'action',
  'target_type',
  'target_id',
  'outcome',
  'request_id',
  'details',
] as const;

/** One field: a formula neutralized, then quoted as RFC 4180 needs (platform/csv-cells.ts). */
function csvField(value: string | null): string {
  return value === null ? '' : quoteField(neutralizeCell(value));
}

function cellsOf(entry: AuditEntryView): Array<string | null> {
  const details = Object.keys(entry.details).length > 0 ? JSON.stringify(entry.details) : null;
  return [
    entry.seq,
    entry.occurredAt,
    entry.actorType,
    entry.actorId,
    entry.actorDisplayName,
    entry.action,
    entry.targetType,
    entry.targetId,
    entry.outcome,
    entry.requestId,
    details,
  ];
}

/** The header and one record per entry, each ended by CRLF. */
export function auditCsv(entries: readonly AuditEntryView[]): string {
  let text = `${AUDIT_CSV_COLUMNS.join(',')}\r\n`;
  for (const entry of entries) text += `${cellsOf(entry).map(csvField).join(',')}\r\n`;
  return text;
}
