/** The patient portal: own record, consents, shared notes and access list (docs/api/clinical.md). */
import {
  AccessLogPage,
  PortalConsentsAnswer,
  PortalNotesAnswer,
  PortalRecordAnswer,
} from '@haven/contract';
import type { Static } from 'typebox';
import { answerOf, memberOf } from '../../shared/schemaDecoding';

/** One access to the record; `reason` only for break-glass access (the administrator's). */
export type AccessEntry = Static<typeof AccessLogPage>['entries'][number];

export const decodeAccessPage = answerOf(AccessLogPage);
export const decodePortalRecord = memberOf(PortalRecordAnswer, 'record');
export const decodePortalConsents = answerOf(PortalConsentsAnswer);
export const decodePortalNotes = memberOf(PortalNotesAnswer, 'notes');

const ACCESS_PAGE_SIZE = 20;

export function accessLogPath(before: string | null, breakGlassOnly = false): string {
  const params = new URLSearchParams({ limit: String(ACCESS_PAGE_SIZE) });
  if (before) params.set('before', before);
  if (breakGlassOnly) params.set('breakGlassOnly', 'true');
  return `/api/portal/access-log?${params.toString()}`;
}

const ACTION_LABELS: Record<string, string> = {
  'patient.created': 'Created your record',
  'patient.read': 'Viewed your record',
  'patient.listed': 'Found your record in a search',
  'patient.updated': 'Updated your record',
  'patient.archived': 'Archived your record',
  'patient.restored': 'Restored your record',
  'patient.portal_invited': 'Invited you to the portal',
  'patient.consents_read': 'Viewed your consents',
  'patient.consent_recorded': 'Recorded a consent',
  'patient.consent_withdrawn': 'Withdrew a consent',
  'patient.notes_read': 'Viewed your notes',
  'patient.note_read': 'Viewed a note',
  'patient.note_created': 'Wrote a note',
  'patient.note_corrected': 'Corrected a note',
  'patient.exported': 'Downloaded your data',
  'breakglass.granted': 'Was granted emergency access',
  'breakglass.revoked': 'Emergency access was revoked',
};

/** A readable description of an audit action; unknown actions are shown as they are. */
export function describeAction(action: string): string {
  return ACTION_LABELS[action] ?? action;
}
