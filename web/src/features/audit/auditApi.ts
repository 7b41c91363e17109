/** The audit log (L3): search and chain verification (docs/api/clinical.md, "Audit log"). */
import { AuditPage, VerifyAnswer } from '@haven/contract';
import type { Static } from 'typebox';
import { answerOf } from '../../shared/schemaDecoding';

export type AuditEntry = Static<typeof AuditPage>['events'][number];
export type Outcome = AuditEntry['outcome'];
export const OUTCOMES = ['success', 'failure', 'denied'] as const satisfies readonly Outcome[];

export const decodeAuditPage = answerOf(AuditPage);

export type ChainStatus = Static<typeof VerifyAnswer>;
export const decodeChainStatus = answerOf(VerifyAnswer);

/** Search filters; an empty or missing one does not filter. */
export interface AuditFilters {
  actorId?: string;
  targetType?: string;
  targetId?: string;
  action?: string;
  outcome?: Outcome;
  /** ISO 8601 instants. */
  from?: string;
  to?: string;
}

const AUDIT_PAGE_SIZE = 50;

export function auditSearchPath(filters: AuditFilters, before: string | null): string {
  const params = new URLSearchParams({ limit: String(AUDIT_PAGE_SIZE) });
  for (const [key, value] of Object.entries(filters)) {
    if (typeof value === 'string' && value !== '') params.set(key, value);
  }
  if (before) params.set('before', before);
  return `/api/admin/audit-events?${params.toString()}`;
}
