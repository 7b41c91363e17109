/** The patient portal: own record, consents, shared notes and access list (docs/api/clinical.md). */
import {
  AccessLogPage,
  OwnPortalInvitationList,
  PortalConsentsAnswer,
  PortalInvitationAccepted,
  PortalNotesAnswer,
  PortalRecordAnswer,
} from '@haven/contract';
import type { Static } from 'typebox';
import { answerOf, memberOf } from '../../shared/schemaDecoding';
import { localDay } from '../../shared/dates';

/** One access to the record; `reason` only for break-glass access (the administrator's). */
export type AccessEntry = Static<typeof AccessLogPage>['entries'][number];

export const decodeAccessPage = answerOf(AccessLogPage);
export const decodePortalRecord = memberOf(PortalRecordAnswer, 'record');
export const decodePortalConsents = answerOf(PortalConsentsAnswer);
export const decodePortalNotes = memberOf(PortalNotesAnswer, 'notes');

/** Invitations to see a record a clinic keeps, as their invitee sees them (A11). */
export const PORTAL_INVITATIONS_PATH = '/api/account/portal-invitations';
export const decodePortalInvitations = memberOf(OwnPortalInvitationList, 'invitations');
export const decodePortalLinked = memberOf(PortalInvitationAccepted, 'linked');

export function portalInvitationPath(invitationId: string, accept = false): string {
  const base = `${PORTAL_INVITATIONS_PATH}/${encodeURIComponent(invitationId)}`;
  return accept ? `${base}/accept` : base;
}

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
  // A search, the break-glass search or a clinician's recent-patients list: each shows the name.
  'patient.listed': 'Saw your name in a list of patients',
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

export interface PersonDay {
  /** One card per person a day: the actor's kind and name (staff by their user name). */
  readonly key: string;
  readonly kind: AccessEntry['actor']['kind'];
  readonly displayName: string;
  /** What they did, in the order first seen (newest first), each with its times, newest first. */
  readonly actions: { readonly action: string; readonly times: string[] }[];
  /** The reasons they gave for emergency access that day. */
  readonly reasons: string[];
}

/**
 * Entries (newest first) grouped by the reader's local day, then by person: a clinician who
 * opened the record ten times in a morning is one card with "Viewed your record, 10 times".
 */
export function groupByDayAndPerson(
  entries: readonly AccessEntry[],
): { day: string; people: PersonDay[] }[] {
  const days: { day: string; people: PersonDay[] }[] = [];
  for (const entry of entries) {
    const day = localDay(new Date(entry.at));
    let group = days.at(-1);
    if (group?.day !== day) {
      group = { day, people: [] };
      days.push(group);
    }
    const key = `${entry.actor.kind}:${entry.actor.displayName}`;
    let person = group.people.find((p) => p.key === key);
    if (!person) {
      person = {
        key,
        kind: entry.actor.kind,
        displayName: entry.actor.displayName,
        actions: [],
        reasons: [],
      };
      group.people.push(person);
    }
    const action = person.actions.find((a) => a.action === entry.action);
    if (action) action.times.push(entry.at);
    else person.actions.push({ action: entry.action, times: [entry.at] });
    if (entry.reason !== null && !person.reasons.includes(entry.reason)) {
      person.reasons.push(entry.reason);
    }
  }
  return days;
}
