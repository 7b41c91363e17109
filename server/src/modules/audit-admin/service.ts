// Audit-log administration (L3): search the hash-chained audit log and verify the chain. Both
// are audited themselves; a search records which filters were used, never their values (an
// actor id or a target id typed into the filter says whom the admin was looking into).
import { HavenError } from '../../platform/errors.js';
import { recordAudit, type AuditEvent } from '../../platform/audit/audit.js';
import type { Kysely } from 'kysely';
import type { AuditVerification } from '../../platform/audit/verify.js';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import type { RequestContext } from '../../platform/http/request-context.js';
import type { ModuleContext } from '../../platform/module-context.js';
import { searchAuditEvents, type AuditEventRow } from './repo.js';
import type { AuditEntryView, AuditPageView, SearchFilters } from './schemas.js';

const DEFAULT_LIMIT = 50;

/** The module's settings: how to verify the chain (platform/audit/configured.ts). */
export interface AuditAdminSettings {
  /** Verifies with the configured chain key and anchors; the module never holds the key. */
  readonly verifyChain: (db: Kysely<DatabaseSchema>) => Promise<AuditVerification>;
}

export type AuditAdminContext = ModuleContext<AuditAdminSettings>;

/** The admin or machine client asking, as the audit trail names it. */
export type AuditAdminActor = AuditEvent['actor'];

/** The filters (not paging) whose names a search records. */
const FILTER_NAMES = [
  'actorId',
  'targetType',
  'targetId',
  'action',
  'outcome',
  'from',
  'to',
] as const satisfies ReadonlyArray<keyof SearchFilters>;

/** Year 1 to 9999 in UTC: what both database drivers can send as a timestamptz parameter. */
const EARLIEST = Date.parse('0001-01-01T00:00:00.000Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

/** A date-time filter as a Date; one the schema let through but Date or the drivers cannot carry is a 400. */
function instant(field: 'from' | 'to', value: string): Date {
  const date = new Date(value);
  const time = date.getTime();
  if (!Number.isFinite(time) || time < EARLIEST || time > LATEST) {
    throw new HavenError('VALIDATION_FAILED', `${field} is not a valid date-time.`, {
      errors: [{ field, message: 'Expected an RFC 3339 date-time.' }],
    });
  }
  return date;
}

function toEntryView(row: AuditEventRow): AuditEntryView {
  return {
    seq: String(row.seq),
    id: row.id,
    occurredAt: row.occurred_at.toISOString(),
    actorType: row.actor_type,
    actorId: row.actor_id,
    actorDisplayName: row.actor_display_name,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    outcome: row.outcome,
    requestId: row.request_id,
    details: row.details,
  };
}

/** One page of events, newest first; `nextBefore` continues below the page's last seq. */
export async function searchAuditLog(
  ctx: AuditAdminContext,
  actor: AuditAdminActor,
  filters: SearchFilters,
  request: RequestContext,
): Promise<AuditPageView> {
  const limit = filters.limit ?? DEFAULT_LIMIT;
  const from = filters.from === undefined ? undefined : instant('from', filters.from);
  const to = filters.to === undefined ? undefined : instant('to', filters.to);
  const rows = await searchAuditEvents(ctx.db, { ...filters, from, to }, limit + 1);
  const page = rows.slice(0, limit);
  const used = FILTER_NAMES.filter((name) => filters[name] !== undefined);
  await recordAudit(ctx.db, {
    actor,
    action: 'audit.searched',
    outcome: 'success',
    details: {
      filters: used.length > 0 ? used.join(',') : null,
      paged: filters.before !== undefined,
      results: page.length,
    },
    ...request,
  });
  const last = page.at(-1);
  return {
    events: page.map(toEntryView),
    nextBefore: rows.length > limit && last ? String(last.seq) : null,
  };
}

/** Walks the whole chain; the outcome of the check is itself recorded, with what it found. */
export async function verifyAuditLog(
  ctx: AuditAdminContext,
  actor: AuditAdminActor,
  request: RequestContext,
): Promise<AuditVerification> {
  const result = await ctx.settings.verifyChain(ctx.db);
  await recordAudit(ctx.db, {
    actor,
    action: 'audit.verified',
    outcome: result.ok ? 'success' : 'failure',
    details: result.ok
      ? { ok: true, checked: result.checked }
      : {
          ok: false,
          checked: result.checked,
          firstBadSeq: result.firstBadSeq,
          problem: result.problem,
        },
    ...request,
  });
  return result;
}
