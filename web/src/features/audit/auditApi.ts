/** The audit log (L3): search and chain verification (docs/api/clinical.md, "Audit log"). */
import {
  bool,
  jsonObject,
  listOf,
  num,
  object,
  oneOf,
  optionalText,
  text,
} from '../../shared/decoding';

export const OUTCOMES = ['success', 'failure', 'denied'] as const;
export type Outcome = (typeof OUTCOMES)[number];

const decodeEntry = object('audit event', {
  seq: text,
  id: text,
  occurredAt: text,
  actorType: text,
  actorId: optionalText,
  actorDisplayName: optionalText,
  action: text,
  targetType: optionalText,
  targetId: optionalText,
  outcome: oneOf(OUTCOMES),
  requestId: optionalText,
  details: jsonObject,
});
export type AuditEntry = ReturnType<typeof decodeEntry>;

export const decodeAuditPage = object('answer', {
  events: listOf(decodeEntry),
  nextBefore: optionalText,
});

export const decodeChainStatus = object('answer', {
  ok: bool,
  checked: num,
  lastHash: optionalText,
  firstBadSeq: optionalText,
  problem: optionalText,
  message: optionalText,
});
export type ChainStatus = ReturnType<typeof decodeChainStatus>;

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
