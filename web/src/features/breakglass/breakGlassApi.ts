/** Break-glass grants (Z5): docs/api/clinical.md, "Break-glass". */
import { GrantAnswer, GrantList, GrantRecordAnswer } from '@haven/contract';
import type { Static } from 'typebox';
import { answerOf, memberOf } from '../../shared/schemaDecoding';

export type Grant = Static<typeof GrantAnswer>['grant'];

export const decodeGrantAnswer = memberOf(GrantAnswer, 'grant');
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
