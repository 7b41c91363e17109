// The administrator's home panel read from the audit log (issue 14, L3): the recent events an
// administrator should look at, chosen on the server so the panel asks once and the log gets
// one `audit.searched` event per visit, not one per kind of event.
import { recordAudit } from '../../../platform/audit/audit.js';
import type { RequestContext } from '../../../platform/http/request-context.js';
import type { SecurityEventListView } from '../schemas.js';
import {
  toEntryView,
  type AuditAdminActor,
  type AuditAdminContext,
  type TargetNamer,
} from '../service.js';
import { newestSecurityEvents, type SecurityEventKind } from './repo.js';
import { SECURITY_EVENTS_DEFAULT, type SecurityEventsFilters } from './schemas.js';

/** How far back the panel looks: it shows recent events, the search has the rest. */
export const SECURITY_EVENTS_WINDOW_DAYS = 30;

/**
 * What an administrator should look at. A lockout is an attempt refused because its account or
 * address was backing off (`reason: 'backoff'`), at the password step or at either second-factor
 * step, never an ordinary wrong password or code. Every reuse of a consumed refresh token, and
 * every break-glass grant, revocation, denial and refusal. Listing grants (`breakglass.listed`)
 * is routine and left out.
 */
export const SECURITY_EVENT_KINDS: readonly SecurityEventKind[] = [
  { action: 'auth.login', reason: 'backoff' },
  { action: 'auth.mfa', reason: 'backoff' },
  { action: 'auth.step_up', reason: 'backoff' },
  { action: 'auth.refresh_reuse' },
  { action: 'breakglass.granted' },
  { action: 'breakglass.revoked' },
  { action: 'breakglass.denied' },
  { action: 'breakglass.refused' },
];

/**
 * The newest security events, newest first, each named for this reader by the search's own
 * rules (target-names.ts: a patient's name only to a reader who may open the record). Audited
 * once as `audit.searched`, with how many events and named patients were shown.
 */
export async function listSecurityEvents(
  ctx: AuditAdminContext,
  actor: AuditAdminActor,
  query: SecurityEventsFilters,
  request: RequestContext,
  nameTargets: TargetNamer,
): Promise<SecurityEventListView> {
  const limit = query.limit ?? SECURITY_EVENTS_DEFAULT;
  const since = new Date(ctx.now().getTime() - SECURITY_EVENTS_WINDOW_DAYS * 86_400_000);
  const rows = await newestSecurityEvents(ctx.db, SECURITY_EVENT_KINDS, since, limit);
  const names = await nameTargets(
    rows.map((row) => ({ targetType: row.target_type, targetId: row.target_id })),
  );
  await recordAudit(ctx.db, {
    actor,
    action: 'audit.searched',
    outcome: 'success',
    details: { view: 'security-events', results: rows.length, patientsShown: names.patientsShown },
    ...request,
  });
  return {
    events: rows.map((row) => {
      const entry = toEntryView(row);
      return { ...entry, targetName: names.labelOf(entry) };
    }),
  };
}
