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
import { PHI_ACTIONS } from '../../platform/access/phi-audit.js';
import { presentActions, searchAuditEvents, type AuditEventRow } from './repo.js';
import type {
  ActionCatalogueView,
  AuditEntryView,
  AuditPageView,
  ExportFilters,
  SearchFilters,
} from './schemas.js';
import { auditCsv } from './csv.js';
import type { AuditTarget, TargetNames } from './target-names.js';

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

/** Parses the date-time filters the schema let through; the rest pass as they are. */
function parsedFilters(filters: ExportFilters & { before?: string | undefined }) {
  const from = filters.from === undefined ? undefined : instant('from', filters.from);
  const to = filters.to === undefined ? undefined : instant('to', filters.to);
  return { ...filters, from, to };
}

export function toEntryView(row: AuditEventRow): AuditEntryView {
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

/** Names the targets of a page for the reader asking (target-names.ts, bound to the request). */
export type TargetNamer = (targets: readonly AuditTarget[]) => Promise<TargetNames>;

/**
 * One page of events, newest first; `nextBefore` continues below the page's last seq. Targets
 * carry their names for this reader; how many patients were named is part of the audit record,
 * since a name read from the log is a name read.
 */
export async function searchAuditLog(
  ctx: AuditAdminContext,
  actor: AuditAdminActor,
  filters: SearchFilters,
  request: RequestContext,
  nameTargets: TargetNamer,
): Promise<AuditPageView> {
  const limit = filters.limit ?? DEFAULT_LIMIT;
  const rows = await searchAuditEvents(ctx.db, parsedFilters(filters), limit + 1);
  const page = rows.slice(0, limit);
  const names = await nameTargets(
    page.map((row) => ({ targetType: row.target_type, targetId: row.target_id })),
  );
  const used = FILTER_NAMES.filter((name) => filters[name] !== undefined);
  await recordAudit(ctx.db, {
    actor,
    action: 'audit.searched',
    outcome: 'success',
    details: {
      filters: used.length > 0 ? used.join(',') : null,
      paged: filters.before !== undefined,
      results: page.length,
      patientsShown: names.patientsShown,
    },
    ...request,
  });
  const last = page.at(-1);
  return {
    events: page.map((row) => {
      const entry = toEntryView(row);
      return { ...entry, targetName: names.labelOf(entry) };
    }),
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

/** The most rows one CSV export carries; a wider filter is cut here and says so. */
export const EXPORT_ROW_CAP = 10_000;

export interface AuditExport {
  readonly csv: string;
  readonly rows: number;
  /** True when more events matched than EXPORT_ROW_CAP: the file holds the newest ones. */
  readonly truncated: boolean;
}

/**
 * The events of a filter as CSV, newest first, at most EXPORT_ROW_CAP of them. The export is
 * audited before any byte leaves (audit.exported): the names of the filters used and the values
 * of those that name no one (action, outcome, from, to); an actor or target id would say whom
 * the admin was looking into, so those stay names only, as for a search.
 */
export async function exportAuditLog(
  ctx: AuditAdminContext,
  actor: AuditAdminActor,
  filters: ExportFilters,
  request: RequestContext,
): Promise<AuditExport> {
  const rows = await searchAuditEvents(ctx.db, parsedFilters(filters), EXPORT_ROW_CAP + 1);
  const truncated = rows.length > EXPORT_ROW_CAP;
  const kept = rows.slice(0, EXPORT_ROW_CAP);
  const used = FILTER_NAMES.filter((name) => filters[name] !== undefined);
  await recordAudit(ctx.db, {
    actor,
    action: 'audit.exported',
    outcome: 'success',
    details: {
      format: 'csv',
      filters: used.length > 0 ? used.join(',') : null,
      action: filters.action ?? null,
      outcome: filters.outcome ?? null,
      from: filters.from ?? null,
      to: filters.to ?? null,
      rows: kept.length,
      truncated,
    },
    ...request,
  });
  return { csv: auditCsv(kept.map(toEntryView)), rows: kept.length, truncated };
}

/** The most distinct actions the catalogue reads from the log. */
const CATALOGUE_CAP = 500;
/** Actions the code itself writes that a fresh log may not hold yet. */
const WELL_KNOWN_ACTIONS = [...PHI_ACTIONS, 'audit.searched', 'audit.verified', 'audit.exported'];

/**
 * Known actions for the filter form: the PHI actions and the audit module's own, plus every
 * action present in the log (an index skip-scan, bounded by CATALOGUE_CAP), and their
 * families. Reading the catalogue is not audited: it names kinds of events, never an event.
 */
export async function actionCatalogue(ctx: AuditAdminContext): Promise<ActionCatalogueView> {
  const present = await presentActions(ctx.db, CATALOGUE_CAP);
  const actions = [...new Set([...WELL_KNOWN_ACTIONS, ...present])].sort();
  const families = [...new Set(actions.map((action) => action.split('.')[0] ?? action))].sort();
  return { families, actions };
}
