/** Break-glass grants (Z5): docs/api/clinical.md, "Break-glass". */
import {
  BreakGlassPatientMatches,
  GrantAnswer,
  GrantList,
  GrantRecordAnswer,
} from '@haven/contract';
import type { Static } from 'typebox';
import { answerOf, memberOf } from '../../shared/schemaDecoding';

export type Grant = Static<typeof GrantAnswer>['grant'];

/** One patient the search found: what the picker shows, nothing of the record. */
export type PatientMatch = Static<typeof BreakGlassPatientMatches>['patients'][number];

export const decodeGrantAnswer = memberOf(GrantAnswer, 'grant');
export const decodePatientMatches = memberOf(BreakGlassPatientMatches, 'patients');
/** A POST, so names and MRNs never sit in a URL or an access log. */
export const PATIENT_SEARCH_PATH = '/api/break-glass/patients/search';
/** The server's bounds on a search query (server/src/modules/break-glass/schemas.ts). */
export const MIN_QUERY = 2;
export const MAX_QUERY = 100;
/** The most patients one search lists. */
export const MAX_MATCHES = 10;
export const decodeGrants = memberOf(GrantList, 'grants');
/** The record a grant opened: what the patient sees in the portal, read-only. */
export const decodeGrantRecord = answerOf(GrantRecordAnswer);

export type GrantFilter = 'active' | 'ended' | 'all';

export function grantListPath(filter: GrantFilter): string {
  if (filter === 'all') return '/api/admin/break-glass/grants';
  return `/api/admin/break-glass/grants?active=${filter === 'active' ? 'true' : 'false'}`;
}

export function grantRecordPath(grantId: string): string {
  return `/api/break-glass/grants/${encodeURIComponent(grantId)}/record`;
}

export function grantPagePath(grantId: string): string {
  return `/break-glass/${encodeURIComponent(grantId)}`;
}

export const MIN_REASON = 10;
export const MAX_REASON = 500;

/** Whom a grant is for, as a person reads it: "Family, Given", MRN and organization. */
export function grantPatientName(grant: Grant): string {
  return `${grant.patientFamilyName}, ${grant.patientGivenName}`;
}
