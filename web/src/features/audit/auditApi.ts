/** The audit log (L3): search and chain verification (docs/api/clinical.md, "Audit log"). */
import {
  expectBoolean,
  expectNumber,
  expectRecord,
  expectString,
  optionalString,
  type Decoder,
} from '../../shared/api';
import { expectArray, expectJsonObject, expectOneOf } from '../../shared/decoding';

export const OUTCOMES = ['success', 'failure', 'denied'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface AuditEntry {
  seq: string;
  id: string;
  occurredAt: string;
  actorType: string;
  actorId: string | null;
  actorDisplayName: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: Outcome;
  requestId: string | null;
  details: Record<string, unknown>;
}

export interface AuditPage {
  events: AuditEntry[];
  nextBefore: string | null;
}

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

export interface ChainStatus {
  ok: boolean;
  checked: number;
  lastHash: string | null;
  firstBadSeq: string | null;
  problem: string | null;
  message: string | null;
}

function decodeEntry(value: unknown): AuditEntry {
  const r = expectRecord(value, 'audit event');
  return {
    seq: expectString(r, 'seq'),
    id: expectString(r, 'id'),
    occurredAt: expectString(r, 'occurredAt'),
    actorType: expectString(r, 'actorType'),
    actorId: optionalString(r, 'actorId'),
    actorDisplayName: optionalString(r, 'actorDisplayName'),
    action: expectString(r, 'action'),
    targetType: optionalString(r, 'targetType'),
    targetId: optionalString(r, 'targetId'),
    outcome: expectOneOf(r, 'outcome', OUTCOMES),
    requestId: optionalString(r, 'requestId'),
    details: expectJsonObject(r['details'], 'details'),
  };
}

export const decodeAuditPage: Decoder<AuditPage> = (body) => {
  const r = expectRecord(body, 'answer');
  return {
    events: expectArray(r, 'events', decodeEntry),
    nextBefore: optionalString(r, 'nextBefore'),
  };
};

export const decodeChainStatus: Decoder<ChainStatus> = (body) => {
  const r = expectRecord(body, 'answer');
  return {
    ok: expectBoolean(r, 'ok'),
    checked: expectNumber(r, 'checked'),
    lastHash: optionalString(r, 'lastHash'),
    firstBadSeq: optionalString(r, 'firstBadSeq'),
    problem: optionalString(r, 'problem'),
    message: optionalString(r, 'message'),
  };
};

export const AUDIT_PAGE_SIZE = 50;

export function auditSearchPath(filters: AuditFilters, before: string | null): string {
  const params = new URLSearchParams({ limit: String(AUDIT_PAGE_SIZE) });
  for (const [key, value] of Object.entries(filters)) {
    if (typeof value === 'string' && value !== '') params.set(key, value);
  }
  if (before) params.set('before', before);
  return `/api/admin/audit-events?${params.toString()}`;
}
